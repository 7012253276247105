"""Visible tests of step 06: run ``pytest exercises -m step06``."""

import pytest
import torch
from torch import nn

from .step06_create_model import ClassifierNet, Model, create_model

pytestmark = pytest.mark.step06


def test_create_model_maps_images_to_ten_logits():
    model = create_model(32)
    out = model(torch.randn(5, 784))
    assert out.shape == (5, 10), (
        f"create_model(32) should map a (5, 784) batch to (5, 10) logits, got {tuple(out.shape)}"
    )
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(32, 784), (32,), (10, 32), (10,)], (
        f"create_model(32) should hold Linear(784, 32) and Linear(32, 10); "
        f"parameter shapes: {shapes}"
    )
    assert not torch.allclose(out.sum(dim=1), torch.ones(5)), (
        "every row of create_model's output sums to 1, as after a softmax: the model should "
        "end with the Linear layer and give raw scores (logits); the loss applies the softmax"
    )


def test_create_model_has_a_relu_between_the_layers():
    model = create_model(32)
    a, b = torch.randn(4, 784), torch.randn(4, 784)
    with torch.no_grad():
        gap = (model(a + b) - model(a) - model(b) + model(torch.zeros(1, 784))).abs().max()
    assert gap > 1e-3, (
        "create_model is a linear map: f(a + b) = f(a) + f(b) - f(0). Two Linear layers without "
        "a ReLU between them are just one Linear layer; put nn.ReLU() in the middle"
    )


def test_model_registers_its_four_parameters():
    model = Model(784, 50, 10)
    params = list(model.parameters())
    assert len(params) == 4, (
        f"Model(784, 50, 10).parameters() gave {len(params)} tensors, expected 4 (two weights, "
        "two biases): assign the layers to attributes of self after super().__init__()"
    )
    out = model(torch.randn(3, 784))
    assert out.shape == (3, 10), (
        f"Model(784, 50, 10) should give (3, 10) for (3, 784), got {tuple(out.shape)}"
    )


def test_model_clips_negative_hidden_values():
    model = Model(2, 3, 1)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    out = model(torch.tensor([[-5.0, -5.0], [1.0, 2.0]]))
    # hidden = x1 + x2 + 1 in every unit: -9 -> ReLU -> 0, then 3 * 0 + 1 = 1; 4 -> 3 * 4 + 1 = 13
    assert torch.allclose(out, torch.tensor([[1.0], [13.0]])), (
        f"with every weight and bias 1, Model(2, 3, 1) should give [[1], [13]], "
        f"got {out.tolist()}; "
        "is the ReLU between the two Linear layers?"
    )


def test_classifiernet_keeps_its_layers_in_a_modulelist():
    net = ClassifierNet(784, 10, 3, 20, nn.ReLU(), None)
    n = len(list(net.parameters()))
    assert n == 8, (
        f"ClassifierNet(784, 10, 3, 20, ...) should have 8 parameter tensors (3 hidden layers and "
        f"the output layer, a weight and a bias each), got {n}: a plain Python list hides the "
        "hidden layers from parameters(); use nn.ModuleList"
    )
    out = net(torch.randn(4, 784))
    assert out.shape == (4, 10), (
        f"ClassifierNet should give (4, 10) for (4, 784), got {tuple(out.shape)}"
    )


def test_classifiernet_applies_the_activation_after_each_hidden_layer():
    net = ClassifierNet(6, 3, 2, 16, nn.ReLU(), None)
    a, b = torch.randn(4, 6), torch.randn(4, 6)
    with torch.no_grad():
        gap = (net(a + b) - net(a) - net(b) + net(torch.zeros(1, 6))).abs().max()
    assert gap > 1e-3, (
        "ClassifierNet is a linear map: f(a + b) = f(a) + f(b) - f(0); apply activation after "
        "every hidden layer"
    )


def test_classifiernet_output_activation():
    x = 10 * torch.randn(6, 5)
    raw = ClassifierNet(5, 3, 2, 8, nn.ReLU(), None)
    assert (raw(x) < 0).any(), (
        "with output_activation=None the outputs are raw scores (logits), some negative; "
        "apply activation after the hidden layers only, not after the output layer"
    )
    squashed = ClassifierNet(5, 3, 2, 8, nn.ReLU(), nn.Sigmoid())
    out = squashed(x)
    assert ((out >= 0) & (out <= 1)).all(), (
        "with output_activation=nn.Sigmoid() every output should lie in [0, 1]; apply it after "
        "the output layer"
    )
