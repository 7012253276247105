from . import Mistake

STEP = "step09_convolution_shapes"
CONV = "return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1"
MISTAKES = [
    Mistake(
        STEP,
        "conv-size-ignores-dilation",
        CONV,
        "return (size + 2 * padding - kernel_size) // stride + 1",
        ("dilation",),
    ),
    Mistake(
        STEP,
        "conv-size-pads-one-side",
        CONV,
        "return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1",
        ("padding 2 on each side",),
    ),
    Mistake(
        STEP,
        "conv-size-true-division",
        CONV,
        "return (size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1",
        ("an int",),
    ),
    Mistake(
        STEP,
        "pool-stride-defaults-to-one",
        "stride = kernel_size",
        "stride = 1",
        ("stride defaults to the kernel size",),
    ),
    Mistake(
        STEP,
        "flatten-everything",
        "return x.reshape(x.shape[0], -1)",
        "return x.reshape(-1)",
        ("keep", "dimension 0"),
    ),
    Mistake(
        STEP,
        "flatten-to-784",
        "return x.reshape(x.shape[0], -1)",
        "return x.view(-1, 784)",
        ("Flatten()", "dimension 0"),
    ),
    Mistake(
        STEP,
        "flatten-by-squeeze",
        "return x.reshape(x.shape[0], -1)",
        "return x.squeeze()",
        ("Flatten()", "dimension 0"),
    ),
    Mistake(
        STEP,
        "conv-model-misses-the-last-pool",
        "        nn.MaxPool2d(2),\n        Flatten(),",
        "        Flatten(),",
        ("create_conv_model()", "layer_shapes"),
    ),
]
