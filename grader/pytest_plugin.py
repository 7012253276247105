"""The kit's pytest plugin: its options, steps, points, seeds, device, the submission, results.

The plugin owns its command-line options. The kit's own test run loads it from
the root ``conftest.py``; the grader's child pytest loads it explicitly with
``-p grader.pytest_plugin`` and ``--noconftest``, so that no ``conftest.py`` of a
submission or of the folders around it is ever imported there. Every hidden
test (under ``tests/hidden``) carries one step marker (``step03``) and
``points(n)``; both are copied into the test's ``user_properties`` so JUnit XML
and the results file carry them. With ``--grader-results=FILE`` each finished
test appends one JSON line to FILE as it ends, so a crash loses nothing already
judged.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from . import steps as step_names
from .submission import (
    DirectSubmission,
    SandboxUnavailable,
    SubmissionError,
    describe_exception,
)

KIT_ROOT = Path(__file__).resolve().parent.parent
HIDDEN_DIR = KIT_ROOT / "tests" / "hidden"
SEED = 20261122
# CUDA start-up and kernel compilation on first use: added to training timeouts there.
CUDA_TIMEOUT_ALLOWANCE = 60.0


def is_hidden(item: pytest.Item) -> bool:
    return HIDDEN_DIR in Path(str(item.path)).parents


def step_of(item: pytest.Item) -> str | None:
    names = [m.name for m in item.iter_markers() if m.name.startswith("step")]
    return step_names.step_for_marker(names[0]) if names else None


def points_of(item: pytest.Item) -> float | None:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker else None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "MNIST exercise kit")
    group.addoption(
        "--submission",
        default=str(KIT_ROOT / "solutions"),
        help="directory of step files the hidden tests grade (default: solutions/)",
    )
    group.addoption(
        "--sandbox",
        default="off",
        choices=["off", "auto", "require", "bwrap", "process"],
        help="where submission code runs: off = in this process (default; trusted code "
        "only); auto = a sandboxed worker (bubblewrap if it can run, else a plain child "
        "process); require = bubblewrap or fail",
    )
    group.addoption(
        "--worker-memory-mb",
        type=int,
        default=4096,
        help="memory limit of a sandboxed worker, in MiB (default 4096)",
    )
    group.addoption(
        "--grader-timeout-cap",
        type=float,
        default=None,
        metavar="SECONDS",
        help="cap every hidden test's timeout (quick checks of hanging submissions)",
    )
    group.addoption(
        "--grader-inventory",
        default=None,
        metavar="FILE",
        help="write the hidden tests' steps and points to FILE as JSON (used by the grader)",
    )
    group.addoption(
        "--grader-results",
        default=None,
        metavar="FILE",
        help="append one JSON line per finished hidden test to FILE (used by the grader)",
    )
    group.addoption(
        "--grader-batch",
        default=None,
        metavar="FILE",
        help="grade several trusted submissions in one run (used by the grader): FILE is a "
        'JSON list of {"submission", "steps", "results", "status", "deadline_s"}; see '
        "grader.runner.grade_many",
    )


def _hypothesis_profile() -> None:
    """Property tests: the same examples every run, no per-example deadline."""
    try:
        from hypothesis import HealthCheck, Phase, settings
    except ImportError:
        return
    settings.register_profile(
        "kit",
        derandomize=True,
        deadline=None,
        max_examples=25,
        database=None,
        report_multiple_bugs=False,  # one failure decides a test; stop looking for more
        # Shrunk examples make clearer messages; the explain phase only adds notes we drop.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    settings.load_profile("kit")


def timeout_of(item: pytest.Item, default: float) -> float:
    marker = item.get_closest_marker("timeout")
    return float(marker.args[0]) if marker and marker.args else default


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    # A staged submission's mnist.py lives in a temporary folder: point it at the kit's data.
    os.environ.setdefault("MNIST_DATA_DIR", str(KIT_ROOT / "data_cache"))
    _hypothesis_profile()
    results = config.getoption("grader_results", None)
    if results:
        config.pluginmanager.register(ResultsWriter(results), "grader-results-writer")
    threads = os.environ.get("GRADER_TORCH_THREADS")
    if threads:
        import torch

        torch.set_num_threads(int(threads))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    problems = []
    default = float(config.getini("timeout") or 60)
    for item in items:
        if not is_hidden(item):
            continue
        steps = {m.name for m in item.iter_markers() if m.name.startswith("step")}
        step, points = step_of(item), points_of(item)
        if len(steps) != 1 or points is None or points <= 0:
            problems.append(item.nodeid)
            continue
        cap = config.getoption("grader_timeout_cap")
        if cap:
            item.add_marker(pytest.mark.timeout(min(timeout_of(item, default), cap)), append=False)
        item.user_properties.append(("step", step))
        item.user_properties.append(("points", points))
        if torch.cuda.is_available() and item.get_closest_marker("training"):
            base = timeout_of(item, default)
            item.add_marker(pytest.mark.timeout(base + CUDA_TIMEOUT_ALLOWANCE), append=False)
    if problems:
        raise pytest.UsageError(
            "hidden tests need exactly one step marker and points(n > 0): " + ", ".join(problems)
        )


def _write_inventory(session: pytest.Session) -> None:
    path = session.config.getoption("grader_inventory")
    if not path:
        return
    default = float(session.config.getini("timeout") or 60)
    inventory = [
        {
            "nodeid": item.nodeid,
            "name": item.name,
            "step": step_of(item),
            "points": points_of(item),
            "timeout": timeout_of(item, default),
        }
        for item in session.items
        if is_hidden(item)
    ]
    Path(path).write_text(json.dumps(inventory))


# --- fixtures -----------------------------------------------------------------


def _open_submission(config: pytest.Config):
    """The submission under test, made once per session (see the ``submission`` fixture)."""
    if _SUBMISSION not in config.stash:
        path = Path(config.getoption("submission"))
        mode = config.getoption("sandbox")
        if mode == "off":
            sub = DirectSubmission(path)
        else:
            from .sandbox import Limits, SandboxedSubmission, choose_isolation

            memory = config.getoption("worker_memory_mb")
            sub = SandboxedSubmission(
                path,
                choose_isolation(mode),
                Limits(memory_bytes=memory * 2**20),
                threads=int(os.environ.get("GRADER_TORCH_THREADS", "1")),
            )
        config.stash[_SUBMISSION] = sub
    return config.stash[_SUBMISSION]


_SUBMISSION = pytest.StashKey[object]()


def _warm_up_the_judge() -> None:
    """Pay lazy imports now: a timeout must never interrupt the grader halfway into one."""
    import matplotlib.figure  # noqa: F401
    import torch

    torch.testing.assert_close(
        torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    )
    torch.autograd.grad(
        (torch.ones(1, requires_grad=True) * 2).sum(),
        [torch.ones(1, requires_grad=True)],
        allow_unused=True,
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Write the inventory if asked; start the sandbox (if any) before the first test,
    outside every test's time limit."""
    _write_inventory(session)
    config = session.config
    if config.option.collectonly or not any(is_hidden(i) for i in session.items):
        return
    _warm_up_the_judge()
    if config.getoption("grader_batch"):
        return  # each submission is opened in its own forked process (pytest_runtestloop)
    sub = _open_submission(config)
    _warm(sub)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session):
    """With ``--grader-batch``: grade each submission of the batch in a process forked from
    this one after collection, one after the other, so the interpreter, torch and the
    collected tests are paid for once. Each fork runs the tests of its steps as a run of
    its own would, appends to its own results file and exits; how it ended goes to its
    status file. A fork is stopped past its deadline (the grader gives one per submission:
    its tests' time limits and an allowance to open and close it).
    """
    path = session.config.getoption("grader_batch")
    if not path or session.config.option.collectonly:
        return None
    for job in json.loads(Path(path).read_text()):
        items = [i for i in session.items if step_of(i) in job["steps"]]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                _grade_in_fork(session, job, items)
                code = 0
            except BaseException:
                traceback.print_exc()
                code = 70
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        Path(job["status"]).write_text(_wait_for_fork(pid, float(job["deadline_s"])))
    return True


