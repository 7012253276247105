"""The real MNIST in data_cache/: complete, checksummed, clear when broken.

How fast it loads is measured by bench/bench_data.py, not by a timed test.
"""

import importlib.util
import shutil

import numpy as np
import pytest

from grader import dataset
from grader.authoring.kit_mnist import mnist


def test_checksums_hold():
    assert dataset.verify() == []


def test_sums_file_agrees_with_the_loader():
    sums = {name.split("/")[-1]: digest for name, digest in dataset.read_sums().items()}
    assert sums == mnist.FILES


def test_all_70000_images_with_mnist_shapes_and_label_counts():
    assert mnist.train_images().shape == (60000, 28, 28)
    assert mnist.train_labels().shape == (60000,)
    assert mnist.test_images().shape == (10000, 28, 28)
    assert mnist.test_labels().shape == (10000,)
    assert mnist.train_images().dtype == np.uint8
    # The published MNIST label counts.
    assert np.bincount(mnist.train_labels()).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert np.bincount(mnist.test_labels()).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]


def test_normalization_constants_match_the_data():
    pixels = mnist.train_images().astype(np.float64) / 255.0
    assert mnist.TRAIN_MEAN == pytest.approx(pixels.mean(), abs=1e-12)
    assert mnist.TRAIN_STD == pytest.approx(pixels.std(ddof=1), abs=1e-12)
    X, y = mnist.tensors("train")
    assert (
        X.shape == (60000, 784)
        and str(X.dtype) == "torch.float32"
        and str(y.dtype) == "torch.int64"
    )
    assert abs(X.mean().item()) < 1e-4 and abs(X.std().item() - 1) < 1e-4


def test_random_batch_follows_the_seed():
    import torch

    torch.manual_seed(1)
    a = mnist.get_random_batch(50)
    torch.manual_seed(1)
    b = mnist.get_random_batch(50)
    assert a[0].shape == (50, 784) and a[1].shape == (50,)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert mnist.get_random_batch(5, "test")[0].shape == (5, 784)
    with pytest.raises(ValueError, match="'train' or 'test'"):
        mnist.get_random_batch(5, "validation")


def test_torchvision_reads_the_same_files_offline():
    import torchvision

    ds = torchvision.datasets.MNIST(root=str(dataset.DATA_DIR), train=False, download=False)
    assert len(ds) == 10000
    assert np.array_equal(ds.data.numpy(), mnist.test_images())


def _fresh_loader(monkeypatch, data_dir):
    monkeypatch.setenv("MNIST_DATA_DIR", str(data_dir))
    spec = importlib.util.spec_from_file_location("fresh_mnist", mnist.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_or_corrupt_file_is_named_with_a_way_to_restore(tmp_path, monkeypatch):
    copy = tmp_path / "data_cache"
    shutil.copytree(dataset.DATA_DIR, copy)
    (copy / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    fresh = _fresh_loader(monkeypatch, copy)
    with pytest.raises(
        fresh.MNISTDataError, match="t10k-labels-idx1-ubyte is missing.*git checkout"
    ):
        fresh.test_labels()
    images = copy / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-1] + b"\x01")
    with pytest.raises(fresh.MNISTDataError, match="t10k-images-idx3-ubyte is corrupt"):
        fresh.test_images()
    problems = dataset.verify(copy)
    assert len(problems) == 2 and "missing" in problems[0] + problems[1]


def test_idx_encoding_round_trips(tmp_path):
    array = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    raw = dataset.idx_bytes(array)
    assert raw[:4] == b"\x00\x00\x08\x03"
    assert np.array_equal(np.frombuffer(raw, np.uint8, offset=16).reshape(2, 28, 28), array)
