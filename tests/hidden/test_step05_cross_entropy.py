"""Hidden tests of step 05: cross_entropy, binary_cross_entropy, mnist_loss."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from grader.authoring import checks

pytestmark = pytest.mark.step05
STEP = "step05_cross_entropy"

seeds = st.integers(0, 2**16)
shapes = st.tuples(st.integers(1, 16), st.integers(2, 12))
scales = st.sampled_from([0.5, 1.0, 10.0, 100.0])


def data(shape, scale, seed):
    """float64 logits of ``shape`` and int64 labels (n,), reproducible from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    y = torch.randint(0, shape[1], (shape[0],), generator=g)
    return x, y


def probs_and_targets(n, seed, exact=0.0):
    """float64 probabilities in (0, 1) (a fraction ``exact`` of them exactly 0 or 1) and 0/1
    float64 targets, both of shape (n,)."""
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(n, generator=g, dtype=torch.float64) * 0.98 + 0.01
    y = torch.randint(0, 2, (n,), generator=g).double()
    hard = torch.rand(n, generator=g) < exact
    p[hard] = torch.randint(0, 2, (int(hard.sum()),), generator=g).double()
    return p, y


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


def reference_gradient(fn, x, *args):
    x_ref = x.detach().clone().requires_grad_()
    (grad,) = torch.autograd.grad(fn(x_ref, *args), x_ref)
    return grad


def reference_mnist_loss(predictions, targets):
    p = torch.sigmoid(predictions)
    return torch.where(targets == 1, 1 - p, p).mean()


# --- cross_entropy ---------------------------------------------------------------------


@pytest.mark.points(3)
@given(shape=shapes, scale=scales, seed=seeds)
def test_cross_entropy_value(submission, shape, scale, seed):
    x, y = data(shape, scale, seed)
    loss = checks.scalar(
        submission.step05_cross_entropy.cross_entropy(x, y),
        f"cross_entropy of logits of shape {shape}",
    )
    checks.close(
        loss,
        F.cross_entropy(x, y),
        "cross_entropy (the mean of logsumexp(row) - row[label])",
        rtol=1e-7,
        atol=1e-9,
    )


@pytest.mark.points(2)
@given(shape=shapes, scale=scales, seed=seeds)
def test_cross_entropy_gradient(submission, shape, scale, seed):
    x, y = data(shape, scale, seed)
    x.requires_grad_()
    grad = gradient_of(submission, "cross_entropy", (x, y), "cross_entropy")
    checks.close(
        grad,
        reference_gradient(F.cross_entropy, x, y),
        "the gradient of cross_entropy",
        rtol=1e-6,
        atol=1e-9,
    )


@pytest.mark.points(2)
@pytest.mark.parametrize("magnitude", [1e3, 1e4])
def test_cross_entropy_huge_logits(submission, magnitude):
    x = torch.tensor(
        [
            [magnitude, 0.0, -magnitude],
            [0.0, magnitude, magnitude],
            [-magnitude, 0.5 * magnitude, 0.0],
            [1.0, 2.0, 3.0],
        ],
        requires_grad=True,
    )
    y = torch.tensor([2, 0, 0, 1])
    what = (
        f"cross_entropy of float32 logits of magnitude {magnitude:g} (compute "
        "logsumexp(row) - row[label], never -log of a probability that underflows to 0)"
    )
    loss, grads = submission.grad_of(STEP, "cross_entropy", (x, y))
    loss = checks.scalar(loss, what)
    # float32 holds logits near 1e4 only to about 1e-3, hence the tolerances.
    checks.close(loss, F.cross_entropy(x.double(), y), what, rtol=1e-5, atol=1e-4)
    if grads is None or grads[0] is None:
        checks.fail(f"{what} is not connected to the logits in autograd")
    grad = checks.tensor(grads[0], f"the gradient of {what}", shape=(4, 3))
    checks.close(
        grad,
        reference_gradient(F.cross_entropy, x.double(), y),
        f"the gradient of cross_entropy at magnitude {magnitude:g}",
        atol=1e-4,
    )


@pytest.mark.points(1)
def test_cross_entropy_without_library(submission):
    x, y = data((6, 10), 1.0, 0)
    loss = checks.written_without(
        submission,
        STEP,
        "cross_entropy",
        (x, y),
        {"cross_entropy", "nll_loss", "log_softmax"},
        "compute logsumexp(row) - row[label] with integer-array indexing",
        rule="F.cross_entropy, F.nll_loss, F.log_softmax",
    )
    checks.close(checks.scalar(loss, "cross_entropy"), F.cross_entropy(x, y), "cross_entropy")


# --- binary_cross_entropy ----------------------------------------------------------------


