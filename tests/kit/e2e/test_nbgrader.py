"""The nbgrader route gives the same scores as ``python -m grader grade``.

Runs the real pipeline (``nbgrader generate_assignment``, ``nbgrader autograde`` with
real kernels and the gradebook database) on steps 03 and 04 for the reference, the
stubs, partially correct submissions and a notebook submission, and compares every
test's score with the kit's own grader on the same files. A second, small run checks
that a step importing another (07 uses 06's ``create_model``) loses the same tests as
in the kit when that step is missing. A course built for step 03, copied to another
folder (the build's folder removed), is run there with plain ``nbgrader
generate_assignment``, ``autograde`` and ``generate_feedback``; the step 01 notebook
draws its figures in a real kernel.
"""

import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

pytest.importorskip("nbgrader")

from grader.grading import results, runner  # noqa: E402
from grader.nbgrader_bridge import ASSIGNMENT, MANIFEST, notebooks  # noqa: E402
from grader.nbgrader_bridge.build import build  # noqa: E402
from grader.nbgrader_bridge.grade import grade, read_scores, submit  # noqa: E402
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
    progress: list[str] = []
    document = grade(
        [*dirs, handed],
        out,
        STEPS,
        course_dir=tmp / "course",
        inventory=inventory,
        progress=progress.append,
    )
    return kit, document, json.loads(out.read_text()), tmp / "course", inventory, progress


def test_results_follow_the_schema(both_routes):
    _, document, written, _, _, _ = both_routes
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
    kit, document, _, _, _, _ = both_routes
    for expected, actual in zip(kit, document["submissions"][:4], strict=True):
        assert scores(actual) == scores(expected), actual["name"]
        for step in STEPS:
            assert actual["steps"][step]["score"] == expected["steps"][step]["score"]
            assert actual["steps"][step]["max_score"] == expected["steps"][step]["max_score"]
        assert actual["score"] == expected["score"]


def test_the_cases_are_what_they_claim(both_routes):
    kit, document, _, _, _, _ = both_routes
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
    _, _, _, course, inventory, _ = both_routes
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
    # the kit's stub, not nbgrader's bare `raise NotImplementedError()`
    assert 'raise NotImplementedError("step 03: softmax is not implemented yet")' in text
    assert "raise NotImplementedError()" not in text


def test_grade_cells_leave_no_stderr_and_no_value(both_routes):
    _, _, _, course, _, _ = both_routes
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


def test_grading_shows_progress_per_notebook(both_routes):
    *_, progress = both_routes
    notebooks = [line for line in progress if line.startswith("[")]
    # solutions, exercises and broken hand in 2 notebooks, partial and notebooks 1
    assert len(notebooks) == 8 and notebooks[-1].startswith("[8/8] "), progress
    assert {line.split()[1] for line in notebooks} == {
        "solutions",
        "exercises",
        "partial",
        "broken",
        "notebooks",
    }
    assert any(line.endswith("] solutions step03_normalization") for line in notebooks)


def run_nbgrader(course, *args, scratch):
    """``nbgrader ARGS`` as an instructor runs it: in the course folder, in an environment
    with the kit installed and nothing else of it (PYTHONPATH stands in for the install:
    the kit under test is this checkout), no MNIST_DATA_DIR."""
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DATA_DIR"}
    scripts = os.path.dirname(sys.executable)  # nbgrader runs alembic from PATH
    env.update(
        PYTHONPATH=str(KIT_ROOT),
        PATH=os.pathsep.join([scripts, env.get("PATH", "")]),
        PYTHONDONTWRITEBYTECODE="1",
        MPLBACKEND="Agg",
        TMPDIR=str(scratch),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Traceback" not in log, log[-3000:]
    return log


def test_a_copied_course_grades_on_its_own(tmp_path, inventory):
    inventory = [t for t in inventory if t["step"] == STEP03]
    built = tmp_path / "built" / "course"
    manifest = build(built, [STEP03], inventory)
    course = tmp_path / "elsewhere" / "copied"
    shutil.copytree(built, course, symlinks=True)
    shutil.rmtree(tmp_path / "built")  # the paths the build had lead nowhere now

    kit_path, built_path = str(KIT_ROOT).encode(), str(built).encode()
    for path in course.rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file():
            data = path.read_bytes()
            assert kit_path not in data and built_path not in data, path

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, scratch=scratch)
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{STEP03}.ipynb", as_version=4)
    text = "\n".join(c.source for c in release.cells)
    assert 'raise NotImplementedError("step 03: log_softmax is not implemented yet")' in text
    # the hidden checks of a function right after its cell, the visible tests last
    order = [c.metadata["nbgrader"]["grade_id"] for c in release.cells]
    solution = order.index("step03-softmax")
    assert order[solution + 1 : solution + 6] == [
        "step03-test_softmax_matches_torch",
        "step03-test_softmax_gradient",
        "step03-test_softmax_stable_for_huge_logits-1000-0",
        "step03-test_softmax_stable_for_huge_logits-10000-0",
        "step03-test_softmax_without_library",
    ]
    assert order[-1] == "step03-visible-tests"

    # the students hand in the released notebook with their answers in it
    broken = edited(STEP03, "shifted = x - x.max(dim=-1, keepdim=True).values", "shifted = x")
    students = {
        "alice": SOLUTIONS,
        "bob": submission_with(tmp_path, "bob", {f"{STEP03}.py": broken}),
    }
    handed = {name: submit(course, name, path, [STEP03]) for name, path in students.items()}
    # a notebook made from a .py file keeps that order (with the student's own cells added)
    filled = nbformat.read(course / "submitted" / "bob" / ASSIGNMENT / f"{STEP03}.ipynb", 4)
    assert [
        c.metadata.get("nbgrader", {}).get("grade_id")
        for c in filled.cells
        if c.metadata.get("nbgrader")
    ] == order
    run_nbgrader(course, "autograde", ASSIGNMENT, scratch=scratch)
    run_nbgrader(course, "generate_feedback", ASSIGNMENT, scratch=scratch)

    kit = runner.grade_many([(p, [STEP03]) for p in students.values()], inventory)
    for (name, path), expected in zip(students.items(), kit, strict=True):
        entry = read_scores(course, name, name, path, manifest, [STEP03], handed[name])
        assert scores(entry) == scores(expected), name
        feedback = course / "feedback" / name / ASSIGNMENT / f"{STEP03}.html"
        assert feedback.is_file(), name
    alice, bob = kit
    assert alice["score"] == alice["max_score"] > bob["score"] > 0
    html = (course / "feedback" / "bob" / ASSIGNMENT / f"{STEP03}.html").read_text()
    assert "HiddenTestFailed" in html and "test_softmax_stable_for_huge_logits" in html


def test_the_step01_notebook_draws_its_figures(tmp_path, inventory):
    """The instructor's step 01 notebook (the reference answers), run in a real kernel as
    a student runs it, less the hidden cells: the visible tests draw their figures."""
    from nbclient import NotebookClient

    step01 = "step01_plotting"
    build(tmp_path / "course", [step01], [t for t in inventory if t["step"] == step01])
    folder = tmp_path / "course" / "source" / ASSIGNMENT
    nb = nbformat.read(folder / f"{step01}.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if not c.metadata["nbgrader"].get("grade")]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND")}
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute(env=env)
    visible = next(c for c in nb.cells if c.metadata["kit"]["role"] == "visible-tests")
    pictures = [o for o in visible.outputs if "image/png" in o.get("data", {})]
    text = "".join(o.get("text", "") for o in visible.outputs)
    assert len(pictures) >= 3 and " 0 failed" in text, text
