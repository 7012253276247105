"""Step notebooks: generated from ``solutions/``, and filled from a student's step file.

A step notebook has, in order: the step's teaching docstring as markdown; a
read-only setup cell (the module's imports, in notebook form); read-only cells
for any code the kit provides; one solution cell per function or class that
holds a ``# BEGIN SOLUTION`` region (the whole definition, the markers in
nbgrader's ``### BEGIN SOLUTION`` form), each followed by the autograder test cells
of that function (one per hidden test named after it, worth that test's points,
whose hidden part runs that pytest test, see
:func:`grader.nbgrader_bridge.inkernel.run_hidden_test`); the visible tests as one
read-only cell; then the hidden tests named after no function.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..distribute.stubs import BEGIN, END, find_regions
from ..layout import KIT_ROOT
from ..steps import marker_name, step_number
from .kit_notebook import VISIBLE_TESTS_MARK, is_test_cell

_FROM_RELATIVE = re.compile(r"^(\s*)from\s+\.(mnist|step\d\d_\w+)(\s+import\b)")
_IMPORT_RELATIVE = re.compile(r"^(\s*)from\s+\.\s+import\s+(mnist|step\d\d_\w+)(\s+as\s+\w+)?\s*$")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def to_notebook_imports(text: str) -> str:
    """``from .mnist import x`` -> ``from mnist import x`` (the notebook form of an import)."""
    out = []
    for line in text.splitlines():
        line = _FROM_RELATIVE.sub(r"\1from \2\3", line)
        line = _IMPORT_RELATIVE.sub(lambda m: f"{m[1]}import {m[2]}{m[3] or ''}", line)
        out.append(line)
    return "\n".join(out)


def _meta(
    grade_id: str,
    role: str,
    *,
    solution: bool = False,
    grade: bool = False,
    locked: bool = True,
    points: float | None = None,
    **kit: Any,
) -> dict[str, Any]:
    nbgrader: dict[str, Any] = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if points is not None:
        nbgrader["points"] = points
    return {"nbgrader": nbgrader, "kit": {"role": role, **kit}}


def _markdown_from_docstring(doc: str) -> str:
    """A module docstring as markdown: a heading, ``code`` as `code`."""
    doc = re.sub(r"``([^`]+)``", r"`\1`", doc.strip())
    title, _, rest = doc.partition("\n")
    return f"# {title.strip()}\n\n{rest.strip()}\n"


HOW_TO = (
    "Write your answers in the cells that say `YOUR CODE HERE`, keeping the names and "
    "signatures. The notebook is graded as the module made of its code cells, in order, "
    "so before you submit: *Restart & Run All*, and make sure no cell fails. The cells that "
    "say *Autograded check* are empty in your copy: each runs one hidden test of the kit "
    "on your code when your notebook is graded."
)


def _last_line(node: ast.stmt) -> int:
    """The last line of a statement (ast.parse sets it on every one)."""
    assert node.end_lineno is not None
    return node.end_lineno


def _chunks(text: str, tree: ast.Module) -> list[tuple[list[ast.stmt], str]]:
    """The top-level statements of a module with their source, comments above attached."""
    lines = text.splitlines()
    body = list(tree.body)
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        start = _last_line(first)
        body = body[1:]
    else:
        start = 0
    firsts = [
        min([n.lineno, *(d.lineno for d in getattr(n, "decorator_list", []))]) - 1 for n in body
    ]
    chunks = []
    for i, node in enumerate(body):
        if i == len(body) - 1:
            end = len(lines)
        else:  # up to the next statement, less the blank lines and top-level comments before it
            end = firsts[i + 1]
            while end > _last_line(node) and (
                not lines[end - 1].strip() or lines[end - 1].startswith("#")
            ):
                end -= 1
        chunk = "\n".join(lines[start:end]).strip("\n")
        chunks.append(([node], chunk))
        start = end
    return chunks


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _join(chunks: list[tuple[ast.stmt, str]]) -> str:
    """Chunks of code as one cell: imports one per line, other statements apart."""
    imports = (ast.Import, ast.ImportFrom)
    text = ""
    for i, (node, chunk) in enumerate(chunks):
        if i:
            both = isinstance(node, imports) and isinstance(chunks[i - 1][0], imports)
            text += "\n" if both else "\n\n\n"
        text += chunk
    return text


def _nbgrader_markers(chunk: str) -> str:
    out = []
    for line in chunk.splitlines():
        stripped = line.strip()
        if stripped in (BEGIN, END):
            line = line[: len(line) - len(line.lstrip())] + "##" + stripped
        out.append(line)
    return "\n".join(out)


def _visible_tests_source(path: Path, step: str) -> str:
    """The visible tests of a step as a notebook cell: own-step import dropped, then run."""
    text = path.read_text()
    tree = ast.parse(text)
    lines = text.splitlines()
    drop: set[int] = set()
    for node in tree.body:
        own_import = isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == step
        docstring = (
            node is tree.body[0]
            and isinstance(node, ast.Expr)
            and isinstance(getattr(node, "value", None), ast.Constant)
        )
        if own_import or docstring:
            drop.update(range(node.lineno - 1, _last_line(node)))
    kept = "\n".join(line for i, line in enumerate(lines) if i not in drop).strip("\n")
    kept = re.sub(r"\n{3,}(?=(import|from) )", "\n\n", kept)
    header = (
        f"{VISIBLE_TESTS_MARK} (read-only): the tests `pytest` runs on the .py steps.\n"
        "# Run this cell to check your work; it names what is wrong and gives a hint.\n"
        "import kit_notebook\n"
    )
    return f"{header}{to_notebook_imports(kept)}\n\n\nkit_notebook.run_visible_tests(globals())\n"


def _keys(name: str) -> set[str]:
    """How a test name spells a function: ``ClassifierNet`` as ``classifiernet`` or
    ``classifier_net``, ``kaiming_init_`` as ``kaiming_init``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return {name.lower().rstrip("_"), snake.lower().rstrip("_")}


