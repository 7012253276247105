"""The direct ``submission``: a submission's step modules imported in this process.

A submission is a directory of step files. It is staged into a fresh package
(its ``stepNN_*.py`` files and the kit's own ``mnist.py``, nothing else: no
``conftest.py``, no ``__init__.py`` of its own), so step modules can import each
other relatively, exactly as in ``solutions/``. Hidden tests reach it only as
``submission.<step>.<name>``; what they get back is plain data (figures become
:class:`grader.figures.FigureData`), so the sandboxed fixture can serve the same
tests across a process boundary.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import itertools
import os
import shutil
import stat
import sys
import tempfile
import tokenize
import traceback
from pathlib import Path

from . import checks, kit_ops
from .figures import to_plain
from .steps import MAX_STEP_FILE, STEPS

KIT_ROOT = Path(__file__).resolve().parent.parent
KIT_MNIST = KIT_ROOT / "solutions" / "mnist.py"
_counter = itertools.count()


class SubmissionError(Exception):
    """A step cannot be used: its file is missing, fails to import, or lacks a name."""


class SandboxUnavailable(SubmissionError):
    """The grader could not get a sandboxed worker: its failure, not the submission's.

    Reported as an error (never cached as the step's import failure)."""


# The test now running (set by the plugin), and the last test in which the
# submission ran past its time limit. A property test (hypothesis) catches the
# timeout and replays the example with no timer left running: every later call
# in that test must fail at once instead of hanging.
CURRENT_TEST: str | None = None
_timed_out_in: str | None = None


def is_timeout(exc: BaseException) -> bool:
    from _pytest.outcomes import Failed

    return isinstance(exc, Failed) and str(exc).startswith("Timeout")


def note_timeout(exc: BaseException) -> None:
    global _timed_out_in
    if is_timeout(exc):
        _timed_out_in = CURRENT_TEST


def refuse_after_timeout() -> None:
    from _pytest.outcomes import Failed

    if _timed_out_in is not None and _timed_out_in == CURRENT_TEST:
        raise Failed(
            "Timeout: the submission already ran past this test's time limit", pytrace=False
        )


def read_step_file(path: Path, step: str) -> bytes | str:
    """The bytes of ``path/<step>.py``, or why it cannot be graded.

    Only a regular file is read, opened without following a symbolic link (a link
    could point at any file the grader can read) and no larger than MAX_STEP_FILE.
    """
    name = f"{step}.py"
    try:
        folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        return f"the submission folder {path} cannot be read ({exc.strerror})"
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        return f"{name} is missing from the submission {path}"
    except OSError as exc:
        if os.path.islink(path / name):
            return f"{name} is a symbolic link; only regular files are graded"
        return f"{name} cannot be read ({exc.strerror})"
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return f"{name} is not a regular file; only regular files are graded"
        if info.st_size > MAX_STEP_FILE:
            return f"{name} is {info.st_size} bytes, more than the {MAX_STEP_FILE} allowed"
        return f.read(MAX_STEP_FILE + 1)[:MAX_STEP_FILE]


def stage(path: Path, into: Path) -> Path:
    """Copy a submission's step files and the kit's ``mnist.py`` into a new package dir.

    Step files that cannot be graded (see :func:`read_step_file`) are left out; the
    submission's ``missing`` message says why.
    """
    package = into / "submission"
    package.mkdir(parents=True)
    for step in STEPS:
        content = read_step_file(path, step)
        if isinstance(content, bytes):
            (package / f"{step}.py").write_bytes(content)
    shutil.copyfile(kit_mnist(), package / "mnist.py")
    (package / "__init__.py").write_text('"""A staged submission (generated)."""\n')
    return package


def missing(path: Path, step: str) -> str:
    """Why ``step`` of the submission at ``path`` was not staged."""
    reason = read_step_file(path, step)
    return reason if isinstance(reason, str) else f"{step}.py is missing from the submission"


def read_source(path: Path) -> str:
    """A step file's text, decoded as Python decodes it: a UTF-8 BOM, a PEP 263 coding
    cookie (``# -*- coding: latin-1 -*-``), else UTF-8."""
    data = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise SubmissionError(
            f"{path.name} cannot be decoded as Python source ({exc}); Python could not import "
            "it either: save it as UTF-8 (or declare its encoding in a coding cookie)"
        ) from None


def kit_mnist() -> Path:
    """The kit's ``mnist.py`` (``exercises/`` has the same file where ``solutions/`` is absent)."""
    return KIT_MNIST if KIT_MNIST.is_file() else KIT_ROOT / "exercises" / "mnist.py"


def describe_exception(exc: BaseException, filename_hint: str = "") -> str:
    """``Type: message`` plus the last line of the submission that was running."""
    # Type and message only: no notes (hypothesis adds its example there), no test source.
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if filename_hint in f.filename]
    if frames and filename_hint:
        last = frames[-1]
        text += f" (at {Path(last.filename).name}:{last.lineno})"
    return text


