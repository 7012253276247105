"""What a hidden test holds: one ``Submission`` protocol, served directly or sandboxed.

Hidden tests reach a submission only as ``submission.<step>.<name>`` and through
the kit operations below; what they get back is plain data. Two classes serve
it: :class:`grader.submission.direct.DirectSubmission` (the step modules imported
in the test's process: students, kit development, nbgrader) and
:class:`grader.submission.sandboxed.SandboxedSubmission` (the code runs in a
sandboxed worker; arguments and results cross as data).
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

    # One gradient per argument that requires grad (None where none reaches it), or None
    # when the output is not connected to autograd (grader/authoring/kit_ops.py: grad_of).
    Grads = tuple[torch.Tensor | None, ...] | None


class SubmissionError(Exception):
    """A step cannot be used: its file is missing, fails to import, or lacks a name."""


class SandboxUnavailable(SubmissionError):
    """The grader could not get a sandboxed worker: its failure, not the submission's.

    Reported as an error (never cached as the step's import failure)."""


@runtime_checkable
class Submission(Protocol):
    """A submission as the hidden tests and the plugin see it."""

    path: Path  # the folder of step files, resolved
    name: str

    def has_step(self, step: str) -> bool:
        """Whether the step's file was staged (present, a regular file, small enough)."""
        ...

    def source(self, step: str) -> str:
        """The step file's text, decoded as Python decodes it."""
        ...

    def __getattr__(self, step: str) -> Any:
        """``submission.<step>``: the step's public names, called as functions."""
        ...

    def torch_calls(
        self, step: str, name: str, args: tuple, kwargs: dict | None = None
    ) -> tuple[Any, Any]:
        """``(output, records)``: the call, and each torch function it reached (records as
        the submission's process reports them: :func:`grader.authoring.checks.torch_records`
        checks them)."""
        ...

    def grad_of(
        self, step: str, name: str, args: tuple, kwargs: dict | None = None, weight: Any = None
    ) -> tuple[Any, Grads]:
        """``(output, grads)`` of a step function, checked against its own outputs."""
        ...

    def module_grads(self, module: Any, args: tuple, weight: Any = None) -> dict:
        """Parameter gradients of a module's output, checked against its outputs."""
        ...

    def begin_test(self, test: str) -> None:
        """A new test starts (its node id): re-seed, forget the last test's timeout."""
        ...

    def warm(self) -> None:
        """Get ready now, outside every test's time limit (start a sandbox)."""
        ...

    def close(self) -> None:
        """Release everything made for this submission; idempotent."""
        ...


def describe_exception(exc: BaseException, filename_hint: str = "") -> str:
    """``Type: message`` plus the last line of the submission that was running."""
    # Type and message only: no notes (hypothesis adds its example there), no test source.
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if filename_hint in f.filename]
    if frames and filename_hint:
        last = frames[-1]
        text += f" (at {Path(last.filename).name}:{last.lineno})"
    return text
