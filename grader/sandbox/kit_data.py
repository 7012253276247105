"""The kit's MNIST tensors cross to a worker by name, not by value.

A hidden test hands a submission the training set (188 MB), or a slice of it, often:
pickled and sent to the worker, then sent back unchanged after the call, that cost
more than the test's own work. The worker already has the same tensors in memory
(the zygote loaded them before it forked, :mod:`grader.sandbox.zygote`), so the
grader sends a :class:`KitSlice` instead (which collection, which tensor, and the
view's offset, shape and strides), and the worker makes its argument from its own
pristine copy: a fresh tensor with the same values, shape and (contiguous)
strides, as the unpickled one was. Other views cross by value, as before.

Only while the grader's tensor still holds what was loaded: every in-place change
to a view of it (a sync of the worker's changes, :mod:`grader.sandbox.sync`) bumps
the version counter its views share, and from then on it crosses by value again.
After the call the worker compares its argument with the pristine copy and sends
it back only if it changed (:func:`grader.sandbox.sync.state_of`).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any

import torch

from .wire import OneShot

# Tensors whose storage is smaller than this cross by value: a reference saves nothing.
MIN_BYTES = 2**20


@dataclasses.dataclass(frozen=True)
class KitSlice:
    """A view of the kit's tensor ``tensors(collection)[which]``, by its geometry."""

    collection: str
    which: int
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


# -- the grader's side ---------------------------------------------------------------------


def _pristine_grader_tensors() -> list[tuple[str, int, torch.Tensor]]:
    from ..authoring.kit_mnist import pristine

    return pristine()


def by_reference(value: Any) -> Any:
    """``value`` with every view of an unchanged kit MNIST tensor replaced by a
    :class:`KitSlice`; containers are rebuilt only where something inside changed, and one
    tensor met twice becomes one reference (the worker's arguments alias as the test's do).
    """
    kit = _pristine_grader_tensors()
    if not kit:
        return value
    memo: dict[int, Any] = {}

    def ref(t: torch.Tensor) -> Any:
        if (
            t.requires_grad
            or t.device.type != "cpu"
            or not t.is_contiguous()  # so a plain copy has the very same strides
            or t.untyped_storage().nbytes() < MIN_BYTES
        ):
            return t
        ptr = t.untyped_storage().data_ptr()
        for collection, which, base in kit:
            if base.untyped_storage().data_ptr() == ptr and base.dtype == t.dtype:
                return KitSlice(
                    collection, which, int(t.storage_offset()), tuple(t.shape), tuple(t.stride())
                )
        return t

    def walk(v: Any) -> Any:
        if isinstance(v, torch.Tensor):
            if id(v) not in memo:
                memo[id(v)] = ref(v)
            return memo[id(v)]
        if isinstance(v, (list, tuple)):
            items = [walk(x) for x in v]
            if all(new is old for new, old in zip(items, v, strict=True)):
                return v
            return tuple(items) if isinstance(v, tuple) else items
        if isinstance(v, dict):
            pairs = [(k, walk(x)) for k, x in v.items()]
            if all(new is old for (_, new), old in zip(pairs, v.values(), strict=True)):
                return v
            return OrderedDict(pairs) if isinstance(v, OrderedDict) else dict(pairs)
        if isinstance(v, OneShot):
            items = walk(v.items)
            return v if items is v.items else OneShot(items)
        return v

    return walk(value)


# -- the worker's side ---------------------------------------------------------------------

# The worker's own copy of the kit's tensors, {collection: (X, y)}, loaded by the zygote and
# kept apart from the submission's ``mnist.tensors()`` (which the submission may change).
_PRISTINE: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}


def keep_pristine(collection: str, tensors: tuple[torch.Tensor, torch.Tensor]) -> None:
    """Keep a copy of ``tensors`` for :func:`materialize` (the zygote, before it forks).

    Private memory, copied on write: a worker that writes into its copy changes its own
    only. (Shared memory would spare each fork the copy of its page tables, a few
    milliseconds, but one submission's worker could then change the next one's data.)"""
    _PRISTINE[collection] = (tensors[0].clone(), tensors[1].clone())


def _view(s: KitSlice) -> torch.Tensor:
    if s.collection not in _PRISTINE:  # the zygote could not load it: load it here, once
        from ..authoring.kit_mnist import mnist

        keep_pristine(s.collection, mnist.tensors(s.collection))
    base = _PRISTINE[s.collection][s.which]
    return base.as_strided(s.shape, s.stride, s.offset)


def materialize(value: Any, pristine: dict[int, torch.Tensor]) -> Any:
    """The grader's arguments with each :class:`KitSlice` made a fresh tensor (one per
    reference, shared where the grader's was); ``pristine`` gets, by the new tensor's
    ``id``, the untouched view it was copied from (to tell afterwards whether it changed).
    """
    memo: dict[int, torch.Tensor] = {}

    def walk(v: Any) -> Any:
        if isinstance(v, KitSlice):
            if id(v) not in memo:
                view = _view(v)
                fresh = memo[id(v)] = view.clone()
                pristine[id(fresh)] = view
            return memo[id(v)]
        if isinstance(v, (list, tuple)):
            items = [walk(x) for x in v]
            if all(new is old for new, old in zip(items, v, strict=True)):
                return v
            return tuple(items) if isinstance(v, tuple) else items
        if isinstance(v, dict):
            pairs = [(k, walk(x)) for k, x in v.items()]
            if all(new is old for (_, new), old in zip(pairs, v.values(), strict=True)):
                return v
            return OrderedDict(pairs) if isinstance(v, OrderedDict) else dict(pairs)
        if isinstance(v, OneShot):
            items = walk(v.items)
            return v if items is v.items else OneShot(items)
        return v

    return walk(value)
