"""``python -m grader gradescope OUT.zip``: a Gradescope autograder zip of the kit.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` there
once to build the image, then runs ``run_autograder`` for every submission with
the student's files in ``/autograder/submission``; the score goes to
``/autograder/results/results.json``. The zip holds:

- ``setup.sh``: installs Python (3.11 or newer) with ``venv``, bubblewrap and
  util-linux with apt, creates ``/autograder/venv`` and installs the kit into it
  (``pip install -e ./kit``: the grader runs from its source tree; CPU builds of
  PyTorch), then checks the MNIST files;
- ``run_autograder``: collects the step files of the submission (at any depth,
  or inside zips) into a temporary folder, runs ``python -m grader grade DIR
  --gradescope .../results.json --sandbox auto``, and writes a valid
  ``results.json`` (score 0, a short message) whenever grading could not finish;
- ``kit/``: what grading needs and nothing more: ``grader/``, ``tests/hidden/``,
  the root ``conftest.py``, ``pyproject.toml``, ``README.md`` (the package's
  readme), ``data_cache/`` and ``exercises/mnist.py`` (the MNIST helpers every
  submission is graded with; :func:`grader.submission.kit_mnist` finds it there
  when there is no ``solutions/``). Never ``solutions/``.

``run_autograder`` reads, for local runs and tests: ``AUTOGRADER_ROOT`` (default
``/autograder``), ``KIT_DIR`` (default ``$AUTOGRADER_ROOT/source/kit``),
``KIT_PYTHON`` (default ``$AUTOGRADER_ROOT/venv/bin/python``, the one setup.sh
makes) and ``GRADER_STEPS`` (e.g. ``"03 04"``: grade only these steps).

The bundle is leak-scanned (:func:`grader.distribute.leak_scan.scan`) before it is
written: no solution line may appear in it except inside the kit's own grading
code (``grader/``, ``tests/hidden/``), which the bundle exists to carry.
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

from ..grading.batch import extract_zip
from ..layout import KIT_ROOT
from ..steps import MAX_STEP_FILE, STEPS
from . import leak_scan

# The kit files grading needs, relative to the kit root (folders are taken whole).
KIT_PARTS = (
    "grader",
    "tests/hidden",
    "conftest.py",
    "pyproject.toml",
    "README.md",
    "data_cache",
    "exercises/mnist.py",
)
# The kit's own grading code: solution-like reference code there is expected.
GRADING_CODE = ("grader", "tests/hidden")
_SKIP_DIRS = {"__pycache__", "__MACOSX", ".git", ".ipynb_checkpoints"}
_STEP_FILES = {f"{s}.py" for s in STEPS}


class BundleError(RuntimeError):
    """The bundle cannot be built (a leak, a missing kit file)."""


SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, to build the image.
# It installs Python 3.11+ with venv, bubblewrap (the grading sandbox, used where
# the container allows it) and the kit into /autograder/venv.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="$ROOT/venv"
export DEBIAN_FRONTEND=noninteractive

apt-get update -q
apt-get install -y -q --no-install-recommends ca-certificates bubblewrap util-linux

new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && new_enough "$candidate"; then
    PY="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$PY" ]; then
  apt-get install -y -q --no-install-recommends python3.11 python3.11-venv
  PY="$(command -v python3.11)"
fi
VERSION="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
# Debian and Ubuntu keep venv (ensurepip) in a package of its own.
apt-get install -y -q --no-install-recommends "python$VERSION-venv" || true

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# CPU builds of PyTorch: Gradescope's graders have no GPU.
"$VENV/bin/python" -m pip install -q --extra-index-url https://download.pytorch.org/whl/cpu \
  -e "$HERE/kit"
cd "$HERE/kit" && "$VENV/bin/python" -m grader data verify
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission. It always leaves a valid
# results.json: the grader's, or (if grading could not finish) a score of 0
# with a short message. The grader's log goes to stdout, which only the course
# staff see.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
KIT="${KIT_DIR:-$ROOT/source/kit}"
PY="${KIT_PYTHON:-$ROOT/venv/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/autograder.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
STEP_ARGS=()
if [ -n "${GRADER_STEPS:-}" ]; then
  read -ra STEPS <<< "$GRADER_STEPS"
  STEP_ARGS=(--steps "${STEPS[@]}")
fi
export PYTHONPATH="$KIT${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg

status=0
cd "$KIT" || status=$?
if [ "$status" -eq 0 ]; then
  "$PY" -m grader.gradescope_bundle collect "$ROOT/submission" "$WORK/submission" || status=$?
fi
if [ "$status" -eq 0 ]; then
  "$PY" -m grader grade "$WORK/submission" --gradescope "$RESULTS" --sandbox auto --jobs 1 \
    ${STEP_ARGS[@]+"${STEP_ARGS[@]}"}
  status=$?
fi
echo "grader exit status: $status (0: full marks, 1: points lost, other: it failed)"
if ! "$PY" -m grader.gradescope_bundle check "$RESULTS"; then
  "$PY" -m grader.gradescope_bundle fallback "$RESULTS" "$status" 2>/dev/null \
    || cat > "$RESULTS" <<'JSON'
{"score": 0.0, "stdout_visibility": "hidden", "tests": [],
 "output": "The autograder could not grade this submission. Please tell the course staff."}
JSON
fi
exit 0
"""

