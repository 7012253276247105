"""Helpers for the kit's step notebooks (they come with the kit, like ``mnist.py``).

This file sits next to the step notebooks of the nbgrader course; it is not an
exercise and it needs nothing but the standard library (and pytest for the
visible tests, as the ``.py`` exercises do).

- Step notebooks import each other by module name: once this module is
  imported, ``from step06_create_model import create_model`` in a notebook
  runs the code cells of ``step06_create_model.ipynb`` from the same folder
  (the ``.py`` steps write the same import relatively, with a leading dot).
- ``run_visible_tests(globals())`` runs the visible tests a cell defined, the
  same tests that ``pytest exercises`` runs on the ``.py`` steps; the figures
  they make (``exercises/figures/*.png`` under pytest) are drawn in the notebook.
- ``module_source(path)`` is the step module a notebook stands for: its code
  cells in order, without the test cells and without IPython magics, with the
  imports of ``mnist`` and other steps written relatively. The grader imports
  that module exactly as it imports a submitted ``stepNN_*.py`` file.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import os
import random
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple, TextIO

STEP_NAME = re.compile(r"^step\d\d_\w+$")
# The first line of every generated visible-tests cell; such cells are not step code.
VISIBLE_TESTS_MARK = "# kit: visible tests"
_LOCAL_MODULE = r"(?:mnist|step\d\d_\w+)"
_FROM_LOCAL = re.compile(rf"^(\s*)from\s+({_LOCAL_MODULE})(\s+import\b)")
_IMPORT_LOCAL = re.compile(rf"^(\s*)import\s+({_LOCAL_MODULE})(\s+as\s+\w+)?\s*(#.*)?$")
_IMPORT_HELPER = re.compile(r"^(\s*)import\s+kit_notebook\b.*$")


# --- notebooks as step modules ------------------------------------------------------


def read_notebook(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def is_test_cell(cell: dict) -> bool:
    """A visible-tests cell or an autograder test cell: not part of the step module."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return True
    return _text(cell).lstrip().startswith(VISIBLE_TESTS_MARK)


def _without_magics(text: str) -> str | None:
    """Python source of a cell: IPython line magics and shell escapes become ``pass``."""
    if text.lstrip().startswith("%%"):
        return None  # a cell magic: its body is not Python
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        lines.append(f"{indent}pass  # {stripped}" if stripped[:1] in ("%", "!") else line)
    return "\n".join(lines)


def step_cells(notebook: dict) -> list[str]:
    """The Python source of every code cell that belongs to the step, in order."""
    sources = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code" or is_test_cell(cell):
            continue
        text = _without_magics(_text(cell))
        if text is not None and text.strip():
            sources.append(text)
    return sources


def to_relative_imports(text: str) -> str:
    """Notebook imports of ``mnist`` and other steps in the package form of a step module."""
    out = []
    for line in text.splitlines():
        line = _FROM_LOCAL.sub(r"\1from .\2\3", line)
        line = _IMPORT_LOCAL.sub(lambda m: f"{m[1]}from . import {m[2]}{m[3] or ''}", line)
        line = _IMPORT_HELPER.sub(r"\1pass  # import kit_notebook (notebooks only)", line)
        out.append(line)
    return "\n".join(out)


def module_source(path: Path, relative: bool = True) -> str:
    """The step module that the notebook at ``path`` stands for (see the module docstring)."""
    cells = step_cells(read_notebook(path))
    body = "\n\n\n".join(to_relative_imports(c) if relative else c for c in cells)
    return f"# Step module made from the code cells of {Path(path).name}.\n{body}\n"


# --- where the step notebooks are ---------------------------------------------------


def notebook_dirs() -> list[Path]:
    """The folder of the running notebook; under nbgrader autograde also the submitted copy.

    nbgrader grades the notebooks of a submission one by one, each in its own
    folder copy under ``autograded/``; a step another step imports may not be
    there yet, but it always is in ``submitted/<student>/<assignment>/``.
    """
    here = Path.cwd()
    dirs = [here]
    if os.environ.get("NBGRADER_EXECUTION") and len(here.parents) >= 3:
        step_dir = here.parents[1]
        if step_dir.name == "autograded":
            dirs.append(step_dir.parent / "submitted" / here.parent.name / here.name)
    return dirs


def find_notebook(step: str) -> Path | None:
    for folder in notebook_dirs():
        path = folder / f"{step}.ipynb"
        if path.is_file():
            return path
    return None


class _StepNotebookFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``stepNN_name`` from ``stepNN_name.ipynb`` when no such module exists."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if path is not None or not STEP_NAME.match(fullname):
            return None
        notebook = find_notebook(fullname)
        if notebook is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=str(notebook))

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        spec = module.__spec__
        assert spec is not None and spec.origin is not None  # made by find_spec above
        notebook = Path(spec.origin)
        module.__file__ = str(notebook)
        code = compile(module_source(notebook, relative=False), str(notebook), "exec")
        exec(code, module.__dict__)


def install() -> None:
    """Let notebooks import the other step notebooks of their folder (idempotent)."""
    if not any(isinstance(f, _StepNotebookFinder) for f in sys.meta_path):
        sys.meta_path.append(_StepNotebookFinder())


install()


# --- visible tests --------------------------------------------------------------------


class VisibleTestsFailed(AssertionError):
    """Some visible tests failed; the lines above say which and why."""


def _seed() -> None:
    random.seed(0)
    try:
        import numpy as np

        np.random.seed(0)
    except ImportError:
        pass
    try:
        import torch

        torch.manual_seed(0)
    except ImportError:
        pass


