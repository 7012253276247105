from . import Bug

STEP = "step09_convolution_shapes"
BUGS = [
    Bug(
        STEP,
        "flatten-only-dims-1-and-2",
        "return x.reshape(x.shape[0], -1)",
        "return x.flatten(1, 2)",
    ),
    Bug(
        STEP,
        "conv-size-ignores-dilation",
        "return (size + 2 * padding - dilation * (kernel_size - 1) - 1)",
        "return (size + 2 * padding - (kernel_size - 1) - 1)",
    ),
    Bug(
        STEP,
        "conv-size-padding-on-one-side",
        "return (size + 2 * padding - dilation",
        "return (size + padding - dilation",
    ),
    Bug(
        STEP,
        "pool-stride-defaults-to-one",
        "        stride = kernel_size\n",
        "        stride = 1\n",
    ),
    Bug(
        STEP,
        "layer-shapes-record-the-input",
        "            x = layer(x)\n            shapes.append(tuple(x.shape))",
        "            shapes.append(tuple(x.shape))\n            x = layer(x)",
    ),
]