def _uses(test: dict, names: set[str]) -> set[str]:
    """The names of ``names`` a hidden test reads (``step.AE``, ``"softmax"``), in its own
    body or in the helpers of its file that it calls."""
    path = KIT_ROOT / test["nodeid"].split("::")[0]
    tree = ast.parse(path.read_text())
    helpers = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    todo, seen, used = [test["name"].split("[")[0]], set(), set()
    while todo:
        function = helpers.get(todo.pop())
        if function is None or function.name in seen:
            continue
        seen.add(function.name)
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and node.attr in names:
                used.add(node.attr)
            elif isinstance(node, ast.Constant) and node.value in names:
                used.add(str(node.value))
            elif isinstance(node, ast.Name) and node.id in helpers:
                todo.append(node.id)
    return used


def _follows(test: dict, functions: dict[str, list[str]]) -> str | None:
    """The grade id of the solution cell a hidden test checks: the function it is named
    after (the longest: ``test_log_softmax_...`` follows ``log_softmax``), else the last
    of the functions it uses (it needs them all); None when it uses none of them."""
    base = test["name"].removeprefix("test_").split("[")[0].lower() + "_"
    best: tuple[int, str] | None = None
    for grade_id, names in functions.items():
        for key in (k for name in names for k in _keys(name)):
            if base.startswith(key + "_") and (best is None or len(key) > best[0]):
                best = (len(key), grade_id)
    if best:
        return best[1]
    used = _uses(test, {n for names in functions.values() for n in names})
    last = [grade_id for grade_id, names in functions.items() if used & set(names)]
    return last[-1] if last else None


def place_checks(cells: list[Any]) -> list[Any]:
    """The cells with each hidden test cell that follows a solution cell (``kit.follows``)
    right after that cell, in their order; one whose cell is gone goes to the end."""
    anchored = [c for c in cells if c.metadata.get("kit", {}).get("follows")]
    out = []
    for cell in cells:
        if cell.metadata.get("kit", {}).get("follows"):
            continue
        out.append(cell)
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            out.extend(c for c in anchored if c.metadata["kit"]["follows"] == grade_id)
    placed = {id(c) for c in out}
    return out + [c for c in anchored if id(c) not in placed]


