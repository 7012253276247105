"""The kit's ``mnist.py`` loaded into the grader's own process, for the hidden tests.

It is the same file every graded submission gets beside its steps; the hidden
tests use it for reference data (the real test set) without importing any
submission code: ``from grader.kit_mnist import mnist``.

:func:`pristine` lists the loaded tensors nothing has changed since: those cross to a
sandboxed worker by reference (:mod:`grader.sandbox.kit_data`).
"""

import importlib.util

import torch

from ..layout import kit_mnist

_spec = importlib.util.spec_from_file_location("grader._kit_mnist_module", kit_mnist())
assert _spec is not None and _spec.loader is not None  # a .py file always has a loader
mnist = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mnist)

# collection -> the tensors mnist.tensors() returned and their version counters then
_loaded: dict[str, tuple[tuple[torch.Tensor, torch.Tensor], tuple[int, int]]] = {}
_tensors = mnist.tensors


def _whole(t: torch.Tensor) -> bool:
    """``t`` is its whole storage, laid out in order."""
    whole = t.storage_offset() == 0 and t.untyped_storage().nbytes() == t.nbytes
    return bool(whole and t.is_contiguous())


def _tracked_tensors(collection: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    pair = _tensors(collection)
    # The first call: nothing could have changed them yet. Only tensors that are their whole
    # storage, laid out as a worker's copy of them is (a view's storage offset then means
    # the same there), and not made in inference mode (no version counter): any other
    # crosses by value.
    if collection not in _loaded and all(_whole(t) and not t.is_inference() for t in pair):
        _loaded[collection] = (pair, (pair[0]._version, pair[1]._version))
    return pair


_tracked_tensors.__doc__ = _tensors.__doc__
vars(mnist)["tensors"] = _tracked_tensors  # get_random_batch() reads the global too


def pristine() -> list[tuple[str, int, torch.Tensor]]:
    """``(collection, 0 for X or 1 for y, tensor)`` for each loaded tensor no in-place
    operation has reached (views share their base's version counter)."""
    return [
        (collection, which, tensor)
        for collection, (pair, versions) in _loaded.items()
        for which, (tensor, version) in enumerate(zip(pair, versions, strict=True))
        if tensor._version == version
    ]
