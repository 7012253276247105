"""``python -m grader release --branch student``: the release as a branch of the kit's repository.

Each release is one commit on the branch, whose parent is the branch's previous
commit (the first has none): the branch holds release after release and nothing
else, never a commit of the instructor's own history, so ``solutions/`` can never
be reached from it. Students who cloned it pull a mid-term fix as an ordinary
merge of what changed between two releases; their work in a step file merges
cleanly where that stub did not change.

The commit is made with git's plumbing, away from the instructor's work: the
release is written to a temporary folder, added to a temporary index
(``GIT_INDEX_FILE``, ``GIT_WORK_TREE``), turned into a tree (``write-tree``) and a
commit (``commit-tree``), and the branch is moved with ``update-ref`` (checked
against the tip it was read at). The instructor's working tree, index and
current branch are not touched. Before every commit the tree is leak-scanned
(:func:`grader.distribute.leak_scan.scan`); a release equal to the branch's tip
makes no commit.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from .. import __version__
from ..layout import KIT_ROOT
from . import leak_scan
from .release import ReleaseError, release

# Variables that would point git somewhere else than the repository asked for.
_LOCATION_VARS = {
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
}


def _git(
    cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> tuple[int, str]:
    """``(exit status, stdout stripped)`` of ``git ARGS`` in ``cwd``; raises ReleaseError
    when ``check`` and git fails."""
    full_env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
    full_env.update(env or {})
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=False
    )
    if check and proc.returncode:
        raise ReleaseError(f"git {args[0]} failed: {proc.stderr.strip()}")
    return proc.returncode, proc.stdout.strip()


def problem(branch: str, kit_root: Path = KIT_ROOT) -> str | None:
    """Why the release cannot go onto ``branch`` of the kit's repository (None: it can)."""
    status, _ = _git(kit_root, "rev-parse", "--absolute-git-dir", check=False)
    if status:
        return (
            f"{kit_root} is not in a git repository: --branch commits onto a branch of the "
            "kit's own repository (or give OUT_DIR for a plain folder)"
        )
    if _git(kit_root, "check-ref-format", "--branch", branch, check=False)[0]:
        return f"{branch!r} is not a valid branch name"
    ref = f"refs/heads/{branch}"
    _, worktrees = _git(kit_root, "worktree", "list", "--porcelain")
    if f"branch {ref}" in worktrees.splitlines():
        return (
            f"the branch {branch} is checked out: the release goes onto a branch of its "
            "own, never the one you work on"
        )
    exists = _git(kit_root, "rev-parse", "--verify", "-q", ref, check=False)[0] == 0
    has_head = _git(kit_root, "rev-parse", "--verify", "-q", "HEAD", check=False)[0] == 0
    if exists and has_head and _git(kit_root, "merge-base", "HEAD", ref, check=False)[0] == 0:
        return (
            f"the branch {branch} shares history with your HEAD, so it would carry "
            "solutions/: use a branch that only releases ever went onto"
        )
    # A history of its own can still hold solutions/ (an old import, a squashed copy):
    # each release's parent is the tip, so pushing the branch would push them too.
    if exists and _git(kit_root, "log", "-1", "--format=%H", ref, "--", "solutions")[1]:
        return (
            f"the branch {branch} has solutions/ in its history: use a branch that only "
            "releases ever went onto"
        )
    return None


def commit_tree(folder: Path, branch: str, kit_root: Path, message: str) -> str | None:
    """Commit the files of ``folder`` as the next commit of ``branch`` in the kit's
    repository; returns the new commit, or None when ``folder`` equals the branch's tip.

    Raises ReleaseError when the leak scan finds a solution line in ``folder``.
    """
    leaks = leak_scan.scan(folder, kit_root / "solutions")
    if leaks:
        raise ReleaseError("the release would give solutions away:\n  " + "\n  ".join(leaks))
    _, git_dir = _git(kit_root, "rev-parse", "--absolute-git-dir")
    ref = f"refs/heads/{branch}"
    status, parent = _git(kit_root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False)
    with tempfile.TemporaryDirectory(prefix="release-index-") as tmp:
        env = {
            "GIT_DIR": git_dir,
            "GIT_WORK_TREE": str(folder),
            "GIT_INDEX_FILE": str(Path(tmp) / "index"),
        }
        # --force: every released file goes in, whatever the ignore rules say.
        _git(folder, "add", "--all", "--force", ".", env=env)
        _, tree = _git(folder, "write-tree", env=env)
    if status == 0 and _git(kit_root, "rev-parse", f"{parent}^{{tree}}")[1] == tree:
        return None
    parents = ["-p", parent] if status == 0 else []
    _, commit = _git(kit_root, "commit-tree", tree, *parents, "-m", message)
    # The old value guards against a release made meanwhile ("" : the branch is new).
    _git(kit_root, "update-ref", "-m", "release", ref, commit, parent if status == 0 else "")
    return commit


def release_to_branch(
    branch: str,
    kit_root: Path = KIT_ROOT,
    budgets: dict[str, tuple[float, int]] | None = None,
    message: str | None = None,
) -> str | None:
    """Make the student release and commit it onto ``branch`` (:func:`commit_tree`);
    returns the new commit, or None when nothing changed since the last release.

    Raises ReleaseError (see :func:`problem`, :func:`grader.distribute.release.release`).
    """
    kit_root = Path(kit_root)
    reason = problem(branch, kit_root)
    if reason:
        raise ReleaseError(reason)
    if message is None:
        _, head = _git(kit_root, "rev-parse", "--verify", "-q", "--short", "HEAD", check=False)
        message = f"MNIST exercises (kit {__version__}" + (f", from {head})" if head else ")")
    with tempfile.TemporaryDirectory(prefix="student-release-") as tmp:
        out = Path(tmp) / "release"
        release(out, kit_root=kit_root, budgets=budgets)
        return commit_tree(out, branch, kit_root, message)
