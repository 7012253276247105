"""``--grader-batch``: several trusted submissions graded by one pytest, a fork each.

The interpreter, torch and the collected hidden tests are paid for once; then each
submission of the batch is graded in a process forked after collection, one
after the other. Each fork runs the tests of its steps as a run of its own
would, appends to its own results file and exits; how it ended goes to its
status file. A fork is stopped past its deadline (the grader gives one per
submission: its tests' time limits and an allowance to open and close it).
Used by :func:`grader.grading.runner.grade_many` for the kit's own tests: with
``--sandbox off`` a submission runs in a fork of this process and could reach it,
and so the submissions after it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from .collection import step_of
from .fixtures import open_submission, warm
from .verdicts import ResultsWriter


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    path = session.config.getoption("grader_batch")
    if not path or session.config.option.collectonly:
        return None
    for job in json.loads(Path(path).read_text()):
        items = [i for i in session.items if step_of(i) in job["steps"]]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                _grade_in_fork(session, job, items)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        Path(job["status"]).write_text(_wait_for_fork(pid, float(job["deadline_s"])))
    return True


def _grade_in_fork(session: pytest.Session, job: dict[str, Any], items: list[pytest.Item]) -> None:
    config = session.config
    config.option.submission = job["submission"]
    config.pluginmanager.register(ResultsWriter(job["results"]), "grader-batch-results")
    warm(open_submission(config))
    for i, item in enumerate(items):
        nextitem = items[i + 1] if i + 1 < len(items) else None  # None: tear everything down
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)


def _wait_for_fork(pid: int, deadline_s: float) -> str:
    """How a fork ended ("exit code N", "signal N"), killed once past ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return f"ran past {deadline_s:.0f} s and was stopped"
        time.sleep(0.05)
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
