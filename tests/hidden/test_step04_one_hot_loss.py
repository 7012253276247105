"""Hidden tests of step 04: one_hot, one_hot_loss, nll."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from grader.authoring import checks

pytestmark = pytest.mark.step04
STEP = "step04_one_hot_loss"

seeds = st.integers(0, 2**16)
batch = st.integers(1, 16)
scales = st.sampled_from([0.5, 1.0, 5.0])


def data(n, k, scale, seed):
    """float64 logits (n, k) and int64 labels (n,), reproducible from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, k, generator=g, dtype=torch.float64) * scale
    y = torch.randint(0, k, (n,), generator=g)
    return x, y


def reference_one_hot_loss(x, y):
    return -torch.log(torch.softmax(x, dim=-1)[torch.arange(len(y)), y]).mean()


def check_one_hot(out, y, num_classes, what):
    out = checks.tensor(out, what, shape=(len(y), num_classes))
    if out.dtype == torch.bool or out.is_complex():
        checks.fail(f"{what} should hold numbers (a float or integer dtype), got {out.dtype}")
    checks.close(
        out, F.one_hot(y, num_classes), f"{what} (a single 1 per row, at the label)", rtol=0, atol=0
    )


def gradient_of(submission, name, args, what):
    """The gradient of the scalar ``<name>(*args)`` with respect to ``args[0]``."""
    loss, grads = submission.grad_of(STEP, name, args)
    checks.scalar(loss, what)
    if grads is None or grads[0] is None:
        checks.fail(
            f"{what} is not connected to its input in autograd; "
            "build it from torch operations (no .item(), numpy or torch.tensor(...))"
        )
    return grads[0]


@pytest.mark.points(2)
def test_one_hot_default_ten_classes(submission):
    y = torch.tensor([3, 0, 9, 1, 1, 7])
    check_one_hot(submission.step04_one_hot_loss.one_hot(y), y, 10, "one_hot(y) of 6 labels")


@pytest.mark.points(2)
@given(n=batch, num_classes=st.integers(2, 15), seed=seeds)
def test_one_hot_num_classes(submission, n, num_classes, seed):
    y = torch.randint(0, num_classes, (n,), generator=torch.Generator().manual_seed(seed))
    out = submission.step04_one_hot_loss.one_hot(y, num_classes=num_classes)
    check_one_hot(out, y, num_classes, f"one_hot(y, num_classes={num_classes}) of {n} labels")


@pytest.mark.points(3)
@given(n=batch, scale=scales, seed=seeds)
def test_one_hot_loss_value(submission, n, scale, seed):
    x, y = data(n, 10, scale, seed)
    loss = checks.scalar(
        submission.step04_one_hot_loss.one_hot_loss(x, y), f"one_hot_loss of a batch of {n}"
    )
    checks.close(
        loss,
        reference_one_hot_loss(x, y),
        "one_hot_loss (the mean over the batch of -log of the label's probability)",
        rtol=1e-6,
        atol=1e-9,
    )


@pytest.mark.points(2)
@given(n=batch, scale=scales, seed=seeds)
def test_one_hot_loss_gradient(submission, n, scale, seed):
    x, y = data(n, 10, scale, seed)
    x.requires_grad_()
    grad = gradient_of(submission, "one_hot_loss", (x, y), "one_hot_loss")
    x_ref = x.detach().clone().requires_grad_()
    (expected,) = torch.autograd.grad(reference_one_hot_loss(x_ref, y), x_ref)
    checks.close(grad, expected, "the gradient of one_hot_loss", rtol=1e-6, atol=1e-9)


@pytest.mark.points(3)
@given(n=batch, k=st.integers(2, 12), scale=scales, normalized=st.booleans(), seed=seeds)
def test_nll_value(submission, n, k, scale, normalized, seed):
    x, y = data(n, k, scale, seed)
    log_probs = torch.log_softmax(x, dim=-1) if normalized else x
    loss = checks.scalar(
        submission.step04_one_hot_loss.nll(log_probs, y), f"nll of log_probs of shape {(n, k)}"
    )
    checks.close(
        loss,
        F.nll_loss(log_probs, y),
        "nll (minus the mean of one entry per row, at the label)",
        rtol=1e-9,
        atol=1e-12,
    )


@pytest.mark.points(2)
@given(n=batch, k=st.integers(2, 12), seed=seeds)
def test_nll_gradient(submission, n, k, seed):
    x, y = data(n, k, 1.0, seed)
    log_probs = torch.log_softmax(x, dim=-1).detach().requires_grad_()
    grad = gradient_of(submission, "nll", (log_probs, y), "nll")
    lp_ref = log_probs.detach().clone().requires_grad_()
    (expected,) = torch.autograd.grad(F.nll_loss(lp_ref, y), lp_ref)
    checks.close(grad, expected, "the gradient of nll", rtol=1e-9, atol=1e-12)


@pytest.mark.points(1)
def test_nll_without_library(submission):
    x, y = data(7, 10, 1.0, 0)
    log_probs = torch.log_softmax(x, dim=-1)
    loss = checks.written_without(
        submission,
        STEP,
        "nll",
        (log_probs, y),
        {"nll_loss"},
        "pick one entry per row with log_probs[torch.arange(N), y]",
        rule="F.nll_loss",
    )
    checks.close(checks.scalar(loss, "nll"), F.nll_loss(log_probs, y), "nll")
