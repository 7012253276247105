"""The nbgrader route gives the same scores as ``python -m grader grade``.

Runs the real pipeline (``nbgrader generate_assignment``, ``nbgrader autograde`` with
real kernels and the gradebook database) on steps 03 and 04 for the reference, the
stubs, partially correct submissions and a notebook submission, and compares every
test's score with the kit's own grader on the same files. A second, small run checks
that a step importing another (07 uses 06's ``create_model``) loses the same tests as
in the kit when that step is missing.
"""

import json
import shutil

import nbformat
import pytest

pytest.importorskip("nbgrader")

from grader.grading import results, runner  # noqa: E402
from grader.nbgrader_bridge import ASSIGNMENT, MANIFEST, notebooks  # noqa: E402
from grader.nbgrader_bridge.build import build  # noqa: E402
from grader.nbgrader_bridge.grade import grade  # noqa: E402
from tests.kit.submission_files import KIT_ROOT, reference, submission_with  # noqa: E402

pytestmark = pytest.mark.timeout(900)

SOLUTIONS = KIT_ROOT / "solutions"
STEP03, STEP04 = "step03_normalization", "step04_one_hot_loss"
STEPS = [STEP03, STEP04]


def edited(step: str, old: str, new: str) -> str:
    text = reference(step)
    assert text.count(old) == 1, f"the reference {step}.py changed: update this test's edit"
    return text.replace(old, new)


def scores(entry: dict) -> dict:
    return {step: {t["name"]: t["score"] for t in s["tests"]} for step, s in entry["steps"].items()}


@pytest.fixture(scope="module")
def both_routes(tmp_path_factory, inventory):
    tmp = tmp_path_factory.mktemp("nbgrader")
    noisy = edited(
        STEP04,
        "import torch\n",
        "import sys\nimport warnings\n\nimport torch\n\n"
        "print('step 04 loading', file=sys.stderr)\n",
    )
    noisy = noisy.replace(
        '    """\n    # BEGIN SOLUTION\n',
        '    """\n    print("debugging", file=sys.stderr)\n'
        '    warnings.warn("a warning from the student")\n    # BEGIN SOLUTION\n',
    )
    dirs = [
        SOLUTIONS,
        KIT_ROOT / "exercises",
        # a classic bug in 03 (loses part of the step) and no 04 at all
        submission_with(
            tmp,
            "partial",
            {
                f"{STEP03}.py": edited(
                    STEP03, "shifted = x - x.max(dim=-1, keepdim=True).values", "shifted = x"
                )
            },
        ),
        # 03 does not even parse; 04 is right but writes to stderr and warns while it runs
        submission_with(
            tmp,
            "broken",
            {
                f"{STEP03}.py": reference(STEP03).replace("def softmax(x):", "def softmax(x)"),
                f"{STEP04}.py": noisy,
            },
        ),
    ]
    inventory = [t for t in inventory if t["step"] in STEPS]
    kit = runner.grade_many([(p, STEPS) for p in dirs], inventory)

    # A notebook submission: the instructor's notebook of step 03 (nbgrader replaces its
    # hidden cells anyway), handed in alone.
    course = tmp / "source-course"
    build(course, [STEP03], inventory)
    handed = tmp / "notebooks"
    handed.mkdir()
    shutil.copyfile(course / "source" / ASSIGNMENT / f"{STEP03}.ipynb", handed / f"{STEP03}.ipynb")

    out = tmp / "nbgrader.json"
    document = grade([*dirs, handed], out, STEPS, course_dir=tmp / "course", inventory=inventory)
    return kit, document, json.loads(out.read_text()), tmp / "course", inventory


def test_results_follow_the_schema(both_routes):
    _, document, written, _, _ = both_routes
    results.validate(document)
    assert written == document
    assert [s["name"] for s in document["submissions"]] == [
        "solutions",
        "exercises",
        "partial",
        "broken",
        "notebooks",
    ]
    for sub in document["submissions"]:
        assert list(sub["steps"]) == STEPS


def test_same_scores_as_the_kit_grader(both_routes):
    kit, document, _, _, _ = both_routes
    for expected, actual in zip(kit, document["submissions"][:4], strict=True):
        assert scores(actual) == scores(expected), actual["name"]
        for step in STEPS:
            assert actual["steps"][step]["score"] == expected["steps"][step]["score"]
            assert actual["steps"][step]["max_score"] == expected["steps"][step]["max_score"]
        assert actual["score"] == expected["score"]


