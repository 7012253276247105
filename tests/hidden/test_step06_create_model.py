"""Hidden tests of step 06: create_model, Model, ClassifierNet."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from grader.authoring import checks, kit_models

pytestmark = pytest.mark.step06
STEP = "step06_create_model"

ACTIVATIONS = {"relu": (nn.ReLU, torch.relu), "tanh": (nn.Tanh, torch.tanh)}


def linear_layers(module, what):
    """``[(weight, bias)]`` of the module's Linear layers, in ``named_parameters`` order.

    Only ClassifierNet uses this (its contract names nn.Linear layers, whose own
    parameters are called weight and bias); create_model and Model are judged
    through the kit's module (grader/authoring/kit_models.py), by shape and order.
    """
    groups = {}
    for name, p in module.named_parameters():
        prefix, _, kind = name.rpartition(".")
        groups.setdefault(prefix, {})[kind] = p
    layers = []
    for prefix, group in groups.items():
        w, b = group.get("weight"), group.get("bias")
        if set(group) != {"weight", "bias"} or w.dim() != 2 or b.dim() != 1:
            checks.fail(
                f"{what}: expected only nn.Linear layers (a 2-D weight and a 1-D bias "
                f"each), found the parameters {sorted(group)} under {prefix!r}"
            )
        layers.append((w, b))
    return layers


def pick(layers, weight_shape, what):
    """The one (weight, bias) pair whose weight has ``weight_shape``."""
    found = [(w, b) for w, b in layers if tuple(w.shape) == weight_shape]
    if len(found) != 1:
        shapes = [tuple(w.shape) for w, _ in layers]
        checks.fail(
            f"{what}: expected exactly one Linear layer with a weight of shape "
            f"{weight_shape}; the registered weights have shapes {shapes} (a layer that "
            "is missing here is not registered, or has the wrong size)"
        )
    return found[0]


def kit_mlp(model, n_in, nh, n_out, what):
    """The kit's Linear, ReLU, Linear holding the model's state_dict (any key names), float64."""
    return kit_models.mlp(kit_models.state_of(model, what), n_in, nh, n_out, what).double()


def linear(x, layer):
    w, b = layer
    return x @ w.detach().double().T + b.detach().double()


def inputs(batch, features, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, features, generator=g)


# --- create_model -------------------------------------------------------------------


@pytest.mark.points(2)
@given(N=st.sampled_from([1, 16, 50, 200]), B=st.integers(1, 8))
def test_create_model_shapes(submission, N, B):
    model = submission.step06_create_model.create_model(N)
    shapes = [tuple(p.shape) for p in model.parameters()]
    if shapes != [(N, 784), (N,), (10, N), (10,)]:
        checks.fail(
            f"create_model({N}) should have the parameters of Linear(784, {N}) and "
            f"Linear({N}, 10), in that order: shapes [({N}, 784), ({N},), (10, {N}), "
            f"(10,)]; got {shapes}"
        )
    out = model(inputs(B, 784))
    checks.tensor(out, f"create_model({N}) applied to a (B={B}, 784) batch", shape=(B, 10))


@pytest.mark.points(2)
def test_create_model_is_sequential_linear_relu_linear(submission):
    # Children may be named or numbered (STEPS.md): the keys are never read, only the
    # tensors, in the order a Sequential registers (and applies) its layers.
    model = submission.step06_create_model.create_model(32)
    state = kit_models.state_of(model, "create_model(32)")
    shapes = [tuple(v.shape) for _, v in kit_models.state_tensors(state, "create_model(32)")]
    expected = [(32, 784), (32,), (10, 32), (10,)]
    if shapes != expected:
        checks.fail(
            "create_model(32) should be nn.Sequential(nn.Linear(784, 32), nn.ReLU(), "
            "nn.Linear(32, 10)), whose state_dict holds tensors of shapes "
            f"{expected} in that order; got {shapes}"
        )
    kit = kit_mlp(model, 784, 32, 10, "create_model(32)")
    x = inputs(8, 784, seed=3)
    out = checks.tensor(model(x), "create_model(32)(x)", shape=(8, 10))
    with torch.no_grad():
        checks.close(
            out,
            kit(x.double()),
            "create_model(32)(x) versus Linear(784, 32), ReLU, Linear(32, 10) with its own weights",
            rtol=1e-4,
            atol=1e-5,
        )


@pytest.mark.points(3)
@given(N=st.sampled_from([16, 32, 200]), B=st.integers(1, 16))
def test_create_model_forward_is_linear_relu_linear(submission, N, B):
    model = submission.step06_create_model.create_model(N)
    kit = kit_mlp(model, 784, N, 10, f"create_model({N})")
    x = inputs(B, 784, seed=B)
    out = checks.tensor(model(x), f"create_model({N})(x)", shape=(B, 10))
    with torch.no_grad():
        expected = kit(x.double())
    checks.close(
        out,
        expected,
        f"create_model({N})(x), which should be Linear, ReLU, Linear "
        "(negative hidden values set to 0)",
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.points(2)
def test_create_model_is_not_linear(submission):
    model = submission.step06_create_model.create_model(64)
    a, b = 3 * inputs(32, 784, seed=1), 3 * inputs(32, 784, seed=2)
    zero = torch.zeros(1, 784)
    with torch.no_grad():
        gap = (model(a + b) - model(a) - model(b) + model(zero)).abs().max().item()
    if not gap > 1e-3:
        checks.fail(
            "create_model gives a linear map (f(a + b) = f(a) + f(b) - f(0)): two Linear "
            "layers without a ReLU between them collapse into one Linear layer"
        )


# --- Model --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_model_registers_four_parameters(submission):
    model = submission.step06_create_model.Model(12, 7, 5)
    params = list(model.parameters())
    if len(params) != 4:
        checks.fail(
            f"Model(12, 7, 5).parameters() should yield 4 tensors (two weights, two "
            f"biases), got {len(params)}: store each layer as an attribute of self "
            "(after super().__init__()) so that nn.Module registers it"
        )
    shapes = sorted(tuple(p.shape) for p in params)
    if shapes != sorted([(7, 12), (7,), (5, 7), (5,)]):
        checks.fail(
            f"Model(12, 7, 5) should hold Linear(12, 7) and Linear(7, 5); its "
            f"parameters have shapes {shapes}"
        )


@pytest.mark.points(3)
@given(
    n_in=st.integers(2, 8), nh=st.integers(9, 16), n_out=st.integers(17, 20), B=st.integers(1, 8)
)
def test_model_forward(submission, n_in, nh, n_out, B):
    model = submission.step06_create_model.Model(n_in, nh, n_out)
    what = f"Model({n_in}, {nh}, {n_out})"
    kit = kit_mlp(model, n_in, nh, n_out, what)  # layers registered in any order
    x = inputs(B, n_in, seed=B)
    out = checks.tensor(model(x), f"{what}(x) for x of shape ({B}, {n_in})", shape=(B, n_out))
    with torch.no_grad():
        expected = kit(x.double())
    checks.close(
        out, expected, f"{what}(x), which should be Linear, ReLU, Linear", rtol=1e-4, atol=1e-5
    )


# --- ClassifierNet ------------------------------------------------------------------


@pytest.mark.points(2)
@pytest.mark.parametrize("n_layers", [1, 3])
def test_classifiernet_registers_every_layer(submission, n_layers):
    net = submission.step06_create_model.ClassifierNet(6, 3, n_layers, 5, nn.ReLU(), None)
    params = list(net.parameters())
    expected = 2 * (n_layers + 1)
    if len(params) != expected:
        checks.fail(
            f"ClassifierNet(6, 3, {n_layers}, 5, nn.ReLU(), None).parameters() should "
            f"yield {expected} tensors ({n_layers} hidden layers and the output layer, a "
            f"weight and a bias each), got {len(params)}: keep the hidden layers in an "
            "nn.ModuleList, a plain Python list hides them from parameters()"
        )
    shapes = sorted(tuple(p.shape) for p in params)
    want = sorted([(5, 6), (5,)] + [(5, 5), (5,)] * (n_layers - 1) + [(3, 5), (3,)])
    if shapes != want:
        checks.fail(
            f"ClassifierNet(6, 3, {n_layers}, 5, ...) has parameters of shapes "
            f"{shapes}; the first hidden layer maps 6 to 5, the other hidden layers 5 to "
            "5, the output layer 5 to 3"
        )


def classifier_reference(net, x, n_in, n_out, n_layers, width, act):
    what = f"ClassifierNet({n_in}, {n_out}, {n_layers}, {width}, ...)"
    layers = linear_layers(net, what)
    if len(layers) != n_layers + 1:
        checks.fail(
            f"{what} should register {n_layers + 1} Linear layers, found {len(layers)} "
            "(keep the hidden layers in an nn.ModuleList)"
        )
    first = pick(layers, (width, n_in), what)
    middle = [(w, b) for w, b in layers if tuple(w.shape) == (width, width)]
    last = pick(layers, (n_out, width), what)
    h = x.double()
    for layer in [first, *middle]:
        h = act(linear(h, layer))
    return linear(h, last)


@pytest.mark.points(3)
@given(n_layers=st.integers(1, 4), act=st.sampled_from(sorted(ACTIVATIONS)), B=st.integers(1, 8))
def test_classifiernet_forward_without_output_activation(submission, n_layers, act, B):
    module, fn = ACTIVATIONS[act]
    net = submission.step06_create_model.ClassifierNet(7, 4, n_layers, 9, module(), None)
    x = 2 * inputs(B, 7, seed=B)
    out = checks.tensor(
        net(x),
        f"ClassifierNet(7, 4, {n_layers}, 9, nn.{module.__name__}(), None) on a ({B}, 7) batch",
        shape=(B, 4),
    )
    expected = classifier_reference(net, x, 7, 4, n_layers, 9, fn)
    checks.close(
        out,
        expected,
        f"ClassifierNet with {n_layers} hidden layer(s), activation "
        f"{act} after each, and output_activation=None (raw outputs)",
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.points(1)
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_classifiernet_output_activation(submission, output):
    module, fn = {
        "sigmoid": (nn.Sigmoid(), torch.sigmoid),
        "softmax": (nn.Softmax(dim=1), lambda z: torch.softmax(z, dim=1)),
    }[output]
    net = submission.step06_create_model.ClassifierNet(7, 4, 2, 9, nn.Tanh(), module)
    x = 3 * inputs(6, 7)
    out = checks.tensor(
        net(x), f"ClassifierNet(7, 4, 2, 9, nn.Tanh(), {output}) on a (6, 7) batch", shape=(6, 4)
    )
    expected = fn(classifier_reference(net, x, 7, 4, 2, 9, torch.tanh))
    checks.close(
        out,
        expected,
        f"ClassifierNet's output with output_activation={output} "
        "(applied once, after the output layer)",
        rtol=1e-4,
        atol=1e-5,
    )
