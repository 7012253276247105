"""``release --branch student``: each release one commit on a branch of the kit's own git
repository, so a student's clone pulls a mid-term fix as an ordinary merge.

Real git throughout: an instructor's repository holding a copy of the kit, a student's
clone of the branch, a student commit, a fix in ``solutions/``, a second release, the pull.
"""

import argparse
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.distribute import release, stubs, student_branch
from tests.kit.submission_files import KIT_ROOT

STEP03, STEP05 = "step03_normalization", "step05_cross_entropy"
STUB_LINE = '    raise NotImplementedError("step 03: normalize is not implemented yet")\n'
STUDENT_LINE = "    return a / a.sum(-1, keepdim=True)  # my normalize\n"
OLD_DOC = '    """Cross-entropy of logits against labels, stable for huge logits.\n'
NEW_DOC = '    """Cross-entropy of logits against integer labels, stable for huge logits.\n'


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def identify(repo: Path, name: str) -> None:
    git(repo, "config", "user.name", name)
    git(repo, "config", "user.email", f"{name}@example.org")
    git(repo, "config", "commit.gpgsign", "false")


@pytest.fixture
def instructor(tmp_path):
    """A git repository on ``main`` with what a release reads: solutions/, exercises/,
    pyproject.toml and (a link to) the data, committed."""
    kit = tmp_path / "kit"
    ignore = shutil.ignore_patterns("__pycache__", "figures")
    for part in ("solutions", "exercises"):
        shutil.copytree(KIT_ROOT / part, kit / part, ignore=ignore)
    shutil.copyfile(KIT_ROOT / "pyproject.toml", kit / "pyproject.toml")
    (kit / "data_cache").symlink_to(KIT_ROOT / "data_cache")
    git(tmp_path, "init", "-q", "-b", "main", str(kit))
    identify(kit, "instructor")
    git(kit, "add", "-A")
    git(kit, "commit", "-q", "-m", "the kit")
    return kit


def test_a_fix_reaches_the_student_as_an_ordinary_merge(instructor, budgets, tmp_path):
    kit = instructor
    main_before = git(kit, "rev-parse", "main")
    first = student_branch.release_to_branch("student", kit_root=kit, budgets=budgets)
    assert first and git(kit, "rev-parse", "student") == first
    # The instructor's checkout is as it was: same branch, same commit, nothing staged.
    assert git(kit, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(kit, "rev-parse", "main") == main_before
    assert git(kit, "status", "--porcelain") == ""
    # The branch is a history of its own: no parent, nothing of main's, no solutions.
    assert git(kit, "rev-list", "--parents", "student") == first
    merge_base = subprocess.run(["git", "merge-base", "main", "student"], cwd=kit)
    assert merge_base.returncode == 1
    files = git(kit, "ls-tree", "-r", "--name-only", "student").splitlines()
    assert f"exercises/{STEP03}.py" in files and ".github/workflows/classroom.yml" in files
    assert not any(f.startswith(("solutions/", "tests/", "grader/")) for f in files)

    # A student clones the branch and writes a step.
    student = tmp_path / "student"
    git(tmp_path, "clone", "-q", "-b", "student", str(kit), str(student))
    identify(student, "student")
    mine = student / "exercises" / f"{STEP03}.py"
    assert STUB_LINE in mine.read_text()
    mine.write_text(mine.read_text().replace(STUB_LINE, STUDENT_LINE))
    git(student, "commit", "-q", "-am", "my normalize")
    my_text = mine.read_text()

    # The instructor fixes a docstring of another step in solutions/, regenerates, releases.
    solution = kit / "solutions" / f"{STEP05}.py"
    assert solution.read_text().count(OLD_DOC) == 1
    solution.write_text(solution.read_text().replace(OLD_DOC, NEW_DOC))
    stubs.write(kit / "solutions", kit / "exercises")
    git(kit, "commit", "-q", "-am", "step 05: say the labels are integers")
    second = student_branch.release_to_branch(
        "student", kit_root=kit, budgets=budgets, message="Step 05: a clearer docstring"
    )
    assert second and git(kit, "rev-list", "--parents", "-n", "1", "student") == (
        f"{second} {first}"
    )
    changed = git(kit, "diff", "--name-only", first, second).splitlines()
    assert changed and all(STEP05 in name for name in changed), changed
    assert git(kit, "log", "-1", "--format=%s", "student") == "Step 05: a clearer docstring"

    # The student pulls: a clean merge that keeps their work and brings the fix.
    pull = subprocess.run(
        ["git", "pull", "--no-rebase", "--no-edit", "-q"],
        cwd=student,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        capture_output=True,
        text=True,
    )
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert git(student, "status", "--porcelain") == ""
    assert mine.read_text() == my_text
    assert NEW_DOC in (student / "exercises" / f"{STEP05}.py").read_text()
    assert git(student, "rev-list", "--count", "origin/student") == "2"
    head_parents = git(student, "rev-list", "--parents", "-n", "1", "HEAD").split()[1:]
    assert len(head_parents) == 2 and second in head_parents  # an ordinary merge

    # A release with nothing new makes no commit, empty or not.
    assert student_branch.release_to_branch("student", kit_root=kit, budgets=budgets) is None
    assert git(kit, "rev-parse", "student") == second


def test_a_leak_is_never_committed(instructor, budgets, tmp_path):
    kit = instructor
    out = tmp_path / "release"
    release.release(out, kit_root=kit, budgets=budgets)
    notes = out / "exercises" / "notes.py"
    notes.write_text("def mine(x):\n        shifted = x  -  x.max(dim=-1, keepdim=True).values\n")
    with pytest.raises(release.ReleaseError, match="give solutions away"):
        student_branch.commit_tree(out, "student", kit, "leaky")
    assert subprocess.run(["git", "rev-parse", "-q", "--verify", "student"], cwd=kit).returncode
    notes.unlink()
    assert student_branch.commit_tree(out, "student", kit, "clean")


def test_the_branch_must_be_one_of_releases_only(instructor, tmp_path):
    kit = instructor
    assert student_branch.problem("student", kit) is None
    assert "checked out" in student_branch.problem("main", kit)
    assert "not a valid branch name" in student_branch.problem("a..b", kit)
    git(kit, "branch", "from-main")  # a branch that holds the instructor's history
    assert "shares history" in student_branch.problem("from-main", kit)
    # A history unrelated to HEAD that holds solutions/ (main's tree, committed anew).
    tree = git(kit, "rev-parse", "main^{tree}")
    git(kit, "update-ref", "refs/heads/imported", git(kit, "commit-tree", tree, "-m", "import"))
    assert "solutions/ in its history" in student_branch.problem("imported", kit)
    (tmp_path / "plain").mkdir()
    assert "not in a git repository" in student_branch.problem("student", tmp_path / "plain")


def test_the_command_line(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    release.add_arguments(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["release", "--branch", "student", "--message", "fix"])
    assert args.branch == "student" and args.message == "fix" and args.out_dir is None
    for argv, says in (
        (["release"], "give OUT_DIR"),
        (["release", str(tmp_path / "x"), "--branch", "student"], "no OUT_DIR"),
        (["release", "--branch", "student", "--git"], "no OUT_DIR, no --git"),
        (["release", str(tmp_path / "x"), "--message", "m"], "--message is for --branch"),
    ):
        assert release.run(parser.parse_args(argv)) == 2, argv
        assert says in capsys.readouterr().err