def test_the_cases_are_what_they_claim(both_routes):
    kit, document, _, _, _ = both_routes
    ref, stubs, partial, broken, handed = document["submissions"]
    assert ref["score"] == ref["max_score"] > 0
    assert stubs["score"] == 0
    assert 0 < partial["steps"][STEP03]["score"] < partial["steps"][STEP03]["max_score"]
    assert partial["steps"][STEP04]["score"] == 0
    assert all(
        "step04_one_hot_loss.py is missing" in t["message"]
        for t in partial["steps"][STEP04]["tests"]
    )
    assert broken["steps"][STEP03]["score"] == 0
    assert all(
        "failed to import: SyntaxError" in t["message"] for t in broken["steps"][STEP03]["tests"]
    )
    # stderr output and warnings from a correct answer cost nothing (nbgrader would
    # score a grade cell that shows stderr 0)
    assert broken["steps"][STEP04]["score"] == broken["steps"][STEP04]["max_score"]
    assert handed["steps"][STEP03] == {**ref["steps"][STEP03]}
    assert handed["steps"][STEP04]["score"] == 0


def test_grade_cells_are_generated_from_the_hidden_suite(both_routes):
    _, _, _, course, inventory = both_routes
    manifest = json.loads((course / MANIFEST).read_text())
    inventory = [t for t in inventory if t["step"] == STEP03]
    nb = nbformat.read(course / "source" / ASSIGNMENT / f"{STEP03}.ipynb", as_version=4)
    grade_cells = [c for c in nb.cells if c.metadata["nbgrader"].get("grade")]
    points = [c.metadata["nbgrader"]["points"] for c in grade_cells]
    assert points == [t["points"] for t in inventory]
    for cell, test in zip(grade_cells, inventory, strict=True):
        assert cell.source == notebooks.hidden_cell_source(test)
        assert test["nodeid"] in cell.source
    assert {t["grade_id"] for t in manifest["tests"]} >= {
        c.metadata["nbgrader"]["grade_id"] for c in grade_cells
    }
    # the student's copy: no solutions, no hidden tests
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{STEP03}.ipynb", as_version=4)
    text = "\n".join(c.source for c in release.cells)
    assert "BEGIN HIDDEN TESTS" not in text and "run_hidden_test" not in text
    assert "x.max(dim=-1, keepdim=True)" not in text.split("def softmax")[1].split('"""')[2]
    assert "raise NotImplementedError()" in text


def test_grade_cells_leave_no_stderr_and_no_value(both_routes):
    _, _, _, course, _ = both_routes
    nb = nbformat.read(
        course / "autograded" / "broken" / ASSIGNMENT / f"{STEP04}.ipynb", as_version=4
    )
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            kinds = {(o["output_type"], o.get("name")) for o in cell.outputs}
            assert kinds <= {("stream", "stdout")}, cell.metadata["nbgrader"]["grade_id"]


def test_a_missing_step_costs_only_what_uses_it(tmp_path, inventory):
    """Step 07 imports step 06: without 06 it still imports against a placeholder, in both
    routes: its train tests fail naming step 06, sgd_step and fit score."""
    step07 = "step07_train_loop"
    without06 = tmp_path / "without06"
    shutil.copytree(SOLUTIONS, without06, ignore=shutil.ignore_patterns("step06_*", "__pycache__"))
    inventory = [t for t in inventory if t["step"] == step07]
    kit = runner.grade_one(without06, [step07], inventory)
    document = grade(
        [without06], None, [step07], course_dir=tmp_path / "course", inventory=inventory
    )
    entry = document["submissions"][0]["steps"][step07]
    assert entry["max_score"] == kit["steps"][step07]["max_score"] > 0
    assert 0 < entry["score"] == kit["steps"][step07]["score"] < entry["max_score"]
    for test in entry["tests"]:
        if test["name"].startswith("test_train"):
            assert test["score"] == 0 and "step06_create_model.py" in test["message"]
        else:
            assert test["score"] == test["max_score"], test["message"]
