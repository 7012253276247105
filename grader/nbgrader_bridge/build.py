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
Next steps for the instructor: ``cd COURSE && nbgrader generate_assignment
mnist_kit`` (the student version goes to ``release/``), collect submissions into
``submitted/<student>/mnist_kit/``, ``nbgrader autograde mnist_kit``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from .. import __version__
from ..grading.runner import collect_inventory
from ..layout import DATA_DIR, KIT_ROOT, SOLUTIONS_DIR, kit_mnist
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
kit_notebook.py beside them. Its hidden cells run the kit's hidden pytest tests,
so the kernels nbgrader starts need the kit importable (below) and the MNIST files.
"""

import os

c = get_config()  # noqa: F821 (nbgrader's config loader defines it)
HERE = os.path.dirname(os.path.abspath(__file__))
KIT_ROOT = {kit_root!r}

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = HERE

# Kernels inherit this process's environment: the kit (grader/, tests/hidden/) and the data.
if KIT_ROOT not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (KIT_ROOT, os.environ.get("PYTHONPATH")) if p)
os.environ.setdefault("MNIST_DATA_DIR", os.path.join(HERE, "data_cache"))

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


def _link_data(course: Path) -> None:
    link = course / "data_cache"
    if link.exists() or link.is_symlink():
        return
    try:
        link.symlink_to(DATA_DIR, target_is_directory=True)
    except OSError:
        shutil.copytree(DATA_DIR, link)


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
    _link_data(course)

    longest = max([t.get("timeout", 60.0) for t in tests] or [60.0])
    (course / "nbgrader_config.py").write_text(
        CONFIG.format(
            version=__version__,
            assignment=ASSIGNMENT,
            kit_root=str(KIT_ROOT),
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
