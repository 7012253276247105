"""``python -m grader release OUT_DIR [--git]``: the kit as students get it.

(``release --branch NAME`` commits it onto a branch of the kit's repository instead:
grader/distribute/student_branch.py.)

The release holds what a student needs and nothing that gives an answer away:

- ``exercises/``: the generated stubs, the visible tests, ``conftest.py``,
  ``mnist.py`` and ``__init__.py``, copied from the kit's ``exercises/`` once
  :func:`grader.distribute.stubs.check` says they match ``solutions/`` (else the
  release is refused: regenerate with ``python -m grader stubs`` first), each with
  a header for students (:func:`grader.distribute.stubs.for_student`);
- ``notebooks/``: a Jupyter notebook per step (grader/distribute/notebooks.py);
- ``data_cache/``: the four MNIST files and ``SHA256SUMS`` (checked while copied);
- ``README.md`` for students (its table of steps from :data:`grader.steps.TITLES`),
  ``pyproject.toml`` (what the exercises and the visible tests import, the pytest
  settings and the step markers), ``.gitignore``: from ``templates/student/``;
- ``.github/workflows/classroom.yml``: GitHub Classroom autograding that grades
  every push with the instructor's private kit and reports the points per step
  (grader/distribute/classroom.py).

No ``solutions/``, no hidden tests, no grader. Every release is checked by
:func:`grader.distribute.leak_scan.scan` before it is moved into place; a leak
fails the release.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from string import Template
from typing import Any

from .. import __version__
from ..layout import KIT_ROOT
from ..steps import STEPS, TITLES, marker_line, step_number
from . import classroom, leak_scan, read_template, stubs

# Third-party modules the released exercises may import, and the distribution of each.
IMPORT_TO_DIST = {
    "torch": "torch",
    "torchvision": "torchvision",
    "numpy": "numpy",
    "matplotlib": "matplotlib",
    "pytest": "pytest",
    "hypothesis": "hypothesis",
    "PIL": "pillow",
    "scipy": "scipy",
}
# Always in the student install: PyTorch and its MNIST companion, and the test runner.
ALWAYS = ("torch", "torchvision", "pytest")


class ReleaseError(RuntimeError):
    """The release cannot be made: stubs out of date, a leak, a bad output folder."""


# --------------------------------------------------------------------------- contents


def _kit_project(kit_root: Path) -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((kit_root / "pyproject.toml").read_text())["project"]
    return project


def _dist_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower()


def third_party_imports(folder: Path) -> set[str]:
    """Top-level names of the non-stdlib modules the Python files of ``folder`` import."""
    names: set[str] = set()
    local = {p.stem for p in folder.glob("*.py")}
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {
        n
        for n in names
        if n not in sys.stdlib_module_names and n not in local and n != "__future__"
    }


def student_dependencies(exercises: Path, kit_root: Path = KIT_ROOT) -> list[str]:
    """The requirements (the kit's own pins) of what ``exercises/`` imports, plus ALWAYS."""
    pins = {_dist_name(r): r for r in _kit_project(kit_root)["dependencies"]}
    wanted = set(ALWAYS)
    for module in third_party_imports(exercises):
        dist = IMPORT_TO_DIST.get(module)
        if dist is None:
            raise ReleaseError(
                f"exercises/ imports {module!r}: add it to IMPORT_TO_DIST in "
                "grader/distribute/release.py and to the kit's dependencies"
            )
        wanted.add(dist)
    missing = sorted(d for d in wanted if d not in pins)
    if missing:
        raise ReleaseError(
            f"exercises/ needs {', '.join(missing)}, which the kit's pyproject.toml does not list"
        )
    order = list(pins)
    return [pins[d] for d in sorted(wanted, key=order.index)]


def _toml_strings(items: list[str]) -> str:
    """A TOML array of strings, one a line (a JSON string is a TOML basic string)."""
    return "[\n" + "".join(f"    {json.dumps(item)},\n" for item in items) + "]"


def student_pyproject(exercises: Path, kit_root: Path = KIT_ROOT) -> str:
    """The student ``pyproject.toml``: the kit's pins of what ``exercises`` imports, the
    kit's ``notebook`` extra (Jupyter), the pytest settings, and a marker per step (as
    the kit's plugin registers them)."""
    project = _kit_project(kit_root)
    notebook = project.get("optional-dependencies", {}).get("notebook")
    if not notebook:
        raise ReleaseError("the kit's pyproject.toml has no `notebook` extra (Jupyter) to hand on")
    return Template(read_template("student", "pyproject.toml.in")).substitute(
        version=json.dumps(project.get("version", __version__)),
        requires_python=json.dumps(project.get("requires-python", ">=3.11")),
        dependencies=_toml_strings(student_dependencies(exercises, kit_root)),
        notebook=_toml_strings(notebook),
        markers=_toml_strings([marker_line(s) for s in STEPS]),
    )


def student_readme() -> str:
    """The student ``README.md``: setting up, working on a step, handing in, the steps."""
    rows = "\n".join(f"| {step_number(s):02d} | `exercises/{s}.py` | {TITLES[s]} |" for s in STEPS)
    return Template(read_template("student", "README.md")).substitute(rows=rows)


# --------------------------------------------------------------------------- release


def copy_data(kit_root: Path, out: Path) -> list[str]:
    """Copy the MNIST files that ``data_cache/SHA256SUMS`` lists into ``out/data_cache``,
    checking each; returns the relative paths written."""
    data = kit_root / "data_cache"
    sums = data / "SHA256SUMS"
    written = []
    (out / "data_cache").mkdir()
    shutil.copyfile(sums, out / "data_cache" / "SHA256SUMS")
    written.append("data_cache/SHA256SUMS")
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        name = name.lstrip("*")
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ReleaseError(f"SHA256SUMS names a path outside data_cache/: {name}")
        target = out / "data_cache" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / name, target)
        if hashlib.sha256(target.read_bytes()).hexdigest() != digest:
            raise ReleaseError(
                f"data_cache/{name} does not match its checksum; run `python -m grader data verify`"
            )
        written.append(f"data_cache/{name}")
    return written


