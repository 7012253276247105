"""Visible tests of step 08: run ``pytest exercises -m step08``."""

import math

import pytest
import torch
from torch import nn

from .step08_accuracy import (
    accuracy,
    accuracy_stderr,
    class_mean_images,
    mean_image_predict,
    predict,
)

pytestmark = pytest.mark.step08


def call(fn, *args, hint):
    """``fn(*args)``; an error inside it fails the test with one line."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise AssertionError(f"{fn.__name__} raised {type(err).__name__}: {err}; {hint}") from err


class GradProbe(nn.Module):
    """A linear model that records whether autograd was recording during each forward."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(5, 3)
        self.grad_enabled = []

    def forward(self, x):
        self.grad_enabled.append(torch.is_grad_enabled())
        return self.linear(x)


def test_accuracy_is_a_fraction():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 0.0], [1.0, 2.0]])
    acc = call(
        accuracy,
        logits,
        torch.tensor([0, 1, 1, 1]),
        hint="take the argmax over the classes (dim=1): one predicted label per row",
    )
    assert isinstance(acc, float), (
        f"accuracy should return a Python float, got {type(acc).__name__} (hint: .item())"
    )
    assert acc == 0.75, (
        f"3 of 4 rows have their argmax at the label, so accuracy is the fraction 0.75, got {acc}"
    )


def test_predict_in_eval_mode_and_mode_restored():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.Dropout(0.5), nn.Linear(16, 3))
    X = torch.randn(30, 5)
    model.eval()
    with torch.no_grad():
        expected = model(X).argmax(dim=1)
    model.train()
    out = predict(model, X, batch_size=8)
    assert out.dtype == torch.int64 and out.shape == (30,), (
        f"predict should return int64 labels of shape (30,), got {out.dtype} {tuple(out.shape)}; "
        "one label per row: the argmax over the classes (dim=1)"
    )
    assert torch.equal(out, expected), (
        "predict should use model.eval(): Dropout is random in train mode"
    )
    assert model.training, (
        "predict should put the model back in train mode when it was in train mode"
    )
    model.eval()
    predict(model, X, batch_size=8)
    assert not model.training, (
        "predict should leave a model that was in eval mode in eval mode: restore the mode it "
        "had (model.train(was_training))"
    )


def test_predict_without_gradients():
    model = GradProbe()
    predict(model, torch.randn(10, 5), batch_size=4)
    assert model.grad_enabled and not any(model.grad_enabled), (
        "predict should run the model under torch.no_grad(): autograd was recording in "
        f"{sum(model.grad_enabled)} of {len(model.grad_enabled)} forward calls"
    )


def test_mean_image_baseline():
    X = torch.tensor([[0.0, 0.0], [0.0, 2.0], [10.0, 10.0], [12.0, 10.0]])
    y = torch.tensor([0, 0, 1, 1])
    # classes 2..9: one image each, at the origin
    means = call(
        class_mean_images,
        torch.cat([X, torch.zeros(8, 2)]),
        torch.cat([y, torch.arange(2, 10)]),
        hint="the mean image of a class is the mean over its images (dim=0), shape (784,)",
    )
    assert means.shape == (10, 2), (
        f"class_mean_images should have one row per digit, got {tuple(means.shape)}"
    )
    assert torch.allclose(means[:2], torch.tensor([[0.0, 1.0], [11.0, 10.0]])), (
        "the mean images of classes 0 and 1 should be [0, 1] and [11, 10], "
        f"got {means[:2].tolist()}"
    )
    labels = mean_image_predict(means[:2], torch.tensor([[1.0, 1.0], [9.0, 9.0]]))
    assert labels.tolist() == [0, 1], (
        f"the nearest means of [1, 1] and [9, 9] are classes 0 and 1, got {labels.tolist()}"
    )
    assert labels.dtype == torch.int64, (
        f"mean_image_predict should return int64 labels, got {labels.dtype}"
    )


def test_accuracy_stderr():
    se = accuracy_stderr(0.9, 100)
    assert isinstance(se, float), (
        f"accuracy_stderr should return a Python float, got {type(se).__name__}"
    )
    assert math.isclose(se, 0.03), f"sqrt(0.9 * 0.1 / 100) = 0.03, got {se}"
