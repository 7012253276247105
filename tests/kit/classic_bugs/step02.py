from . import Bug

STEP = "step02_exp_positivity"
BUGS = [
    Bug(
        STEP,
        "exp-through-numpy",
        "    return torch.exp(x)\n",
        "    import numpy as np\n\n    return np.exp(x)\n",
    ),
    Bug(
        STEP,
        "exp-through-numpy-detached",
        "    return torch.exp(x)\n",
        "    import numpy as np\n\n    return torch.from_numpy(np.exp(x.detach().numpy()))\n",
    ),
    Bug(
        STEP,
        "exp-returns-ndarray",
        "    return torch.exp(x)\n",
        "    import numpy as np\n\n    return np.exp(x.detach().numpy())\n",
    ),
    Bug(STEP, "square-instead-of-exp", "    return torch.exp(x)\n", "    return x**2\n"),
    Bug(
        STEP,
        "arange-instead-of-linspace",
        "x = torch.linspace(lo, hi, steps)\n",
        "x = torch.arange(lo, hi, (hi - lo) / steps)\n",
    ),
    Bug(STEP, "plot-exp-calls-show", "    return fig\n", "    plt.show()\n    return fig\n"),
]
