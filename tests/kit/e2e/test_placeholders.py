"""A broken step 06 costs step 06, and of step 07 only the tests that train a model.

The same per-test verdicts in the sandbox and in a direct run (a hidden test that judges
differently in the two is a bug); the unit tests of the placeholder are in
tests/kit/unit/test_placeholders.py.
"""

from grader.grading import runner
from tests.kit.submission_files import SOLUTIONS, reference, submission_with

STEP06, STEP07 = "step06_create_model", "step07_train_loop"


def test_a_syntax_error_in_step06_costs_only_what_uses_it(tmp_path, inventory):
    files = {p.name: p.read_text() for p in SOLUTIONS.glob("step0[67]_*.py")}
    files["mnist.py"] = reference("mnist")
    files[f"{STEP06}.py"] = reference(STEP06).replace("def create_model(N):", "def create_model(N)")
    sub = submission_with(tmp_path, "broken06", files)
    line = reference(STEP06).splitlines().index("def create_model(N):") + 1
    tests = [t for t in inventory if t["step"] in (STEP06, STEP07)]
    verdicts = {}
    for mode in ("off", "bwrap"):
        entry = runner.grade_one(sub, [STEP06, STEP07], tests, sandbox=mode)
        verdicts[mode] = {
            (step, t["name"]): (t["score"], t["message"])
            for step, result in entry["steps"].items()
            for t in result["tests"]
        }
    assert verdicts["off"] == verdicts["bwrap"]
    step06 = [v for (step, _), v in verdicts["bwrap"].items() if step == STEP06]
    assert step06 and all(s == 0 and "SyntaxError" in m and f"line {line}" in m for s, m in step06)
    step07 = {name: v for (step, name), v in verdicts["bwrap"].items() if step == STEP07}
    for name, (score, message) in step07.items():
        if name.startswith("test_train"):  # train builds step 06's model
            assert score == 0 and message.startswith("ImportError: step 06 does not import")
            assert f"at {STEP07}.py:" in message  # the student's line, never the kit's
        else:  # sgd_step and fit need nothing of step 06
            assert score > 0, (name, message)
