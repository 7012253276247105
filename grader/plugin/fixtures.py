"""The fixtures hidden tests use: the submission, the device, the same seeds every test.

The submission is made once per session, before the first test and outside every
test's time limit (a sandbox takes seconds to start), and told when each test
begins (:meth:`grader.submission.protocol.Submission.begin_test`): a sandboxed
worker is re-seeded per test, and a submission that timed out stays refused for
the rest of that test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..seeding import seed_everything
from ..submission.direct import DirectSubmission
from ..submission.protocol import Submission
from .collection import is_hidden

if TYPE_CHECKING:
    from ..submission.shared_sandbox import SharedSandbox


def open_submission(config: pytest.Config) -> Submission:
    """The submission under test, made once per session (see the ``submission`` fixture)."""
    if _SUBMISSION not in config.stash:
        path = Path(config.getoption("submission"))
        mode = config.getoption("sandbox")
        sub: Submission
        if mode == "off":
            sub = DirectSubmission(path)
        else:
            from ..sandbox.bwrap import choose_isolation
            from ..sandbox.limits import Limits
            from ..submission.sandboxed import SandboxedSubmission

            memory = config.getoption("worker_memory_mb")
            sub = SandboxedSubmission(
                path,
                choose_isolation(mode),
                Limits(memory_bytes=memory * 2**20),
                threads=config.getoption("grader_threads") or 1,
                shared=config.stash.get(_SHARED, None),
            )
        config.stash[_SUBMISSION] = sub
    return config.stash[_SUBMISSION]


def share_sandbox(config: pytest.Config) -> SharedSandbox | None:
    """A grading server's sandbox, started once for all its submissions (None with
    ``--sandbox off``); each submission opened after this uses it."""
    mode = config.getoption("sandbox")
    if mode == "off":
        return None
    from ..sandbox.bwrap import choose_isolation
    from ..sandbox.limits import Limits
    from ..submission.shared_sandbox import SharedSandbox

    memory = config.getoption("worker_memory_mb")
    shared = SharedSandbox(
        choose_isolation(mode),
        Limits(memory_bytes=memory * 2**20),
        threads=config.getoption("grader_threads") or 1,
    )
    config.stash[_SHARED] = shared
    return shared


_SUBMISSION = pytest.StashKey[Submission]()  # made (possibly before any test asked)
_IN_USE = pytest.StashKey[Submission]()  # handed out by the fixture, not yet closed
_PROVIDED = pytest.StashKey[bool]()  # given by the caller, who closes it
_SHARED = pytest.StashKey["SharedSandbox"]()  # a grading server's sandbox


def provide_submission(config: pytest.Config, sub: Submission) -> None:
    """Grade ``sub`` in this session instead of ``--submission`` (the nbgrader kernel's
    notebooks, kept open across runs): the session does not close it."""
    config.stash[_SUBMISSION] = sub
    config.stash[_PROVIDED] = True


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
    """Start the sandbox (if any) before the first test, outside every test's time limit."""
    config = session.config
    if config.option.collectonly or not any(is_hidden(i) for i in session.items):
        return
    _warm_up_the_judge()
    if config.getoption("grader_serve") is not None:
        return  # each submission is opened in its own fork (grader/plugin/serve.py)
    warm(open_submission(config))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A worker that died or timed out is replaced between tests, not during the next one."""
    yield
    warm(item.config.stash.get(_IN_USE, None))


def warm(sub: Submission | None) -> None:
    """Get the submission ready between tests. A sandbox's failure to start is kept by
    the submission and reported by the next test's request, as that test's error."""
    if sub is not None:
        try:
            sub.warm()
        except RuntimeError:
            pass


@pytest.fixture(scope="session")
def submission(request: pytest.FixtureRequest) -> Iterator[Submission]:
    """The submission under test, reached as ``submission.<step>.<name>``.

    ``--sandbox off`` (the default for a plain pytest run) imports it here;
    otherwise its code runs in sandboxed worker processes (:mod:`grader.sandbox`).
    """
    config = request.config
    sub = open_submission(config)
    config.stash[_IN_USE] = sub
    yield sub
    del config.stash[_IN_USE]
    if not config.stash.get(_PROVIDED, False):
        sub.close()


@pytest.fixture(scope="session")
def device() -> str:
    """CUDA when present, else the CPU (the reference every tolerance holds on)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@pytest.fixture(autouse=True)
def _a_fresh_start(request: pytest.FixtureRequest) -> None:
    """Before every test: the same seeds (the same submission scores the same), and the
    submission told which test runs now (a sandboxed worker is re-seeded for it)."""
    seed_everything()
    sub = request.config.stash.get(_SUBMISSION, None)
    if sub is not None:
        sub.begin_test(request.node.nodeid)
