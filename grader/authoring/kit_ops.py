"""Operations the hidden tests run next to the submission's code.

A gradient of the submission's own code can only be taken where that code
runs. These two kit functions run wherever the submission runs (in the test
process for the direct fixture, inside the worker for the sandboxed one, where
the submission can replace them) and return plain data. Nothing they return is
trusted: the grader checks each gradient against the function's own outputs
(grader/authoring/checks.py: gradient_of_outputs, parameter_gradients_of_outputs) before a
test sees it. Training and evaluation run on the grader's side
(grader/authoring/kit_models.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch


def grad_of(
    function: Callable[..., Any],
    args: tuple,
    kwargs: dict[str, Any] | None = None,
    weight: torch.Tensor | None = None,
) -> tuple[Any, tuple[torch.Tensor | None, ...] | None]:
    """Call ``function(*args, **kwargs)``; return ``(output, grads)``.

    ``grads`` has one entry per tensor argument that requires grad: the
    gradient of ``(output * weight).sum()`` (of ``output`` itself when no weight
    is given) with respect to it, or None where none reaches it. ``grads`` is
    None when the output is not a tensor connected to autograd.
    """
    output = function(*args, **(kwargs or {}))
    inputs = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        return output, None
    target = output if weight is None else output * weight.to(output.dtype)
    grads = torch.autograd.grad(target.sum(), inputs, allow_unused=True)
    return output.detach(), tuple(grads)


def module_grads(
    module: torch.nn.Module, args: tuple, weight: Any = None
) -> dict[str, torch.Tensor | None]:
    """Gradients of a module's output by parameter name (None where none reaches).

    The target is ``(output * weight).sum()``; for a module returning a tuple,
    ``weight`` may be a tuple with one weight per output (the terms are added).
    """
    module.zero_grad(set_to_none=True)
    output = module(*args)
    outputs = output if isinstance(output, tuple) else (output,)
    weights = weight if isinstance(weight, tuple) else (weight,)
    terms = [
        o if w is None else o * w.to(o.dtype)
        for o, w in zip(outputs, weights, strict=False)
        if isinstance(o, torch.Tensor) and o.requires_grad
    ]
    if terms:
        cast(torch.Tensor, sum(t.sum() for t in terms)).backward()  # terms is not empty
    return {
        name: None if p.grad is None else p.grad.detach().clone()
        for name, p in module.named_parameters()
    }
