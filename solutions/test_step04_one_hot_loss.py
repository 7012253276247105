"""Visible tests of step 04: run ``pytest exercises -m step04``."""

import math

import pytest
import torch

from .step04_one_hot_loss import nll, one_hot, one_hot_loss

pytestmark = pytest.mark.step04


def loss_hint(got, expected, n, name):
    """Name the likely mistake from the value a loss gave (``expected`` is the right one)."""
    if math.isclose(got, -expected, rel_tol=1e-4):
        return "did you forget the minus?"
    if math.isclose(got, n * expected, rel_tol=1e-4):
        return "take the mean over the batch, not the sum"
    return f"hint: {name}"


def loss_of(fn, *args):
    """``fn(*args)``; an error inside it fails the test with one line."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise AssertionError(
            f"{fn.__name__} raised {type(err).__name__}: {err}; build it from torch "
            "operations on tensors (is one_hot a tensor?)"
        ) from err


def test_one_hot_rows():
    y = torch.tensor([3, 0, 9])
    out = one_hot(y)
    assert isinstance(out, torch.Tensor), f"one_hot should return a torch.Tensor, got {type(out)}"
    assert out.shape == (3, 10), (
        f"one_hot of 3 labels should have shape (3, 10), got {tuple(out.shape)}"
    )
    expected = torch.zeros(3, 10)
    expected[0, 3] = expected[1, 0] = expected[2, 9] = 1
    assert torch.equal(out.float(), expected), (
        f"one_hot([3, 0, 9]) should have a single 1 per row at the label, got {out.tolist()}"
    )


def test_one_hot_num_classes():
    out = one_hot(torch.tensor([1, 2]), num_classes=3)
    assert isinstance(out, torch.Tensor), f"one_hot should return a torch.Tensor, got {type(out)}"
    assert out.shape == (2, 3), (
        f"one_hot(y, num_classes=3) should have 3 columns, got shape {tuple(out.shape)}; "
        "use num_classes instead of a fixed 10"
    )
    assert out.float().tolist() == [[0, 1, 0], [0, 0, 1]], f"got {out.tolist()}"


def test_one_hot_loss_value():
    x = torch.tensor([[2.0, 0.0, -1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]] * 2)
    y = torch.tensor([0, 2])
    loss = loss_of(one_hot_loss, x, y)
    assert isinstance(loss, torch.Tensor) and loss.shape == (), (
        f"one_hot_loss should be a scalar tensor, got {loss!r}; take the mean over the batch"
    )
    p = torch.softmax(x[0], 0)
    expected = -(math.log(p[0]) + math.log(p[2])) / 2
    hint = loss_hint(
        loss.item(), expected, 2, "softmax over each row, -log of the label's probability, averaged"
    )
    assert abs(loss.item() - expected) < 1e-5, (
        f"one_hot_loss gave {loss.item():.5f}, expected {expected:.5f}; {hint}"
    )


def test_one_hot_loss_is_zero_when_certain_and_right():
    x = torch.zeros(1, 10)
    x[0, 4] = 50.0
    loss = loss_of(one_hot_loss, x, torch.tensor([4]))
    assert loss.item() < 1e-6, (
        f"a confident right answer should cost about 0, got {loss.item():.3g}"
    )
    wrong = loss_of(one_hot_loss, x, torch.tensor([5]))
    assert wrong.item() > 10, f"a confident wrong answer should cost a lot, got {wrong.item():.3g}"


def test_one_hot_loss_has_gradient():
    x = torch.randn(4, 10, requires_grad=True)
    loss_of(one_hot_loss, x, torch.tensor([1, 2, 3, 4])).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all(), (
        "one_hot_loss should be differentiable: build it from torch operations only"
    )


def test_nll_picks_one_entry_per_row():
    # Labels off the diagonal and uneven values: log_probs[:, y] would give another number.
    log_probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], dtype=torch.float64).log()
    y = torch.tensor([0, 2])
    loss = nll(log_probs, y)
    assert isinstance(loss, torch.Tensor) and loss.shape == (), (
        f"nll should be a scalar tensor, got {type(loss).__name__} {loss!r}"
    )
    expected = -(log_probs[0, 0] + log_probs[1, 2]).item() / 2
    hint = loss_hint(loss.item(), expected, 2, "-(log_probs[0, 0] + log_probs[1, 2]) / 2")
    if math.isclose(loss.item(), -log_probs[:, y].mean().item(), rel_tol=1e-4):
        hint = "log_probs[:, y] is an (N, N) block; pick one entry per row with torch.arange(N)"
    assert abs(loss.item() - expected) < 1e-6, (
        f"nll gave {loss.item():.4f}, expected {expected:.4f}; {hint}"
    )


def test_nll_matches_torch():
    log_probs = torch.log_softmax(torch.randn(6, 10), dim=1)
    y = torch.randint(0, 10, (6,))
    expected = torch.nn.functional.nll_loss(log_probs, y)
    loss = nll(log_probs, y)
    assert isinstance(loss, torch.Tensor) and loss.shape == (), (
        f"nll should be a scalar tensor, got {type(loss).__name__} {loss!r}"
    )
    assert torch.allclose(loss, expected, atol=1e-6), (
        f"nll gave {loss.item():.5f}, F.nll_loss gives {expected.item():.5f}"
    )
