"""A step file that does not import costs its own step, not the steps that import it.

Step 07 imports step 06's ``create_model``. Without help, a syntax error in
step 06 (or a missing step 06) would make step 07 fail to import too, and cost
its ``sgd_step`` and ``fit`` tests, which never use ``create_model``.

:class:`PlaceholderFinder` sits on ``sys.meta_path`` for one submission package.
When a step module of that package raises while it is executed, or does not
exist, the import still succeeds: the module is left empty but for a
``__getattr__`` that hands out :class:`Unavailable` names, which raise
``step 06 does not import: SyntaxError: ...`` when they are used. The failure is
kept in :attr:`PlaceholderFinder.failures`, so the step itself is still reported
as failing to import (callers check :meth:`PlaceholderFinder.failure`).

A hang at import is not caught here: the test's timeout ends it, as before.
Standard library only: the sandbox's worker imports this module.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

_STEP_MODULE = re.compile(r"step(\d\d)_\w+")
# What a module keeps when it becomes a placeholder: the import system's own names.
_KEPT = {"__name__", "__doc__", "__package__", "__loader__", "__spec__", "__path__", "__file__"}
_KEPT |= {"__cached__", "__builtins__"}


def _reason(exc: BaseException) -> str:
    """``Type: message (at file.py:line)``, the line being the last one in a step file."""
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    everywhere = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in everywhere if _STEP_MODULE.match(Path(f.filename).name)]
    if frames and not isinstance(exc, SyntaxError):  # a SyntaxError names its line already
        text += f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return text


class Unavailable:
    """A name of a step that does not import: any use raises, saying why."""

    def __init__(self, step: str, name: str, reason: str):
        self._message = f"step {step} does not import ({reason}), so its {name} cannot be used"

    def _fail(self, *args: object, **kwargs: object) -> NoReturn:
        raise ImportError(self._message)

    __call__ = _fail

    def __getattr__(self, attribute: str) -> Any:
        if _is_dunder(attribute):  # probes such as inspect's __wrapped__ are no use
            raise AttributeError(attribute)
        self._fail()

    def __mro_entries__(self, bases: tuple[object, ...]) -> NoReturn:  # class C(Unavailable)
        self._fail()

    def __repr__(self) -> str:
        return f"<unavailable: {self._message}>"


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _make_placeholder(module: ModuleType, reason: str) -> None:
    step = _STEP_MODULE.fullmatch(module.__name__.rpartition(".")[2])
    number = step.group(1) if step else "?"
    for key in [k for k in vars(module) if k not in _KEPT]:
        delattr(module, key)  # nothing the broken file defined survives, not even half

    names: dict[str, Unavailable] = {}  # the same object each time, as a real name is

    def unavailable(name: str) -> Unavailable:
        if _is_dunder(name):  # torch and inspect look for __file__ and such on every module
            raise AttributeError(name)
        return names.setdefault(name, Unavailable(number, name, reason))

    module.__getattr__ = unavailable  # type: ignore[method-assign]


class _Loader(importlib.abc.Loader):
    """Runs the step file as usual; when that raises, leaves a placeholder instead."""

    def __init__(self, inner: importlib.abc.Loader | None, finder: PlaceholderFinder, name: str):
        self.inner, self.finder, self.name = inner, finder, name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None if self.inner is None else self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        if self.inner is None:  # no such file
            reason = f"there is no {self.name.rpartition('.')[2]}.py"
            self.finder.failures[self.name] = ModuleNotFoundError(reason)
            _make_placeholder(module, reason)
            return
        try:
            self.inner.exec_module(module)
        except (Exception, SystemExit) as exc:  # a timeout (pytest's Failed) goes through
            self.finder.failures[self.name] = exc
            _make_placeholder(module, _reason(exc))

    def __getattr__(self, name: str) -> Any:  # get_source and friends, for tracebacks
        return getattr(self.inner, name)


class PlaceholderFinder(importlib.abc.MetaPathFinder):
    """Finds the step modules of ``package`` and loads them through :class:`_Loader`."""

    def __init__(self, package: str):
        self.package = package
        self.failures: dict[str, BaseException] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        parent, _, leaf = fullname.rpartition(".")
        if parent != self.package or not _STEP_MODULE.fullmatch(leaf):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None:  # a missing step: a placeholder module with no file
            return importlib.machinery.ModuleSpec(fullname, _Loader(None, self, fullname))
        spec.loader = _Loader(spec.loader, self, fullname)
        return spec

    def failure(self, module: ModuleType) -> BaseException | None:
        """The exception that made ``module`` a placeholder, or None for a module that works."""
        return self.failures.get(module.__name__)