BUNDLE_README = """\
# Gradescope autograder of the MNIST exercise kit

Upload this zip as the assignment's autograder ("Zip file upload"), with the
Ubuntu base image. `setup.sh` installs Python, bubblewrap and the kit (from
`kit/`) into `/autograder/venv`; `run_autograder` grades the step files of each
submission (uploaded one by one, in folders, or as a zip) with the kit's hidden
tests and writes `results.json`. Allow 20 minutes or more per submission for all
thirteen steps on a CPU.

Students' step files are graded with `python -m grader grade`; the bundle holds
the grader and the hidden tests, not the reference solutions.

Local check without Gradescope (a kit already installed in some Python):

    AUTOGRADER_ROOT=/tmp/ag KIT_DIR=$PWD/kit KIT_PYTHON=/path/to/python \\
    GRADER_STEPS="03" bash run_autograder    # reads /tmp/ag/submission
"""


# --------------------------------------------------------------------------- building


def _kit_files(kit_root: Path) -> list[Path]:
    """The kit files (relative paths) that grading needs, without caches."""
    files = []
    for part in KIT_PARTS:
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
            raise BundleError(f"the kit has no {part}, which grading needs")
    return files


def stage(into: Path, kit_root: Path = KIT_ROOT) -> list[str]:
    """Write the bundle's files into the folder ``into``; returns their relative paths."""
    written = []
    for name, text in (
        ("setup.sh", SETUP_SH),
        ("run_autograder", RUN_AUTOGRADER),
        ("README.md", BUNDLE_README),
    ):
        (into / name).write_text(text)
        written.append(name)
    for rel in _kit_files(kit_root):
        target = into / "kit" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kit_root / rel, target)
        written.append(f"kit/{rel.as_posix()}")
    return written


def scan(bundle_dir: Path, kit_root: Path = KIT_ROOT) -> list[str]:
    """Leaks in an unpacked bundle: solution lines outside the kit's own grading code."""
    return leak_scan.scan(
        bundle_dir, kit_root / "solutions", allowed=[kit_root / part for part in GRADING_CODE]
    )


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

    def number(value) -> bool:
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


def fallback_results(exit_status: int) -> dict:
    """The results.json of a submission that could not be graded: 0 points, a short note."""
    return {
        "score": 0.0,
        "output": (
            "The autograder could not finish grading this submission "
            f"(exit status {exit_status}). Please resubmit; if this happens again, "
            "tell the course staff."
        ),
        "stdout_visibility": "hidden",
        "tests": [],
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.gradescope_bundle collect SRC DEST | check RESULTS |
    fallback RESULTS STATUS`` (used by run_autograder)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 3 and args[0] == "collect":
        collect(Path(args[1]), Path(args[2]))
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


def add_arguments(subparsers) -> argparse.ArgumentParser:
    """Add ``gradescope OUT.zip`` to a subparsers object."""
    parser = subparsers.add_parser(
        "gradescope", help="write a Gradescope autograder zip (grader, hidden tests, data)"
    )
    parser.add_argument("out_zip", type=Path, metavar="OUT.zip", help="the zip to write")
    return parser


def run(args: argparse.Namespace) -> int:
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
