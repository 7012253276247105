"""Visible tests of step 13: run ``pytest exercises -m step13``."""

import math

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from .step13_init_and_regularization import (
    Net,
    RegularizedNet,
    kaiming_init_,
    make_optimizer,
    plot_history,
    train_with_validation,
)

pytestmark = pytest.mark.step13


def test_net_parameters_and_forward():
    net = Net(4, 6, 3)
    shapes = {name: tuple(p.shape) for name, p in net.named_parameters()}
    expected = {"W_1": (6, 4), "b_1": (6,), "W_2": (3, 6), "b_2": (3,)}
    assert shapes == expected, f"Net(4, 6, 3) should have the parameters {expected}, got {shapes}"
    assert net.b_1.abs().max() == 0 and net.b_2.abs().max() == 0, "the biases should start at zero"
    x = torch.randn(5, 4)
    expected_out = F.linear(F.elu(F.linear(x, net.W_1, net.b_1)), net.W_2, net.b_2)
    assert torch.allclose(net(x), expected_out, atol=1e-6), (
        "forward should be F.linear, the activation (ELU when activation is None), F.linear"
    )


def test_net_xavier_std():
    net = Net(300, 500, 10)
    std, expected = net.W_1.std().item(), math.sqrt(2 / (300 + 500))
    assert abs(std / expected - 1) < 0.1, (
        f"W_1 of shape (500, 300) should have std sqrt(2 / (300 + 500)) = {expected:.4f} "
        f"(nn.init.xavier_normal_), got {std:.4f}"
    )


def test_kaiming_init():
    model = nn.Sequential(nn.Linear(300, 500), nn.ReLU(), nn.Linear(500, 10))
    result = kaiming_init_(model)
    assert result is model, "kaiming_init_ should return the module it was given"
    std, expected = model[0].weight.std().item(), math.sqrt(2 / 300)
    assert abs(std / expected - 1) < 0.1, (
        f"the (500, 300) weight should have std sqrt(2 / fan_in) = {expected:.4f}, got {std:.4f}"
    )
    assert model[0].bias.abs().max() == 0 and model[2].bias.abs().max() == 0, (
        "kaiming_init_ should also set every bias to zero"
    )


def test_regularized_net_modes():
    net = RegularizedNet(10, 32, 4)
    assert any(k.endswith("running_mean") for k in net.state_dict()), (
        "with batchnorm=True the network should hold an nn.BatchNorm1d"
    )
    no_bn = RegularizedNet(10, 32, 4, batchnorm=False)
    assert not any(k.endswith("running_mean") for k in no_bn.state_dict()), (
        "with batchnorm=False there should be no batch norm layer"
    )
    x = torch.randn(8, 10)
    net.train()
    assert not torch.equal(net(x), net(x)), "in train mode dropout makes the output random"
    net.eval()
    out = net(x)
    assert out.shape == (8, 4), f"the output should have shape (8, 4), got {tuple(out.shape)}"
    assert torch.equal(out, net(x)), "in eval mode the output should be deterministic"


def test_make_optimizer():
    params = [torch.zeros(3, requires_grad=True)]
    sgd = make_optimizer(params, "sgd", lr=0.1)
    assert type(sgd) is torch.optim.SGD and sgd.param_groups[0]["momentum"] == 0, (
        '"sgd" should be torch.optim.SGD without momentum'
    )
    momentum = make_optimizer(params, "momentum", lr=0.1, momentum=0.8)
    assert type(momentum) is torch.optim.SGD and momentum.param_groups[0]["momentum"] == 0.8, (
        '"momentum" should be torch.optim.SGD with the given momentum'
    )
    assert type(make_optimizer(params, "adam")) is torch.optim.Adam
    assert type(make_optimizer(params, "rmsprop")) is torch.optim.RMSprop
    try:
        make_optimizer(params, "adagrad")
    except ValueError as err:
        assert all(k in str(err).lower() for k in ("sgd", "momentum", "adam", "rmsprop")), (
            f"the ValueError should name the choices sgd, momentum, adam, rmsprop; it says {err}"
        )
    else:
        pytest.fail('make_optimizer(params, "adagrad") should raise ValueError', pytrace=False)


def test_train_with_validation_and_plot(save_figure, save_curves):
    torch.manual_seed(0)
    x = torch.randn(200, 5)
    y = (x[:, 0] > 0).long()
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
    history = train_with_validation(
        net,
        x[:150],
        y[:150],
        x[150:],
        y[150:],
        torch.optim.Adam(net.parameters(), lr=0.01),
        epochs=3,
        batch_size=50,
    )
    save_curves(
        "step13_train_with_validation_loss", lambda: {"training loss": history["train_loss"]}
    )
    assert set(history) == {"train_loss", "train_acc", "valid_acc"}, (
        f"the history should have the keys train_loss, train_acc, valid_acc, got {set(history)}"
    )
    assert all(len(v) == 3 for v in history.values()), "one entry per epoch in every list"
    kinds = {key: sorted({type(v).__name__ for v in values}) for key, values in history.items()}
    assert all(isinstance(v, float) for values in history.values() for v in values), (
        f"every entry of the history should be a Python float (.item()), got {kinds}"
    )
    net.eval()
    with torch.no_grad():
        acc = (net(x[150:]).argmax(1) == y[150:]).float().mean().item()
    assert abs(history["valid_acc"][-1] - acc) < 1e-6, (
        "valid_acc should be measured in eval mode (net.eval(), dropout off) after each epoch"
    )
    fig = plot_history(history)
    save_figure(fig, "step13_plot_history")
    assert isinstance(fig, Figure), "plot_history should return a Figure"
    ax = fig.axes[0]
    assert len(ax.get_lines()) >= 2 and ax.get_legend() is not None, (
        "plot_history should draw two labelled lines and a legend"
    )
    plt.close(fig)
