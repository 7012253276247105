"""The worker: runs one submission's code for the grader, inside the sandbox.

Forked by the zygote (:mod:`grader.sandbox.zygote`) for one step, with its own
socket to the grader. A worker imports the staged submission package,
then answers requests until its socket closes: call a step function, call a
method of an object it keeps, read an attribute, run a kit operation. Answers
are plain data (:mod:`grader.sandbox.wire`); printed output is captured per request
and returned with a cap. Nothing here judges anything: the grader does.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import importlib.util
import io
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from .wire import Encoded

OUTPUT_CAP = 64 * 1024


class CappedText(io.TextIOBase):
    """A text sink that keeps the first ``cap`` characters and counts the rest.

    The grader caps what it reads on its own side too (grader/sandbox/wire.py): this cap only
    keeps an honest worker's answer small."""

    def __init__(self, cap: int = OUTPUT_CAP):
        self.parts: list[str] = []
        self.size, self.cap, self.dropped = 0, cap, 0

    def write(self, text: object) -> int:
        if not isinstance(text, str):  # as sys.stdout does in a direct run
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        text = str.__str__(text)
        room = max(self.cap - self.size, 0)
        self.parts.append(text[:room])
        self.size += min(len(text), room)
        self.dropped += max(len(text) - room, 0)
        return len(text)

    def getvalue(self) -> str:
        note = f"\n[... {self.dropped} more characters of output dropped]\n" if self.dropped else ""
        return "".join(self.parts) + note