@pytest.mark.points(2)
@given(n=st.integers(1, 32), seed=seeds)
def test_binary_cross_entropy_value(submission, n, seed):
    p, y = probs_and_targets(n, seed)
    loss = checks.scalar(
        submission.step05_cross_entropy.binary_cross_entropy(p, y),
        f"binary_cross_entropy of {n} probabilities",
    )
    checks.close(
        loss,
        F.binary_cross_entropy(p, y),
        "binary_cross_entropy (the mean of -(y log p + (1 - y) log(1 - p)))",
        rtol=1e-7,
        atol=1e-9,
    )


@pytest.mark.points(1)
@given(n=st.integers(1, 32), seed=seeds)
def test_binary_cross_entropy_gradient(submission, n, seed):
    p, y = probs_and_targets(n, seed)
    p.requires_grad_()
    grad = gradient_of(submission, "binary_cross_entropy", (p, y), "binary_cross_entropy")
    checks.close(
        grad,
        reference_gradient(F.binary_cross_entropy, p, y),
        "the gradient of binary_cross_entropy",
        rtol=1e-6,
        atol=1e-9,
    )


@pytest.mark.points(2)
@given(n=st.integers(1, 32), seed=seeds)
def test_binary_cross_entropy_exact_zeros_and_ones(submission, n, seed):
    p, y = probs_and_targets(n, seed, exact=0.5)
    p[0], y[0] = 0.0, 1.0  # always at least one log(0) without clamping
    what = (
        "binary_cross_entropy of probabilities with exact 0s and 1s (clamp p into "
        "[eps, 1 - eps] before the logs)"
    )
    loss = checks.scalar(submission.step05_cross_entropy.binary_cross_entropy(p, y), what)
    checks.close(
        loss, F.binary_cross_entropy(p.clamp(1e-7, 1 - 1e-7), y), what, rtol=1e-7, atol=1e-9
    )


@pytest.mark.points(1)
def test_binary_cross_entropy_float32_saturated(submission):
    p = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.3])
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
    what = "binary_cross_entropy of float32 probabilities with exact 0s and 1s"
    loss = checks.scalar(submission.step05_cross_entropy.binary_cross_entropy(p, y), what)
    # float32 rounds 1 - 1e-7, so allow the difference that rounding makes.
    checks.close(
        loss,
        F.binary_cross_entropy(p.double().clamp(1e-7, 1 - 1e-7), y.double()),
        what,
        rtol=0.02,
        atol=1e-6,
    )


@pytest.mark.points(1)
@pytest.mark.parametrize("eps", [1e-3, 1e-12])
def test_binary_cross_entropy_eps(submission, eps):
    p = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 0.0005], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    what = f"binary_cross_entropy(p, y, eps={eps:g}) (clamp p into [eps, 1 - eps])"
    loss = checks.scalar(submission.step05_cross_entropy.binary_cross_entropy(p, y, eps=eps), what)
    checks.close(loss, F.binary_cross_entropy(p.clamp(eps, 1 - eps), y), what, rtol=1e-7, atol=1e-9)


# --- mnist_loss ------------------------------------------------------------------------------


@pytest.mark.points(2)
@given(
    n=st.integers(1, 32),
    column=st.booleans(),
    int_targets=st.booleans(),
    scale=st.sampled_from([0.5, 3.0, 20.0]),
    seed=seeds,
)
def test_mnist_loss_value(submission, n, column, int_targets, scale, seed):
    g = torch.Generator().manual_seed(seed)
    shape = (n, 1) if column else (n,)
    predictions = torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    targets = torch.randint(0, 2, shape, generator=g)
    if not int_targets:
        targets = targets.double()
    what = f"mnist_loss of predictions and targets of shape {shape}"
    loss = checks.scalar(submission.step05_cross_entropy.mnist_loss(predictions, targets), what)
    checks.close(
        loss,
        reference_mnist_loss(predictions, targets),
        "mnist_loss (1 - sigmoid where the target is 1, sigmoid elsewhere, averaged)",
        rtol=1e-7,
        atol=1e-9,
    )


@pytest.mark.points(1)
def test_mnist_loss_gradient(submission):
    g = torch.Generator().manual_seed(5)
    predictions = (torch.randn(12, 1, generator=g, dtype=torch.float64) * 2).requires_grad_()
    targets = torch.randint(0, 2, (12, 1), generator=g).double()
    grad = gradient_of(submission, "mnist_loss", (predictions, targets), "mnist_loss")
    checks.close(
        grad,
        reference_gradient(reference_mnist_loss, predictions, targets),
        "the gradient of mnist_loss",
        rtol=1e-7,
        atol=1e-9,
    )
