"""Step 09 in another style: math.floor, nn.Flatten in the model, named children."""

import math
from collections import OrderedDict

import torch
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    return int(math.floor((size + 2 * padding - span) / stride)) + 1


def pool_output_size(size, kernel_size, stride=None, padding=0):
    stride = kernel_size if stride is None else stride
    return conv_output_size(size, kernel_size, stride=stride, padding=padding)


class Flatten(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


def create_conv_model():
    blocks = []
    for i, (c_in, c_out) in enumerate([(1, 16), (16, 64), (64, 128)]):
        blocks += [
            (f"conv{i}", nn.Conv2d(c_in, c_out, kernel_size=3)),
            (f"relu{i}", nn.ReLU(inplace=True)),
            (f"pool{i}", nn.MaxPool2d(kernel_size=2)),
        ]
    blocks += [("flat", nn.Flatten()), ("classifier", nn.Linear(128, 10))]
    return nn.Sequential(OrderedDict(blocks))


def layer_shapes(model, input_shape):
    out, x = [], torch.zeros(*input_shape)
    with torch.no_grad():
        for child in model.children():
            x = child(x)
            out.append(tuple(x.shape))
    return out
