"""The nbgrader course as files: portable, the kit's stubs, each check after its function.

(The course run by nbgrader itself, copied elsewhere: tests/kit/e2e/test_nbgrader.py.)
"""

import ast
import re
import sys

import nbformat
import pytest

pytest.importorskip("nbgrader")

from grader.layout import HIDDEN_DIR, KIT_ROOT, SOLUTIONS_DIR  # noqa: E402
from grader.nbgrader_bridge import ASSIGNMENT  # noqa: E402
from grader.nbgrader_bridge.build import build  # noqa: E402
from grader.nbgrader_bridge.cli import next_steps  # noqa: E402
from grader.nbgrader_bridge.notebooks import _defined_names, _follows  # noqa: E402
from grader.nbgrader_bridge.preprocessors import KitClearSolutions  # noqa: E402
from grader.steps import STEPS  # noqa: E402


def test_the_course_holds_no_kit_path_and_no_link(tmp_path):
    build(tmp_path / "course", ["step03_normalization"], inventory=[])
    files = list((tmp_path / "course").rglob("*"))
    assert (tmp_path / "course" / "data_cache" / "MNIST" / "raw").is_dir()
    assert not [p for p in files if p.is_symlink()]
    for path in files:
        if path.is_file():
            assert str(KIT_ROOT).encode() not in path.read_bytes(), path


def test_every_hidden_test_sits_after_a_function_it_checks():
    for step in STEPS:
        tree = ast.parse((SOLUTIONS_DIR / f"{step}.py").read_text())
        functions = {
            f"{step}-{names[0]}": names
            for names in (_defined_names(node) for node in tree.body)
            if names and not names[0].startswith("_")
        }
        source = (HIDDEN_DIR / f"test_{step}.py").read_text()
        for name in re.findall(r"^def (test_\w+)", source, re.M):
            test = {"name": name, "nodeid": f"tests/hidden/test_{step}.py::{name}"}
            assert _follows(test, functions) is not None, f"{step} {name}"
    one = {"step03-softmax": ["softmax"], "step03-log_softmax": ["log_softmax"]}
    test = {"name": "test_log_softmax_x[1]", "nodeid": "tests/hidden/test_step03_normalization.py"}
    assert _follows(test, one) == "step03-log_softmax"


def test_the_stub_names_the_step_and_the_function():
    cell = nbformat.v4.new_code_cell(
        "class Model:\n    def __init__(self):\n        ### BEGIN SOLUTION\n        self.a = 1\n"
        "        ### END SOLUTION\n\n    def forward(self, x):\n        ### BEGIN SOLUTION\n"
        "        return x\n        ### END SOLUTION\n\n\ndef extra():\n    ### BEGIN SOLUTION\n"
        "    return 2\n    ### END SOLUTION",
        metadata={"kit": {"todo": [[6, "Model.__init__"], [6, "Model.forward"]]}},
    )
    stubs = KitClearSolutions()
    stubs.code_stub = {"python": 'raise NotImplementedError("step {step:02d}: {function}")'}
    assert stubs._replace_solution_region(cell, "python")
    assert cell.source.splitlines() == [
        "class Model:",
        "    def __init__(self):",
        '        raise NotImplementedError("step 06: Model.__init__")',
        "",
        "    def forward(self, x):",
        '        raise NotImplementedError("step 06: Model.forward")',
        "",
        "",
        "def extra():",  # a region the kit did not write: nbgrader's own stub
        "    # YOUR CODE HERE",
        "    raise NotImplementedError()",
    ]


def test_the_built_notebook_carries_what_the_stubs_need(tmp_path):
    build(tmp_path / "course", ["step06_create_model"], inventory=[])
    path = tmp_path / "course" / "source" / ASSIGNMENT / "step06_create_model.ipynb"
    todo = [c.metadata["kit"].get("todo") for c in nbformat.read(path, as_version=4).cells]
    assert [[6, "Model.__init__"], [6, "Model.forward"]] in todo
    config = (tmp_path / "course" / "nbgrader_config.py").read_text()
    assert "generate_assignment_preprocessors()" in config and "{function}" in config


def test_next_steps_start_in_the_kits_environment(tmp_path):
    text = next_steps(tmp_path / "my course", ASSIGNMENT)
    first = text.splitlines()[1].strip()
    if sys.prefix != sys.base_prefix:
        assert first.startswith("source ") and first.endswith("activate")
    else:
        assert "activate" in first
    assert "'" in text.splitlines()[2] and "nbgrader autograde mnist_kit" in text
