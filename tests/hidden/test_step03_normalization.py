"""Hidden tests of step 03: normalize, softmax, logsumexp, log_softmax."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.authoring import checks

pytestmark = pytest.mark.step03
STEP = "step03_normalization"

shapes = st.tuples(st.integers(1, 8), st.integers(2, 12))
scales = st.sampled_from([1.0, 10.0, 100.0])


def logits(shape, scale, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


@pytest.mark.points(1)
def test_normalize_vector(submission):
    a = torch.tensor([2.0, 3.0, 5.0], dtype=torch.float64)
    out = checks.tensor(
        submission.step03_normalization.normalize(a), "normalize(a) for a of shape (3,)", shape=(3,)
    )
    checks.close(out, a / a.sum(), "normalize of a vector")


@pytest.mark.points(2)
@given(shape=shapes)
def test_normalize_rows(submission, shape):
    a = torch.rand(*shape, dtype=torch.float64) + 0.01
    out = checks.tensor(
        submission.step03_normalization.normalize(a), f"normalize of shape {shape}", shape=shape
    )
    checks.close(
        out, a / a.sum(-1, keepdim=True), "normalize of a batch (each row must sum to 1 on its own)"
    )


@pytest.mark.points(3)
@given(shape=shapes, scale=scales)
def test_softmax_matches_torch(submission, shape, scale):
    x = logits(shape, scale)
    out = checks.tensor(
        submission.step03_normalization.softmax(x), f"softmax of shape {shape}", shape=shape
    )
    checks.close(
        out, torch.softmax(x, dim=-1), "softmax (each row on its own)", rtol=1e-6, atol=1e-9
    )


@pytest.mark.points(2)
def test_softmax_gradient(submission):
    x = logits((4, 7), 3.0).requires_grad_()
    w = torch.randn(4, 7, dtype=torch.float64)
    out, grads = submission.grad_of(STEP, "softmax", (x,), weight=w)
    checks.tensor(out, "softmax(x)", shape=(4, 7))
    if grads is None or grads[0] is None:
        checks.fail("softmax(x) is not connected to x in autograd; keep it a torch computation")
    x_ref = x.detach().clone().requires_grad_()
    (expected,) = torch.autograd.grad((torch.softmax(x_ref, dim=-1) * w).sum(), x_ref)
    checks.close(grads[0], expected, "the gradient of softmax", rtol=1e-6, atol=1e-9)


@pytest.mark.points(2)
@pytest.mark.parametrize("magnitude", [1e3, 1e4])
def test_softmax_stable_for_huge_logits(submission, magnitude):
    x = torch.tensor(
        [[magnitude, 0.0, -magnitude], [magnitude, magnitude, 0.0]], dtype=torch.float32
    )
    out = checks.tensor(
        submission.step03_normalization.softmax(x),
        f"softmax of logits of magnitude {magnitude:g} (subtract the row max first)",
        shape=(2, 3),
    )
    checks.close(
        out, torch.softmax(x.double(), dim=-1), f"softmax at magnitude {magnitude:g}", atol=1e-6
    )


@pytest.mark.points(1)
def test_softmax_without_library(submission):
    x = logits((3, 5), 2.0)
    out = checks.written_without(
        submission,
        STEP,
        "softmax",
        (x,),
        {"softmax", "log_softmax"},
        "build it from torch.exp, a max and a sum",
        rule="torch.softmax / F.softmax",
    )
    checks.close(out, torch.softmax(x, -1), "softmax")


@pytest.mark.points(2)
@given(shape=shapes, scale=st.sampled_from([1.0, 100.0, 1e4]))
def test_logsumexp_matches_torch(submission, shape, scale):
    x = logits(shape, scale)
    out = checks.tensor(
        submission.step03_normalization.logsumexp(x),
        f"logsumexp of shape {shape}",
        shape=(shape[0], 1),
    )
    checks.close(out, torch.logsumexp(x, dim=-1, keepdim=True), "logsumexp", rtol=1e-9, atol=1e-9)


@pytest.mark.points(1)
def test_logsumexp_without_library(submission):
    x = logits((3, 5), 2.0)
    out = checks.written_without(
        submission,
        STEP,
        "logsumexp",
        (x,),
        {"logsumexp"},
        "use the max trick",
        rule="torch.logsumexp",
    )
    checks.close(out, torch.logsumexp(x, -1, keepdim=True), "logsumexp")


@pytest.mark.points(2)
@given(shape=shapes, scale=st.sampled_from([1.0, 100.0, 1e4]))
def test_log_softmax_matches_torch(submission, shape, scale):
    x = logits(shape, scale)
    out = checks.tensor(
        submission.step03_normalization.log_softmax(x), f"log_softmax of shape {shape}", shape=shape
    )
    checks.close(out, torch.log_softmax(x, dim=-1), "log_softmax", rtol=1e-9, atol=1e-9)


@pytest.mark.points(1)
def test_log_softmax_without_library(submission):
    x = logits((3, 5), 2.0)
    out = checks.written_without(
        submission,
        STEP,
        "log_softmax",
        (x,),
        {"log_softmax"},
        "compute x - logsumexp(x)",
        rule="F.log_softmax",
    )
    checks.close(out, torch.log_softmax(x, -1), "log_softmax")
