"""Whole-submission grading: the reference, the stubs, an independent solution, classic bugs.

These grade real submissions through the real path (child pytest processes running
the hidden suites; runner.grade_many grades several in one child, a fork each, so the
start-up of the interpreter and torch is paid once), so they take a few minutes.
"""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.grading import runner
from grader.sandbox.bwrap import bwrap_problem
from grader.steps import STEPS
from tests.kit.classic_bugs import all_bugs, dependents
from tests.kit.grading import AT_ONCE, grade_runs
from tests.kit.submission_files import INDEPENDENT, KIT_ROOT

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def graded(inventory):
    """The reference, the stubs and the independent submission graded directly (in one
    child, a fork each: runner.grade_many), beside the reference in the sandbox."""
    direct = ["solutions", "exercises", "independent"]
    paths = [KIT_ROOT / "solutions", KIT_ROOT / "exercises", INDEPENDENT]

    def sandboxed():
        # Through grade_one, the grader's own path, with two torch threads: a worker forked
        # from a zygote whose thread pool had started would deadlock on its first parallel
        # operation (never with one thread).
        return runner.grade_one(KIT_ROOT / "solutions", list(STEPS), inventory, 2, sandbox="bwrap")

    with ThreadPoolExecutor(AT_ONCE) as pool:
        many = pool.submit(runner.grade_many, [(p, list(STEPS)) for p in paths], inventory)
        sandbox = pool.submit(sandboxed) if bwrap_problem() is None else None
        runs = dict(zip(direct, many.result(), strict=True))
        if sandbox is not None:
            runs["sandboxed"] = sandbox.result()
    return runs


def _lost(entry: dict) -> dict:
    return {
        step: [f"{t['name']}: {t['message'][:300]}" for t in s["tests"] if t["status"] != "passed"]
        for step, s in entry["steps"].items()
        if s["score"] < s["max_score"]
    }


def test_reference_gets_full_marks_on_every_step(graded):
    entry = graded["solutions"]
    assert set(entry["steps"]) == set(STEPS)
    assert not _lost(entry), f"a hidden test fails on the reference: {_lost(entry)}"


def test_sandbox_judges_the_reference_exactly_as_the_direct_run(graded):
    if "sandboxed" not in graded:
        pytest.skip(f"no bubblewrap sandbox here: {bwrap_problem()}")
    direct, sandboxed = graded["solutions"], graded["sandboxed"]
    statuses = {
        s: [(t["name"], t["status"], t["message"]) for t in e["tests"]]
        for s, e in sandboxed["steps"].items()
    }
    assert statuses == {
        s: [(t["name"], t["status"], t["message"]) for t in e["tests"]]
        for s, e in direct["steps"].items()
    }


def test_stubs_get_zero_on_every_step_and_every_test(graded):
    passing = [
        f"{step}::{t['name']}"
        for step, s in graded["exercises"]["steps"].items()
        for t in s["tests"]
        if t["status"] == "passed"
    ]
    assert not passing, f"hidden tests that pass on the stubs (bugs): {passing}"
    for step, s in graded["exercises"]["steps"].items():
        assert s["max_score"] > 0, f"{step} has no hidden tests"


def test_independent_correct_submission_gets_full_marks(graded):
    entry = graded["independent"]
    assert not _lost(entry), (
        f"an independently written correct submission lost points: {_lost(entry)}"
    )


@pytest.fixture(scope="module")
def bug_results(tmp_path_factory, inventory):
    """Every classic bug graded on its step and the steps that import it, each as a
    submission of its own (a fork of a grading child: runner.grade_many); two children,
    the bugs dealt out in turn."""
    tmp = tmp_path_factory.mktemp("bugs")
    bugs = all_bugs()
    jobs = [(b.apply(tmp / b.step / b.name), dependents(b.step)) for b in bugs]
    [entries] = grade_runs([("off", jobs, 2)], inventory)
    return {(b.step, b.name): e for b, e in zip(bugs, entries, strict=True)}


@pytest.mark.parametrize("bug", all_bugs(), ids=lambda b: f"{b.step[:6]}-{b.name}")
def test_classic_bug_loses_points_on_its_own_step_only(bug, bug_results):
    lost = _lost(bug_results[(bug.step, bug.name)])
    assert bug.step in lost, f"{bug.name} lost no points on {bug.step}"
    assert set(lost) == {bug.step}, f"{bug.name} also lost points elsewhere: {lost}"


def test_visible_tests_all_fail_on_the_stubs_with_the_step_named():
    # --tb=line: pytest's own report and counts (the student's brief report is tested in
    # test_student_feedback.py).
    argv = ["exercises", "-q", "--tb=line", "-p", "no:cacheprovider", "-rN"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *argv],
        capture_output=True,
        text=True,
        cwd=KIT_ROOT,
    )
    summary = proc.stdout.strip().splitlines()[-1]
    assert " passed" not in summary, f"a visible test passes on the stubs: {summary}"
    assert "is not implemented yet" in proc.stdout
    assert "Traceback" not in proc.stdout


def test_the_same_submission_gets_the_same_judgement_twice(tmp_path, inventory):
    """Determinism: a partly correct submission, training steps included, graded twice
    (two grading children of their own: other processes, other hash seeds)."""
    bug = next(b for b in all_bugs() if b.step == "step07_train_loop")
    submission = bug.apply(tmp_path / "twice")
    steps = ["step07_train_loop", "step10_autoencoder"]
    sandbox = "bwrap" if bwrap_problem() is None else "off"
    with ThreadPoolExecutor(AT_ONCE) as pool:
        first, second = pool.map(
            lambda _: runner.grade_one(submission, steps, inventory, sandbox=sandbox), range(2)
        )
    assert first["steps"] == second["steps"]
    assert 0 < first["score"] < first["max_score"]
