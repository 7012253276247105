"""The sandbox gives the same verdict as a direct run, on every test of every corpus.

Each corpus is graded twice through the real path (grader.runner.grade_many): with
``--sandbox off`` (the step modules imported by the grading process) and with
bubblewrap (a worker process behind the wire). Every test must get the same
status in both. Corpora: the stubs (every step), one classic bug in every step
at once (the last listed: for step 07 the ``sgd_step`` that zeroes in a second
loop over a generator, which only a one-shot argument catches), the first bug of
each quick step, the independent submission on the quick steps, and the hostile
cases that are safe to run outside a sandbox. The reference is compared on every
step, messages included, by tests/kit/test_grading.py.

A test that ran past its time limit in either mode is not compared: on a loaded
machine that says how busy it was, not what was judged.
"""

import shutil
from pathlib import Path

import pytest

from grader.sandbox.bwrap import bwrap_problem
from grader.steps import STEPS
from tests.kit.classic_bugs import all_bugs
from tests.kit.grading import grade_runs
from tests.kit.hostile import CASES
from tests.kit.submission_files import INDEPENDENT, KIT_ROOT

# Steps whose hidden suites train little (the others train for tens of seconds).
QUICK = [s for s in STEPS if s[4:6] in ("01", "02", "03", "04", "05", "06", "08", "11", "13")]
SAFE_HOSTILE = ("exits-at-import", "floods-stdout", "returns-a-deeply-nested-answer")
STEP03_04 = ["step03_normalization", "step04_one_hot_loss"]

pytestmark = [
    pytest.mark.timeout(1800),
    pytest.mark.skipif(bwrap_problem() is not None, reason=f"no sandbox: {bwrap_problem()}"),
]


def _with_bugs(dest: Path, bugs) -> Path:
    """The reference with each of ``bugs`` (one per step) applied at once."""
    dest.mkdir(parents=True)
    for path in (KIT_ROOT / "solutions").glob("step*.py"):
        shutil.copyfile(path, dest / path.name)
    for bug in bugs:
        target = dest / f"{bug.step}.py"
        text = target.read_text()
        assert text.count(bug.old) == 1, bug.name
        target.write_text(text.replace(bug.old, bug.new))
    return dest


def _hostile(dest: Path, case) -> Path:
    dest.mkdir(parents=True)
    (dest / "step03_normalization.py").write_text(case.step03("fidelity", 9))
    shutil.copyfile(
        KIT_ROOT / "solutions" / "step04_one_hot_loss.py", dest / "step04_one_hot_loss.py"
    )
    for name, text in case.extra_files.items():
        (dest / name).write_text(text)
    return dest


@pytest.fixture(scope="module")
def corpora(tmp_path_factory, inventory):
    tmp = tmp_path_factory.mktemp("fidelity")
    by_step = {}
    for bug in all_bugs():
        by_step.setdefault(bug.step, []).append(bug)
    assert set(by_step) == set(STEPS), "a step without a classic bug"
    runs = {
        "stubs": (KIT_ROOT / "exercises", list(STEPS)),
        "last-bug-of-every-step": (
            _with_bugs(tmp / "last", [bugs[-1] for bugs in by_step.values()]),
            list(STEPS),
        ),
        "first-bug-of-quick-steps": (
            _with_bugs(tmp / "first", [by_step[s][0] for s in QUICK]),
            QUICK,
        ),
        "independent": (INDEPENDENT, QUICK),
    }
    for case in CASES:
        if case.name in SAFE_HOSTILE:
            runs[f"hostile-{case.name}"] = (_hostile(tmp / case.name, case), STEP03_04)
    assert len([r for r in runs if r.startswith("hostile-")]) == len(SAFE_HOSTILE)
    # Every corpus a fork of a grading child (runner.grade_many): one child grades them all
    # directly, two share them in the sandbox (each starts a sandbox per corpus).
    jobs = list(runs.values())
    direct, sandboxed = grade_runs([("off", jobs, 1), ("bwrap", jobs, 2)], inventory)
    return {
        **{(name, "off"): entry for name, entry in zip(runs, direct, strict=True)},
        **{(name, "bwrap"): entry for name, entry in zip(runs, sandboxed, strict=True)},
    }


def _statuses(entry: dict) -> dict:
    return {
        f"{step}::{t['name']}": (t["status"], t["message"][:200])
        for step, s in entry["steps"].items()
        for t in s["tests"]
    }


@pytest.mark.parametrize(
    "corpus",
    [
        "stubs",
        "last-bug-of-every-step",
        "first-bug-of-quick-steps",
        "independent",
        *(f"hostile-{name}" for name in SAFE_HOSTILE),
    ],
)
def test_sandboxed_and_direct_verdicts_agree(corpora, corpus):
    direct, sandboxed = _statuses(corpora[(corpus, "off")]), _statuses(corpora[(corpus, "bwrap")])
    assert direct.keys() == sandboxed.keys()
    differ = {
        test: {"direct": direct[test], "sandboxed": sandboxed[test]}
        for test in direct
        if direct[test][0] != sandboxed[test][0]
        and "timeout" not in (direct[test][0], sandboxed[test][0])
    }
    assert not differ, f"{corpus}: the sandbox judged {len(differ)} tests differently: {differ}"


def test_the_step07_generator_bug_loses_points_in_both_modes(corpora):
    """Right for a list of parameters, wrong for ``model.parameters()``."""
    for mode in ("off", "bwrap"):
        tests = corpora[("last-bug-of-every-step", mode)]["steps"]["step07_train_loop"]["tests"]
        status = {t["name"]: t["status"] for t in tests}
        assert status["test_sgd_step_on_model_parameters"] == "failed", (mode, status)
        assert status["test_sgd_step_zeroes_the_gradients"] == "passed", (mode, status)
