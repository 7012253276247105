"""``python -m grader kit-export OUT_DIR [--git]``: the grading kit, without the solutions.

What grading needs and nothing more, as a folder to push to the course's *private*
grading repository: the one the GitHub Classroom workflow of a release checks out
(``KIT_REPOSITORY``, grader/distribute/classroom.py) and the one the Gradescope
bundle carries as its ``kit/`` (grader/distribute/gradescope.py builds it with
:func:`write`, so both hold the same files):

- ``grader/``, ``tests/hidden/``, the root ``conftest.py`` and ``pyproject.toml``
  (``pip install -e .`` installs the grader from here);
- ``data_cache/``: the four MNIST files and ``SHA256SUMS`` (checked while copied);
- ``exercises/mnist.py``: the MNIST helpers every submission is graded with
  (:func:`grader.layout.kit_mnist` finds it where there is no ``solutions/``);
- ``README.md`` (also the package's readme) and ``.gitignore``, from ``templates/kit/``.

Never ``solutions/``, never a stub or a visible test. The export is leak-scanned
before it is moved into place: no solution line may appear outside the kit's own
grading code (``grader/``, ``tests/hidden/``, which hold reference code to judge
with), and no solution marker line anywhere.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from .. import __version__
from ..layout import KIT_ROOT
from . import leak_scan, read_template, release

# What grading needs, relative to the kit root (folders taken whole, without caches).
PARTS = ("grader", "tests/hidden", "conftest.py", "pyproject.toml", "exercises/mnist.py")
# The kit's own grading code: reference code there is expected, the scan allows its lines.
GRADING_CODE = ("grader", "tests/hidden")
# Written from templates/kit/: {name in the export: template}.
TEMPLATES = {"README.md": "README.md", ".gitignore": "gitignore"}
_SKIP_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache"}


class ExportError(RuntimeError):
    """The export cannot be made: a part of the kit is missing, or a leak."""


def kit_files(kit_root: Path = KIT_ROOT) -> list[Path]:
    """The files of :data:`PARTS` (paths relative to ``kit_root``), without caches and links."""
    files = []
    for part in PARTS:
        path = kit_root / part
        if path.is_file():
            files.append(Path(part))
        elif path.is_dir():
            files += [
                p.relative_to(kit_root)
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and not p.is_symlink()
                and not _SKIP_DIRS.intersection(p.relative_to(kit_root).parts)
                and p.suffix != ".pyc"
            ]
        else:
            raise ExportError(f"the kit has no {part}, which grading needs")
    return files


def write(into: Path, kit_root: Path = KIT_ROOT) -> list[str]:
    """Write the grading kit into the folder ``into`` (made if missing); returns the
    relative paths written. No scan: :func:`export` and the Gradescope bundle scan."""
    into.mkdir(parents=True, exist_ok=True)
    written = []
    for rel in kit_files(kit_root):
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kit_root / rel, target)
        written.append(rel.as_posix())
    try:
        written += release.copy_data(kit_root, into)
    except release.ReleaseError as exc:
        raise ExportError(str(exc)) from None
    for name, template in TEMPLATES.items():
        (into / name).write_text(read_template("kit", template))
        written.append(name)
    return sorted(written)


def scan(folder: Path, kit_root: Path = KIT_ROOT) -> list[str]:
    """Leaks under ``folder``: solution lines outside the kit's own grading code (whose
    lines are public here), and solution marker lines anywhere. Empty: clean."""
    return leak_scan.scan(
        folder, kit_root / "solutions", allowed=[kit_root / part for part in GRADING_CODE]
    )


def export(out_dir: Path, git: bool = False, kit_root: Path = KIT_ROOT) -> list[str]:
    """Write the grading kit into ``out_dir`` (new or empty); returns the files written.

    ``git``: make ``out_dir`` a fresh repository with one commit on ``main``.
    Raises :class:`ExportError` (a missing part, a leak, a folder in use).
    """
    kit_root = Path(kit_root)
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"{out_dir} exists and is not an empty folder")
    if out_dir == kit_root.resolve() or kit_root.resolve() in out_dir.parents:
        raise ExportError("export into a folder outside the kit")
    if not (kit_root / "solutions").is_dir():
        raise ExportError(f"{kit_root} has no solutions/ to scan the export against")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        written = write(staging, kit_root)
        leaks = scan(staging, kit_root)
        if leaks:
            raise ExportError("the export would give solutions away:\n  " + "\n  ".join(leaks))
        release.publish(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if git:
        try:
            release.git_init_commit(out_dir, f"MNIST grading kit (kit {__version__})")
        except release.ReleaseError as exc:
            raise ExportError(str(exc)) from None
    return written


# --------------------------------------------------------------------------- command line


def add_arguments(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add ``kit-export OUT_DIR [--git]`` to a subparsers object."""
    parser = subparsers.add_parser(
        "kit-export",
        help="write the grading kit without solutions (the private repository for CI)",
        description="Write what grading needs (the grader, the hidden tests, the data, the "
        "packaging), never the solutions: push it to a private repository, the one the "
        "release's GitHub Classroom workflow checks out.",
        epilog="examples:\n  python -m grader kit-export ../mnist-grading\n"
        "  python -m grader kit-export ../mnist-grading --git    as a fresh git repository",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "out_dir", type=Path, metavar="OUT_DIR", help="a new (or empty) folder outside the kit"
    )
    parser.add_argument(
        "--git", action="store_true", help="make OUT_DIR a fresh git repository with one commit"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """``python -m grader kit-export``: 0 when written, 1 when refused (a leak), 2 for a
    usage error (a folder in use or inside the kit, a parent folder that does not exist)."""
    out: Path = args.out_dir
    problem = release.out_dir_problem(out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    resolved = out.resolve()
    if resolved == KIT_ROOT or KIT_ROOT in resolved.parents:
        print(f"error: {out} is inside the kit: export to a folder outside it", file=sys.stderr)
        return 2
    try:
        written = export(out, git=args.git)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote the grading kit to {out}: {len(written)} files, no solutions, leak scan clean"
        + (", one git commit" if args.git else "")
        + "\npush it to a private repository and set KIT_REPOSITORY to it (see its README.md)"
    )
    return 0
