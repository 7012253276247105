"""Hidden tests of step 09: output sizes, Flatten, the conv model, layer_shapes."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from grader.authoring import checks, kit_models
from grader.authoring.kit_mnist import mnist

pytestmark = pytest.mark.step09
STEP = "step09_convolution_shapes"

CONV_SHAPES = [
    (16, 16, 26, 26),
    (16, 16, 26, 26),
    (16, 16, 13, 13),
    (16, 64, 11, 11),
    (16, 64, 11, 11),
    (16, 64, 5, 5),
    (16, 128, 3, 3),
    (16, 128, 3, 3),
    (16, 128, 1, 1),
    (16, 128),
    (16, 10),
]
CONV_PARAMETERS = [
    (16, 1, 3, 3),
    (16,),
    (64, 16, 3, 3),
    (64,),
    (128, 64, 3, 3),
    (128,),
    (10, 128),
    (10,),
]


def an_int(value, what):
    # "An int" also accepts numpy's integer scalars (STEPS.md); never a bool or a float.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        checks.fail(
            f"{what} should be a Python int, got {checks.describe(value)} "
            "(hint: // on ints stays an int)"
        )
    return int(value)


@st.composite
def conv_configs(draw):
    kernel = draw(st.integers(1, 7))
    dilation = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 3))
    stride = draw(st.integers(1, 4))
    smallest = max(1, dilation * (kernel - 1) + 1 - 2 * padding)
    size = draw(st.integers(smallest, smallest + 40))
    return size, kernel, stride, padding, dilation


@st.composite
def pool_configs(draw):
    kernel = draw(st.integers(1, 6))
    padding = draw(st.integers(0, kernel // 2))
    stride = draw(st.one_of(st.none(), st.integers(1, 4)))
    smallest = max(1, kernel - 2 * padding)
    size = draw(st.integers(smallest, smallest + 40))
    return size, kernel, stride, padding


def torch_side(layer, size):
    with torch.no_grad():
        return layer(torch.zeros(1, 1, size, size)).shape[-1]


CONV_EXAMPLES = [
    ((28, 3), {}),
    ((28, 5), {"padding": 2}),
    ((28, 3), {"stride": 2}),
    ((28, 3), {"dilation": 2}),
    ((13, 3), {}),
]


@pytest.mark.points(1)
def test_conv_output_size_examples(submission):
    for args, kwargs in CONV_EXAMPLES:
        out = submission.step09_convolution_shapes.conv_output_size(*args, **kwargs)
        an_int(out, f"conv_output_size{args} with {kwargs}")
        expected = torch_side(nn.Conv2d(1, 1, args[1], **kwargs), args[0])
        if out != expected:
            checks.fail(
                f"conv_output_size{args} with {kwargs} gave {out}, but nn.Conv2d gives a "
                "different size; count the positions where the kernel fits"
            )


@pytest.mark.points(3)
@given(config=conv_configs())
def test_conv_output_size_matches_torch(submission, config):
    size, kernel, stride, padding, dilation = config
    out = submission.step09_convolution_shapes.conv_output_size(
        size, kernel, stride=stride, padding=padding, dilation=dilation
    )
    what = (
        f"conv_output_size(size={size}, kernel_size={kernel}, stride={stride}, "
        f"padding={padding}, dilation={dilation})"
    )
    an_int(out, what)
    layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
    if out != torch_side(layer, size):
        checks.fail(
            f"{what} = {out} differs from nn.Conv2d's output size; remember that "
            "padding is added on both sides and a dilated kernel spans "
            "dilation * (kernel_size - 1) + 1 pixels"
        )


@pytest.mark.points(1)
def test_pool_output_size_default_stride(submission):
    for size, kernel in [(26, 2), (11, 2), (3, 2), (13, 3)]:
        out = an_int(
            submission.step09_convolution_shapes.pool_output_size(size, kernel),
            f"pool_output_size({size}, {kernel})",
        )
        if out != torch_side(nn.MaxPool2d(kernel), size):
            checks.fail(
                f"pool_output_size({size}, {kernel}) gave {out}, unlike "
                f"nn.MaxPool2d({kernel}); the stride defaults to the kernel size and the "
                "result rounds down"
            )


@pytest.mark.points(2)
@given(config=pool_configs())
def test_pool_output_size_matches_torch(submission, config):
    size, kernel, stride, padding = config
    out = submission.step09_convolution_shapes.pool_output_size(
        size, kernel, stride=stride, padding=padding
    )
    what = (
        f"pool_output_size(size={size}, kernel_size={kernel}, stride={stride}, padding={padding})"
    )
    an_int(out, what)
    if out != torch_side(nn.MaxPool2d(kernel, stride=stride, padding=padding), size):
        checks.fail(f"{what} = {out} differs from nn.MaxPool2d's output size")


@pytest.mark.points(1)
@pytest.mark.parametrize("shape", [(16, 1, 28, 28), (16, 128, 1, 1), (5, 3, 4, 2)])
def test_flatten(submission, shape):
    x = torch.randn(*shape)
    flat = (shape[0], x[0].numel())
    out = checks.tensor(
        submission.step09_convolution_shapes.Flatten()(x), f"Flatten() of {shape}", shape=flat
    )
    if not torch.equal(out, x.reshape(flat)):
        checks.fail(
            f"Flatten() of {shape} has the right shape but the values moved; "
            "keep each image's values in order"
        )


@pytest.mark.points(3)
def test_conv_model_layers(submission):
    model = submission.step09_convolution_shapes.create_conv_model()
    shapes = [tuple(p.shape) for _, p in model.named_parameters()]
    if shapes != CONV_PARAMETERS:
        checks.fail(
            f"create_conv_model() has parameters of shapes {shapes}; expected three "
            "Conv2d layers 1->16->64->128 with kernel 3 and a Linear(128, 10), "
            "in that order"
        )


@pytest.mark.points(1)
@pytest.mark.parametrize("batch", [1, 16])
def test_conv_model_output(submission, batch):
    model = submission.step09_convolution_shapes.create_conv_model()
    x = torch.randn(batch, 1, 28, 28)
    with torch.no_grad():
        out = model(x)
    checks.tensor(
        out, f"create_conv_model() applied to images of shape {tuple(x.shape)}", shape=(batch, 10)
    )


@pytest.mark.points(3)
def test_layer_shapes_of_conv_model(submission):
    step = submission.step09_convolution_shapes
    shapes = step.layer_shapes(step.create_conv_model(), (16, 1, 28, 28))
    if not isinstance(shapes, list):
        checks.fail(f"layer_shapes should return a list of tuples, got {checks.describe(shapes)}")
    shapes = [tuple(s) if isinstance(s, tuple) else s for s in shapes]
    if shapes != CONV_SHAPES:
        checks.fail(
            f"layer_shapes(create_conv_model(), (16, 1, 28, 28)) gave {shapes}; "
            "after each MaxPool2d the maps should be (16, 16, 13, 13), (16, 64, 5, 5) and "
            "(16, 128, 1, 1), then (16, 128) after Flatten and (16, 10) at the end"
        )


BUILTIN_MODELS = {
    "conv-pool-flatten-linear": (
        lambda: nn.Sequential(
            nn.Conv2d(3, 8, 5, stride=2, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3),
            nn.Flatten(),
            nn.Linear(8 * 5 * 5, 4),
        ),
        (2, 3, 32, 32),
    ),
    "dilated-convs": (
        lambda: nn.Sequential(
            nn.Conv2d(1, 4, 3, dilation=2),
            nn.Tanh(),
            nn.Conv2d(4, 6, (2, 4), padding=(1, 0)),
            nn.MaxPool2d(2, stride=1),
        ),
        (5, 1, 20, 17),
    ),
    "mlp": (lambda: nn.Sequential(nn.Linear(7, 3), nn.ReLU(), nn.Linear(3, 2)), (4, 7)),
}


@pytest.mark.points(1)
@pytest.mark.parametrize("name", list(BUILTIN_MODELS))
def test_layer_shapes_matches_torch(submission, name):
    build, input_shape = BUILTIN_MODELS[name]
    model = build()
    x, expected = torch.zeros(input_shape), []
    with torch.no_grad():
        for layer in model:
            x = layer(x)
            expected.append(tuple(x.shape))
    shapes = submission.step09_convolution_shapes.layer_shapes(model, input_shape)
    if not isinstance(shapes, list) or not all(isinstance(s, tuple) for s in shapes):
        checks.fail(f"layer_shapes should return a list of tuples, got {checks.describe(shapes)}")
    if len(shapes) != len(expected):
        checks.fail(
            f"layer_shapes gave {len(shapes)} shapes for a model of {len(expected)} "
            "layers; it should record one shape per layer"
        )
    if [tuple(s) for s in shapes] != expected:
        checks.fail(
            f"layer_shapes of an nn.Sequential of {len(expected)} layers on input "
            f"{input_shape} gave {shapes}, which differs from what the layers produce"
        )


@pytest.mark.points(3)
@pytest.mark.training
@pytest.mark.timeout(15)
def test_conv_model_learns_mnist(submission, device):
    X, y = mnist.tensors("train")
    Xt, yt = mnist.tensors("test")
    model = submission.step09_convolution_shapes.create_conv_model()
    what = "create_conv_model()"
    kit = kit_models.conv_net(kit_models.state_of(model, what), what)
    # The model must compute the architecture STEPS.md fixes, in either mode (it has no
    # dropout or batch norm): its outputs on random images against the kit's module.
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = kit.double()(x.double())
        for mode in ("train", "eval"):
            getattr(model, mode)()
            out = checks.tensor(
                model(x), f"create_conv_model() in {mode} mode on 8 images", shape=(8, 10)
            )
            checks.close(
                out,
                expected,
                f"create_conv_model()'s output in {mode} mode versus "
                "Conv2d, ReLU, MaxPool2d (three times), Flatten, Linear with its own "
                "weights",
                rtol=1e-4,
                atol=1e-5,
            )
    # Learning is judged on the kit's module holding the model's initial weights, trained by
    # the kit's own loop on the grader's side: the student's forward never sees the test set.
    kit = kit.float()
    kit_models.train_classifier(
        kit,
        X[:2560].reshape(-1, 1, 28, 28),
        y[:2560],
        epochs=1,
        batch_size=64,
        lr=2e-3,
        seed=0,
        device=device,
    )
    kit.eval()
    with torch.no_grad():
        logits = kit(Xt[:1000].reshape(-1, 1, 28, 28))
    acc = (logits.argmax(1) == yt[:1000]).double().mean().item()
    if acc < 0.70:
        checks.fail(
            f"after one epoch on 2560 training digits the conv model reaches only "
            f"{acc:.3f} test accuracy (a correct model reaches 0.70 with room to spare)"
        )
