"""One expensive result of a submission (a training run) computed once, judged by several tests.

A hidden test file makes it a module-scoped fixture (one grading session grades one
submission), and each test that judges the result asks for it::

    @pytest.fixture(scope="module")
    def autoencoder_run(submission, device):
        return SharedRun(submission, "trained_autoencoder", lambda: train(submission, device))

    def test_reconstruction(submission, autoencoder_run, request):
        model = autoencoder_run.result(request)

- **Time.** The work runs inside the call of the first test that asks, so it counts
  against that test's timeout as it did when each test trained its own; every test
  keeps its own timeout and points, and none gets more time.
- **Failure.** An exception (a failed check, the submission's error, a timeout) is
  kept and raised again, the same, by every later test that asks: a hang costs one
  timeout, not one per test.
- **Seeds.** The work starts from the kit's seeds, in this process and in a sandboxed
  worker, whichever test asks first and whatever it did before.
- **Plain data.** Keep what the grader holds (a kit model with the student's weights,
  numbers), never a handle to an object in a sandboxed worker: a request for another
  step ends that worker, and its handles with it. Tests judge the result without
  changing it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import pytest
from _pytest.outcomes import OutcomeException

from ..seeding import seed_everything

T = TypeVar("T")


class SharedRun(Generic[T]):
    """``compute()``, run at the first :meth:`result` and kept (its value or its exception)."""

    def __init__(self, submission: Any, label: str, compute: Callable[[], T]) -> None:
        self.submission, self.label, self.compute = submission, label, compute
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = False

    def result(self, request: pytest.FixtureRequest) -> T:
        """The result, computed now if no test asked before; raises what computing raised."""
        if not self._done:
            self._done = True
            test = request.node.nodeid
            # A fresh start, as at a test's beginning: the same seeds whoever asks first.
            seed_everything()
            self.submission.begin_test(f"{test}::{self.label}")
            try:
                self._value = self.compute()
            except (Exception, OutcomeException) as exc:  # Failed, a timeout: not Ctrl-C
                self._error = exc
            finally:
                self.submission.begin_test(test)  # the rest of this test is this test's
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
