from . import Mistake

STEP = "step12_toy_problems"
MISTAKES = [
    Mistake(
        STEP,
        "binary-labels-not-alternating",
        "target = np.tile([0, 1], N_examples)",
        "target = np.repeat([0, 1], N_examples)",
        ("alternate",),
    ),
    Mistake(
        STEP,
        "binary-angle-half-circle",
        "angle = rng.uniform(0, 2 * np.pi, 2 * N_examples)",
        "angle = rng.uniform(0, np.pi, 2 * N_examples)",
        ("[0, 2 pi)",),
    ),
    Mistake(
        STEP,
        "binary-ring-too-small",
        "rng.uniform(3, 4, N_examples)",
        "rng.uniform(2, 3, N_examples)",
        ("[3, 4)",),
    ),
    Mistake(
        STEP,
        "binary-ignores-the-seed",
        "rng = np.random.default_rng(seed)\n    radius",
        "rng = np.random.default_rng()\n    radius",
        ("same seed",),
    ),
    Mistake(
        STEP,
        "regression-x-by-linspace",
        "    x = np.arange(-L, L, stepsize)\n",
        "    x = np.linspace(-L, L, int(2 * L / stepsize))\n",
        ("np.arange",),
    ),
    Mistake(
        STEP,
        "regression-exp-sign",
        "np.exp(-x / 8)",
        "np.exp(x / 8)",
        ("exp(-x / 8)",),
    ),
    Mistake(
        STEP,
        "train-model-ignores-the-criterion",
        "    if criterion is None:\n        criterion = nn.BCELoss()",
        "    criterion = nn.BCELoss()",
        ("criterion",),
    ),
    Mistake(
        STEP,
        "train-model-without-optimizer-step",
        "        loss.backward()\n        optimizer.step()",
        "        loss.backward()",
        ("optimizer.step()",),
    ),
]
