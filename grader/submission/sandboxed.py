"""The sandboxed submission: the submission's code runs in a worker process.

The hidden tests keep running in the grader's process and see the same
interface as :class:`grader.submission.direct.DirectSubmission`; every call crosses to
the worker (:mod:`grader.sandbox.worker`) as data and comes back as plain data
(:mod:`grader.sandbox.wire`). Objects that are not data stay in the worker behind a
:class:`RemoteObject` handle. Tensors and modules the test passes in are copied
back after the call, so in-place changes (an optimizer step, ``kaiming_init_``)
reach the test as they would in one process.

The isolation and the limits are :mod:`grader.sandbox`'s.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..authoring import checks
from ..sandbox import wire
from ..sandbox.host import Sandbox, StepWorker
from ..sandbox.kit_data import by_reference
from ..sandbox.limits import Limits
from ..sandbox.remote_errors import RemoteError, remote_exception
from ..sandbox.scratch import remove_tree
from ..sandbox.sync import apply_states, grads_of
from ..seeding import SEED
from ..steps import STEPS
from .files import missing, read_source, stage
from .protocol import SandboxUnavailable, SubmissionError
from .timeouts import TimeoutGuard, import_timed_out, is_timeout

if TYPE_CHECKING:
    from .protocol import Grads
    from .shared_sandbox import SharedSandbox


class RemoteObject:
    """A handle on an object kept in a worker: call it, read attributes, call methods."""

    def __init__(
        self, owner: SandboxedSubmission, worker: StepWorker, id: int, kind: str, type: str
    ):
        self._owner, self._worker, self._id = owner, worker, id
        self._kind, self._type = kind, type

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner._call(
            ("handle", self._id, None), args, kwargs, f"{self._type}(...)", worker=self._worker
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        what = f"{self._type}.{name}"
        return self._owner._request(("getattr", self._id, name), what, worker=self._worker)

    def __repr__(self) -> str:
        return f"<{self._type} in the submission's worker>"


class RemoteStep:
    def __init__(self, owner: SandboxedSubmission, step: str):
        self._owner, self._step = owner, step

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        owner, step = self._owner, self._step

        def call(*args: Any, **kwargs: Any) -> Any:
            return owner._call(("step", step, name), args, kwargs, f"{step}.{name}", step=step)

        call.__name__ = name
        return call


class SandboxedSubmission:
    """A submission directory served by sandboxed workers (same interface as the direct one).

    One sandbox per submission; in it, one fresh worker process per step, so a
    step's import-time mischief or a crash never reaches another step. A worker
    that crashes or runs past a timeout is replaced by a fresh one.
    """

    def __init__(
        self,
        path: Path,
        isolation: str = "bwrap",
        limits: Limits | None = None,
        threads: int = 1,
        shared: SharedSandbox | None = None,
    ):
        """``shared``: a grading server's sandbox to use (it stays open after this
        submission); without it, this submission starts a sandbox of its own."""
        self.path = Path(path).resolve()
        self.name = self.path.name
        self.isolation, self.limits, self.threads = isolation, limits or Limits(), threads
        self._tmp = Path(tempfile.mkdtemp(prefix="grader-sandbox-"))
        try:
            if shared is not None:
                shared.restage(self.path)
                self._staged, self._dir = shared.staged, shared.package
            else:
                self._staged = self._tmp / "staged"
                self._dir = stage(self.path, self._staged)
                for p in [self._tmp, self._staged, *self._staged.rglob("*")]:
                    os.chmod(p, 0o755 if p.is_dir() else 0o644)  # readable by the worker's user
        except BaseException:
            remove_tree(self._tmp)  # a refused submission leaves nothing behind either
            raise
        # The server's sandbox is used, never closed, here; one started here is closed here.
        self._borrowed = shared.sandbox if shared is not None else None
        self._sandbox: Sandbox | None = self._borrowed
        self._worker: StepWorker | None = None
        self._worker_step: str | None = None
        self._seeded_for: str | None = None
        self._imported: dict[str, SubmissionError | None] = {}
        self._ever_started = self._borrowed is not None
        self._cannot_start: str | None = None
        self._closed = False
        self._guard = TimeoutGuard()

    # -- the interface the hidden tests use ---------------------------------------------

    def has_step(self, step: str) -> bool:
        return (self._dir / f"{step}.py").is_file()

    def source(self, step: str) -> str:
        if not self.has_step(step):
            raise SubmissionError(missing(self.path, step))
        return read_source(self._dir / f"{step}.py")

    def __getattr__(self, step: str) -> RemoteStep:
        if step not in STEPS:
            raise AttributeError(step)
        if not self.has_step(step):
            raise SubmissionError(missing(self.path, step))
        if step not in self._imported:
            try:
                self._request(("import", step), f"the import of {step}.py", step=step)
                self._imported[step] = None
            except SandboxUnavailable:
                raise  # this test's loss only; the next one tries the import again
            except SubmissionError as exc:
                self._imported[step] = SubmissionError(f"{step}.py failed to import: {exc}")
            except RemoteError as exc:
                text = str(exc) if type(exc) is RemoteError else f"{type(exc).__name__}: {exc}"
                self._imported[step] = SubmissionError(f"{step}.py failed to import: {text}")
            except BaseException as exc:
                if not is_timeout(exc):
                    raise
                # One timeout per step, not one per test: the import would hang again.
                self._guard.note(exc)
                self._imported[step] = import_timed_out(step, exc)
        failure = self._imported[step]
        if failure is not None:
            raise SubmissionError(str(failure))  # a new one each time, as in direct.py
        return RemoteStep(self, step)

    def grad_of(
        self, step: str, name: str, args: tuple, kwargs: dict | None = None, weight: Any = None
    ) -> tuple[Any, Grads]:
        """As :meth:`grader.submission.direct.DirectSubmission.grad_of`: the gradient comes from the
        worker, where the submission can replace anything; it is checked here against the
        function's own outputs before a test sees it."""
        remote = getattr(self, step)
        output, grads = self._reply_pair(
            self._call(
                ("kit", "grad_of"),
                (("step", step, name), args, kwargs, weight),
                {},
                f"{step}.{name}",
                step=step,
            ),
            f"the gradient of {step}.{name}",
        )
        call = getattr(remote, name)
        checks.gradient_of_outputs(call, args, kwargs, weight, output, grads, f"{step}.{name}")
        return output, grads

    def torch_calls(
        self, step: str, name: str, args: tuple, kwargs: dict | None = None
    ) -> tuple[Any, Any]:
        """``(output, records)``: the call, and the torch functions it reached, recorded in
        the worker (see :meth:`grader.submission.direct.DirectSubmission.torch_calls`)."""
        getattr(self, step)
        return self._call(
            ("step", step, name), args, kwargs or {}, f"{step}.{name}", step=step, op="observe"
        )

    def module_grads(self, module: Any, args: tuple, weight: Any = None) -> dict:
        grads = self._call(
            ("kit", "module_grads"),
            (module, args, weight),
            {},
            "a model's gradients",
            worker=_worker_of(module),
        )
        checks.parameter_gradients_of_outputs(module, args, weight, grads, "the model")
        return grads

    @staticmethod
    def _reply_pair(reply: Any, what: str) -> tuple[Any, Any]:
        if not isinstance(reply, tuple) or len(reply) != 2:
            raise SubmissionError(f"{what}: the worker's answer is malformed")
        return reply

    def begin_test(self, test: str) -> None:
        self._guard.begin(test)

    def warm(self) -> None:
        """Start the sandbox now, outside any test's time limit.

        A sandbox that cannot start here will not start for the next test either:
        the first failure is kept and every later request fails at once with it.
        """
        self._started()

    def _started(self) -> Sandbox:
        """The running sandbox, started now if there is none (see :meth:`warm`)."""
        if self._cannot_start is not None:
            raise RuntimeError(self._cannot_start)
        if self._sandbox is None or not self._sandbox.alive():
            if self._sandbox is not None:
                self._sandbox.close()
            self._sandbox = None
            self._worker = None
            try:
                self._sandbox = Sandbox(
                    self._staged, self.isolation, self.limits, self.threads, work=self._tmp
                )
            except RuntimeError as exc:
                if not self._ever_started:
                    self._cannot_start = str(exc)
                raise
            self._ever_started = True
            if self._closed:  # closed (a signal handler) while this one was starting
                self._sandbox.close()
                self._sandbox = None
                raise RuntimeError("the submission was closed")
        return self._sandbox

    def close(self) -> None:
        """End the sandbox and remove every file made for this submission; idempotent,
        and safe to call from a signal handler (the grader's SIGTERM/SIGINT)."""
        self._closed = True
        self._cannot_start = self._cannot_start or "the submission was closed"
        sandbox, self._sandbox, worker, self._worker = self._sandbox, None, self._worker, None
        if sandbox is not None and sandbox is self._borrowed and sandbox.alive():
            if worker is not None:
                worker.end(kill=True)  # the zygote ends all it left and empties its scratch
        elif sandbox is not None:
            sandbox.close()  # the PID namespace ends: every process in it is gone
        remove_tree(self._tmp)

    # -- the wire --------------------------------------------------------------------------

    def _encode(self, value: Any) -> Any:
        """The test's arguments as they cross: handles as references, a one-shot iterator
        as a :class:`grader.sandbox.wire.OneShot` (read here, once, as the call would); every
        other value as it is (containers only rebuilt where something inside changed)."""
        if isinstance(value, RemoteObject):
            return wire.HandleRef(value._id)
        if isinstance(value, torch.Tensor | torch.nn.Module):
            return value
        if isinstance(value, dict):
            pairs = [(k, self._encode(v)) for k, v in value.items()]
            if all(new is old for (_, new), old in zip(pairs, value.values(), strict=True)):
                return value
            return dict(pairs)
        if isinstance(value, list | tuple):
            items = [self._encode(v) for v in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            return tuple(items) if isinstance(value, tuple) else items
        if hasattr(value, "__next__"):  # e.g. model.parameters(): a generator
            return wire.OneShot([self._encode(v) for v in value])
        return value

    def _worker_for(self, step: str | None, worker: StepWorker | None) -> StepWorker:
        if worker is not None:
            if worker.ended is not None or worker is not self._worker:
                raise SubmissionError(
                    "this object belonged to a worker process that has ended "
                    f"({worker.ended or 'a newer step started'})"
                )
            return worker
        if step is None:
            step = self._worker_step
        sandbox = self._started()
        if self._worker is None or self._worker.ended is not None or step != self._worker_step:
            if self._worker is not None:
                self._worker.end(kill=True)
            self._worker = None
            try:
                fresh = sandbox.fork()
            except (EOFError, OSError, ValueError):
                # The zygote ended between two requests: one fresh sandbox, one more try.
                sandbox.close()
                fresh = self._started().fork()
            self._worker, self._worker_step, self._seeded_for = fresh, step, None
        return self._worker

    def _exchange(self, worker: StepWorker, message: tuple) -> tuple[str, Any, str, str]:
        wire.send(worker.sock, message)
        return wire.recv_reply(worker.sock, lambda *info: RemoteObject(self, worker, *info))

    def _request(
        self, message: tuple, what: str, step: str | None = None, worker: StepWorker | None = None
    ) -> Any:
        self._guard.refuse()
        try:
            worker = self._worker_for(step, worker)
        except (EOFError, OSError, ValueError, RuntimeError) as exc:
            raise SandboxUnavailable(
                f"the sandbox could not start a worker for {what}: {exc}"
            ) from None
        try:
            if self._seeded_for != self._guard.test:  # a new test: seed as the direct run does
                message = ("seeded", SEED, message)  # in the same round trip
                self._seeded_for = self._guard.test
            reply = self._exchange(worker, message)
        except (EOFError, ConnectionError, OSError) as exc:
            raise SubmissionError(
                f"the submission's process ended during {what}: {worker.end(kill=False)}"
            ) from exc
        except wire.WireError as exc:
            # The rest of its answer is unread: this worker is out of step for good.
            worker.end(kill=True)
            raise SubmissionError(f"the grader refused the answer of {what}: {exc}") from None
        except BaseException as exc:
            # A timeout (or any interruption) mid-request: the worker's state is unknown.
            self._guard.note(exc)
            worker.end(kill=True)
            raise
        return self._unpack(reply, what)

    def _unpack(self, reply: tuple[str, Any, str, str], what: str) -> Any:
        status, value, out, err = reply  # checked and capped by grader/sandbox/wire.py
        if out:
            sys.stdout.write(out)
        if err:
            sys.stderr.write(err)
        if status == "error":
            if (
                value["type"] == "AttributeError"
                and value["builtin"]
                and "has no attribute" in value["message"]
                and not value["where"]
            ):
                raise SubmissionError(f"{what}: {value['message']}")
            raise remote_exception(value)
        return value

    def _call(
        self,
        target: tuple,
        args: Iterable[Any],
        kwargs: Mapping[str, Any],
        what: str,
        step: str | None = None,
        worker: StepWorker | None = None,
        op: str = "call",
    ) -> Any:
        args, kwargs = self._encode(tuple(args)), self._encode(dict(kwargs))
        objects = wire.syncable(args, kwargs)
        # Pickling drops .grad; the worker sets these on its copies before the call.
        grads = [grads_of(o) for o in objects]
        # The kit's MNIST tensors cross by reference (the worker has them already).
        message = (op, target, *by_reference((args, kwargs)), grads)
        result = self._request(message, what, step, worker)
        records = None
        if op == "observe":  # ((value, states), records): the records are checked by the grader
            if not isinstance(result, tuple) or len(result) != 2:
                raise SubmissionError(f"{what}: the worker's answer is malformed")
            result, records = result
        if not isinstance(result, tuple) or len(result) != 2:
            raise SubmissionError(f"{what}: the worker's answer is malformed")
        value, states = result
        apply_states(objects, states)
        return value if op == "call" else (value, records)


def _worker_of(value: object) -> StepWorker | None:
    return value._worker if isinstance(value, RemoteObject) else None
