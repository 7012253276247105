"""Visible tests of step 07: run ``pytest exercises -m step07``."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from .mnist import get_random_batch
from .step07_train_loop import fit, sgd_step, train

pytestmark = pytest.mark.step07


def printed_losses(lines):
    """``{step: loss}`` from printed lines such as ``step 20  loss 0.5312``: the first and
    the last number of each line that holds two."""
    number = r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"  # not the 0 of "Backward0"
    numbers = [re.findall(number, line) for line in lines]
    return {float(n[0]): float(n[-1]) for n in numbers if len(n) >= 2}


def test_train_prints_and_learns(capsys, save_curves):
    model = train(Nhidden=32, Nsteps=60, device="cpu", seed=0, log_every=20)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    losses = printed_losses(printed)
    save_curves("step07_train_loss", {"printed loss": losses.values()}, x=losses, xlabel="step")
    assert len(printed) in (3, 4), (
        f"train(Nsteps=60, log_every=20) should print the step and the loss 3 times, printed "
        f"{len(printed)} line(s)"
    )
    X, y = get_random_batch(1000, "test")
    with torch.no_grad():
        acc = (model(X).argmax(dim=1) == y).float().mean().item()
    assert acc > 0.7, (
        f"after 60 Adam steps the model should get well over 70% of test images right, got "
        f"{acc:.2f}: forward, cross-entropy, backward, optimizer.step(), optimizer.zero_grad()"
    )


def test_train_same_seed_same_model(capsys):
    a = train(Nhidden=8, Nsteps=5, device="cpu", seed=3, log_every=10)
    b = train(Nhidden=8, Nsteps=5, device="cpu", seed=3, log_every=10)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q), (
            "train(seed=3) twice should give the same model: call torch.manual_seed(seed) first"
        )


def sgd_step_on(params, w):
    """``sgd_step(params, 0.1)``; an error inside it fails the test with one line."""
    try:
        sgd_step(params, 0.1)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, AttributeError, TypeError) as err:
        if "leaf Variable" in str(err):
            hint = "update the parameters inside `with torch.no_grad():`"
        elif torch.equal(w.detach(), torch.tensor([1.0, 2.0])):
            hint = "w is unchanged: p = p - lr * p.grad makes a new tensor; update p in place"
        else:
            hint = "p -= lr * p.grad under torch.no_grad(), then zero p.grad"
        raise AssertionError(f"sgd_step raised {type(err).__name__}: {err}; {hint}") from err


def test_sgd_step_updates_and_zeroes():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w**2).sum().backward()  # grad = 2w = [2, 4]
    sgd_step_on([w], w)
    assert torch.allclose(w.detach(), torch.tensor([0.8, 1.6])), (
        f"after sgd_step([w], 0.1) w should be w - 0.1 * grad = [0.8, 1.6], got {w.tolist()}; "
        "update each parameter in place (p -= lr * p.grad)"
    )
    assert w.is_leaf and w.requires_grad, (
        "w should stay a leaf that requires grad: update it under torch.no_grad()"
    )
    assert w.grad is None or torch.all(w.grad == 0), (
        "sgd_step should zero the gradients afterwards (they accumulate), "
        f"w.grad is {w.grad.tolist()}"
    )


def test_sgd_step_takes_a_generator():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w**2).sum().backward()
    sgd_step_on((p for p in [w]), w)
    assert torch.allclose(w.detach(), torch.tensor([0.8, 1.6])) and (
        w.grad is None or torch.all(w.grad == 0)
    ), (
        f"sgd_step on a generator gave w = {w.tolist()}, w.grad = {w.grad.tolist()}: params may "
        "be a one-shot generator such as model.parameters(); loop over it only once"
    )


def test_fit_returns_one_loss_per_epoch_and_learns(save_curves):
    X, y = get_random_batch(512)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    with torch.no_grad():
        before = F.cross_entropy(model(X), y).item()
    losses = fit(model, X, y, epochs=3, device="cpu", seed=0)
    save_curves("step07_fit_loss", {"mean training loss": losses})
    assert isinstance(losses, list) and len(losses) == 3, (
        f"fit(..., epochs=3) should return a list of 3 mean losses, got {losses!r}"
    )
    assert all(isinstance(v, float) for v in losses), (
        "each loss should be a Python float (use loss.item())"
    )
    assert losses[-1] < losses[0], f"the mean loss should go down from epoch to epoch, got {losses}"
    with torch.no_grad():
        after = F.cross_entropy(model(X), y).item()
    assert after < 0.7 * before, "fit should train the model it is given, in place"