def import_package(package_dir: Path, name: str) -> ModuleType:
    """Import a staged submission directory as a package named ``name``."""
    spec = importlib.util.spec_from_file_location(
        name, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
    )
    assert spec is not None and spec.loader is not None  # a .py file always has a loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Worker:
    def __init__(self, package_dir: Path):
        self.package = "submission"
        # A grading server stages submission after submission into the same folder: the
        # zygote's cached listing of it may be an earlier submission's.
        importlib.invalidate_caches()
        if self.package not in sys.modules:  # the zygote may have imported it (kit code only)
            import_package(package_dir, self.package)
        from ..submission.placeholders import PlaceholderFinder

        # A step that does not import costs its own step only, not the steps importing it.
        self.finder = PlaceholderFinder(self.package)
        sys.meta_path.insert(0, self.finder)
        self.objects: dict[int, object] = {}

    # -- values -----------------------------------------------------------------

    def keep(self, obj: object) -> tuple[int, str, str]:
        """Keep an object that is not data; the grader gets a handle on it."""
        self.objects[id(obj)] = obj
        kind = "module" if _is_module(obj) else "callable" if callable(obj) else "object"
        return id(obj), kind, type.__dict__["__name__"].__get__(type(obj))

    def resolve(self, value: Any) -> Any:
        """The grader's arguments as the submission gets them: handles become the objects
        kept here, a one-shot iterator a one-shot generator; anything else stays itself."""
        from .wire import HandleRef, OneShot, one_shot

        if isinstance(value, HandleRef):
            return self.objects[value.id]
        if isinstance(value, OneShot):
            return one_shot([self.resolve(v) for v in value.items])
        if isinstance(value, dict):
            pairs = [(k, self.resolve(v)) for k, v in value.items()]
            if all(new is old for (_, new), old in zip(pairs, value.values(), strict=True)):
                return value  # nothing to resolve: the very object (an OrderedDict stays one)
            return dict(pairs)
        if isinstance(value, (list, tuple)):
            items = [self.resolve(v) for v in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            return tuple(items) if isinstance(value, tuple) else items
        return value

    def plain(self, value: Any) -> Encoded:
        from . import wire

        return wire.to_plain(value, self.keep)

    # -- requests ---------------------------------------------------------------

    def step(self, step: str) -> ModuleType:
        module = importlib.import_module(f"{self.package}.{step}")
        failure = self.finder.failure(module)
        if failure is not None:
            raise failure  # the step itself does not import: its tests say so
        return module

    def target(self, spec: tuple) -> Any:
        kind = spec[0]
        if kind == "step":
            return getattr(self.step(spec[1]), spec[2])
        if kind == "handle":
            obj = self.objects[spec[1]]
            return obj if spec[2] is None else getattr(obj, spec[2])
        if kind == "kit":
            from ..authoring import kit_ops

            return getattr(kit_ops, spec[1])
        raise ValueError(f"unknown target {spec!r}")

    def prepare(
        self, spec: tuple, raw_args: Any, raw_kwargs: Any, grads: Any
    ) -> tuple[Callable[[], Any], Callable[[Any], tuple[Any, list]]]:
        """The call a request asks for, and what makes its answer: ``(result, states)``, the
        final state of each of the test's own tensors and modules, to copy back."""
        from . import sync
        from .kit_data import materialize

        before: dict[int, torch.Tensor] = {}
        raw_args, raw_kwargs = materialize((raw_args, raw_kwargs), before)
        originals = _syncable(raw_args, raw_kwargs)
        sync.set_grads(originals, grads or [])
        for obj in originals:  # large tensors go back only if the call changed them
            if id(obj) not in before and sync.worth_comparing(obj):
                before[id(obj)] = obj.detach().clone()
        args, kwargs = self.resolve(raw_args), self.resolve(raw_kwargs)
        if spec[0] == "kit" and args and isinstance(args[0], tuple) and args[0][:1] == ("step",):
            args = (self.target(args[0]), *args[1:])  # a kit op on a step function
        target = self.target(spec)

        def finish(result: Any) -> tuple[Any, list]:
            return result, [sync.state_of(o, before.get(id(o))) for o in originals]

        return lambda: target(*args, **kwargs), finish

    def handle(self, request: tuple) -> Any:
        op = request[0]
        if op == "seed":
            from ..seeding import seed_everything

            seed_everything(request[1])
            return None
        if op == "seeded":  # a test's first request: seed as a direct run does, then answer
            with contextlib.suppress(BaseException):  # as a "seed" whose answer goes unread
                self.handle(("seed", request[1]))
            return self.handle(request[2])
        if op == "import":
            self.step(request[1])
            return None
        if op == "getattr":
            return getattr(self.objects[request[1]], request[2])
        if op in ("call", "observe"):
            _, spec, raw_args, raw_kwargs, grads = (*request, None)[:5]
            call, finish = self.prepare(spec, raw_args, raw_kwargs, grads)
            if op == "call":
                return finish(call())
            # The call with the torch functions it reaches recorded
            # (grader/authoring/observe.py); the kit's own work before and after it is not,
            # as in a direct run, and serve encodes the answer outside the recording.
            from ..authoring.observe import TorchCalls

            with TorchCalls() as seen:
                result = call()
            return finish(result), seen.records()
        raise ValueError(f"unknown request {op!r}")


def _is_module(obj: object) -> bool:
    import torch

    return isinstance(obj, torch.nn.Module)


def _syncable(args: Any, kwargs: Any) -> list[torch.Tensor | torch.nn.Module]:
    """The grader's tensors and modules among the arguments, in the grader's order."""
    from .wire import syncable

    return syncable(args, kwargs)


# Built-in exception classes by identity: a student's class named like one is not one.
_BUILTIN_EXCEPTIONS = {
    id(value): name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def _message(exc: BaseException, name: str) -> str:
    """``str(exc)``, or a safe text when that raises or recurses (student ``__str__``)."""
    try:
        text: object = str(exc)  # trusted no further than the check below
        if isinstance(text, str):
            return str.__str__(text)[:2000]
    except BaseException as problem:  # noqa: BLE001 - RecursionError, or anything it raises
        return f"<the message of this {name} could not be read: {type(problem).__name__}>"
    return f"<the message of this {name} is not a string>"


# The kit's own frames (grader/submission/ too) are never the submission's place.
_GRADER_DIR = str(Path(__file__).resolve().parents[1]) + "/"


def describe(exc: BaseException) -> dict[str, Any]:
    """Type, message and place of an exception, read without trusting the exception.

    ``builtin``: the class IS the built-in of that name; ``base``: the nearest built-in
    class it derives from, so that the grader can raise something ``except`` clauses and
    ``pytest.raises`` treat as in a direct run."""
    import traceback

    cls = type(exc)
    name = type.__dict__["__name__"].__get__(cls)[:100]
    mro = type.__dict__["__mro__"].__get__(cls)
    base = next((_BUILTIN_EXCEPTIONS[id(c)] for c in mro if id(c) in _BUILTIN_EXCEPTIONS), "")
    try:
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if "/submission/" in f.filename and not f.filename.startswith(_GRADER_DIR)
        ]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}"[:300] if frames else ""
    except Exception:  # noqa: BLE001 - a traceback it cannot read: no place, the rest stands
        where = ""
    return {
        "type": name,
        "builtin": _BUILTIN_EXCEPTIONS.get(id(cls)) == name,
        "base": base,
        "message": _message(exc, name),
        "where": where,
    }


def _text(sink: CappedText) -> str:
    try:
        text = sink.getvalue()
        return text if type(text) is str else ""
    except Exception:  # noqa: BLE001 - patched by the submission: the grader caps it anyway
        return ""


def serve(sock: socket.socket, worker: Worker | None, startup_error: dict[str, Any] | None) -> None:
    """Answer requests until the socket closes; ``worker`` is None when it could not start
    (``startup_error`` says why), and every request then fails with that error."""
    from . import wire

    while True:
        try:
            request = wire.recv_request(sock)
        except EOFError:
            return
        out, err = CappedText(), CappedText()
        try:
            if worker is None:
                raise RuntimeError(startup_error["message"] if startup_error else "no worker")
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                # Encoded here: reading a generator or drawing a figure runs submission code.
                reply = wire.reply_ok(worker.plain(worker.handle(request)))
        except BaseException as exc:  # noqa: BLE001 - SystemExit from student code too
            reply = wire.reply_error(describe(exc))
        try:
            wire.send_reply(sock, reply, _text(out), _text(err))
        except (OSError, EOFError):
            return  # the grader is gone
        except Exception as exc:  # noqa: BLE001 - e.g. a reply patched into something else
            info = {
                "type": "WireError",
                "builtin": False,
                "base": "Exception",
                "message": f"the result could not be sent back: {type(exc).__name__}",
                "where": "",
            }
            wire.send_reply(sock, wire.reply_error(info))
