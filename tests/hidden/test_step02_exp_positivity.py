"""Hidden tests of step 02: positive, plot_exp."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from grader.authoring import checks
from grader.authoring.figures import FigureData

pytestmark = pytest.mark.step02
STEP = "step02_exp_positivity"

shapes = st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple)
dtypes = st.sampled_from([torch.float32, torch.float64])
# exp stays finite and nonzero in float32 for |x| < 88.
scales = st.sampled_from([1.0, 10.0, 80.0])


def uniform(shape, scale, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ((torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1) * scale).to(dtype)


# --- positive -----------------------------------------------------------------------


@pytest.mark.points(3)
@given(shape=shapes, scale=scales, dtype=dtypes)
def test_positive_is_exp(submission, shape, scale, dtype):
    x = uniform(shape, scale, dtype)
    # STEPS.md names no dtype for positive: the values judge it (float32 input, float32
    # tolerance; float64 input, float64 tolerance).
    out = checks.tensor(
        submission.step02_exp_positivity.positive(x),
        f"positive(x) for x of shape {shape} and dtype {dtype}",
        shape=shape,
    )
    checks.close(
        out,
        torch.exp(x.double()),
        f"positive(x) for x of dtype {dtype} (exp of each element)",
        rtol=1e-6 if dtype == torch.float32 else 1e-12,
        atol=0,
    )


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype, low", [(torch.float32, -80.0), (torch.float64, -700.0)])
def test_positive_strictly_positive(submission, dtype, low):
    x = torch.cat(
        [
            torch.linspace(low, 0.0, 50, dtype=dtype),
            torch.zeros(1, dtype=dtype),
            torch.linspace(0.0, 20.0, 10, dtype=dtype),
        ]
    )
    out = checks.tensor(
        submission.step02_exp_positivity.positive(x),
        f"positive(x) for x from {low:g} to 20 ({dtype})",
        shape=x.shape,
    )
    bad = int((out <= 0).sum())
    if bad:
        checks.fail(
            f"positive(x) gave {bad} value(s) <= 0 for x from {low:g} to 20 (0 included); "
            "every output must be strictly positive: exp(x) > 0 for every x"
        )
    if not (out[1:] >= out[:-1]).all():
        checks.fail("positive(x) should keep the order of x (exp is increasing)")


@pytest.mark.points(3)
def test_positive_gradient(submission):
    x = uniform((4, 5), 3.0, torch.float64).requires_grad_()
    w = torch.randn(4, 5, dtype=torch.float64)
    out, grads = submission.grad_of("step02_exp_positivity", "positive", (x,), weight=w)
    checks.tensor(out, "positive(x) for x with requires_grad=True", shape=(4, 5))
    if grads is None or grads[0] is None:
        checks.fail(
            "positive(x) is not connected to x in autograd: compute it with torch.exp "
            "(going through numpy or .detach() loses the gradient)"
        )
    grad = grads[0]
    checks.close(
        grad,
        w * torch.exp(x.detach()),
        "the gradient of positive (d exp(x) / dx = exp(x))",
        rtol=1e-9,
        atol=0,
    )


# --- plot_exp -----------------------------------------------------------------------


def check_curve(fig, lo, hi, steps, what):
    if not isinstance(fig, FigureData):
        checks.fail(
            f"{what} should return the matplotlib Figure it drew, got "
            f"{checks.describe(fig)}; hint: fig, ax = plt.subplots() ... return fig"
        )
    curves = [line for ax in fig.axes for line in ax.lines if len(line["x"]) > 2]
    if len(curves) != 1:
        checks.fail(f"{what} should draw one line (the curve exp(x)), found {len(curves)}")
    x = torch.from_numpy(np.asarray(curves[0]["x"], dtype=np.float64))
    y = torch.from_numpy(np.asarray(curves[0]["y"], dtype=np.float64))
    expected_x = torch.linspace(lo, hi, steps, dtype=torch.float64)
    checks.close(
        x,
        expected_x,
        f"the x values of {what} (torch.linspace(lo, hi, steps))",
        rtol=1e-6,
        atol=1e-5,
    )
    checks.close(y, torch.exp(expected_x), f"the y values of {what} (exp(x))", rtol=1e-5, atol=1e-6)


@pytest.mark.points(2)
def test_plot_exp_defaults(submission):
    check_curve(submission.step02_exp_positivity.plot_exp(), -10.0, 10.0, 200, "plot_exp()")


@pytest.mark.points(1)
@pytest.mark.parametrize("lo, hi, steps", [(-2.0, 3.0, 11), (0.0, 1.0, 5)])
def test_plot_exp_range(submission, lo, hi, steps):
    check_curve(
        submission.step02_exp_positivity.plot_exp(lo, hi, steps),
        lo,
        hi,
        steps,
        f"plot_exp({lo}, {hi}, {steps})",
    )


@pytest.mark.points(1)
def test_plot_exp_never_calls_show(submission):
    check_curve(
        submission.step02_exp_positivity.plot_exp(-1.0, 1.0, 21),
        -1.0,
        1.0,
        21,
        "plot_exp(-1.0, 1.0, 21)",
    )
    checks.without(
        checks.step_sources(submission),
        "plot_exp",
        {"show"},
        "return the figure instead; a notebook shows a returned figure by itself",
        step=STEP,
        rule="plt.show()",
    )
