from . import Mistake

STEP = "step02_exp_positivity"
MISTAKES = [
    Mistake(
        STEP,
        "positive-through-numpy",
        "    return torch.exp(x)",
        "    import numpy as np\n\n    return np.exp(x.detach().numpy())",
        ("torch tensor", "ndarray"),
    ),
    Mistake(
        STEP,
        "positive-detached-by-torch-tensor",
        "    return torch.exp(x)",
        "    return torch.tensor(torch.exp(x).tolist())",
        ("connected to x in autograd",),
    ),
    Mistake(
        STEP, "positive-squares", "    return torch.exp(x)", "    return x**2", ("exp of each",)
    ),
    Mistake(
        STEP,
        "plot-exp-fixed-steps",
        "    x = torch.linspace(lo, hi, steps)\n",
        "    x = torch.linspace(lo, hi, 100)\n",
        ("torch.linspace(lo, hi, steps)",),
    ),
    Mistake(
        STEP,
        "plot-exp-shows-instead-of-returning",
        "    return fig",
        "    plt.show()",
        ("plot_exp should return the matplotlib Figure",),
    ),
    Mistake(
        STEP,
        "positive-numpy-on-a-tensor-that-requires-grad",
        "    return torch.exp(x)",
        "    import numpy as np\n\n    return torch.from_numpy(np.exp(x.numpy()))",
        ("use torch.exp, not numpy",),
    ),
]
