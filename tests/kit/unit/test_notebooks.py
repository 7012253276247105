"""The release's notebooks as files: one per step, valid, made from the stubs and the
templates, and never an answer (running them: tests/kit/e2e/test_notebooks.py)."""

import ast
import json
import tomllib

import nbformat
import pytest

from grader.distribute import leak_scan, notebooks, release
from grader.steps import STEPS, marker_name
from tests.kit.submission_files import KIT_ROOT


def test_split_cells_reads_the_percent_format():
    text = "# %% [markdown]\n# ## Title\n#\n# text\n\n# %%\nx = 1\n\n\ny = 2\n# %%\n\n"
    assert notebooks.split_cells(text) == [
        ("markdown", "## Title\n\ntext"),
        ("code", "x = 1\n\n\ny = 2"),
    ]
    with pytest.raises(ValueError, match="before the first"):
        notebooks.split_cells("x = 1\n# %%\n")


@pytest.mark.parametrize("step", STEPS)
def test_a_notebook_per_step_from_the_stub(step):
    nb = notebooks.step_notebook(step, KIT_ROOT / "exercises")
    nbformat.validate(nb)
    stub = (KIT_ROOT / "exercises" / f"{step}.py").read_text()
    doc = ast.get_docstring(ast.parse(stub))
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith(f"# Step {step[4:6]}: ")
    assert doc.splitlines()[-1] in nb.cells[0].source  # the whole teaching text
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    for source in code:
        ast.parse(source)  # every cell is Python (no shell escapes, no magics)
    assert "set_custom_exc" in code[0] and '"autoreload", "2"' in code[0]
    assert f"from exercises import {step} as s" in code[1]
    assert f'"-m", "{marker_name(step)}"' in code[-1]
    # One test cell for every step, but for the marker (the e2e test runs two of them).
    first = notebooks.step_notebook(STEPS[0], KIT_ROOT / "exercises")
    first_tests = [c.source for c in first.cells if c.cell_type == "code"][-1]
    assert code[-1] == first_tests.replace(marker_name(STEPS[0]), marker_name(step))
    assert len({cell.id for cell in nb.cells}) == len(nb.cells)


def test_the_notebooks_of_the_release(released):
    out, written = released
    assert sorted(w for w in written if w.startswith("notebooks/")) == [
        f"notebooks/{step}.ipynb" for step in STEPS
    ]
    for step in STEPS:
        nb = nbformat.read(out / "notebooks" / f"{step}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert nb == notebooks.step_notebook(step, KIT_ROOT / "exercises")  # reproducible
    assert leak_scan.scan(out / "notebooks") == []


def test_the_leak_scan_reads_the_cells_of_a_notebook(tmp_path):
    """In the file a solution line is a JSON string; the scan must still see it."""
    secret = next(iter(leak_scan.solution_lines()))
    nb = notebooks.step_notebook(STEPS[2], KIT_ROOT / "exercises")
    nb.cells.append(nbformat.v4.new_code_cell(f"x = 1\n{secret}\n"))
    nbformat.write(nb, tmp_path / "leaky.ipynb")
    assert secret not in (tmp_path / "leaky.ipynb").read_text().splitlines()
    leaks = leak_scan.scan(tmp_path)
    assert len(leaks) == 1 and leaks[0].startswith(f"leaky.ipynb: cell {len(nb.cells)} line 2: ")
    # a file named .ipynb that is not a notebook is read as text
    (tmp_path / "leaky.ipynb").write_text(f"{secret}\n")
    assert leak_scan.scan(tmp_path) == [leak_scan.scan(tmp_path)[0]]
    assert leak_scan.scan(tmp_path)[0].startswith("leaky.ipynb:1: ")


def test_the_student_package_has_a_notebook_extra():
    kit = tomllib.loads((KIT_ROOT / "pyproject.toml").read_text())["project"]
    student = tomllib.loads(release.student_pyproject(KIT_ROOT / "exercises"))["project"]
    extra = student["optional-dependencies"]["notebook"]
    assert extra == kit["optional-dependencies"]["notebook"]
    assert any(r.startswith("jupyterlab") for r in extra)
    assert any(r.startswith("ipykernel") for r in extra)
    readme = release.student_readme()
    assert "pip install -e '.[notebook]'" in readme and "jupyter lab notebooks/" in readme
    json.dumps(extra)
