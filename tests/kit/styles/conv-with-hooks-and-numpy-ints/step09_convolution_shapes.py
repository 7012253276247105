"""Correct code in another style: numpy integer arithmetic, hooks, torch.Size, a start_dim."""

import numpy as np
import torch
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return np.int64(size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def pool_output_size(size, kernel_size, stride=None, padding=0):
    stride = kernel_size if stride is None else stride
    return int(np.floor((size + 2 * padding - kernel_size) / stride)) + 1


class Flatten(nn.Module):
    def forward(self, x):
        return torch.flatten(x, start_dim=1)


def create_conv_model():
    blocks = []
    for c_in, c_out in [(1, 16), (16, 64), (64, 128)]:
        blocks += [
            nn.Conv2d(c_in, c_out, kernel_size=(3, 3)),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        ]
    return nn.Sequential(*blocks, Flatten(), nn.Linear(128, 10))


def layer_shapes(model, input_shape):
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(o.shape)) for m in model]
    try:
        with torch.inference_mode():
            model(torch.zeros(*input_shape))
    finally:
        for h in hooks:
            h.remove()
    return [tuple(s) for s in shapes]
