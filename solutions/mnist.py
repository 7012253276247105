"""MNIST helpers that come with the kit (not an exercise).

The data lives in ``data_cache/MNIST/raw/`` as the four standard IDX files, so
it works offline. Everything is read once per process and kept in memory:
the first call takes a fraction of a second, later calls are free.

- ``train_images()``, ``train_labels()``, ``test_images()``, ``test_labels()``:
  uint8 numpy arrays ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``,
  ``(10000,)``, like the ``mnist`` package (read-only: copy before changing).
- ``get_random_batch(N=200, collection="train")``: ``(X, y)`` with ``X`` float32
  ``(N, 784)`` normalized with the training mean and std, ``y`` int64 ``(N,)``.
- ``tensors(collection)``: the whole collection as such tensors.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

import numpy as np
import torch

FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_FILE_OF = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
RESTORE_HINT = (
    "Restore the data with `git checkout -- data_cache` (or download the exercises "
    "again); `cd data_cache && sha256sum -c SHA256SUMS` checks the files."
)


class MNISTDataError(RuntimeError):
    """The MNIST files are missing or corrupt."""


def data_dir() -> Path:
    """``$MNIST_DATA_DIR`` if set, else the nearest ``data_cache/`` above this file."""
    if os.environ.get("MNIST_DATA_DIR"):
        return Path(os.environ["MNIST_DATA_DIR"])
    for parent in Path(__file__).resolve().parents:
        if (parent / "data_cache" / "MNIST" / "raw").is_dir():
            return parent / "data_cache"
    raise MNISTDataError(
        "could not find data_cache/MNIST/raw above "
        + str(Path(__file__).parent)
        + "; set MNIST_DATA_DIR to the kit's data_cache folder. "
        + RESTORE_HINT
    )


@cache
def _read(name: str) -> np.ndarray:
    path = data_dir() / "MNIST" / "raw" / name
    if not path.is_file():
        raise MNISTDataError(f"MNIST file {path} is missing. {RESTORE_HINT}")
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != FILES[name]:
        raise MNISTDataError(f"MNIST file {path} is corrupt (wrong sha256). {RESTORE_HINT}")
    ndim = raw[3]  # IDX: two zero bytes, a type byte (0x08: uint8), then ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    array = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    return array  # frombuffer on bytes is read-only, so callers cannot corrupt the cache


def _array(collection: str, kind: str) -> np.ndarray:
    if collection not in ("train", "test"):
        raise ValueError(f"collection must be 'train' or 'test', got {collection!r}")
    return _read(_FILE_OF[(collection, kind)])


def train_images() -> np.ndarray:
    return _array("train", "images")


def train_labels() -> np.ndarray:
    return _array("train", "labels")


def test_images() -> np.ndarray:
    return _array("test", "images")


def test_labels() -> np.ndarray:
    return _array("test", "labels")


# A name starting with "test" would be collected by pytest; tell it not to.
test_images.__test__ = False
test_labels.__test__ = False


# Mean and standard deviation of all training pixels scaled to [0, 1], computed
# once from the checksummed files (the course's own tests recompute them).
TRAIN_MEAN = 0.1306604762738429
TRAIN_STD = 0.3081078071314181


@cache
def tensors(collection: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """All images of a collection, float32 ``(N, 784)`` normalized, and int64 ``(N,)`` labels.

    Normalized means ``(pixel / 255 - mean) / std`` with the *training* mean and
    std, for both collections. Kept in memory: do not modify them in place.
    """
    images = torch.from_numpy(_array(collection, "images").reshape(-1, 28 * 28).copy())
    # (pixel / 255 - mean) / std as one scale and one shift, in place: fast and lean.
    X = images.to(torch.float32).mul_(1.0 / (255.0 * TRAIN_STD)).sub_(TRAIN_MEAN / TRAIN_STD)
    y = torch.from_numpy(_array(collection, "labels").astype(np.int64))
    return X, y


def get_random_batch(N: int = 200, collection: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """``N`` random examples: X float32 ``(N, 784)`` normalized, y int64 ``(N,)``.

    Drawn with ``torch.randint``, so ``torch.manual_seed`` makes it repeatable.
    """
    X, y = tensors(collection)
    idx = torch.randint(0, X.shape[0], (N,))
    return X[idx], y[idx]
