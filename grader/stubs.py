"""Generate ``exercises/`` from ``solutions/``: every solution region becomes a stub.

A region is the lines between a ``# BEGIN SOLUTION`` line and the next
``# END SOLUTION`` line (nbgrader's marker words, as plain comments). It must sit
inside a function, with both markers at the same indentation, and hold code.
In the stub the region becomes a TODO comment naming the step and a
``raise NotImplementedError("step 03: softmax is not implemented yet")`` at
the region's indentation, so the module still imports and every stubbed
function fails loudly. Files without regions (the kit's ``mnist.py``, the
visible tests, ``conftest.py``) are copied as they are. Every generated file
starts with a header saying so.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from .steps import step_number

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
_MARKER_RE = re.compile(r"#+\s*(BEGIN|END)\s+SOLUTION\b", re.IGNORECASE)
HEADER = (
    "# GENERATED FILE: written by `python -m grader stubs` from solutions/{name}.\n"
    "# Do not edit it in exercises/: edit solutions/{name} and regenerate.\n"
)


class MarkerError(ValueError):
    """A malformed solution marker: unmatched, nested, unterminated or misplaced."""


@dataclass(frozen=True)
class Region:
    begin: int  # 0-based line index of the BEGIN marker
    end: int  # 0-based line index of the END marker
    indent: str
    function: str  # qualified name of the enclosing function, e.g. "Model.forward"


def _where(path: str, index: int) -> str:
    return f"{path}:{index + 1}"


def find_regions(text: str, path: str = "<source>") -> list[Region]:
    """The solution regions of a source text, checked strictly."""
    lines = text.splitlines()
    regions, open_at = [], None
    for i, line in enumerate(lines):
        stripped = line.strip()
        match = _MARKER_RE.search(line)
        if not match:
            continue
        if stripped not in (BEGIN, END):
            raise MarkerError(
                f"{_where(path, i)}: a solution marker must be alone on its line, exactly "
                f"{BEGIN!r} or {END!r}; found {stripped!r}"
            )
        if stripped == BEGIN:
            if open_at is not None:
                raise MarkerError(
                    f"{_where(path, i)}: nested {BEGIN!r}; the region opened at line "
                    f"{open_at + 1} is not closed yet"
                )
            open_at = i
            continue
        if open_at is None:
            raise MarkerError(f"{_where(path, i)}: {END!r} without a matching {BEGIN!r}")
        indent = lines[open_at][: len(lines[open_at]) - len(lines[open_at].lstrip())]
        if not line.startswith(indent) or line[len(indent)] in " \t":
            raise MarkerError(
                f"{_where(path, i)}: {END!r} is not at the indentation of the {BEGIN!r} "
                f"on line {open_at + 1}"
            )
        if not any(s.strip() and not s.strip().startswith("#") for s in lines[open_at + 1 : i]):
            raise MarkerError(f"{_where(path, open_at)}: the solution region holds no code")
        regions.append(Region(open_at, i, indent, ""))
        open_at = None
    if open_at is not None:
        raise MarkerError(f"{_where(path, open_at)}: {BEGIN!r} is never closed by {END!r}")
    return _attach_functions(text, regions, path)


def _attach_functions(text: str, regions: list[Region], path: str) -> list[Region]:
    """Name the function each region sits in; a region outside any is an error."""
    tree = ast.parse(text, filename=path)
    spans = []  # (first line, last line, qualified name), 1-based

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(tree, "")
    lines = text.splitlines()
    named = []
    for region in regions:
        # A function's span ends at its last statement, before a closing comment,
        # so test the region's first line of code.
        first_code = next(i for i in range(region.begin + 1, region.end)
                          if lines[i].strip() and not lines[i].strip().startswith("#"))
        inside = [s for s in spans if s[0] < region.begin + 1 and first_code + 1 <= s[1]]
        if not inside:
            raise MarkerError(
                f"{_where(path, region.begin)}: a solution region must sit inside a function"
            )
        innermost = max(inside, key=lambda s: s[0])
        named.append(Region(region.begin, region.end, region.indent, innermost[2]))
    return named


def stub_source(text: str, name: str) -> str:
    """The exercise version of a solution file named ``name``."""
    regions = find_regions(text, f"solutions/{name}")
    if regions and not name.startswith("step"):
        raise MarkerError(f"solutions/{name}: only step modules may hold solution regions")
    lines = text.splitlines(keepends=True)
    out, cursor = [], 0
    for region in regions:
        step = step_number(Path(name).stem.split("_")[0])
        out.extend(lines[cursor : region.begin])
        out.append(f"{region.indent}# TODO (step {step:02d}): implement {region.function}.\n")
        out.append(
            f"{region.indent}raise NotImplementedError("
            f'"step {step:02d}: {region.function} is not implemented yet")\n'
        )
        cursor = region.end + 1
    out.extend(lines[cursor:])
    return HEADER.format(name=name) + "".join(out)


def _sources(solutions: Path) -> list[Path]:
    return sorted(p for p in solutions.glob("*.py"))


def generate(solutions: Path) -> dict[str, str]:
    """``{file name: generated text}`` for every Python file of ``solutions/``."""
    return {p.name: stub_source(p.read_text(), p.name) for p in _sources(solutions)}


def write(solutions: Path, exercises: Path) -> list[str]:
    """Regenerate ``exercises/``; returns the names of the files written."""
    generated = generate(solutions)
    exercises.mkdir(exist_ok=True)
    for stale in exercises.glob("*.py"):
        if stale.name not in generated:
            stale.unlink()
    for name, text in generated.items():
        (exercises / name).write_text(text)
    return sorted(generated)


def check(solutions: Path, exercises: Path) -> list[str]:
    """Differences between ``exercises/`` and what generation would write."""
    generated = generate(solutions)
    problems = []
    present = {p.name for p in exercises.glob("*.py")} if exercises.is_dir() else set()
    for name, text in generated.items():
        path = exercises / name
        if name not in present:
            problems.append(f"exercises/{name} is missing")
        elif path.read_text() != text:
            problems.append(f"exercises/{name} is out of date")
    problems.extend(f"exercises/{n} has no source in solutions/" for n in sorted(present - set(generated)))
    return problems