class StepModule:
    """A step module seen from a test: attribute access with clear errors, plain results."""

    def __init__(self, step: str, module):
        self._step, self._module = step, module

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            value = getattr(self._module, name)
        except AttributeError:
            raise SubmissionError(
                f"{self._step}.py has no {name!r}; STEPS.md says step "
                f"{self._step[4:6]} defines it (check the spelling)"
            ) from None
        if isinstance(value, type) or not callable(value):
            return value

        def call(*args, **kwargs):
            refuse_after_timeout()
            try:
                return to_plain(value(*args, **kwargs))
            except BaseException as exc:
                note_timeout(exc)
                raise

        call.__name__ = name
        return call


class DirectSubmission:
    """A submission directory imported into the test process."""

    def __init__(self, path: Path):
        self.path = Path(path).resolve()
        self.name = self.path.name
        self._tmp = tempfile.mkdtemp(prefix="grader-submission-")
        package = stage(self.path, Path(self._tmp))
        # A unique package name, so two submissions in one process never share modules.
        self._package = f"_submission_{next(_counter)}"
        spec = importlib.util.spec_from_file_location(
            self._package, package / "__init__.py", submodule_search_locations=[str(package)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[self._package] = module
        spec.loader.exec_module(module)
        self._dir = package
        self._steps: dict[str, StepModule | SubmissionError] = {}

    def has_step(self, step: str) -> bool:
        return (self._dir / f"{step}.py").is_file()

    def source(self, step: str) -> str:
        """The text of a step file (for the "without X" rules), decoded as Python does."""
        if not self.has_step(step):
            raise SubmissionError(self._missing(step))
        return read_source(self._dir / f"{step}.py")

    def torch_calls(self, step: str, name: str, args, kwargs=None):
        """``(output, records)`` of ``<step>.<name>(*args, **kwargs)``: ``records`` lists each
        torch function the call reached as ``(name, grad_enabled, count)``; see
        :mod:`grader.observe`. The grader judges them (:func:`grader.checks.written_without`)."""
        from .observe import TorchCalls

        function = self._function(step, name)
        refuse_after_timeout()
        try:
            with TorchCalls() as seen:
                output = function(*args, **(kwargs or {}))
            return to_plain(output), seen.records()
        except BaseException as exc:
            note_timeout(exc)
            raise

    # Kit operations (grader/kit_ops.py) on the submission's functions and objects.

    def grad_of(self, step: str, name: str, args, kwargs=None, weight=None):
        """``(output, grads)`` of ``<step>.<name>(*args)``; see :func:`grader.kit_ops.grad_of`.

        The gradient is taken where the function runs, then checked here against the
        function's own outputs (:func:`grader.checks.gradient_of_outputs`).
        """
        function = self._function(step, name)
        refuse_after_timeout()
        try:
            output, grads = kit_ops.grad_of(function, args, kwargs, weight)
        except BaseException as exc:
            note_timeout(exc)
            raise
        output = to_plain(output)
        call = getattr(getattr(self, step), name)
        checks.gradient_of_outputs(call, args, kwargs, weight, output, grads, f"{step}.{name}")
        return output, grads

    def module_grads(self, module, args, weight=None):
        """Parameter gradients of a module's output, checked against the module's outputs."""
        refuse_after_timeout()
        try:
            grads = kit_ops.module_grads(module, args, weight)
        except BaseException as exc:
            note_timeout(exc)
            raise
        checks.parameter_gradients_of_outputs(module, args, weight, grads, "the model")
        return grads

    def _function(self, step: str, name: str):
        getattr(getattr(self, step), name)  # clear errors for a missing step or name
        return getattr(self._steps[step]._module, name)

    def _missing(self, step: str) -> str:
        return missing(self.path, step)

    def __getattr__(self, step: str) -> StepModule:
        if step not in STEPS:
            raise AttributeError(step)
        if step not in self._steps:
            self._steps[step] = self._import(step)
        result = self._steps[step]
        if isinstance(result, SubmissionError):
            raise result
        return result

    def _import(self, step: str) -> StepModule | SubmissionError:
        if not self.has_step(step):
            return SubmissionError(self._missing(step))
        try:
            module = importlib.import_module(f"{self._package}.{step}")
        except BaseException as exc:  # SystemExit and KeyboardInterrupt at import too
            return SubmissionError(
                f"{step}.py failed to import: {describe_exception(exc, str(self._dir))}"
            )
        return StepModule(step, module)

    def close(self) -> None:
        for name in [
            m for m in sys.modules if m == self._package or m.startswith(self._package + ".")
        ]:
            del sys.modules[name]
        shutil.rmtree(self._tmp, ignore_errors=True)
