"""The release's notebooks: ``notebooks/stepNN_<name>.ipynb``, one per step.

Each notebook is, in order:

1. the step's teaching text: the module docstring of ``exercises/<step>.py`` (the
   stub, so never an answer), as markdown;
2. ``templates/notebooks/first_cells.py.in``: how to use the notebook, and the
   set-up cell (finds the folder holding ``exercises/``, reloads edited step files,
   shows figures inline, and shows a stub's ``NotImplementedError`` as one line);
3. ``templates/notebooks/<step>.py.in``: the cells of the step (import the
   student's module, run it on MNIST, draw what it made);
4. ``templates/notebooks/tests_cell.py.in``: run the step's visible tests.

The templates are in the percent format: ``# %%`` starts a code cell, ``# %% [markdown]``
a markdown cell whose lines are comments (``# text``). ``$step`` and ``$marker`` are
replaced (``string.Template``). The notebooks are scanned for leaks with the rest of
the release (grader/distribute/leak_scan.py reads the cells of a ``.ipynb``).
"""

from __future__ import annotations

import ast
from pathlib import Path
from string import Template

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..steps import STEPS, marker_name
from . import read_template

FOLDER = "notebooks"


def split_cells(text: str) -> list[tuple[str, str]]:
    """A percent-format text as ``[("code" | "markdown", source), ...]``."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '# %%' line: {line!r}")
    out = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [line.removeprefix("#").removeprefix(" ") for line in lines]
        source = "\n".join(lines).strip("\n")
        if source:
            out.append((kind, source))
    return out


def teaching_text(stub: Path) -> str:
    """A step file's docstring as markdown: its first line as the title."""
    doc = ast.get_docstring(ast.parse(stub.read_text(), filename=str(stub))) or stub.stem
    title, _, rest = doc.partition("\n")
    # reStructuredText's "text::" before an indented block is plain "text:" in markdown
    return f"# {title}\n{rest}".replace("::\n", ":\n")


def step_notebook(step: str, exercises: Path) -> nbformat.NotebookNode:
    """The notebook of ``step``, made from the stub in ``exercises`` and the templates."""
    names = {"step": step, "marker": marker_name(step)}
    text = "\n".join(
        Template(read_template(FOLDER, name)).substitute(names)
        for name in ("first_cells.py.in", f"{step}.py.in", "tests_cell.py.in")
    )
    cells = [new_markdown_cell(teaching_text(exercises / f"{step}.py"))]
    for kind, source in split_cells(text):
        cells.append(new_code_cell(source) if kind == "code" else new_markdown_cell(source))
    for i, cell in enumerate(cells):
        cell.id = f"{names['marker']}-{i:02d}"  # stable ids: the same release, the same files
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    return nb


def write(out: Path, exercises: Path) -> list[str]:
    """Write ``out/notebooks/<step>.ipynb`` for every step; returns the paths written."""
    (out / FOLDER).mkdir()
    written = []
    for step in STEPS:
        nbformat.write(step_notebook(step, exercises), out / FOLDER / f"{step}.ipynb")
        written.append(f"{FOLDER}/{step}.ipynb")
    return written
