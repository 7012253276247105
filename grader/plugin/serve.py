"""``--grader-serve=FD``: one pytest that grades submission after submission, a fork each.

The grader (:mod:`grader.grading.server`) starts this pytest once per job slot and
keeps it. The interpreter, torch, the collected hidden tests and the sandbox's
zygote are paid for once; then, for each job read on the control socket ``FD``
(a JSON line: ``submission``, ``steps``, ``results``, ``scratch``, ``deadline_s``),
the submission is graded in a process forked from this one: fresh test modules,
seeds and submission state for every student, since nothing a fork does comes
back here. The fork runs the tests of the job's steps as a run of its own would
and appends to the job's results file; this process answers how it ended (a
JSON line ``{"ended": ...}``) and waits for the next job. It stops the fork past
the job's deadline, and ends when the socket closes.

The submission's code never runs in these processes: it runs in the sandbox's
workers (:mod:`grader.sandbox`), one fresh worker per step of each submission,
as within one submission. With ``--sandbox off`` (trusted code only) it runs in
the fork, and could reach this process and the submissions after it.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from typing import Any

import pytest

from .collection import step_of
from .fixtures import open_submission, share_sandbox, warm
from .verdicts import ResultsWriter

_STARTING = pytest.StashKey[tuple[threading.Thread, threading.Event, threading.Event, dict]]()


def pytest_configure(config: pytest.Config) -> None:
    """Start the sandbox while pytest collects: its zygote imports torch and MNIST in a
    process of its own, so the two overlap. The thread that starts it lives as long as this
    process: bubblewrap's ``--die-with-parent`` follows the thread that started it."""
    if config.getoption("grader_serve") is None or config.option.collectonly:
        return
    made: dict = {}
    ready, done = threading.Event(), threading.Event()

    def start() -> None:
        try:
            made["shared"] = share_sandbox(config)
        finally:
            ready.set()
        done.wait()

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    config.stash[_STARTING] = (thread, ready, done, made)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    fd = session.config.getoption("grader_serve")
    if fd is None or session.config.option.collectonly:
        return None
    control = socket.socket(fileno=int(fd))
    lines = control.makefile("rb")
    _, ready, _, made = session.config.stash[_STARTING]
    ready.wait()  # the starting thread now only waits (it holds no lock when we fork)
    shared = made.get("shared")  # None with --sandbox off
    _load_mnist()
    # What is loaded now lives as long as this process: out of the collector's sight, a fork
    # neither traverses it in every full collection nor copies the pages it would touch.
    gc.collect()
    gc.freeze()
    try:
        control.sendall(b'{"ready": true}\n')
        for line in lines:
            job = json.loads(line)
            ended = _grade_job(session, job, control)
            control.sendall(json.dumps({"ended": ended}).encode() + b"\n")
            if shared is not None:  # after the answer: a restart is not this job's time
                shared.after_job(clean=ended == "exit code 0")
    finally:
        lines.close()
        control.close()
    return True


def pytest_unconfigure(config: pytest.Config) -> None:
    starting = config.stash.get(_STARTING, None)
    if starting is not None:
        thread, ready, done, made = starting
        ready.wait()
        if made.get("shared") is not None:
            made["shared"].close()
        done.set()
        thread.join()


def _load_mnist() -> None:
    """The MNIST tensors the hidden tests read, loaded once here: every fork shares them
    (copy-on-write) rather than reading and converting the files again (0.4 s each). On
    one torch thread: an OpenMP pool started before a fork would not survive it."""
    import torch

    from ..authoring.kit_mnist import mnist

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mnist.tensors("train")
        mnist.tensors("test")
    finally:
        torch.set_num_threads(threads)


def _grade_job(session: pytest.Session, job: dict[str, Any], control: socket.socket) -> str:
    items = [i for i in session.items if step_of(i) in job["steps"]]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            control.close()  # the fork talks to no one but its sandbox
            _grade_in_fork(session, job, items)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return _wait_for_fork(pid, float(job["deadline_s"]), control)


def _grade_in_fork(session: pytest.Session, job: dict[str, Any], items: list[pytest.Item]) -> None:
    # What the tests make with tempfile goes to the job's own folder, removed with it.
    os.environ["TMPDIR"] = job["scratch"]
    tempfile.tempdir = None
    config = session.config
    config.option.submission = job["submission"]
    config.option.grader_artifacts = bool(job.get("artifacts"))
    config.pluginmanager.register(ResultsWriter(job["results"]), "grader-job-results")
    warm(open_submission(config))
    for i, item in enumerate(items):
        nextitem = items[i + 1] if i + 1 < len(items) else None  # None: tear everything down
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)


def _wait_for_fork(pid: int, deadline_s: float, control: socket.socket) -> str:
    """How a fork ended ("exit code N", "signal N"), killed once past ``deadline_s``, or
    at once when the grader is gone (its end of ``control`` closed: it was killed outright,
    a Dask worker lost): nobody would read the verdicts, and nothing may be left running."""
    end = time.monotonic() + deadline_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        gone = select.select([control], [], [], 0.02)[0] and not control.recv(1, socket.MSG_PEEK)
        if gone or time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            if gone:
                sys.exit(70)
            return f"ran past {deadline_s:.0f} s and was stopped"
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
