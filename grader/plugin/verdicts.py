"""Each hidden test's verdict, in one line, and the results file the grader reads.

With ``--grader-results=FILE`` each judged phase of a hidden test appends one
JSON line to FILE as it ends, so a crash loses nothing already judged. The
message never shows the hidden test's source.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import pytest
from pluggy import Result

from ..submission.direct import DirectSubmission
from ..submission.protocol import SandboxUnavailable, SubmissionError, describe_exception
from .artifacts import kept
from .collection import is_hidden


def _first_leaf(exc: BaseException) -> BaseException:
    """The first real exception inside the groups a property test may wrap it in."""
    while True:
        if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            leaves = [_unwrapped(e) for e in exc.exceptions]
            timeouts = [e for e in leaves if str(e).startswith("Timeout")]
            exc = (timeouts or leaves)[0]
        else:
            return _unwrapped(exc)


def _unwrapped(exc: BaseException) -> BaseException:
    """Hypothesis wraps a BaseException (a timeout, an exit) in a flaky-failure group
    as a bare ``_WrappedBaseException`` whose cause is the real one."""
    if type(exc).__name__ == "_WrappedBaseException" and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def _judgement(item: pytest.Item, when: str, failure: BaseException) -> tuple[str, str]:
    """(status, message) of a failed phase; the message never shows test source."""
    exc = _first_leaf(failure)
    text = str(exc)
    if isinstance(exc, pytest.fail.Exception) and text.startswith("Timeout"):
        limit = f" ({text.split('>')[-1].split()[0].rstrip(')')})" if ">" in text else ""
        return "timeout", f"the test ran past its time limit{limit}"
    if isinstance(exc, SandboxUnavailable):
        return "error", str(exc)
    if isinstance(exc, SubmissionError):
        return ("error" if when == "setup" else "failed"), str(exc)
    if isinstance(exc, pytest.skip.Exception):
        return "failed", "the test was skipped, which earns no points"
    if isinstance(exc, AssertionError):
        message = text.split("\nassert ")[0].strip() or "an assertion of the hidden test failed"
        return "failed", message
    if isinstance(exc, pytest.fail.Exception):
        return "failed", text
    sub = item.funcargs.get("submission") if hasattr(item, "funcargs") else None
    hint = str(sub.staged) if isinstance(sub, DirectSubmission) else ""
    return ("error" if when != "call" else "failed"), describe_exception(exc, hint)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    # Any: the verdict rides on the report as an extra attribute (pytest keeps those).
    report: Any = outcome.get_result()
    if not is_hidden(item):
        return
    if call.excinfo is None:
        report.grader = ("passed", "")
    else:
        report.grader = _judgement(item, call.when, call.excinfo.value)
        if isinstance(call.excinfo.value, (SubmissionError, NotImplementedError)):
            report.longrepr = report.grader[1]  # one line, not a wall of traceback
    if call.when == "call" and kept(item):
        report.artifacts = kept(item)  # written with the verdict (ResultsWriter)


class ResultsWriter:
    """Appends one JSON line per judged phase of a hidden test to ``--grader-results``."""

    def __init__(self, path: str):
        self.path = path

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        grader = getattr(report, "grader", None)
        if grader is None:
            return
        status, message = grader
        record = {
            "nodeid": report.nodeid,
            "when": report.when,
            "status": status,
            "message": message[:2000],
            "duration": round(report.duration, 3),
        }
        artifacts = getattr(report, "artifacts", None)
        if artifacts:
            record["artifacts"] = artifacts
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
