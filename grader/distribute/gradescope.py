"""``python -m grader gradescope OUT.zip``: a Gradescope autograder zip of the kit.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` there
once to build the image, then runs ``run_autograder`` for every submission with
the student's files in ``/autograder/submission``; the score goes to
``/autograder/results/results.json``. The zip holds (the first three from
``templates/gradescope/``):

- ``setup.sh``: installs Python (3.11 or newer) with ``venv``, bubblewrap and
  util-linux with apt, creates ``/autograder/venv`` and installs the kit into it
  (``pip install -e ./kit``: the grader runs from its source tree; CPU builds of
  PyTorch), then checks the MNIST files;
- ``run_autograder``: collects the step files of the submission (at any depth,
  or inside zips) into a temporary folder, runs ``python -m grader grade DIR
  --gradescope .../results.json --sandbox auto``, and writes a valid
  ``results.json`` (score 0, a short message) whenever grading could not finish;
- ``README.md``: for the course staff, how to upload and check the zip;
- ``kit/``: the grading kit, exactly as ``python -m grader kit-export`` writes it
  (:func:`grader.distribute.kit_export.write`: ``grader/``, ``tests/hidden/``,
  ``data_cache/``, ``exercises/mnist.py``, the packaging; never ``solutions/``).
  Built from an exported kit, the bundle holds the same files.

``run_autograder`` reads, for local runs and tests: ``AUTOGRADER_ROOT`` (default
``/autograder``), ``KIT_DIR`` (default ``$AUTOGRADER_ROOT/source/kit``),
``KIT_PYTHON`` (default ``$AUTOGRADER_ROOT/venv/bin/python``, the one setup.sh
makes) and ``GRADER_STEPS`` (e.g. ``"03 04"``: grade only these steps).

Where the kit has ``solutions/``, the bundle is leak-scanned
(:func:`grader.distribute.kit_export.scan`) before it is written: no solution line
may appear in it except inside the kit's own grading code (``grader/``,
``tests/hidden/``), which the bundle exists to carry.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from string import Template
from typing import Any

from ..grading.batch import extract_zip
from ..layout import KIT_ROOT
from ..steps import MAX_STEP_FILE, STEPS
from . import classroom, kit_export, read_template

_SKIP_DIRS = {"__pycache__", "__MACOSX", ".git", ".ipynb_checkpoints"}
_STEP_FILES = {f"{s}.py" for s in STEPS}
# The bundle's own files, from templates/gradescope/.
TEMPLATES = ("setup.sh", "run_autograder", "README.md")


class BundleError(RuntimeError):
    """The bundle cannot be built (a leak, a missing kit file)."""


# --------------------------------------------------------------------------- building


def stage(into: Path, kit_root: Path = KIT_ROOT) -> list[str]:
    """Write the bundle's files into the folder ``into``; returns their relative paths."""
    written = []
    for name in TEMPLATES:
        text = read_template("gradescope", name)
        if name == "README.md":  # its timing advice, from the measured time
            wall = classroom.WALL_PER_CPU * classroom.GRADE_ALL_SECONDS
            text = Template(text).substitute(
                wall_seconds=f"{wall:.0f}",
                cpu_seconds=classroom.GRADE_ALL_SECONDS,
                margin=f"about {600 / wall:.0f}",
            )
        (into / name).write_text(text)
        written.append(name)
    try:
        written += [f"kit/{rel}" for rel in kit_export.write(into / "kit", kit_root)]
    except kit_export.ExportError as exc:
        raise BundleError(str(exc)) from None
    return written


def scan(bundle_dir: Path, kit_root: Path = KIT_ROOT) -> list[str]:
    """Leaks in an unpacked bundle: solution lines outside the kit's own grading code."""
    return kit_export.scan(bundle_dir, kit_root)


def build_bundle(out_zip: Path, kit_root: Path = KIT_ROOT) -> None:
    """Write the Gradescope autograder zip ``out_zip`` (see the module docstring)."""
    out_zip = Path(out_zip)
    with tempfile.TemporaryDirectory(prefix="gradescope-bundle-") as tmp:
        staging = Path(tmp)
        written = stage(staging, kit_root)
        if (kit_root / "solutions").is_dir():
            leaks = scan(staging, kit_root)
            if leaks:
                raise BundleError("the bundle would give solutions away:\n  " + "\n  ".join(leaks))
        out_zip.parent.mkdir(parents=True, exist_ok=True)
        partial = out_zip.with_name(out_zip.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for rel in sorted(written):
                info = zipfile.ZipInfo(rel, date_time=(2020, 1, 1, 0, 0, 0))
                executable = rel in ("setup.sh", "run_autograder")
                info.external_attr = (0o100755 if executable else 0o100644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(staging / rel, "rb") as src, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 2**20)
        os.replace(partial, out_zip)


# ------------------------------------------------------------------- run_autograder's helpers


def _depth(path: Path, root: Path) -> int:
    return len(path.relative_to(root).parts)


def collect(source: Path, dest: Path) -> list[str]:
    """Copy the step files of a Gradescope submission folder into ``dest``.

    Step files count at any depth (the shallowest of each name wins, then the
    first in path order); zips in the folder fill in the steps not found loose.
    Symbolic links, hidden and ``__MACOSX`` folders and files over 1 MiB are
    ignored. Returns the file names copied (``dest`` exists even when none).
    """
    source, dest = Path(source), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    loose: dict[str, Path] = {}
    zips: list[Path] = []
    if source.is_dir():
        for folder, dirs, files in os.walk(source, followlinks=False):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if path.is_symlink() or not path.is_file():
                    continue
                if name in _STEP_FILES and path.stat().st_size <= MAX_STEP_FILE:
                    best = loose.get(name)
                    if best is None or _depth(path, source) < _depth(best, source):
                        loose[name] = path
                elif name.lower().endswith(".zip"):
                    zips.append(path)
    for name, path in loose.items():
        shutil.copyfile(path, dest / name)
    found = set(loose)
    zips.sort(key=lambda p: (_depth(p, source), str(p)))
    with tempfile.TemporaryDirectory(prefix="gradescope-zip-") as tmp:
        for i, archive in enumerate(zips):
            try:
                unpacked = extract_zip(archive, Path(tmp) / str(i))
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError) as exc:
                print(f"skipped {archive.name}: not a readable zip ({exc})")
                continue
            for path in sorted(unpacked.iterdir()):
                if path.name not in found:
                    shutil.copyfile(path, dest / path.name)
                    found.add(path.name)
    names = sorted(found)
    print(f"step files found in the submission: {', '.join(names) if names else 'none'}")
    return names