def _grade_in_fork(session: pytest.Session, job: dict, items: list[pytest.Item]) -> None:
    config = session.config
    config.option.submission = job["submission"]
    config.pluginmanager.register(ResultsWriter(job["results"]), "grader-batch-results")
    _warm(_open_submission(config))
    for i, item in enumerate(items):
        nextitem = items[i + 1] if i + 1 < len(items) else None
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


def pytest_runtest_logfinish(nodeid, location) -> None:
    """A worker that died or timed out is replaced between tests, not during the next one."""
    _warm(_CURRENT.get("submission"))


def _warm(sub) -> None:
    """Start a sandboxed submission's sandbox between tests. A failure to start is kept
    by the submission and reported by the next test's request, as that test's error."""
    if sub is not None and hasattr(sub, "warm"):
        try:
            sub.warm()
        except RuntimeError:
            pass


_CURRENT: dict = {}


@pytest.fixture(scope="session")
def submission(request: pytest.FixtureRequest):
    """The submission under test, reached as ``submission.<step>.<name>``.

    ``--sandbox off`` (the default for a plain pytest run) imports it here;
    otherwise its code runs in sandboxed worker processes (grader/sandbox.py).
    """
    sub = _open_submission(request.config)
    _CURRENT["submission"] = sub
    yield sub
    _CURRENT.pop("submission", None)
    sub.close()