def _cases(function: Callable[..., Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(id, arguments)`` for every parametrized case of a test function."""
    cases: list[tuple[str, dict[str, Any]]] = [("", {})]
    for mark in reversed(getattr(function, "pytestmark", [])):
        if mark.name != "parametrize":
            continue
        names, values = mark.args[0], mark.args[1]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        expanded = []
        for case_id, args in cases:
            for value in values:
                if hasattr(value, "values") and hasattr(value, "marks"):  # pytest.param(...)
                    value = tuple(value.values)
                elif len(names) == 1:
                    value = (value,)
                else:
                    value = tuple(value)
                new = dict(args, **dict(zip(names, value, strict=True)))
                label = "-".join(str(v) for v in value)
                expanded.append((f"{case_id}-{label}" if case_id else label, new))
        cases = expanded
    return cases


class CaptureResult(NamedTuple):
    """What ``capsys.readouterr()`` returns, as in pytest."""

    out: str
    err: str


class _Capsys:
    """pytest's ``capsys`` for a notebook: what the test prints, read with ``readouterr()``."""

    def __init__(self) -> None:
        import io

        self._out, self._err = io.StringIO(), io.StringIO()
        self._saved: tuple[TextIO, TextIO] | None = None

    def start(self) -> _Capsys:
        self._saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self._out, self._err
        return self

    def stop(self) -> None:
        if self._saved is not None:
            sys.stdout, sys.stderr = self._saved
            self._saved = None

    def readouterr(self) -> CaptureResult:
        result = CaptureResult(self._out.getvalue(), self._err.getvalue())
        for stream in (self._out, self._err):
            stream.seek(0)
            stream.truncate()
        return result


def _show(fig: Any) -> None:
    """Draw a figure (or a function that makes one) in the notebook; never fails a test."""
    try:
        from IPython import get_ipython
        from IPython.display import display
        from matplotlib.figure import Figure

        if get_ipython() is None:
            return
        if callable(fig) and not isinstance(fig, Figure):
            fig = fig()
        if isinstance(fig, Figure):
            display(fig)
    except Exception:
        pass


def _curves(
    name: str, curves: Any, x: Any = None, xlabel: str = "epoch", ylabel: str = "loss"
) -> None:
    """``save_curves`` of exercises/conftest.py, drawn in the notebook."""

    def draw() -> Any:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        for label, values in (curves() if callable(curves) else curves).items():
            values = [float(v) for v in values]
            ax.plot(list(x) if x is not None else range(1, len(values) + 1), values, label=label)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=name)
        ax.legend()
        return fig

    _show(draw)


def _digits(name: str, rows: Any) -> None:
    """``save_digits`` of exercises/conftest.py: one row of 28x28 digits per entry."""

    def draw() -> Any:
        import torch
        from matplotlib.figure import Figure

        named = rows() if callable(rows) else rows
        fig = Figure(figsize=(8, 1.4 * len(named)))
        for i, (label, images) in enumerate(named.items()):
            images = torch.as_tensor(images).detach().cpu().float().reshape(-1, 28, 28)
            ax = fig.add_subplot(len(named), 1, i + 1)
            ax.imshow(torch.cat(list(images), dim=1).numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_title(label)
            ax.set_axis_off()
        return fig

    _show(draw)


def _fixture(name: str, cleanups: list[Callable[[], None]]) -> Any:
    if name == "tmp_path":
        return Path(tempfile.mkdtemp(prefix="kit-visible-"))
    if name == "device":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "capsys":
        capsys = _Capsys()
        cleanups.append(capsys.stop)
        return capsys.start()
    # pytest saves these pictures as PNG files (exercises/conftest.py); a notebook draws them
    if name == "save_figure":
        return lambda fig, name: _show(fig)
    if name == "save_curves":
        return _curves
    if name == "save_digits":
        return _digits
    raise LookupError(name)


def run_visible_tests(namespace: dict) -> None:
    """Run every ``test_*`` function of ``namespace``; raise if any of them fails."""
    __tracebackhide__ = True
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        print("The visible tests are not run while grading: the hidden checks below are.")
        return
    import inspect

    tests = [
        (n, f)
        for n, f in list(namespace.items())
        if n.startswith("test_") and inspect.isfunction(f)
    ]
    failed: list[str] = []
    passed = 0
    for name, function in tests:
        wanted = list(inspect.signature(function).parameters)
        for case_id, args in _cases(function):
            label = f"{name}[{case_id}]" if case_id else name
            cleanups: list[Callable[[], None]] = []
            try:
                kwargs = {p: args[p] if p in args else _fixture(p, cleanups) for p in wanted}
            except LookupError as exc:
                for cleanup in cleanups:
                    cleanup()
                print(f"SKIPPED {label}: needs the pytest fixture {exc}; run it with pytest")
                continue
            _seed()
            error: str | None
            try:
                function(**kwargs)
            except NotImplementedError as exc:
                error = f"{exc}"
            except Exception as exc:  # the message is the lesson
                where = traceback.extract_tb(exc.__traceback__)[-1]
                message = (
                    str(exc).split("\nassert ")[0].strip() or f"assertion at line {where.lineno}"
                )
                error = f"{type(exc).__name__}: {message}"
            else:
                error = None
            finally:
                for cleanup in cleanups:
                    cleanup()
            if error is None:
                passed += 1
                print(f"passed  {label}")
            else:
                failed.append(label)
                print(f"FAILED  {label}: {error}")
    print(f"{passed} passed, {len(failed)} failed")
    if failed:
        raise VisibleTestsFailed(f"{len(failed)} visible test(s) failed: {', '.join(failed)}")
