"""``python -m grader nbgrader build COURSE``: write a ready nbgrader course of the kit.

The course has one assignment, ``mnist_kit``, with one notebook per step
(``source/mnist_kit/step03_normalization.ipynb``, ...) and the kit's helpers
beside them (``mnist.py``, ``kit_notebook.py``). One assignment, because the
steps are one package: step 07 imports step 06's ``create_model`` as the ``.py``
steps import each other, so the notebooks must sit in one folder in the
student's copy and in nbgrader's ``submitted/`` and ``autograded/`` folders; per
step scores are the per-notebook scores of the gradebook, and a step the
student did not hand in is nbgrader's own "no submitted file", which scores 0.

Everything is generated: notebooks from ``solutions/`` (teaching docstring,
provided code, solution regions) and the test suites (visible tests as a
read-only cell, each hidden test as an autograded cell with the test's points
that runs that pytest test; see :mod:`grader.nbgrader_bridge.inkernel`).
Next steps for the instructor: in the kit's environment, ``cd COURSE && nbgrader
generate_assignment mnist_kit`` (the student version goes to ``release/``), collect
submissions into ``submitted/<student>/mnist_kit/``, ``nbgrader autograde mnist_kit``.

The course is portable: it holds no path of the kit and no link into it (the MNIST
files are copied, or hard-linked where the file system allows), so it can be copied
to another machine. What it needs there is the kit installed in the environment
that runs nbgrader (``pip install -e KIT``): the hidden cells import
:mod:`grader` and run the kit's hidden tests, and the config imports the kit's
stub preprocessor (:mod:`grader.nbgrader_bridge.preprocessors`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat

from .. import __version__
from ..distribute.stubs import STUB
from ..grading.runner import collect_inventory
from ..layout import DATA_DIR, SOLUTIONS_DIR, kit_mnist
from ..steps import STEPS, resolve
from . import ASSIGNMENT, COURSE_ID, MANIFEST
from .notebooks import grade_id_of, step_notebook

HELPER = Path(__file__).resolve().parent / "kit_notebook.py"
# A grade cell runs one test: its own timeout, plus CUDA start-up, plus the kernel's share.
CUDA_ALLOWANCE_S = 60
CELL_MARGIN_S = 60

CONFIG = '''\
"""nbgrader configuration of the MNIST exercise kit course.

Written by `python -m grader nbgrader build` (kit {version}); build again rather than edit.
One assignment, {assignment!r}: one notebook per step, with the kit's mnist.py and
kit_notebook.py beside them. Its hidden cells run the kit's hidden pytest tests, so
run nbgrader in an environment where the kit is installed (`pip install -e KIT`,
then activate it); the MNIST files are in data_cache/ here.
"""

import os

c = get_config()  # noqa: F821 (nbgrader's config loader defines it)
HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = HERE

# Kernels inherit this process's environment: the course's copy of the MNIST files.
os.environ.setdefault("MNIST_DATA_DIR", os.path.join(HERE, "data_cache"))

# The students' stubs say what the .py exercises say: which step and function are not
# implemented yet ({{step}}, {{function}}: filled in per solution region by the kit's
# ClearSolutions, from each cell's metadata).
try:
    from grader.nbgrader_bridge.preprocessors import generate_assignment_preprocessors
except ImportError as exc:
    raise ImportError(
        "this course needs the MNIST exercise kit installed in the environment that runs "
        "nbgrader: activate the kit's environment (or pip install -e KIT)"
    ) from exc
c.GenerateAssignment.preprocessors = generate_assignment_preprocessors()
c.ClearSolutions.code_stub = {{"python": {stub!r}}}

# One hidden test per cell: the longest test timeout ({longest:g} s), CUDA start-up and a margin.
c.Execute.timeout = {timeout}
c.Execute.startup_timeout = 120
# A grade cell deleted from a submission is put back, so its test still runs.
c.OverwriteCells.add_missing_cells = True
'''


def _steps(steps: list[str] | None) -> list[str]:
    if steps is None:
        return [s for s in STEPS if (SOLUTIONS_DIR / f"{s}.py").is_file()]
    chosen = resolve(steps)
    missing = [s for s in chosen if not (SOLUTIONS_DIR / f"{s}.py").is_file()]
    if missing:
        raise ValueError(f"no solutions/ file for {', '.join(missing)}")
    return chosen


def _copy_data(course: Path) -> None:
    """The MNIST files into ``course/data_cache``: hard links (no path, no extra space)
    where the file system allows, else copies; never a symlink into the kit."""
    target = course / "data_cache"
    if target.is_symlink():  # a course built by an older kit
        target.unlink()
    raw = DATA_DIR / "MNIST" / "raw"
    if not raw.is_dir():
        raise FileNotFoundError(
            f"no MNIST files in {raw}: the kit ships them (python -m grader data verify)"
        )
    (target / "MNIST" / "raw").mkdir(parents=True, exist_ok=True)
    for path in sorted(raw.iterdir()):
        dest = target / "MNIST" / "raw" / path.name
        if not path.is_file() or (dest.is_file() and dest.stat().st_size == path.stat().st_size):
            continue
        dest.unlink(missing_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copyfile(path, dest)


def build(
    course_dir: Path, steps: list[str] | None = None, inventory: list[dict] | None = None
) -> dict:
    """Write the nbgrader course into ``course_dir``; returns the manifest it wrote.

    ``steps``: step names (``03``, ``step03`` or full names); None: every step
    with a file in ``solutions/``. ``inventory``: the hidden tests (as from
    :func:`grader.grading.runner.collect_inventory`), collected here when not given.
    """
    course = Path(course_dir).resolve()
    steps = _steps(steps)
    if inventory is None:
        inventory = collect_inventory(steps) if steps else []
    tests = [dict(t, grade_id=grade_id_of(t)) for t in inventory if t["step"] in steps]
    ids = [t["grade_id"] for t in tests]
    if len(set(ids)) != len(ids):
        raise ValueError("two hidden tests give the same nbgrader grade id")

    source = course / "source" / ASSIGNMENT
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    for step in steps:
        nbformat.write(step_notebook(step, SOLUTIONS_DIR, tests), source / f"{step}.ipynb")
    shutil.copyfile(kit_mnist(), source / "mnist.py")
    shutil.copyfile(HELPER, source / "kit_notebook.py")
    _copy_data(course)

    longest = max([t.get("timeout", 60.0) for t in tests] or [60.0])
    (course / "nbgrader_config.py").write_text(
        CONFIG.format(
            version=__version__,
            assignment=ASSIGNMENT,
            stub=STUB,
            course_id=COURSE_ID,
            longest=longest,
            timeout=int(longest + CUDA_ALLOWANCE_S + CELL_MARGIN_S),
        )
    )
    manifest = {
        "kit_version": __version__,
        "course_id": COURSE_ID,
        "assignment": ASSIGNMENT,
        "steps": steps,
        "tests": tests,
    }
    (course / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest
