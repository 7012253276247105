"""The state sync: in-place changes to a test's tensors and modules cross both ways.

Arguments cross to the worker as copies, and pickling drops ``.grad``; so the
grader sends each tensor and module argument's gradients along
(:func:`grads_of`), the worker sets them on its copies (:func:`set_grads`),
and after the call the worker sends each copy's final state back
(:func:`state_of`), which the grader copies into the test's own objects
(:func:`apply_states`). An optimizer step or ``kaiming_init_`` then reaches the
test as it would in one process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeGuard

import torch


def grads_of(
    obj: torch.Tensor | torch.nn.Module,
) -> torch.Tensor | None | dict[str, torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return obj.grad
    return {name: p.grad for name, p in obj.named_parameters() if p.grad is not None}


def set_grads(objects: Sequence[object], grads: Sequence[object]) -> None:
    """Give the grader's tensors and modules their gradients (pickling drops ``.grad``)."""
    for obj, grad in zip(objects, grads, strict=False):
        if isinstance(obj, torch.Tensor) and isinstance(grad, torch.Tensor):
            obj.grad = grad
        elif isinstance(obj, torch.nn.Module) and isinstance(grad, dict):
            params = dict(obj.named_parameters())
            for name, g in grad.items():
                if name in params:
                    params[name].grad = g


# Tensors of this size are compared with their copy before the call rather than sent back
# whole: a copy and a comparison cost far less than the wire. Not larger ones: the copy
# would count against the submission's memory, which a direct run does not ask of it. (The
# kit's MNIST is compared with the worker's own copy, grader/sandbox/kit_data.py.)
COMPARE_BYTES = (2**20, 2**26)


def worth_comparing(obj: object) -> TypeGuard[torch.Tensor]:
    low, high = COMPARE_BYTES
    return isinstance(obj, torch.Tensor) and low <= obj.nbytes <= high


def _unchanged(t: torch.Tensor, before: torch.Tensor) -> bool:
    """Same geometry and values (NaN counts as changed: it is sent, as before)."""
    return (
        t.shape == before.shape
        and t.stride() == before.stride()
        and t.dtype == before.dtype
        and t.device == before.device
        and torch.equal(t, before)
    )


def state_of(
    obj: torch.Tensor | torch.nn.Module, before: torch.Tensor | None = None
) -> dict[str, Any]:
    """What the grader copies back into its own argument after the call (in-place changes):
    values, gradients and ``requires_grad``, on the device and in the dtype they ended in.
    ``before``: the tensor's values before the call; when they are the same, ``data`` is
    None, which :func:`apply_states` reads as "unchanged"."""

    def data(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.detach()

    if isinstance(obj, torch.Tensor):
        same = before is not None and _unchanged(obj.detach(), before)
        return {
            "data": None if same else data(obj),
            "grad": data(obj.grad),
            "requires_grad": obj.requires_grad,
        }
    params = list(obj.named_parameters())
    return {
        "state": {k: data(v) for k, v in obj.state_dict().items()},
        "training": [m.training for m in obj.modules()],
        "grads": {k: data(p.grad) for k, p in params},
        "requires_grad": {k: p.requires_grad for k, p in params},
    }


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal values (NaN where NaN): copying them again would only bump ``a``'s version,
    which a graph that saved ``a`` would then refuse, unlike in a direct run."""
    if a.is_floating_point() or a.is_complex():
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return torch.equal(a, b)


def _put(target: torch.Tensor, new: object) -> None:
    """Make the test's tensor hold what the worker's copy ended with. Same shape, dtype and
    device: the values, in place. Otherwise the worker's copy changed those in place
    (``Module.to(device)``, ``.double()``, ``x.data = ...``): so does the test's."""
    if not isinstance(new, torch.Tensor):
        return
    if new.shape == target.shape and new.dtype == target.dtype and new.device == target.device:
        if not _same(target, new):
            target.copy_(new)
    else:
        target.data = new


def _put_grad(target: torch.Tensor, new: object) -> None:
    if new is None:
        if target.grad is not None:
            target.grad = None
        return
    if not isinstance(new, torch.Tensor) or new.shape != target.shape:
        return
    new = new.to(target.device, target.dtype)
    grad = target.grad
    if grad is not None and (grad.shape, grad.dtype, grad.device) == (
        new.shape,
        new.dtype,
        new.device,
    ):
        if not _same(grad, new):
            grad.copy_(new)  # in place, as p.grad.zero_() did: the test's own grad tensor
    else:
        target.grad = new


def _put_requires_grad(target: torch.Tensor, flag: object) -> None:
    if (
        type(flag) is bool
        and flag != target.requires_grad
        and target.is_leaf
        and (target.is_floating_point() or target.is_complex())
    ):
        target.requires_grad_(flag)


def apply_states(objects: Sequence[object], states: object) -> None:
    """Copy the worker's final state of each tensor and module argument into the test's own:
    values, gradients, ``requires_grad``, training flags, and the device and dtype where
    the worker's copy changed them in place. Anything malformed is left alone."""
    if not isinstance(states, list) or len(states) != len(objects):
        return
    with torch.no_grad():
        for obj, state in zip(objects, states, strict=True):
            if not isinstance(state, dict):
                continue
            if isinstance(obj, torch.Tensor):
                _put(obj, state.get("data"))
                _put_grad(obj, state.get("grad"))
                _put_requires_grad(obj, state.get("requires_grad"))
            elif isinstance(obj, torch.nn.Module) and isinstance(state.get("state"), dict):
                own = obj.state_dict(keep_vars=True)
                for name, value in state["state"].items():
                    if isinstance(own.get(name), torch.Tensor):
                        _put(own[name], value)
                training = state.get("training")
                if isinstance(training, list):
                    for module, flag in zip(obj.modules(), training, strict=False):
                        module.training = bool(flag)
                grads = state.get("grads")
                flags = state.get("requires_grad")
                for name, param in obj.named_parameters():
                    if isinstance(grads, dict):
                        _put_grad(param, grads.get(name))
                    if isinstance(flags, dict):
                        _put_requires_grad(param, flags.get(name))
