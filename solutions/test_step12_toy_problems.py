"""Visible tests of step 12: run ``pytest exercises -m step12``."""

import numpy as np
import pytest
import torch
from torch import nn

from .step12_toy_problems import generate_binary_data, generate_regression_data, train_model

pytestmark = pytest.mark.step12


def trained(features, target, model, hint, **kwargs):
    """``train_model(...)``; an error inside it fails the test with one line."""
    try:
        return train_model(features, target, model, **kwargs)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise AssertionError(f"train_model raised {type(err).__name__}: {err}; {hint}") from err


def test_binary_data_shapes_and_labels():
    features, target = generate_binary_data(N_examples=50, seed=0)
    assert isinstance(features, np.ndarray) and isinstance(target, np.ndarray), (
        f"generate_binary_data should return numpy arrays, got {type(features)} and {type(target)}"
    )
    assert features.shape == (100, 2) and target.shape == (100,), (
        f"with N_examples=50 there are 50 points of each class: features (100, 2) and target "
        f"(100,), got {features.shape} and {target.shape}"
    )
    assert list(target[:6]) == [0, 1, 0, 1, 0, 1], (
        f"target should alternate 0, 1, 0, 1, ..., got {list(target[:6])}"
    )


def test_binary_data_radii():
    features, target = generate_binary_data(N_examples=500, seed=1)
    radius = np.hypot(features[:, 0], features[:, 1])
    assert radius[target == 0].max() < 1, "class 0 points should lie inside radius 1"
    assert 3 <= radius[target == 1].min() and radius[target == 1].max() < 4, (
        "class 1 points should have a radius in [3, 4): 3 plus a uniform random number"
    )
    assert (features[target == 1, 1] < 0).mean() > 0.4, (
        "the angle should be uniform in [0, 2 pi): about half the points below the x axis"
    )
    again, _ = generate_binary_data(N_examples=500, seed=1)
    assert np.array_equal(features, again), "the same seed should give the same data"


def test_regression_data():
    x, y = generate_regression_data(L=2, stepsize=0.5)
    assert np.allclose(x, [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5]), (
        f"x should be np.arange(-L, L, stepsize) = [-2, -1.5, ..., 1.5], got {x}"
    )
    assert np.allclose(y, np.sin(3 * x) * np.exp(-x / 8)), "y should be sin(3x) * exp(-x / 8)"


def rings_figure(model, features):
    """The points coloured by the class the model gives them."""
    from matplotlib.figure import Figure

    with torch.no_grad():
        p = model(torch.tensor(features, dtype=torch.float32))[:, 0]
    fig = Figure(figsize=(5, 5), dpi=80)
    ax = fig.add_subplot()
    ax.scatter(
        features[:, 0], features[:, 1], c=(p > 0.5).numpy(), cmap="coolwarm", vmin=0, vmax=1, s=8
    )
    ax.set(title="step12_train_model_rings: red = class 1", aspect="equal")
    return fig


def test_train_model_separates_the_rings(save_figure):
    features, target = generate_binary_data(N_examples=200, seed=2)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid())
    model = trained(
        torch.tensor(features, dtype=torch.float32),
        torch.tensor(target, dtype=torch.float32).reshape(-1, 1),
        model,
        "each epoch: zero_grad, forward on all data, BCELoss, backward, step",
        lr=0.1,
        N_epochs=150,
        device="cpu",
        seed=0,
    )
    save_figure(lambda: rings_figure(model, features), "step12_train_model_rings")
    assert isinstance(model, nn.Module), f"train_model should return the model, got {type(model)}"
    assert all(p.device.type == "cpu" for p in model.parameters()), "return the model on the CPU"
    with torch.no_grad():
        pred = model(torch.tensor(features, dtype=torch.float32))[:, 0] > 0.5
    acc = (pred.numpy() == target).mean()
    assert acc > 0.95, (
        f"three sigmoid hidden units should separate the rings, got accuracy {acc:.3f}; "
        "hint: each epoch is optimizer.zero_grad(), forward on all data, BCELoss, "
        "loss.backward(), optimizer.step()"
    )


def test_train_model_uses_the_criterion():
    x, y = generate_regression_data(L=2, stepsize=0.1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    X = torch.tensor(x, dtype=torch.float32)[:, None]
    Y = torch.tensor(y, dtype=torch.float32)[:, None]
    with torch.no_grad():
        before = ((model(X) - Y) ** 2).mean().item()
    model = trained(
        X,
        Y,
        model,
        "use the criterion you are given (BCELoss only when it is None)",
        lr=0.01,
        N_epochs=50,
        criterion=nn.MSELoss(),
        device="cpu",
        seed=0,
    )
    with torch.no_grad():
        after = ((model(X) - Y) ** 2).mean().item()
    assert after != before, (
        f"50 epochs of train_model left the MSE at {before:.3f}: the model did not change; "
        "call optimizer.step() after loss.backward() in every epoch"
    )
    assert after < 0.8 * before, (
        f"50 epochs with criterion=nn.MSELoss() should lower the MSE, went from {before:.3f} "
        f"to {after:.3f}; use the criterion you are given (BCELoss only when it is None)"
    )
