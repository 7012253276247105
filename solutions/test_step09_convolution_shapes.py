"""Visible tests of step 09: run ``pytest exercises -m step09``."""

import numpy as np
import pytest
import torch
from torch import nn

from .step09_convolution_shapes import (
    Flatten,
    conv_output_size,
    create_conv_model,
    layer_shapes,
    pool_output_size,
)

pytestmark = pytest.mark.step09


def call(what, fn, x, hint):
    """``fn(x)``; an error inside it fails the test with one line."""
    try:
        return fn(x)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise AssertionError(
            f"{what} on a {tuple(x.shape)} input raised {type(err).__name__}: {err}; {hint}"
        ) from err


def test_conv_output_size_simple_cases():
    out = conv_output_size(28, 3)
    assert isinstance(out, int | np.integer) and not isinstance(out, bool), (
        f"conv_output_size should return an int, got {type(out).__name__} (hint: // keeps ints)"
    )
    assert out == 26, (
        f"conv_output_size(28, 3) gave {out}; a 3x3 kernel fits at 26 positions along 28 pixels"
    )
    assert conv_output_size(28, 5, padding=2) == 28, (
        "conv_output_size(28, 5, padding=2) should be 28: padding 2 on each side keeps the size"
    )
    assert conv_output_size(28, 3, stride=2) == 13, (
        "conv_output_size(28, 3, stride=2) should be 13: 26 positions, every second one, "
        "rounded down (hint: // stride, then + 1)"
    )


def test_conv_output_size_with_dilation_matches_torch():
    x = torch.zeros(1, 1, 20, 20)
    for kernel, stride, padding, dilation in [(3, 1, 0, 2), (5, 2, 1, 3), (2, 3, 2, 1)]:
        conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
        expected = conv(x).shape[-1]
        out = conv_output_size(20, kernel, stride=stride, padding=padding, dilation=dilation)
        assert out == expected, (
            f"conv_output_size(20, {kernel}, stride={stride}, padding={padding}, "
            f"dilation={dilation}) gave {out}, nn.Conv2d gives {expected}; a dilated kernel spans "
            "dilation * (kernel_size - 1) + 1 pixels"
        )


def test_pool_output_size():
    out = pool_output_size(26, 2)
    assert isinstance(out, int | np.integer) and not isinstance(out, bool), (
        f"pool_output_size should return an int, got {type(out).__name__} (hint: // keeps ints)"
    )
    assert out == 13, f"pool_output_size(26, 2) gave {out}; the stride defaults to the kernel size"
    assert pool_output_size(5, 2) == 2, "pool_output_size(5, 2) should round down to 2"
    assert pool_output_size(10, 3, stride=1, padding=1) == 10, (
        "pool_output_size(10, 3, stride=1, padding=1) should be 10 (as nn.MaxPool2d)"
    )


def test_flatten_keeps_the_batch_dimension():
    flatten = Flatten()
    cases = [((16, 1, 28, 28), (16, 784)), ((16, 128, 1, 1), (16, 128)), ((1, 128, 1, 1), (1, 128))]
    for shape, expected in cases:
        out = call(
            "Flatten()",
            flatten,
            torch.randn(*shape),
            "keep dimension 0 and flatten all the others: x.reshape(x.shape[0], -1)",
        )
        assert tuple(out.shape) == expected, (
            f"Flatten() turned {shape} into {tuple(out.shape)}, expected {expected}: keep "
            "dimension 0 and flatten all the others (hint: x.reshape(x.shape[0], -1))"
        )


def test_conv_model_shapes():
    model = create_conv_model()
    out = call(
        "create_conv_model()",
        model,
        torch.randn(4, 1, 28, 28),
        "check the layers against the docstring's list; layer_shapes shows each layer's output",
    )
    assert tuple(out.shape) == (4, 10), (
        f"create_conv_model() should map (4, 1, 28, 28) images to (4, 10) logits, got "
        f"{tuple(out.shape)}"
    )
    shapes = layer_shapes(model, (16, 1, 28, 28))
    assert len(shapes) == 11, (
        f"the conv model has 11 layers; layer_shapes gave {len(shapes)} shapes"
    )
    assert shapes[2] == (16, 16, 13, 13) and shapes[5] == (16, 64, 5, 5), (
        f"after the first two MaxPool2d the shapes should be (16, 16, 13, 13) and "
        f"(16, 64, 5, 5), got {shapes[2]} and {shapes[5]}"
    )
    assert shapes[8] == (16, 128, 1, 1) and shapes[-1] == (16, 10), (
        f"the last pooling should leave (16, 128, 1, 1) and the model end with (16, 10); "
        f"got {shapes[8]} and {shapes[-1]}"
    )
