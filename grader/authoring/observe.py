"""Which torch functions a call reaches, whatever the code calls them.

:class:`TorchCalls` is a ``torch.overrides.TorchFunctionMode``: while it is
active, every call of a torch function, a ``Tensor`` method or a ``torch.ops``
operator passes through it first, by whatever name or alias the caller used
(``sm = F.softmax``, ``getattr(torch, "soft" + "max")``, ``nn.Softmax``).
It sees the outermost call only: what that function does inside runs with the
mode off (``F.cross_entropy`` is recorded, not the ``log_softmax`` in it).

It runs in the submission's process (the sandboxed worker, or the test process
in direct mode) and judges nothing: the grader reads the records it returns
(see :func:`grader.authoring.checks.written_without`). Code running in that process can
switch the mode off (``torch._C``, ``torch.overrides``); the grader's source
check refuses those names in every step that has a "without" rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.overrides import TorchFunctionMode, resolve_name

# A record is (name, grad_enabled, count); the grader checks the shape of what comes back.
MAX_RECORDS = 4096


def call_name(func: object) -> str:
    """``torch.nn.functional.softmax``, ``torch.Tensor.exp``, ``aten.softmax.int``, ..."""
    try:
        name = resolve_name(func)
    except Exception:  # noqa: BLE001 - an odd callable: fall back to its own name
        name = None
    if not name:
        module = getattr(func, "__module__", None) or ""
        own = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or "?"
        name = f"{module}.{own}" if module else str(own)
    return str(name)[:200]


class TorchCalls(TorchFunctionMode):
    """Counts each torch function called while active, with the grad mode at the call."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[tuple[str, bool], int] = {}

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: object,
        args: tuple = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        key = (call_name(func), torch.is_grad_enabled())
        if key in self.counts or len(self.counts) < MAX_RECORDS:
            self.counts[key] = self.counts.get(key, 0) + 1
        return func(*args, **(kwargs or {}))

    def records(self) -> list[tuple[str, bool, int]]:
        return [(name, grad, count) for (name, grad), count in self.counts.items()]
