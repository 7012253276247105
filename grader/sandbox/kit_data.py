"""The kit's MNIST tensors cross to a worker by name, not by value.

A hidden test hands a submission the training set (188 MB), or a slice of it, often:
pickled and sent to the worker, then sent back unchanged after the call, that cost
more than the test's own work. The worker already has the same tensors in memory
(the zygote loaded them before it forked, :mod:`grader.sandbox.zygote`), so the
grader sends a :class:`KitSlice` instead (which collection, which tensor, and the
view's offset, shape and strides), and the worker makes its argument from its own
pristine copy: a fresh tensor with the same values, shape and strides, as the
unpickled one was; views of one kit tensor in the same call share a storage again.

Only while the grader's tensor still holds what was loaded: every in-place change
to a view of it (a sync of the worker's changes, :mod:`grader.sandbox.sync`) bumps
the version counter its views share, and from then on it crosses by value again.
After the call the worker compares its argument with the pristine copy and sends
it back only if it changed (:func:`grader.sandbox.sync.state_of`).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable
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


def _walk(value: Any, kind: type, leaf: Callable[[Any], Any]) -> Any:
    """``value`` with ``leaf(v)`` for each ``v`` of type ``kind`` in its lists, tuples,
    dicts and one-shot iterators (as :func:`grader.sandbox.wire.syncable` walks them, so
    the two sides list the same tensors in the same order); containers are rebuilt only
    where something inside changed."""
    if isinstance(value, kind):
        return leaf(value)
    if isinstance(value, (list, tuple)):
        items = [_walk(x, kind, leaf) for x in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        pairs = [(k, _walk(x, kind, leaf)) for k, x in value.items()]
        if all(new is old for (_, new), old in zip(pairs, value.values(), strict=True)):
            return value
        return OrderedDict(pairs) if isinstance(value, OrderedDict) else dict(pairs)
    if isinstance(value, OneShot):
        items = _walk(value.items, kind, leaf)
        return value if items is value.items else OneShot(items)
    return value


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
            or t.layout != torch.strided  # sparse and other layouts have no one storage
            or t.untyped_storage().nbytes() < MIN_BYTES
        ):
            return t
        ptr = t.untyped_storage().data_ptr()
        for collection, which, base in kit:  # each is its whole storage (kit_mnist.py)
            if base.untyped_storage().data_ptr() == ptr and base.dtype == t.dtype:
                return KitSlice(
                    collection, which, int(t.storage_offset()), tuple(t.shape), tuple(t.stride())
                )
        return t

    def once(t: torch.Tensor) -> Any:
        if id(t) not in memo:
            memo[id(t)] = ref(t)
        return memo[id(t)]

    return _walk(value, torch.Tensor, once)


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


def _base(collection: str, which: int) -> torch.Tensor:
    if collection not in _PRISTINE:  # the zygote could not load it: load it here, once
        from ..authoring.kit_mnist import mnist

        keep_pristine(collection, mnist.tensors(collection))
    return _PRISTINE[collection][which]


def _extent(s: KitSlice) -> int:
    """How many elements from its offset on the view reaches."""
    if 0 in s.shape:
        return 0
    return 1 + sum((n - 1) * step for n, step in zip(s.shape, s.stride, strict=True))


def materialize(value: Any, pristine: dict[int, torch.Tensor]) -> Any:
    """The grader's arguments with each :class:`KitSlice` made a tensor of its own: the
    references to one kit tensor share one fresh copy of the part they span, as the
    unpickled views shared one storage. ``pristine`` gets, by the new tensor's ``id``, the
    untouched view it was copied from (to tell afterwards whether it changed)."""
    slices: list[KitSlice] = []
    _walk(value, KitSlice, slices.append)
    if not slices:
        return value
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for s in slices:
        key, end = (s.collection, s.which), s.offset + _extent(s)
        low, high = spans.get(key, (s.offset, end))
        spans[key] = (min(low, s.offset), max(high, end))
    copies = {key: _base(*key).reshape(-1)[low:high].clone() for key, (low, high) in spans.items()}
    made: dict[int, torch.Tensor] = {}

    def fresh(s: KitSlice) -> torch.Tensor:
        if id(s) not in made:  # one reference met twice is one tensor
            key = (s.collection, s.which)
            copy, low = copies[key], spans[key][0]
            # As unpickling makes a view: the storage set, no autograd view of anything.
            t = torch.empty(0, dtype=copy.dtype).set_(
                copy.untyped_storage(), s.offset - low, s.shape, s.stride
            )
            made[id(s)] = t
            pristine[id(t)] = _base(*key).as_strided(s.shape, s.stride, s.offset)
        return made[id(s)]

    return _walk(value, KitSlice, fresh)
