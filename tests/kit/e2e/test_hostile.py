"""A batch of hostile submissions: each scores what its honest code earns, nothing escapes.

Needs bubblewrap (installed by the README's set-up and by CI); where it cannot
run these tests are skipped, since hostile code outside a sandbox could harm
the machine running the tests.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from grader import dataset
from grader.grading import server
from grader.sandbox.bwrap import bwrap_problem
from tests.kit.hostile import CASES, KIT_ROOT
from tests.kit.submission_files import processes_with

pytestmark = [
    pytest.mark.timeout(1200),
    pytest.mark.skipif(bwrap_problem() is not None, reason=f"no sandbox: {bwrap_problem()}"),
]
STEP03, STEP04 = "step03_normalization", "step04_one_hot_loss"


class Listener:
    """A loopback TCP server that records every connection made to it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections, self.stop = 0, False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    marker = uuid.uuid4().hex[:12]
    listener = Listener()
    folder = tmp / "class"
    control = folder / "control"
    control.mkdir(parents=True)
    for step in (STEP03, STEP04):
        shutil.copy(KIT_ROOT / "solutions" / f"{step}.py", control / f"{step}.py")
    for case in CASES:
        sub = folder / case.name
        sub.mkdir()
        (sub / f"{STEP03}.py").write_text(case.step03(marker, listener.port))
        (sub / f"{STEP04}.py").write_text(case.step04(marker))
        for name, text in case.extra_files.items():
            (sub / name).write_text(text)
    out = tmp / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(folder),
            "--steps",
            "03",
            "04",
            "--jobs",
            "2",
            "--sandbox",
            "require",
            "--timeout-cap",
            "10",
            "--json",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=KIT_ROOT,
        timeout=1100,
    )
    listener.close()
    leftovers = processes_with(f"hostile-leftover-{marker}")
    document = json.loads(out.read_text())
    yield {
        "proc": proc,
        "doc": document,
        "marker": marker,
        "connections": listener.connections,
        "leftovers": leftovers,
        "folder": folder,
        "subs": {s["name"]: s for s in document["submissions"]},
    }
    for line in leftovers:  # never leave them behind, even when the test fails
        os.kill(int(line.split()[0]), 9)


def test_every_submission_is_scored(batch):
    names = set(batch["subs"])
    assert names == {"control"} | {c.name for c in CASES}, batch["proc"].stderr[-2000:]
    assert batch["subs"]["control"]["score"] == batch["subs"]["control"]["max_score"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_code_earns_exactly_what_its_honest_code_earns(batch, case):
    sub = batch["subs"][case.name]
    step03, step04 = sub["steps"][STEP03], sub["steps"][STEP04]
    assert step04["score"] == step04["max_score"], f"step 04 was harmed: {step04['tests']}"
    normalize_points = sum(
        t["max_score"] for t in step03["tests"] if t["name"].startswith("test_normalize")
    )
    without_points = sum(
        t["max_score"] for t in step03["tests"] if t["name"].endswith("_without_library")
    )
    expected = {
        "full": step03["max_score"],
        "zero": 0.0,
        "normalize": step03["max_score"] - normalize_points,
        "without": step03["max_score"] - without_points,
    }[case.expect]
    lost = [
        (t["name"], t["status"], t["message"][:200])
        for t in step03["tests"]
        if t["status"] != "passed"
    ]
    assert step03["score"] == expected, f"{case.name}: {step03['score']} != {expected}; lost {lost}"


def test_nothing_escapes(batch):
    marker = batch["marker"]
    assert batch["connections"] == 0, "a submission reached a loopback server"
    assert not Path(f"/tmp/hostile-pwned-{marker}").exists(), "a malicious pickle ran in the grader"
    assert not list(KIT_ROOT.glob(f"pwned-{marker}")), "a submission wrote into the kit"
    assert not list(batch["folder"].rglob("pwned")), "a submission wrote into its own folder"
    assert dataset.verify() == [], "a submission changed the data"
    assert not batch["leftovers"], f"processes left running: {batch['leftovers']}"


def test_nothing_of_the_sandbox_is_left_running(batch):
    # The grading processes this test run keeps for its other tests (grader/grading/
    # server.py's pool) have sandboxes too: not the batch's, so they go first.
    server.close_idle()
    # A process that has ended but not been collected yet by its new parent (the sandbox's
    # PID 1 is gone, so that is the machine's init) shows as <defunct>: it runs nothing.
    out = subprocess.run(["ps", "-eo", "uid,stat,ppid,args"], capture_output=True, text=True)
    workers = [
        line
        for line in out.stdout.splitlines()
        if line.split()[0].isdigit()
        and 40000 <= int(line.split()[0]) < 60000
        and not line.split()[1].startswith("Z")
    ]
    assert not workers, f"sandboxed workers still running: {workers}"
