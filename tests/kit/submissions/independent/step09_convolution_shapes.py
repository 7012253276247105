"""Step 09, written independently: sizes by counting, shapes by forward hooks."""

import math

import torch
import torch.nn as nn


def _fits(size, span, stride):
    # window positions: the first, then one more per full stride that still fits
    return math.floor((size - span) / stride) + 1


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    return int(_fits(size + 2 * padding, span, stride))


def pool_output_size(size, kernel_size, stride=None, padding=0):
    step = kernel_size if stride is None else stride
    return int(_fits(size + 2 * padding, kernel_size, step))


class Flatten(nn.Module):
    def forward(self, x):
        return torch.flatten(x, start_dim=1)


def create_conv_model():
    layers = []
    for c_in, c_out in [(1, 16), (16, 64), (64, 128)]:
        layers += [nn.Conv2d(c_in, c_out, kernel_size=3), nn.ReLU(), nn.MaxPool2d(kernel_size=2)]
    layers += [Flatten(), nn.Linear(128, 10)]
    return nn.Sequential(*layers)


def layer_shapes(model, input_shape):
    seen = []
    hooks = [
        child.register_forward_hook(lambda mod, inp, out: seen.append(tuple(out.shape)))
        for child in model.children()
    ]
    try:
        with torch.no_grad():
            model(torch.zeros(*input_shape))
    finally:
        for h in hooks:
            h.remove()
    return seen
