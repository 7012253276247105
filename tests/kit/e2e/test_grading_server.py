"""Long-lived grading processes (grader/grading/server.py): one pytest and one sandbox
grade submission after submission, and each is judged as if it were alone.

- The same server and the same sandbox zygote grade two submissions in a row.
- What a submission leaves in its sandbox (a file in its /tmp, a process that outlives
  it) is gone before the next submission's first import.
- A submission that ends its own process at import costs its own tests only.
- A grading process that dies mid-submission costs nothing: the submission is graded
  again, once, in a fresh process; a process that dies twice scores 0 with the reason.
"""

import os
from pathlib import Path

import pytest

from grader.grading import runner, server
from grader.sandbox.bwrap import bwrap_problem
from tests.kit.submission_files import KIT_ROOT, reference, submission_with

pytestmark = pytest.mark.timeout(600)
STEP02, STEP03, STEP04 = "step02_exp_positivity", "step03_normalization", "step04_one_hot_loss"


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _idle_server(key) -> server.GradingServer:
    (idle,) = server._idle[key]
    return idle


@pytest.mark.skipif(bwrap_problem() is not None, reason="bubblewrap cannot run here")
def test_one_sandbox_grades_submission_after_submission_and_nothing_crosses(tmp_path, inventory):
    # The first submission leaves a file in its private /tmp and a process that sleeps on.
    leaver = submission_with(
        tmp_path,
        "leaver",
        {
            f"{STEP02}.py": reference(STEP02)
            + "\nimport os, subprocess\nopen('/tmp/planted', 'w').write('x')\n"
            "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        },
    )
    # The second fails to import if it finds either: one file, or a process besides the
    # zygote (PID 1 of the sandbox) and itself.
    finder = submission_with(
        tmp_path,
        "finder",
        {
            f"{STEP02}.py": reference(STEP02)
            + "\nimport os\nassert not os.path.exists('/tmp/planted'), 'found the file'\n"
            "assert len([p for p in os.listdir('/proc') if p.isdigit()]) <= 2, 'found a process'\n"
        },
    )
    key = ("bwrap", 1, None)
    first = runner.grade_one(leaver, [STEP02], inventory, sandbox="bwrap")
    grading = _idle_server(key)
    zygotes = _children(grading.proc.pid)
    second = runner.grade_one(finder, [STEP02], inventory, sandbox="bwrap")
    assert _idle_server(key) is grading, "the second submission needed another server"
    assert _children(grading.proc.pid) == zygotes, "the second submission needed a new sandbox"
    assert first["score"] == first["max_score"] > 0
    assert second["score"] == second["max_score"], [
        t["message"] for t in second["steps"][STEP02]["tests"] if t["status"] != "passed"
    ]


def test_a_submission_that_ends_its_process_costs_its_own_tests_only(tmp_path, inventory):
    hard_exit = submission_with(
        tmp_path, "hard-exit", {f"{STEP03}.py": reference(STEP03) + "\nimport os\nos._exit(7)\n"}
    )
    jobs = [
        (hard_exit, [STEP03, STEP04]),
        (KIT_ROOT / "solutions", [STEP03, STEP04]),
        (KIT_ROOT / "exercises", [STEP03]),
    ]
    crashed, ref, stubs = runner.grade_many(jobs, inventory)
    assert crashed["steps"][STEP04]["score"] == 0
    assert all("exit code 7" in t["message"] for t in crashed["steps"][STEP04]["tests"])
    assert ref["score"] == ref["max_score"] > 0
    assert stubs["score"] == 0 and list(stubs["steps"]) == [STEP03]


def test_a_grading_process_that_dies_costs_a_regrade_not_points(tmp_path, inventory):
    """With ``--sandbox off`` (trusted code) a submission runs in the server's fork, so it
    can kill the server: here the first time only, as a failing machine would."""
    marker = tmp_path / "killed-once"
    flaky = submission_with(
        tmp_path,
        "flaky",
        {
            f"{STEP03}.py": reference(STEP03)
            + f"\nimport os, signal\nif not os.path.exists({str(marker)!r}):\n"
            f"    open({str(marker)!r}, 'w').close()\n"
            "    os.kill(os.getppid(), signal.SIGKILL)\n"
        },
    )
    always = submission_with(
        tmp_path,
        "always",
        {
            f"{STEP03}.py": reference(STEP03)
            + "\nimport os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos._exit(0)\n"
        },
    )
    regraded, lost, after = runner.grade_many(
        [(flaky, [STEP03]), (always, [STEP03]), (KIT_ROOT / "solutions", [STEP03])], inventory
    )
    assert marker.exists()
    assert regraded["score"] == regraded["max_score"] > 0
    assert lost["score"] == 0
    message = lost["steps"][STEP03]["tests"][0]["message"]
    assert "the grading process ended during its job" in message and "another" in message
    assert after["score"] == after["max_score"]
    assert os.path.exists(KIT_ROOT / "solutions")


def test_progress_tells_the_step_being_graded_and_its_finished_tests(inventory):
    step07 = "step07_train_loop"
    tests = sum(1 for t in inventory if t["step"] == step07)
    told: list[tuple[str, int, int]] = []
    entry = runner.grade_one(
        KIT_ROOT / "solutions", [step07], inventory, progress=lambda *a: told.append(a)
    )
    assert entry["score"] == entry["max_score"]
    assert told, "no progress while a training step was graded"
    assert all(step == step07 and 0 < done <= total == tests for step, done, total in told)
    assert [done for _, done, _ in told] == sorted({done for _, done, _ in told})