def git_init_commit(out: Path, message: str) -> None:
    """Make ``out`` a fresh repository with everything in one commit on ``main``."""

    def git(*args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        proc = subprocess.run(["git", *args], cwd=out, env=env, capture_output=True, text=True)
        if proc.returncode:
            raise ReleaseError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")

    git("init", "-q", "-b", "main")
    git("config", "user.name", "MNIST exercise kit")
    git("config", "user.email", "mnist-kit@users.noreply.github.com")
    git("config", "commit.gpgsign", "false")
    git("add", "-A")
    git("commit", "-q", "-m", message)


def release(
    out_dir: Path,
    git: bool = False,
    kit_root: Path = KIT_ROOT,
    budgets: dict[str, tuple[float, int]] | None = None,
) -> list[str]:
    """Write the student release into ``out_dir`` (new or empty); returns the files written.

    ``git``: make ``out_dir`` a fresh repository with one commit on ``main``.
    ``budgets``: points and seconds per step for the workflow (default: from the
    hidden suites, see :func:`grader.distribute.classroom.step_budgets`).
    Raises :class:`ReleaseError`.
    """
    kit_root = Path(kit_root)
    out_dir = Path(out_dir).resolve()
    solutions, exercises = kit_root / "solutions", kit_root / "exercises"
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ReleaseError(f"{out_dir} exists and is not an empty folder")
    if out_dir == kit_root.resolve() or kit_root.resolve() in out_dir.parents:
        raise ReleaseError("release into a folder outside the kit")
    try:
        problems = stubs.check(solutions, exercises)
    except stubs.MarkerError as exc:
        raise ReleaseError(str(exc)) from None
    if problems:
        raise ReleaseError(
            "exercises/ is out of date (run `python -m grader stubs`): " + "; ".join(problems)
        )
    if budgets is None:
        try:
            budgets = classroom.step_budgets(kit_root)
        except ValueError as exc:
            raise ReleaseError(str(exc)) from None
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        written: list[str] = []
        (staging / "exercises").mkdir()
        for source in sorted(exercises.glob("*.py")):
            text = stubs.for_student(source.read_text(), source.name)
            (staging / "exercises" / source.name).write_text(text)
            written.append(f"exercises/{source.name}")
        # Here, not at the top: nbformat takes seconds to import, and every command of
        # `python -m grader` imports this module to build its parser.
        from . import notebooks

        written += notebooks.write(staging, staging / "exercises")
        written += copy_data(kit_root, staging)
        texts = {
            "README.md": student_readme(),
            "pyproject.toml": student_pyproject(staging / "exercises", kit_root),
            ".gitignore": read_template("student", "gitignore"),
            ".github/workflows/classroom.yml": classroom.workflow(budgets),
        }
        for name, text in texts.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_text(text)
            written.append(name)
        leaks = leak_scan.scan(staging, solutions)
        if leaks:
            raise ReleaseError("the release would give solutions away:\n  " + "\n  ".join(leaks))
        publish(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if git:
        git_init_commit(out_dir, f"MNIST exercises (kit {__version__})")
    return sorted(written)


def out_dir_problem(out: Path) -> str | None:
    """Why ``out`` cannot be written into (a usage error), or None: it must be a new or
    empty folder in a folder that exists."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        return f"{out} exists and is not an empty folder"
    if not out.absolute().parent.is_dir():
        return f"the folder {out.absolute().parent} does not exist"
    return None


def publish(staging: Path, out_dir: Path) -> None:
    """Put a finished staging folder (beside ``out_dir``) in ``out_dir``'s place, with the
    modes a folder made by the user would have (mkdtemp made it private)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    if out_dir.exists():
        out_dir.rmdir()  # an empty folder given as the target
    staging.rename(out_dir)


# --------------------------------------------------------------------------- command line


def add_arguments(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add ``release OUT_DIR [--git] | --branch NAME [--message TEXT]`` to a subparsers
    object."""
    parser = subparsers.add_parser(
        "release",
        help="write the student release (stubs, visible tests, data, CI) to a folder or branch",
        description="Write what students get: the stubs and visible tests, the data, a "
        "README, the packaging and the GitHub Classroom workflow; never the solutions. "
        "With --branch, commit it onto a branch of the kit's git repository instead, one "
        "commit per release, so students pull a fix as an ordinary merge.",
        epilog="examples:\n  python -m grader release ../mnist-exercises\n"
        "  python -m grader release ../mnist-exercises --git    as a fresh git repository\n"
        "  python -m grader release --branch student            the next commit of branch student\n"
        "  git push git@github.com:my-course/mnist-exercises.git student:main    publish it",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "out_dir",
        type=Path,
        nargs="?",
        metavar="OUT_DIR",
        help="a new (or empty) folder for the release (not with --branch)",
    )
    parser.add_argument(
        "--git", action="store_true", help="make OUT_DIR a fresh git repository with one commit"
    )
    parser.add_argument(
        "--branch",
        metavar="NAME",
        help="commit the release onto this branch of the kit's repository (made on first use; "
        "your working tree and current branch are left alone)",
    )
    parser.add_argument(
        "--message", metavar="TEXT", help="with --branch: the commit message (e.g. what it fixes)"
    )
    return parser


def _run_branch(args: argparse.Namespace) -> int:
    from . import student_branch  # it imports this module

    if args.out_dir is not None or args.git:
        print(
            "error: --branch commits into the kit's repository: no OUT_DIR, no --git",
            file=sys.stderr,
        )
        return 2
    reason = student_branch.problem(args.branch)
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    try:
        commit = student_branch.release_to_branch(args.branch, message=args.message)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if commit is None:
        print(f"{args.branch} already holds this release: no change, no commit made")
    else:
        print(f"committed the student release onto {args.branch} ({commit[:12]}), leak scan clean")
    return 0


def run(args: argparse.Namespace) -> int:
    """``python -m grader release``: 0 when the release was written (or committed), 1 when
    refused, 2 for a usage error (a folder in use, a parent folder that does not exist, no
    OUT_DIR, --branch outside a git repository or onto the current branch)."""
    if args.branch is not None:
        return _run_branch(args)
    if args.message is not None:
        print("error: --message is for --branch", file=sys.stderr)
        return 2
    out: Path | None = args.out_dir
    if out is None:
        print("error: give OUT_DIR (a new folder), or --branch NAME", file=sys.stderr)
        return 2
    problem = out_dir_problem(out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        written = release(out, git=args.git)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote the student release to {out}: {len(written)} files, leak scan clean"
        + (", one git commit" if args.git else "")
    )
    return 0
