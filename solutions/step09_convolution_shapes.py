"""Step 09: convolutions, and the arithmetic of their output shapes.

A fully connected layer treats an image as 784 unrelated numbers: shift a digit
by one pixel and every input changes place. A convolution keeps *locality*: a
small kernel (say 3x3) looks only at a pixel and its neighbours, and the same
kernel weights slide over every position of the image. Sharing the weights
across positions means a stroke detector learned in one corner works in every
corner, and a layer needs only ``out_channels * in_channels * 3 * 3`` weights
instead of one weight per pixel pair.

How big is the output? Count the positions where the kernel fits. Along one
side of ``size`` pixels, padding adds ``padding`` pixels on each end, and a
kernel of ``k`` taps spaced ``dilation`` apart spans ``dilation * (k - 1) + 1``
pixels. It fits at the first position, and then once more every ``stride``
pixels while it still fits:

    out = floor((size + 2 * padding - dilation * (k - 1) - 1) / stride) + 1

So a 3x3 convolution without padding shrinks 28 to 26: the kernel's centre
never reaches the border pixels.

Max pooling slides a window the same way but, instead of weights, keeps the
largest value in each window. With its default stride equal to the window
size the windows do not overlap, so ``MaxPool2d(2)`` halves each side (26 to
13, rounding down). Pooling makes the map smaller and the features a little
insensitive to small shifts.

Stack conv, ReLU, pool three times and a 28x28 digit becomes 128 channels of
1x1: each of the 128 numbers now "sees" the whole image. ``Flatten`` turns that
``(B, 128, 1, 1)`` block into ``(B, 128)`` for a final ``Linear`` to 10 logits.
``layer_shapes`` lets you watch the shapes change layer by layer.
"""

import torch
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """The side length of the output of ``nn.Conv2d`` along one dimension.

    Args:
        size: input side length (int), e.g. 28.
        kernel_size, stride, padding, dilation: ints, as for ``nn.Conv2d``.
    Returns:
        int: the number of positions where the (dilated) kernel fits.
    Hint: ``(size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1``;
    ``//`` on ints rounds down and stays an int.
    """
    # BEGIN SOLUTION
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    # END SOLUTION


def pool_output_size(size, kernel_size, stride=None, padding=0):
    """The side length of the output of ``nn.MaxPool2d`` along one dimension.

    Args:
        size: input side length (int).
        kernel_size: window size (int).
        stride: step between windows (int); None means ``kernel_size``, as in torch.
        padding: padding on each end (int).
    Returns:
        int, e.g. ``pool_output_size(26, 2) == 13``.
    Hint: the same counting as a convolution with dilation 1.
    """
    # BEGIN SOLUTION
    if stride is None:
        stride = kernel_size
    return (size + 2 * padding - kernel_size) // stride + 1
    # END SOLUTION


class Flatten(nn.Module):
    """Keep the batch dimension, flatten everything else into one.

    Shapes: ``(B, 1, 28, 28)`` -> ``(B, 784)``; ``(B, 128, 1, 1)`` -> ``(B, 128)``.
    Hint: ``x.reshape(x.shape[0], -1)``: the ``-1`` lets torch work out the
    product of all the other dimensions.
    """

    def forward(self, x):
        # BEGIN SOLUTION
        return x.reshape(x.shape[0], -1)
        # END SOLUTION


def create_conv_model():
    """A small convolutional network for MNIST.

    Layers, in order: Conv2d(1, 16, 3), ReLU, MaxPool2d(2), Conv2d(16, 64, 3),
    ReLU, MaxPool2d(2), Conv2d(64, 128, 3), ReLU, MaxPool2d(2), Flatten,
    Linear(128, 10).
    Returns:
        ``nn.Sequential``: ``(B, 1, 28, 28)`` images to ``(B, 10)`` logits.
    Hint: the sides go 28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1, so Flatten leaves
    128 numbers per image.
    """
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, 16, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        Flatten(),
        nn.Linear(128, 10),
    )
    # END SOLUTION


def layer_shapes(model, input_shape):
    """The output shape after each child of an ``nn.Sequential``.

    Args:
        model: an ``nn.Sequential`` (on the CPU).
        input_shape: tuple, e.g. ``(16, 1, 28, 28)``.
    Returns:
        list of tuples, one per child: the shape of that child's output when
        the model runs on ``torch.zeros(input_shape)``.
    Hint: iterate ``for layer in model``, feed each output to the next layer,
    record ``tuple(x.shape)``; ``torch.no_grad()`` saves the bookkeeping.
    """
    # BEGIN SOLUTION
    x = torch.zeros(input_shape)
    shapes = []
    with torch.no_grad():
        for layer in model:
            x = layer(x)
            shapes.append(tuple(x.shape))
    return shapes
    # END SOLUTION