def pytest_runtest_setup(item: pytest.Item) -> None:
    from . import submission

    submission.CURRENT_TEST = item.nodeid  # a sandboxed worker is re-seeded for each test


@pytest.fixture(scope="session")
def device() -> str:
    """CUDA when present, else the CPU (the reference every tolerance holds on)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@pytest.fixture(autouse=True)
def _seed_everything():
    """The same seeds before every test: the same submission scores the same."""
    import torch

    random.seed(SEED)
    np.random.seed(SEED % 2**32)
    torch.manual_seed(SEED)
    yield


# --- reports --------------------------------------------------------------------


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


def _judgement(item: pytest.Item, call: pytest.CallInfo) -> tuple[str, str]:
    """(status, message) of a failed phase; the message never shows test source."""
    exc = _first_leaf(call.excinfo.value)
    text = str(exc)
    if isinstance(exc, pytest.fail.Exception) and text.startswith("Timeout"):
        limit = f" ({text.split('>')[-1].split()[0].rstrip(')')})" if ">" in text else ""
        return "timeout", f"the test ran past its time limit{limit}"
    if isinstance(exc, SandboxUnavailable):
        return "error", str(exc)
    if isinstance(exc, SubmissionError):
        return ("error" if call.when == "setup" else "failed"), str(exc)
    if isinstance(exc, pytest.skip.Exception):
        return "failed", "the test was skipped, which earns no points"
    if isinstance(exc, AssertionError):
        message = text.split("\nassert ")[0].strip() or "an assertion of the hidden test failed"
        return "failed", message
    if isinstance(exc, pytest.fail.Exception):
        return "failed", text
    sub = item.funcargs.get("submission") if hasattr(item, "funcargs") else None
    hint = str(sub._dir) if isinstance(sub, DirectSubmission) else ""
    return ("error" if call.when != "call" else "failed"), describe_exception(exc, hint)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not is_hidden(item):
        return
    if call.excinfo is None:
        report.grader = ("passed", "")
    else:
        report.grader = _judgement(item, call)
        if isinstance(call.excinfo.value, (SubmissionError, NotImplementedError)):
            report.longrepr = report.grader[1]  # one line, not a wall of traceback


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
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
