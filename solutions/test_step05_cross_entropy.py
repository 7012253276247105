"""Visible tests of step 05: run ``pytest exercises -m step05``."""

import math

import pytest
import torch
import torch.nn.functional as F

from .step05_cross_entropy import binary_cross_entropy, cross_entropy, mnist_loss

pytestmark = pytest.mark.step05


ROWS = "logsumexp over each row (dim=1) gives one number per example, (N,)"


def loss_of(fn, *args, hint="check the shapes of what you combine"):
    """``fn(*args)``; an error inside it fails the test with one line."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise AssertionError(f"{fn.__name__} raised {type(err).__name__}: {err}; {hint}") from err


def loss_hint(got, expected, n, name):
    """Name the likely mistake from the value a loss gave (``expected`` is the right one)."""
    if math.isclose(got, -expected, rel_tol=1e-4):
        return "did you forget the minus (or swap the two terms)?"
    if math.isclose(got, n * expected, rel_tol=1e-4):
        return "take the mean over the batch, not the sum"
    return f"hint: {name}"


def test_cross_entropy_matches_torch():
    x = torch.randn(8, 10)
    y = torch.randint(0, 10, (8,))
    loss = loss_of(cross_entropy, x, y, hint=ROWS)
    assert isinstance(loss, torch.Tensor) and loss.shape == (), (
        f"cross_entropy should be a scalar tensor, got {loss!r}; take the mean over the batch"
    )
    expected = F.cross_entropy(x, y).item()
    hint = loss_hint(loss.item(), expected, 8, "mean of logsumexp(row) - row[label]")
    if math.isclose(loss.item(), (x.logsumexp(1) - x[:, y]).mean().item(), rel_tol=1e-4):
        hint = "logits[:, y] is an (N, N) block; pick row[label] with logits[torch.arange(N), y]"
    assert torch.allclose(loss, torch.tensor(expected), atol=1e-6), (
        f"cross_entropy gave {loss.item():.5f}, F.cross_entropy gives {expected:.5f}; {hint}"
    )


def test_cross_entropy_survives_huge_logits():
    x = torch.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    y = torch.tensor([2, 0])
    loss = loss_of(cross_entropy, x, y, hint=ROWS)
    assert torch.isfinite(loss), (
        f"cross_entropy of logits around 1e4 gave {loss.item()}: the probability of label 2 "
        "underflows to 0 and -log(0) = inf; compute logsumexp(row) - row[label] instead"
    )
    assert torch.allclose(loss, F.cross_entropy(x.double(), y).float()), f"got {loss.item()}"


def test_cross_entropy_gradient():
    x = torch.randn(5, 4, requires_grad=True)
    y = torch.tensor([0, 1, 2, 3, 0])
    (grad,) = torch.autograd.grad(loss_of(cross_entropy, x, y, hint=ROWS), x)
    x2 = x.detach().clone().requires_grad_()
    (expected,) = torch.autograd.grad(F.cross_entropy(x2, y), x2)
    assert torch.allclose(grad, expected, atol=1e-6), "the gradient of cross_entropy is wrong"


def test_binary_cross_entropy_value():
    p = torch.tensor([0.9, 0.2, 0.6], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    loss = loss_of(binary_cross_entropy, p, y)
    assert isinstance(loss, torch.Tensor) and loss.shape == (), (
        f"binary_cross_entropy should be a scalar tensor, got {loss!r}"
    )
    expected = F.binary_cross_entropy(p, y).item()
    hint = loss_hint(loss.item(), expected, 3, "-(y log p + (1 - y) log(1 - p)), averaged")
    assert torch.allclose(loss, torch.tensor(expected, dtype=torch.float64)), (
        f"binary_cross_entropy gave {loss.item():.5f}, expected {expected:.5f}; {hint}"
    )


def test_binary_cross_entropy_exact_zeros_and_ones():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    loss = loss_of(binary_cross_entropy, p, y)
    assert torch.isfinite(loss), (
        f"binary_cross_entropy with exact 0s and 1s gave {loss.item()}: log(0) = -inf and "
        "0 * -inf = nan; clamp p into [eps, 1 - eps] first"
    )
    expected = F.binary_cross_entropy(p.clamp(1e-7, 1 - 1e-7), y)
    assert torch.allclose(loss, expected), f"got {loss.item():.5f}, expected {expected.item():.5f}"


def test_mnist_loss():
    predictions = torch.tensor([2.0, -1.0, 0.0, 3.0])
    targets = torch.tensor([1, 0, 1, 0])
    loss = mnist_loss(predictions, targets)
    p = torch.sigmoid(predictions)
    expected = ((1 - p[0]) + p[1] + (1 - p[2]) + p[3]) / 4
    assert isinstance(loss, torch.Tensor) and loss.shape == (), (
        f"mnist_loss should be a scalar tensor, got {loss!r}"
    )
    assert torch.allclose(loss, expected), (
        f"mnist_loss gave {loss.item():.5f}, expected {expected.item():.5f}: "
        "1 - sigmoid where the target is 1, sigmoid where it is 0, averaged"
    )