_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def check_results(path: Path) -> list[str]:
    """What is wrong with a Gradescope ``results.json`` (empty: it is valid)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        return [f"unreadable: {exc}"]
    if not isinstance(data, dict):
        return ["the top level is not an object"]
    problems = []

    def number(value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    tests = data.get("tests", [])
    if not isinstance(tests, list):
        return ["tests is not a list"]
    if "score" in data:
        if not number(data["score"]):
            problems.append("score is not a number")
    elif not tests or not all(isinstance(t, dict) and "score" in t for t in tests):
        problems.append("no score: neither a total nor one on every test")
    for key in ("visibility", "stdout_visibility"):
        if key in data and data[key] not in _VISIBILITY:
            problems.append(f"{key} {data[key]!r} is not one of {sorted(_VISIBILITY)}")
    for i, test in enumerate(tests):
        if not isinstance(test, dict):
            problems.append(f"tests[{i}] is not an object")
            continue
        if not isinstance(test.get("name", ""), str):
            problems.append(f"tests[{i}].name is not a string")
        for key in ("score", "max_score"):
            if key in test and not number(test[key]):
                problems.append(f"tests[{i}].{key} is not a number")
        if test.get("visibility", "visible") not in _VISIBILITY:
            problems.append(f"tests[{i}].visibility {test['visibility']!r} is not allowed")
        if test.get("status", "passed") not in ("passed", "failed"):
            problems.append(f"tests[{i}].status {test['status']!r} is not passed or failed")
    return problems


NO_STEP_FILES = 3  # collect's exit status when the upload holds no step file at all


def fallback_results(exit_status: int) -> dict[str, Any]:
    """The results.json of a submission that could not be graded: 0 points, a short note."""
    output = (
        "The autograder could not finish grading this submission "
        f"(exit status {exit_status}). Please resubmit; if this happens again, "
        "tell the course staff."
    )
    if exit_status == NO_STEP_FILES:
        output = (
            "No step file was found in your submission. Upload your step files, named as "
            "in exercises/ (for example step03_normalization.py), or a .zip of them."
        )
    return {
        "score": 0.0,
        "output": output,
        "stdout_visibility": "hidden",
        "tests": [],
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.distribute.gradescope collect SRC DEST | check RESULTS |
    fallback RESULTS STATUS`` (used by run_autograder)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 3 and args[0] == "collect":
        if not collect(Path(args[1]), Path(args[2])):
            print("no step files in the submission", file=sys.stderr)
            return NO_STEP_FILES
        return 0
    if len(args) == 2 and args[0] == "check":
        problems = check_results(Path(args[1]))
        for problem in problems:
            print(f"results.json: {problem}", file=sys.stderr)
        return 1 if problems else 0
    if len(args) == 3 and args[0] == "fallback":
        path = Path(args[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(fallback_results(int(args[2])), indent=2))
        return 0
    print(main.__doc__, file=sys.stderr)
    return 2


# --------------------------------------------------------------------------- command line


def add_arguments(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add ``gradescope OUT.zip`` to a subparsers object."""
    parser = subparsers.add_parser(
        "gradescope",
        help="write a Gradescope autograder zip (grader, hidden tests, data)",
        description="Write the zip to upload as a Gradescope programming assignment's "
        "autograder: the grader, the hidden tests and the data, never the solutions.",
        epilog="example:\n  python -m grader gradescope autograder.zip",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out_zip", type=Path, metavar="OUT.zip", help="the zip to write")
    return parser


def run(args: argparse.Namespace) -> int:
    """``python -m grader gradescope``: 0 when the zip was written, 1 when refused, 2 for
    a usage error."""
    out_zip: Path = args.out_zip
    if out_zip.suffix != ".zip":
        print(
            f"error: the bundle is a zip: give a name ending in .zip, not {out_zip}",
            file=sys.stderr,
        )
        return 2
    if not out_zip.parent.is_dir():
        print(f"error: the folder {out_zip.parent} does not exist", file=sys.stderr)
        return 2
    try:
        build_bundle(args.out_zip)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    size = args.out_zip.stat().st_size / 2**20
    print(f"wrote {args.out_zip} ({size:.1f} MiB); upload it as the Gradescope autograder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
