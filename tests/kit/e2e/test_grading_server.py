"""Long-lived grading processes (grader/grading/server.py): one pytest and one sandbox
grade submission after submission, and each is judged as if it were alone.

- The same server and the same sandbox zygote grade two submissions in a row.
- What a submission leaves in its sandbox (a file in its /tmp, a process that outlives
  it) is gone before the next submission's first import; so are the System V shared
  memory, message queues and semaphores it made (they outlive processes); it cannot make
  a POSIX message queue (those cannot be listed, so none could be removed), nor reach the
  kernel's keyrings (a key outlives its process too, and a worker could lock its keyring
  against the zygote).
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
    server.close_idle()
    grading = server.take(key)
    grading.wait_until_ready()
    zygotes = _children(grading.proc.pid)  # the sandbox it started before any job
    server.give_back(grading)
    first = runner.grade_one(leaver, [STEP02], inventory, sandbox="bwrap")
    assert _idle_server(key) is grading
    assert _children(grading.proc.pid) == zygotes, "the first submission needed a new sandbox"
    second = runner.grade_one(finder, [STEP02], inventory, sandbox="bwrap")
    assert _idle_server(key) is grading, "the second submission needed another server"
    assert _children(grading.proc.pid) == zygotes, "the second submission needed a new sandbox"
    assert first["score"] == first["max_score"] > 0
    assert second["score"] == second["max_score"], [
        t["message"] for t in second["steps"][STEP02]["tests"] if t["status"] != "passed"
    ]


# ctypes in a submission: System V and POSIX IPC objects and keys, made and looked for.
LIBC = (
    "\nimport ctypes, platform\n"
    "add_key, keyctl = {'x86_64': (248, 250), 'aarch64': (217, 219)}[platform.machine()]\n"
    "rings = (-3, -4)\n"  # the session and the user keyring
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "rt = ctypes.CDLL('librt.so.1')\n"  # mq_open (in libc itself since glibc 2.34)
    "def ipc():\n"
    "    kinds = ('shm', 'msg', 'sem')\n"
    "    return [open(f'/proc/sysvipc/{k}').read().splitlines()[1:] for k in kinds]\n"
)


@pytest.mark.skipif(bwrap_problem() is not None, reason="bubblewrap cannot run here")
def test_ipc_objects_and_keys_do_not_cross_from_one_submission_to_the_next(tmp_path, inventory):
    # A segment of shared memory outlives its process: the next submission in the same
    # sandbox could read what this one wrote there (an answer, its whole solution).
    plant = (
        "shm = libc.shmget(0x5EED, 4096, 0o1600)\n"  # IPC_CREAT | 0o600
        "assert shm >= 0, 'no System V shared memory here: nothing to test'\n"
        "libc.shmat.restype = ctypes.c_void_p\n"
        "ctypes.memmove(libc.shmat(shm, None, 0), b'planted', 7)\n"
        "libc.msgget(0x5EED, 0o1600)\n"
        "libc.semget(0x5EED, 1, 0o1600)\n"
        "rt.mq_open(b'/planted', 0o100 | 2, 0o600, None)\n"  # O_CREAT | O_RDWR
        "for ring in rings:\n"
        "    libc.syscall(add_key, b'user', b'planted', b'answer', 6, ring)\n"
    )
    leaver = submission_with(
        tmp_path, "ipc-leaver", {f"{STEP02}.py": reference(STEP02) + LIBC + plant}
    )
    finder = submission_with(
        tmp_path,
        "ipc-finder",
        {
            f"{STEP02}.py": reference(STEP02)
            + LIBC
            + "assert ipc() == [[], [], []], f'found {ipc()}'\n"
            "assert rt.mq_open(b'/planted', 0) == -1, 'found a message queue'\n"
            "found = [libc.syscall(keyctl, 10, r, b'user', b'planted', 0) for r in rings]\n"
            "assert found == [-1, -1], f'found a key: {found}'\n"  # 10: KEYCTL_SEARCH
        },
    )
    # The finder first too: a server's first job may run in a sandbox of its own (the
    # shared one, started in a helper thread, can be gone by then); after it, the shared one.
    runner.grade_one(finder, [STEP02], inventory, sandbox="bwrap")
    grading = _idle_server(("bwrap", 1, None))
    first = runner.grade_one(leaver, [STEP02], inventory, sandbox="bwrap")
    second = runner.grade_one(finder, [STEP02], inventory, sandbox="bwrap")
    assert _idle_server(("bwrap", 1, None)) is grading, "the same server graded all three"
    # Both import (else every test fails): ctypes costs them only plot_exp's check of how
    # it is written, which cannot follow ctypes.
    lost = [
        [t["message"] for t in entry["steps"][STEP02]["tests"] if t["status"] != "passed"]
        for entry in (first, second)
    ]
    assert [len(messages) for messages in lost] == [1, 1], lost
    assert all("looks names up by string" in messages[0] for messages in lost), lost


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
