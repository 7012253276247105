"""Visible tests of step 03: run ``pytest exercises -m step03``."""

import pytest
import torch

from .step03_normalization import log_softmax, logsumexp, normalize, softmax

pytestmark = pytest.mark.step03


def call(fn, x, hint):
    """``fn(x)``; an error inside it fails the test with one line: what it raised, and the hint."""
    try:
        return fn(x)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        # The hint is about shapes: give it only when the shapes did not match.
        why = f"; {hint}" if "must match the size" in str(err) else ""
        raise AssertionError(
            f"{fn.__name__} of shape {tuple(x.shape)} raised {type(err).__name__}: {err}{why}"
        ) from err


def checked_tensor(out, name):
    assert isinstance(out, torch.Tensor), (
        f"{name} should return a torch tensor, got {type(out).__name__}; stay in torch (no numpy)"
    )
    return out


KEEPDIM = "did you take the max or the sum without keepdim=True? Keep the (N, 1) shape to broadcast"


def test_normalize_sums_to_one():
    a = torch.tensor([1.0, 2.0, 3.0, 4.0])
    p = checked_tensor(normalize(a), "normalize")
    assert p.shape == a.shape, (
        f"normalize should keep the shape {tuple(a.shape)}, got {tuple(p.shape)}"
    )
    assert torch.allclose(p, torch.tensor([0.1, 0.2, 0.3, 0.4])), (
        f"normalize([1, 2, 3, 4]) should be [0.1, 0.2, 0.3, 0.4], got {p.tolist()}"
    )


def test_normalize_works_row_by_row():
    a = torch.tensor([[1.0, 1.0], [1.0, 3.0]])
    p = checked_tensor(call(normalize, a, KEEPDIM), "normalize")
    assert torch.allclose(p, torch.tensor([[0.5, 0.5], [0.25, 0.75]])), (
        f"each row should be normalized on its own, got {p.tolist()}; "
        "hint: sum over the last dimension with keepdim=True"
    )


def test_softmax_rows_sum_to_one():
    x = torch.randn(5, 10)
    p = checked_tensor(call(softmax, x, KEEPDIM), "softmax")
    assert p.shape == (5, 10), f"softmax should keep the shape (5, 10), got {tuple(p.shape)}"
    sums = p.sum(dim=1)
    if torch.allclose(p.sum(), torch.tensor(1.0)):
        hint = "did you divide by the sum over the whole batch?"
    elif torch.allclose(p.sum(dim=0), torch.ones(10)):
        hint = "the columns sum to 1: sum over the last dimension (dim=-1), not dim=0"
    else:
        hint = "divide each row by its own sum (dim=-1, keepdim=True)"
    assert torch.allclose(sums, torch.ones(5), atol=1e-5), (
        f"every row of softmax should sum to 1, got row sums {sums.tolist()}; {hint}"
    )
    assert torch.allclose(p, torch.softmax(x, dim=1), atol=1e-6), (
        "softmax differs from torch.softmax"
    )


def test_softmax_survives_huge_logits():
    x = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    p = checked_tensor(call(softmax, x, KEEPDIM), "softmax")
    assert torch.isfinite(p).all(), (
        f"softmax([[1000, 0, -1000], [0, 0, 0]]) gave {p.tolist()}: exp(1000) overflows to inf; "
        "subtract the row maximum before exp"
    )
    assert torch.allclose(p, torch.tensor([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])), (
        f"softmax([[1000, 0, -1000], [0, 0, 0]]) gave {p.tolist()}, expected [[1, 0, 0], "
        "[1/3, 1/3, 1/3]]: each row on its own"
    )


def test_logsumexp_shape_and_value():
    x = torch.tensor([[0.0, 0.0], [1000.0, 1000.0]])
    out = checked_tensor(call(logsumexp, x, KEEPDIM), "logsumexp")
    assert out.shape == (2, 1), (
        f"logsumexp of (2, 2) should have shape (2, 1), got {tuple(out.shape)}; "
        "sum with keepdim=True"
    )
    expected = torch.log(torch.tensor(2.0))
    if not torch.isfinite(out).all():
        hint = "exp(1000) overflows to inf: subtract the row maximum m before exp"
    elif torch.allclose(out[:, 0], expected.expand(2)):
        hint = "did you add m back? m + log(sum(exp(x - m)))"
    else:
        hint = "hint: m + log(sum(exp(x - m)))"
    assert torch.allclose(out[:, 0], torch.stack([expected, 1000 + expected])), (
        f"logsumexp gave {out.flatten().tolist()}; expected [log 2, 1000 + log 2]; {hint}"
    )


def test_log_softmax_is_log_of_softmax():
    x = torch.randn(3, 4)
    out = checked_tensor(
        call(log_softmax, x, "does logsumexp keep the (N, 1) shape (keepdim=True)?"), "log_softmax"
    )
    assert torch.allclose(out, torch.log_softmax(x, dim=1), atol=1e-6), (
        "log_softmax(x) should equal x - logsumexp(x)"
    )
    big = log_softmax(torch.tensor([[0.0, -1e4]]))
    assert torch.isfinite(big).all(), (
        f"log_softmax([[0, -1e4]]) gave {big.tolist()}: use x - logsumexp(x)"
    )
