"""A submission that ran past a test's time limit stays refused for the rest of that test.

A property test (hypothesis) catches the timeout and replays the example with no
timer left running: every later call in that test must fail at once instead of
hanging. Each submission keeps one :class:`TimeoutGuard`; the plugin tells it
when a new test begins.
"""

from __future__ import annotations

import re

from .protocol import SubmissionError


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is pytest-timeout's failure."""
    from _pytest.outcomes import Failed

    return isinstance(exc, Failed) and str(exc).startswith("Timeout")


class TimeoutGuard:
    """The test now running, and the last test in which the submission timed out."""

    def __init__(self) -> None:
        self.test: str | None = None
        self._timed_out_in: str | None = None

    def begin(self, test: str) -> None:
        self.test = test

    def note(self, exc: BaseException) -> None:
        """Remember a timeout (any other exception is not this guard's business)."""
        if is_timeout(exc):
            self._timed_out_in = self.test

    def refuse(self) -> None:
        """Fail at once when the submission already timed out in this test."""
        from _pytest.outcomes import Failed

        if self._timed_out_in is not None and self._timed_out_in == self.test:
            raise Failed(
                "Timeout: the submission already ran past this test's time limit", pytrace=False
            )


def import_timed_out(step: str, exc: BaseException) -> SubmissionError:
    """The import failure kept for a step whose import ran past a test's time limit:
    importing it again would only hang again."""
    found = re.search(r">\s*([0-9.]+\s*s)", str(exc))  # "Timeout (>5.0s) from pytest-timeout."
    limit = found.group(1) if found else ""
    return SubmissionError(
        f"{step}.py failed to import: it ran past the time limit"
        + (f" of {limit}" if limit else "")
        + " while importing (every test of this step fails without running it again)"
    )
