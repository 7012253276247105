"""Grading on Dask: a real scheduler and two worker processes on loopback give the class
the same scores, test by test, as local grading; results stream into the same document.

The cluster is started here (``distributed.LocalCluster``: a scheduler in this process,
two worker processes) and the grader connects to it with ``--scheduler``, as it would to
a cluster on other machines; ``--executor dask`` without a scheduler (a LocalCluster the
grader starts itself) is the same code after the connection.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kit.submission_files import KIT_ROOT, grade_command, reference, submission_with

pytestmark = pytest.mark.timeout(600)  # two gradings and a cluster, on a loaded machine
distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

STEP03 = "step03_normalization"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("dask")
    with (
        dask.config.set({"temporary-directory": str(scratch)}),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=0,
            local_directory=str(scratch),
            # A worker killed outright (below) cannot remove its grading folders: they go
            # here, with the test's own temporary files, not into /tmp.
            env={"TMPDIR": str(scratch)},
        ) as running,
    ):
        yield running


def _class(root):
    (root / "class").mkdir()
    submission_with(root / "class", "alice", {f"{STEP03}.py": reference(STEP03)})
    wrong = reference(STEP03).replace("keepdim=True).values", ").values")
    submission_with(root / "class", "bob", {f"{STEP03}.py": wrong})
    (root / "class" / "carol.zip").write_bytes(b"not a zip")
    return root / "class"


def _scores(document):
    return {
        (sub["name"], step, test["name"]): (test["score"], test["status"])
        for sub in document["submissions"]
        for step, entry in sub["steps"].items()
        for test in entry["tests"]
    }


def test_a_dask_cluster_grades_as_this_machine_does(tmp_path, cluster):
    folder = _class(tmp_path)
    local, remote = tmp_path / "local.json", tmp_path / "dask.json"
    proc = grade_command(folder, "--steps", "3", "--json", local, "--quiet")
    assert proc.returncode == 1, proc.stderr[-2000:]
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    proc = grade_command(
        folder, "--steps", "3", "--json", remote, "--executor", "dask", "--scheduler", address
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    here, there = json.loads(local.read_text()), json.loads(remote.read_text())
    assert _scores(here) == _scores(there)
    assert [s["name"] for s in there["submissions"]] == ["alice", "bob", "carol"]
    alice, bob, carol = there["submissions"]
    assert alice["score"] == alice["max_score"] > 0
    assert 0 < bob["score"] < bob["max_score"]
    assert carol["score"] == 0
    assert "could not be read as a zip" in carol["steps"][STEP03]["tests"][0]["message"]
    assert len(cluster.workers) == 2  # grading lost no worker


def test_scheduler_without_dask_executor_is_a_usage_error(tmp_path):
    proc = grade_command(tmp_path, "--scheduler", "tcp://127.0.0.1:1")
    assert proc.returncode == 2 and "--scheduler is for --executor dask" in proc.stderr


@pytest.mark.timeout(900)
def test_a_worker_lost_mid_grading_costs_a_regrade_elsewhere(tmp_path, cluster):
    """A worker killed outright while it grades: the scheduler runs the task again on
    another worker, the submission gets its full score, and the lost worker's grading
    processes do not outlive it."""
    step07 = "step07_train_loop"
    folder = tmp_path / "class"
    folder.mkdir()
    submission_with(
        folder,
        "dora",
        {f"{s}.py": reference(s) for s in ("step05_cross_entropy", "step06_create_model", step07)},
    )
    out = tmp_path / "dask.json"
    command = [sys.executable, "-m", "grader", "grade", str(folder), "--steps", "7"]
    command += ["--json", str(out), "--executor", "dask", "--scheduler", cluster.scheduler_address]
    with subprocess.Popen(command, cwd=KIT_ROOT, stderr=subprocess.PIPE, text=True) as grading:
        with distributed.Client(cluster.scheduler_address) as client:
            busy = _wait_for(lambda: [w for w, keys in client.processing().items() if keys])
            victim = client.run(os.getpid, workers=busy[:1])[busy[0]]
            time.sleep(3)  # into the grading: its server has started
            servers = _grading_servers_of(victim)
            os.kill(victim, signal.SIGKILL)
            _, err = grading.communicate(timeout=800)
            _wait_for(lambda: len(client.scheduler_info()["workers"]) == 2)
    assert grading.returncode == 0, err[-2000:]
    (dora,) = json.loads(out.read_text())["submissions"]
    assert dora["score"] == dora["max_score"] > 0
    _wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in servers), 60)


def _wait_for(condition, seconds=300):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s in vain")


def _grading_servers_of(pid: int) -> list[int]:
    """The grading processes a Dask worker started (its children running pytest)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"--grader-serve" in cmdline:
                found.append(int(child))
    return found
