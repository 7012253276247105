"""The direct submission: a submission's step modules imported in this process.

Used where the code is trusted: students running their visible tests, kit
development, the nbgrader route (``--sandbox off``). The step files are staged
(:mod:`.files`) into a package with a unique name, so two submissions in one
process never share modules. What the tests get back is plain data (figures
become :class:`grader.authoring.figures.FigureData`), exactly as from the
sandboxed submission.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..authoring import checks, kit_ops
from ..authoring.figures import to_plain
from ..steps import STEPS
from .files import missing, read_source, stage
from .placeholders import PlaceholderFinder
from .protocol import SubmissionError, describe_exception
from .timeouts import TimeoutGuard, import_timed_out, is_timeout

if TYPE_CHECKING:
    import torch

    from .protocol import Grads

_counter = itertools.count()


class StepModule:
    """A step module seen from a test: attribute access with clear errors, plain results."""

    def __init__(self, step: str, module: Any, guard: TimeoutGuard):
        self._step, self._module, self._guard = step, module, guard

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            value = getattr(self._module, name)
        except AttributeError:
            raise SubmissionError(
                f"{self._step}.py has no {name!r}; the step contract says step "
                f"{self._step[4:6]} defines it (check the spelling)"
            ) from None
        if isinstance(value, type) or not callable(value):
            return value
        guard = self._guard

        def call(*args: Any, **kwargs: Any) -> Any:
            guard.refuse()
            try:
                return to_plain(value(*args, **kwargs))
            except BaseException as exc:
                guard.note(exc)
                raise

        call.__name__ = name
        return call


class DirectSubmission:
    """A submission directory imported into the test process (a :class:`Submission`)."""

    def __init__(self, path: Path):
        self.path = Path(path).resolve()
        self.name = self.path.name
        self._guard = TimeoutGuard()
        self._tmp = tempfile.mkdtemp(prefix="grader-submission-")
        package = stage(self.path, Path(self._tmp))
        # A unique package name, so two submissions in one process never share modules.
        self._package = f"_submission_{next(_counter)}"
        spec = importlib.util.spec_from_file_location(
            self._package, package / "__init__.py", submodule_search_locations=[str(package)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[self._package] = module
        spec.loader.exec_module(module)
        # A step that does not import costs its own step only (placeholders.py).
        self._finder = PlaceholderFinder(self._package)
        sys.meta_path.insert(0, self._finder)
        self.staged = package
        self._steps: dict[str, StepModule | SubmissionError] = {}

    def has_step(self, step: str) -> bool:
        return (self.staged / f"{step}.py").is_file()

    def source(self, step: str) -> str:
        """The text of a step file (for the "without X" rules), decoded as Python does."""
        if not self.has_step(step):
            raise SubmissionError(missing(self.path, step))
        return read_source(self.staged / f"{step}.py")

    def begin_test(self, test: str) -> None:
        self._guard.begin(test)

    def warm(self) -> None:
        """Nothing to start: the modules are imported on first use."""

    def torch_calls(
        self, step: str, name: str, args: tuple, kwargs: dict | None = None
    ) -> tuple[Any, list[tuple[str, bool, int]]]:
        """``(output, records)`` of ``<step>.<name>(*args, **kwargs)``: ``records`` lists each
        torch function the call reached as ``(name, grad_enabled, count)``; see
        :mod:`grader.authoring.observe`. The grader judges them
        (:func:`grader.authoring.checks.written_without`)."""
        from ..authoring.observe import TorchCalls

        function = self._function(step, name)
        self._guard.refuse()
        try:
            with TorchCalls() as seen:
                output = function(*args, **(kwargs or {}))
            return to_plain(output), seen.records()
        except BaseException as exc:
            self._guard.note(exc)
            raise

    # Kit operations (grader/authoring/kit_ops.py) on the submission's functions and objects.

    def grad_of(
        self, step: str, name: str, args: tuple, kwargs: dict | None = None, weight: Any = None
    ) -> tuple[Any, Grads]:
        """``(output, grads)`` of ``<step>.<name>(*args)``; see
        :func:`grader.authoring.kit_ops.grad_of`.

        The gradient is taken where the function runs, then checked here against the
        function's own outputs (:func:`grader.authoring.checks.gradient_of_outputs`).
        """
        function = self._function(step, name)
        self._guard.refuse()
        try:
            output, grads = kit_ops.grad_of(function, args, kwargs, weight)
        except BaseException as exc:
            self._guard.note(exc)
            raise
        output = to_plain(output)
        call = getattr(getattr(self, step), name)
        checks.gradient_of_outputs(call, args, kwargs, weight, output, grads, f"{step}.{name}")
        return output, grads

    def module_grads(
        self, module: Any, args: tuple, weight: Any = None
    ) -> dict[str, torch.Tensor | None]:
        """Parameter gradients of a module's output, checked against the module's outputs."""
        self._guard.refuse()
        try:
            grads = kit_ops.module_grads(module, args, weight)
        except BaseException as exc:
            self._guard.note(exc)
            raise
        checks.parameter_gradients_of_outputs(module, args, weight, grads, "the model")
        return grads

    def _function(self, step: str, name: str) -> Any:
        getattr(getattr(self, step), name)  # clear errors for a missing step or name
        found = self._steps[step]
        assert isinstance(found, StepModule)
        return getattr(found._module, name)

    def __getattr__(self, step: str) -> StepModule:
        if step not in STEPS:
            raise AttributeError(step)
        if step not in self._steps:
            self._steps[step] = self._import(step)
        result = self._steps[step]
        if isinstance(result, SubmissionError):
            # A new exception each time: re-raising one object grows its traceback with
            # every raise, and pytest then spends seconds formatting each later failure.
            raise SubmissionError(str(result))
        return result

    def _import(self, step: str) -> StepModule | SubmissionError:
        if not self.has_step(step):
            return SubmissionError(missing(self.path, step))
        try:
            module = importlib.import_module(f"{self._package}.{step}")
            failure = self._finder.failure(module)
            if failure is not None:
                raise failure
        except BaseException as exc:  # SystemExit and KeyboardInterrupt at import too
            if is_timeout(exc):
                self._guard.note(exc)
                return import_timed_out(step, exc)
            return SubmissionError(
                f"{step}.py failed to import: {describe_exception(exc, str(self.staged))}"
            )
        return StepModule(step, module, self._guard)

    def close(self) -> None:
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        for name in [
            m for m in sys.modules if m == self._package or m.startswith(self._package + ".")
        ]:
            del sys.modules[name]
        shutil.rmtree(self._tmp, ignore_errors=True)
