"""Visible tests of step 02: run ``pytest exercises -m step02``."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from .step02_exp_positivity import plot_exp, positive

pytestmark = pytest.mark.step02


def test_positive_is_exp():
    x = torch.tensor([-5.0, 0.0, 1.0, 5.0])
    out = positive(x)
    assert isinstance(out, torch.Tensor), (
        f"positive should return a torch tensor, got {type(out).__name__}; use torch.exp"
    )
    assert out.shape == x.shape, f"positive should keep the shape {tuple(x.shape)}"
    expected = torch.tensor([math.exp(v) for v in x.tolist()], dtype=torch.float64)
    assert torch.allclose(out.double(), expected), (
        f"positive({x.tolist()}) gave {out.tolist()}; it should be exp of each element"
    )


def test_positive_is_strictly_positive_for_negative_numbers():
    out = positive(-torch.rand(3, 4) * 20)
    assert out.shape == (3, 4), f"positive should keep the shape (3, 4), got {tuple(out.shape)}"
    assert (out > 0).all(), "every output of positive must be > 0, even for negative inputs"


def test_positive_keeps_the_gradient():
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    try:
        out = positive(x)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, TypeError) as err:
        raise AssertionError(
            f"positive(x) for an x that requires grad raised {type(err).__name__}: {err}; "
            "use torch.exp, not numpy"
        ) from err
    assert isinstance(out, torch.Tensor) and out.requires_grad, (
        "positive(x) must stay connected to x in autograd: use torch.exp, not numpy"
    )
    out.sum().backward()
    assert torch.allclose(x.grad, torch.exp(x.detach())), "the derivative of exp(x) is exp(x)"


def test_plot_exp_draws_the_curve(save_figure):
    fig = plot_exp(-2.0, 3.0, 11)
    save_figure(fig, "step02_plot_exp")
    assert isinstance(fig, Figure), (
        f"plot_exp should return the matplotlib Figure, got {type(fig).__name__} (no plt.show())"
    )
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    assert lines, "plot_exp should draw the curve with ax.plot(x, y)"
    curve = max(lines, key=lambda line: len(line.get_xdata()))  # not a reference line y = 0
    x, y = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
    plt.close(fig)
    assert x.shape == (11,), (
        f"plot_exp(-2, 3, 11) should draw 11 points, got {x.shape[0]}: "
        "x should be torch.linspace(lo, hi, steps)"
    )
    assert np.allclose(x, np.linspace(-2, 3, 11)), "x should be torch.linspace(lo, hi, steps)"
    assert np.allclose(y, np.exp(x)), "y should be exp(x)"
