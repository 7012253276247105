"""The grade command: missing files, import errors, the JSON schema, exit codes."""

import json
import shutil

import pytest

from grader.grading import results
from grader.steps import STEPS
from tests.kit.submission_files import KIT_ROOT, reference, submission_with
from tests.kit.submission_files import grade_command as grade

STEP03 = "step03_normalization"


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """One run over three small submissions, steps 03 and 04 only (quick)."""
    tmp = tmp_path_factory.mktemp("grade")
    good = submission_with(tmp, "good", {f"{STEP03}.py": reference(STEP03)})
    broken = submission_with(
        tmp,
        "broken",
        {
            f"{STEP03}.py": reference(STEP03).replace("def softmax(x):", "def softmax(x)"),
            "step04_one_hot_loss.py": reference("step04_one_hot_loss"),
        },
    )
    exits = submission_with(
        tmp,
        "exits",
        {
            f"{STEP03}.py": "import os\nos._exit(3)\n",
            "step04_one_hot_loss.py": reference("step04_one_hot_loss"),
        },
    )
    out = tmp / "results.json"
    proc = grade(good, broken, exits, "--steps", "03", "04", "--json", out)
    return proc, json.loads(out.read_text())


def test_json_follows_the_schema(mixed_run):
    proc, document = mixed_run
    results.validate(document)
    assert [s["name"] for s in document["submissions"]] == ["good", "broken", "exits"]
    for sub in document["submissions"]:
        assert list(sub["steps"]) == [STEP03, "step04_one_hot_loss"]
        assert sub["max_score"] > 0


def test_missing_step_file_scores_zero_with_a_message(mixed_run):
    _, document = mixed_run
    good = document["submissions"][0]
    step04 = good["steps"]["step04_one_hot_loss"]
    assert step04["score"] == 0 and step04["max_score"] > 0
    assert all("step04_one_hot_loss.py is missing" in t["message"] for t in step04["tests"])
    assert good["steps"][STEP03]["score"] == good["steps"][STEP03]["max_score"]


def test_import_error_costs_only_its_own_step(mixed_run):
    _, document = mixed_run
    broken = document["submissions"][1]
    assert broken["steps"][STEP03]["score"] == 0
    assert all(
        "failed to import: SyntaxError" in t["message"] for t in broken["steps"][STEP03]["tests"]
    )
    step04 = broken["steps"]["step04_one_hot_loss"]
    assert step04["score"] == step04["max_score"]


def test_a_step_that_kills_its_process_costs_only_that_step(mixed_run):
    _, document = mixed_run
    exits = document["submissions"][2]
    assert exits["steps"][STEP03]["score"] == 0
    messages = {t["message"] for t in exits["steps"][STEP03]["tests"]}
    assert any("exit" in m and "code 3" in m for m in messages), messages
    step04 = exits["steps"]["step04_one_hot_loss"]
    assert step04["score"] == step04["max_score"], "a fresh process grades the next step"
    assert document["submissions"][0]["steps"][STEP03]["score"] > 0


def test_table_lists_steps_and_totals(mixed_run):
    proc, document = mixed_run
    assert proc.returncode == 1, "any lost point means exit code 1"
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["step", "good", "broken", "exits"]
    assert any(line.startswith(STEP03) for line in lines)
    total = next(i for i, line in enumerate(lines) if line.startswith("total"))
    # Under the table, why: one line per submission and step that lost points.
    assert lines[total + 1 :] == [
        "",
        "where points were lost:",
        *(line for line in lines[total + 3 :] if line.startswith("  ")),
    ]
    why = {line.split(":")[0].strip(): line for line in lines[total + 3 :]}
    assert set(why) == {
        f"{sub['name']} {step[:6]}"
        for sub in document["submissions"]
        for step, entry in sub["steps"].items()
        if entry["score"] < entry["max_score"]
    }
    assert "failed to import: SyntaxError" in why["broken step03"]
    assert "line" in why["broken step03"]


def test_every_step_appears_when_grading_everything(tmp_path):
    empty = submission_with(tmp_path, "empty", {f"{STEP03}.py": "broken(", "notes.txt": "x"})
    out = tmp_path / "r.json"
    proc = grade(empty, "--json", out)
    document = json.loads(out.read_text())
    assert list(document["submissions"][0]["steps"]) == list(STEPS)
    assert document["submissions"][0]["score"] == 0
    assert proc.returncode == 1


def test_full_marks_exit_zero():
    proc = grade(KIT_ROOT / "solutions", "--steps", "step03_normalization")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["does-not-exist"], "not a submission directory"),
        (["solutions", "--steps", "99"], "unknown step"),
        (["solutions", "--jobs", "0"], "--jobs"),
        ([], "required"),
    ],
)
def test_usage_errors_exit_two(args, message):
    proc = grade(*args)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_submission_files_other_than_steps_are_ignored(tmp_path):
    """A conftest.py shipped with a submission never reaches the grading run."""
    folder = submission_with(
        tmp_path,
        "sneaky",
        {
            f"{STEP03}.py": reference(STEP03).replace(
                "return a / a.sum(-1, keepdim=True)", "return a"
            ),
            "conftest.py": "import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
            "def pytest_runtest_makereport(item, call):\n"
            "    out = yield\n    out.get_result().outcome = 'passed'\n",
        },
    )
    shutil.copy(KIT_ROOT / "solutions" / "mnist.py", folder / "mnist.py")
    out = tmp_path / "r.json"
    grade(folder, "--steps", "03", "--json", out)
    step = json.loads(out.read_text())["submissions"][0]["steps"][STEP03]
    assert 0 < step["score"] < step["max_score"]


def test_an_unwritable_output_is_a_usage_error_before_any_grading(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = grade(KIT_ROOT / "solutions", "--steps", "03", "--json", blocker / "r.json")
    assert proc.returncode == 2
    assert "cannot write the output" in proc.stderr and "r.json" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = grade(KIT_ROOT / "solutions", "--steps", "03", "--csv", tmp_path)
    assert proc.returncode == 2 and "a directory" in proc.stderr


def test_an_unreadable_zip_scores_zero_and_the_rest_is_graded(tmp_path):
    bad = tmp_path / "carol.zip"
    bad.write_bytes(b"this is not a zip archive")
    good = submission_with(tmp_path, "dave", {f"{STEP03}.py": reference(STEP03)})
    out = tmp_path / "r.json"
    proc = grade(bad, good, "--steps", "03", "--json", out)
    assert proc.returncode == 1
    carol, dave = json.loads(out.read_text())["submissions"]
    assert carol["name"] == "carol" and carol["score"] == 0 and carol["max_score"] > 0
    messages = [t["message"] for t in carol["steps"][STEP03]["tests"]]
    assert all("could not be read as a zip" in m for m in messages), messages
    assert dave["score"] == dave["max_score"] > 0
