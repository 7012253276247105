"""What a hidden grade cell runs: one hidden pytest test, in the notebook's kernel.

The cell calls ``run_hidden_test(step, nodeid)``. The test is the kit's own
(``tests/hidden/...``, run by pytest in this process with the kit's plugin:
points, seeds, timeouts, the judgement of each outcome); only the ``submission``
fixture differs: it is the kit's direct submission
(:class:`grader.submission.DirectSubmission`) of a package made from the
notebooks: this notebook's code cells as ``<step>.py`` (see
``kit_notebook.module_source``), the other step notebooks beside it as theirs,
and the kit's ``mnist.py``. It is built once per kernel, like the session-wide
submission of ``python -m grader grade``.

nbgrader scores a grade cell by its outputs: an error, or anything written to
stderr, scores 0; otherwise the cell gets full credit (or, when its last value
is a number, that many points). So a passing test leaves nothing on stderr (its
run is silenced down to the file descriptors, warnings and logging included) and
no value; a test that does not pass raises :class:`HiddenTestFailed`, whose
message is ``[status] message`` as the kit reports it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..grading.runner import pytest_options
from ..layout import DATA_DIR, KIT_ROOT

if TYPE_CHECKING:
    from ..submission.direct import DirectSubmission
    from ..submission.protocol import Submission

# By (folder, step, the notebook's mtime): a changed notebook is staged again.
_submissions: dict[tuple[str, str, int | None], DirectSubmission] = {}


class HiddenTestFailed(Exception):
    """A hidden test did not pass; the message is ``[status] what went wrong``."""


@contextlib.contextmanager
def _silenced() -> Iterator[io.StringIO]:
    """Nothing reaches the cell's outputs: Python streams, file descriptors, warnings, logs."""
    buffer = io.StringIO()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    sink = tempfile.TemporaryFile()
    os.dup2(sink.fileno(), 1)
    os.dup2(sink.fileno(), 2)
    logging_disabled = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with (
            contextlib.redirect_stdout(buffer),
            contextlib.redirect_stderr(buffer),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield buffer
    finally:
        logging.disable(logging_disabled)
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        sink.close()


def _stage(step: str, folder: Path, into: Path) -> Path:
    """A submission directory of step modules made from the notebooks."""
    from ..steps import STEPS
    from .kit_notebook import find_notebook, module_source

    into.mkdir(parents=True, exist_ok=True)
    for name in STEPS:
        notebook = folder / f"{name}.ipynb" if name == step else find_notebook(name)
        if notebook is None or not notebook.is_file():
            continue
        try:
            source = module_source(notebook)
        except Exception as exc:  # an unreadable notebook: a module that says so
            source = f"raise ImportError({f'{notebook.name} cannot be read: {exc}'!r})\n"
        (into / f"{name}.py").write_text(source)
    return into


def _data_dir(folder: Path) -> Path:
    """The MNIST files: a ``data_cache`` above the notebook (the course's), else the kit's."""
    for parent in [folder, *folder.parents]:
        if (parent / "data_cache" / "MNIST" / "raw").is_dir():
            return parent / "data_cache"
    return DATA_DIR


def notebook_submission(step: str) -> DirectSubmission:
    """The direct submission made from this kernel's notebook folder (cached per kernel)."""
    from ..submission.direct import DirectSubmission

    folder = Path.cwd()
    os.environ.setdefault("MNIST_DATA_DIR", str(_data_dir(folder)))
    notebook = folder / f"{step}.ipynb"
    stamp = notebook.stat().st_mtime_ns if notebook.is_file() else None
    key = (str(folder), step, stamp)
    if key not in _submissions:
        staged = _stage(step, folder, Path(tempfile.mkdtemp(prefix="kit-notebook-")) / "steps")
        _submissions[key] = DirectSubmission(staged)
    return _submissions[key]


class _Outcome:
    """A pytest plugin: serves the submission, keeps the kit's judgement of the test."""

    def __init__(self, submission: Submission):
        self.submission = submission
        self.result: tuple[str, str] | None = None
        self.called = False
        self.problems: list[str] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        # This kernel's submission, kept open between runs (the kit's fixture serves it).
        from ..plugin.fixtures import provide_submission

        provide_submission(config, self.submission)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.problems.append(str(report.longrepr)[-1500:])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        judged = getattr(report, "grader", None)
        if judged is None:
            return
        self.called |= report.when == "call"
        if self.result is None or self.result[0] == "passed":
            self.result = judged

    def outcome(self) -> tuple[str, str] | None:
        """The kit's judgement; a test stopped before its call phase reported did not pass."""
        if self.result is not None and self.result[0] == "passed" and not self.called:
            return "error", "the test was interrupted before it finished"
        return self.result


def run_pytest(nodeid: str, submission: Submission) -> tuple[str, str]:
    """``(status, message)`` of one hidden test run in this process on ``submission``."""
    outcome = _Outcome(submission)
    # The runner's options; less the plugins that only cost time here (unraisableexception
    # runs gc.collect() several times per session, which is slow with torch loaded).
    args = [
        str(KIT_ROOT / nodeid),
        *pytest_options(),
        "-p",
        "no:unraisableexception",
        "-p",
        "no:doctest",
        "-p",
        "no:pastebin",
        f"--submission={submission.path}",
    ]
    path = list(sys.path)
    try:
        code = pytest.main(args, plugins=[outcome])
    finally:
        sys.path[:] = path
    judged = outcome.outcome()
    if judged is not None:
        return judged
    detail = " ".join(outcome.problems)[-1500:] or f"pytest exit code {int(code)}"
    return "error", f"the hidden test {nodeid} could not be run: {detail}"


def run_hidden_test(step: str, nodeid: str) -> None:
    """Run one hidden test on this notebook; raise :class:`HiddenTestFailed` unless it passes."""
    __tracebackhide__ = True
    with _silenced():
        try:
            status, message = run_pytest(nodeid, notebook_submission(step))
        except Exception as exc:  # the bridge itself failed: the test cannot pass
            status, message = "error", f"{type(exc).__name__}: {exc}"
        finally:
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
    if status != "passed":
        raise HiddenTestFailed(f"[{status}] {message}")
    print(f"passed: {nodeid.rpartition('::')[2]}")
