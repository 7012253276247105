"""Exceptions raised by submission code in a worker, rebuilt in the grader as plain data."""

from __future__ import annotations

import builtins
from functools import lru_cache
from typing import Any


def _builtin_exception(name: str) -> type | None:
    """The built-in exception class of that name (never a BaseException-only one such as
    SystemExit or KeyboardInterrupt: raised in the grader, those would stop the run)."""
    exc = getattr(builtins, name, None)
    return exc if isinstance(exc, type) and issubclass(exc, Exception) else None


class RemoteError(Exception):
    """An exception raised by submission code in the worker (type, message, place).

    Its text is the message as the worker read it (``str(exc)`` there), never re-read
    through a built-in class's own ``__str__`` (a KeyError would quote it again)."""

    def __init__(self, message: str = ""):
        Exception.__init__(self, message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@lru_cache(maxsize=256)
def _remote_type(builtin: type, name: str | None = None) -> type:
    """``ValueError`` raised in the worker arrives as one class that is both a ValueError
    and a RemoteError: always the same class, as in one process (hypothesis tells
    failures apart by their type; a new class per call looked like endless new bugs).
    A student's class derived from a built-in arrives under its own name, derived
    from that built-in (``except ValueError`` catches it, as in one process)."""
    return type(
        name or builtin.__name__,
        (RemoteError,) if builtin is Exception else (builtin, RemoteError),
        {"__init__": RemoteError.__init__, "__str__": RemoteError.__str__},
    )


def remote_exception(info: dict[str, Any]) -> Exception:
    """The grader's exception for one the worker described (checked by grader/sandbox/wire.py)."""
    name, message = info["type"], info["message"]
    text = message + (f" (at {info['where']})" if info["where"] else "")
    base = _builtin_exception(info["base"])
    if base is not None and name.isidentifier():
        try:
            exc = _remote_type(base, None if info["builtin"] else name)(text)
            str(exc), repr(exc)  # built, and printable
            return exc
        except Exception:  # noqa: BLE001 - a class that cannot be built this way
            pass
    return RemoteError(f"{name}: {text}")