def grade_id_of(test: dict) -> str:
    """The nbgrader grade id of a hidden test's cell: ``step03-test_name-param``."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", test["name"]).strip("-")
    return f"{marker_name(test['step'])}-{name}"


def hidden_cell_source(test: dict) -> str:
    points = f"{test['points']:g} point{'s' if test['points'] != 1 else ''}"
    return (
        f"# Autograded check {test['name']} ({points}): it runs when your notebook is graded.\n"
        "### BEGIN HIDDEN TESTS\n"
        "from grader.nbgrader_bridge.inkernel import run_hidden_test\n"
        "\n"
        f"run_hidden_test({test['step']!r}, {test['nodeid']!r})\n"
        "### END HIDDEN TESTS"
    )


def step_notebook(step: str, solutions: Path, tests: list[dict]) -> nbformat.NotebookNode:
    """The source (instructor) notebook of a step."""
    path = solutions / f"{step}.py"
    text = path.read_text()
    regions = find_regions(text, f"solutions/{path.name}")
    tree = ast.parse(text)
    marker = marker_name(step)
    cells = [
        new_markdown_cell(
            _markdown_from_docstring(ast.get_docstring(tree) or step) + "\n" + HOW_TO,
            metadata=_meta(f"{marker}-intro", "intro"),
        )
    ]
    pending: list[tuple[ast.stmt, str]] = []  # provided code not yet in a cell

    def flush() -> None:
        if not pending:
            return
        source = to_notebook_imports(_join(pending))
        if len(cells) == 1:
            role, grade_id = "setup", f"{marker}-setup"
            if re.search(r"^\s*(from|import)\s+step\d\d_", source, re.M):
                source = "import kit_notebook  # lets step notebooks import each other\n\n" + source
        else:
            role, grade_id = "provided", f"{marker}-provided-{len(cells)}"
        cells.append(new_code_cell(source, metadata=_meta(grade_id, role)))
        pending.clear()

    for nodes, chunk in _chunks(text, tree):
        node = nodes[0]
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        inside = [r for r in regions if first - 1 <= r.begin < _last_line(node)]
        if not inside:
            pending.append((node, chunk))
            continue
        flush()
        if len(cells) == 1:  # no imports at all: still a (empty) setup cell first
            cells.append(new_code_cell("", metadata=_meta(f"{marker}-setup", "setup")))
        names = _defined_names(node)
        # what each region's stub says (grader.nbgrader_bridge.preprocessors)
        todo = [[step_number(step), r.function] for r in inside]
        cells.append(
            new_code_cell(
                to_notebook_imports(_nbgrader_markers(chunk)),
                metadata=_meta(
                    f"{marker}-{names[0]}",
                    "solution",
                    solution=True,
                    locked=False,
                    names=names,
                    todo=todo,
                ),
            )
        )
    flush()
    visible = solutions / f"test_{step}.py"
    if visible.is_file():
        cells.append(
            new_markdown_cell(
                "## Visible tests\n\nRun the next cell after each answer.",
                metadata=_meta(f"{marker}-visible-intro", "intro"),
            )
        )
        cells.append(
            new_code_cell(
                _visible_tests_source(visible, step),
                metadata=_meta(f"{marker}-visible-tests", "visible-tests"),
            )
        )
    functions = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["kit"]["names"]
        for c in cells
        if c.metadata["kit"]["role"] == "solution"
    }
    checks = [(test, _follows(test, functions)) for test in tests if test["step"] == step]
    rest = sum(t["points"] for t, follows in checks if follows is None)
    if any(follows is None for _, follows in checks):
        cells.append(
            new_markdown_cell(
                f"## More autograded checks ({rest:g} point{'s' if rest != 1 else ''})\n\n"
                "The cells below are empty in your copy: when your notebook is graded, each "
                "runs one hidden test of the kit on your code and earns its points if the "
                "test passes.",
                metadata=_meta(f"{marker}-hidden-intro", "intro"),
            )
        )
    for test, follows in checks:
        kit = {"nodeid": test["nodeid"], **({"follows": follows} if follows else {})}
        cells.append(
            new_code_cell(
                hidden_cell_source(test),
                metadata=_meta(
                    grade_id_of(test),
                    "hidden-test",
                    grade=True,
                    locked=True,
                    points=test["points"],
                    **kit,
                ),
            )
        )
    cells = place_checks(cells)
    nb = new_notebook(
        cells=cells, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    )
    nbformat.validate(nb)
    return nb


# --- a student's step file in a released notebook -----------------------------------------


def _release_names(cell: Any) -> list[str]:
    try:
        return [n for node in ast.parse(cell.source).body for n in _defined_names(node)]
    except SyntaxError:
        return []


def _is_solution(cell: Any) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def fill_notebook(release: nbformat.NotebookNode, step_text: str) -> nbformat.NotebookNode:
    """The released notebook with a student's step file in it.

    The student's top-level statements keep their order; a definition of a name
    the kit asks for goes into that name's solution cell, everything else into
    plain cells; names the file lacks keep their stub. A file that does not
    parse goes in whole into one cell (so the notebook, like the file, fails).
    """
    nb = nbformat.from_dict(release)
    checks = [c for c in nb.cells if c.metadata.get("kit", {}).get("follows")]
    after = [c for c in nb.cells if not _is_solution(c) and c not in checks]
    tail_start = next((i for i, c in enumerate(after) if is_test_cell(c)), len(after))
    if 1 < tail_start < len(after) and after[tail_start - 1].cell_type == "markdown":
        tail_start -= 1
    head, tail = after[:tail_start], after[tail_start:]
    solutions = {n: c for c in nb.cells if _is_solution(c) for n in _release_names(c)[:1]}
    body: list[Any] = []
    used: set[str] = set()
    try:
        tree = ast.parse(step_text)
    except SyntaxError:
        body.append(new_code_cell(step_text))
    else:
        plain: list[tuple[ast.stmt, str]] = []
        for nodes, chunk in _chunks(step_text, tree):
            names = [n for n in _defined_names(nodes[0]) if n in solutions and n not in used]
            if not names:
                plain.append((nodes[0], chunk))
                continue
            if plain:
                body.append(new_code_cell(to_notebook_imports(_join(plain))))
                plain = []
            cell = nbformat.from_dict(solutions[names[0]])
            cell.source = to_notebook_imports(chunk)
            cell.outputs, cell.execution_count = [], None
            body.append(cell)
            used.add(names[0])
        if plain:
            body.append(new_code_cell(to_notebook_imports(_join(plain))))
    stubs = [c for n, c in solutions.items() if n not in used]
    # the hidden checks of a function go back after its cell (nbgrader keeps the kit metadata)
    nb.cells = place_checks(head + body + stubs + tail + checks)
    return nb
