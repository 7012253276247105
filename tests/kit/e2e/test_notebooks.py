"""Every notebook of the student release runs, as a student runs it: a python3 kernel
started in ``notebooks/`` of a copy of the release, with nothing of the kit on its path.

With the reference answers copied over the stubs, every cell runs, the figures come out
as PNG images and the step's tests pass. On the stubs, every cell that fails says so in
one line naming the step, the function and the file to write it in.
(The notebooks themselves: tests/kit/unit/test_notebooks.py.)
"""

import re
import shutil
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from grader.steps import STEPS
from tests.kit.submission_files import KIT_ROOT, student_env

ONE_LINE = re.compile(
    r"^step (\d\d): [\w.]+ is not implemented yet — write it in exercises/step(\d\d)_\w+\.py$"
)


def _student_copy(released, folder: Path, answers: bool) -> Path:
    out, _ = released
    work = folder / "student"
    shutil.copytree(out, work, ignore=shutil.ignore_patterns(".git", "data_cache"))
    (work / "data_cache").symlink_to(out / "data_cache")
    if answers:
        for step in STEPS:
            answer = KIT_ROOT / "solutions" / f"{step}.py"
            shutil.copyfile(answer, work / "exercises" / answer.name)
    return work


# The steps whose test cell runs: the cell is one template for every step (checked in
# tests/kit/unit/test_notebooks.py), and each run is a pytest that imports torch again.
TEST_CELLS_RUN = ("step03_normalization", "step07_train_loop")


def _run_all(
    work: Path, allow_errors: bool, tests: tuple[str, ...]
) -> dict[str, nbformat.NotebookNode]:
    """Execute the notebooks one after the other in one kernel, cwd ``notebooks/``.

    One kernel for all: starting a kernel and importing torch took more time than most
    notebooks. Between two notebooks the kernel forgets every name (``%reset -f``) and
    the one-line errors, so each notebook must set itself up; imported modules stay
    imported. ``tests``: the steps whose last cell (a pytest of a few seconds) also runs.
    """
    env = {**student_env(), "OMP_NUM_THREADS": "1"}  # as the grader: tiny ops, one thread
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(work / "notebooks"), env=env)
    done = {}
    try:
        for step in STEPS:
            nb = nbformat.read(work / "notebooks" / f"{step}.ipynb", as_version=4)
            if step not in tests:
                nb.cells = nb.cells[:-2]  # the tests' markdown and code cells
            forget = nbformat.v4.new_code_cell("get_ipython().set_custom_exc((), None)\n%reset -f")
            nb.cells.insert(0, forget)
            start = time.perf_counter()
            client = NotebookClient(nb, km=km, timeout=120, allow_errors=allow_errors)
            client.execute()
            client.kc.stop_channels()
            seconds = time.perf_counter() - start
            its_tests = f", its tests {_seconds(nb):.1f} s" if step in tests else ""
            print(f"{step}: {seconds:.1f} s{its_tests}")
            nb.cells.remove(forget)
            done[step] = nb
    finally:
        km.shutdown_kernel(now=True)
    return done


def _seconds(nb: nbformat.NotebookNode) -> float:
    """How long the last cell ran (nbclient's timestamps), 0 if it did not run."""
    timing = nb.cells[-1].metadata.get("execution", {})
    if "shell.execute_reply" not in timing or "iopub.execute_input" not in timing:
        return 0.0
    end, begin = (
        datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
        for k in ("shell.execute_reply", "iopub.execute_input")
    )
    return (end - begin).total_seconds()


def _code_cells(nb: nbformat.NotebookNode) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _errors(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.timeout(900)
def test_every_notebook_runs_with_the_answers(released, tmp_path):
    notebooks = _run_all(
        _student_copy(released, tmp_path, answers=True), allow_errors=False, tests=TEST_CELLS_RUN
    )
    for step, nb in notebooks.items():
        cells = _code_cells(nb)
        assert not [e for cell in cells for e in _errors(cell)], step
        body = cells[1:-1] if step in TEST_CELLS_RUN else cells[1:]  # not the test cell
        drawing = [c for c in body if re.search(r"^fig\b", c.source, re.MULTILINE)]
        assert drawing, f"{step}: no cell draws a figure"
        for cell in drawing:
            images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            assert images, f"{step}: no PNG from the cell\n{cell.source}"
        if step in TEST_CELLS_RUN:  # the student's report: every check of the step passes
            report = _text(cells[-1])
            number = step[4:6]
            assert re.search(rf"^step {number} .* (\d+)/\1 checks pass$", report, re.M), report
            assert "well done" in report, f"{step}: {report[-2000:]}"


@pytest.mark.timeout(900)
def test_on_the_stubs_every_failing_cell_says_one_line(released, tmp_path):
    notebooks = _run_all(
        _student_copy(released, tmp_path, answers=False), allow_errors=True, tests=()
    )
    for step, nb in notebooks.items():
        cells = _code_cells(nb)
        assert not _errors(cells[0]), f"{step}: the set-up cell failed"
        failing = [cell for cell in cells if _errors(cell)]
        assert failing, f"{step}: no cell calls the step's functions"
        for cell in failing:
            (error,) = _errors(cell)
            assert len(error.traceback) == 1, f"{step}: a traceback wall\n" + "\n".join(
                error.traceback
            )
            match = ONE_LINE.match(error.traceback[0])
            assert match and match.group(1) == match.group(2), f"{step}: {error.traceback[0]}"
        named = {ONE_LINE.match(_errors(c)[0].traceback[0]).group(1) for c in failing}
        assert step[4:6] in named, f"{step}: no cell stops at one of the step's own functions"
