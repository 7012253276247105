from . import Bug

STEP = "step12_toy_problems"
BUGS = [
    Bug(
        STEP,
        "binary-data-in-two-blocks-not-alternating",
        "    radius[0::2] = rng.uniform(0, 1, N_examples)  # class 0: the inner disc\n"
        "    radius[1::2] = rng.uniform(3, 4, N_examples)  # class 1: the outer ring\n"
        "    angle = rng.uniform(0, 2 * np.pi, 2 * N_examples)\n"
        "    features = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)\n"
        "    target = np.tile([0, 1], N_examples)\n",
        "    radius[:N_examples] = rng.uniform(0, 1, N_examples)\n"
        "    radius[N_examples:] = rng.uniform(3, 4, N_examples)\n"
        "    angle = rng.uniform(0, 2 * np.pi, 2 * N_examples)\n"
        "    features = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)\n"
        "    target = np.repeat([0, 1], N_examples)\n",
    ),
    Bug(
        STEP,
        "angle-only-over-half-a-circle",
        "angle = rng.uniform(0, 2 * np.pi, 2 * N_examples)",
        "angle = rng.uniform(0, np.pi, 2 * N_examples)",
    ),
    Bug(
        STEP,
        "outer-radius-scaled-instead-of-shifted",
        "radius[1::2] = rng.uniform(3, 4, N_examples)",
        "radius[1::2] = 4 * rng.uniform(0, 1, N_examples)",
    ),
    Bug(
        STEP,
        "seed-ignored",
        "    rng = np.random.default_rng(seed)\n",
        "    rng = np.random.default_rng()\n",
    ),
    Bug(
        STEP,
        "damped-sine-grows-instead",
        "y = np.sin(3 * x) * np.exp(-x / 8)",
        "y = np.sin(3 * x) * np.exp(x / 8)",
    ),
    Bug(STEP, "default-criterion-is-mse", "criterion = nn.BCELoss()", "criterion = nn.MSELoss()"),
    Bug(
        STEP,
        "given-criterion-ignored",
        "loss = criterion(out, y.view_as(out))",
        "loss = nn.BCELoss()(out, y.view_as(out))",
    ),
    Bug(
        STEP, "shuffle-moves-features-but-not-targets", "X, y = X[order], y[order]", "X = X[order]"
    ),
    Bug(STEP, "gradients-never-zeroed", "        optimizer.zero_grad()\n", ""),
    Bug(
        STEP,
        "model-turned-float64",
        "    model = model.to(device)\n"
        "    X = torch.as_tensor(features, dtype=torch.float32).to(device)\n"
        "    y = torch.as_tensor(target, dtype=torch.float32).to(device)\n",
        "    model = model.to(device, torch.float64)\n"
        "    X = torch.as_tensor(features, dtype=torch.float64).to(device)\n"
        "    y = torch.as_tensor(target, dtype=torch.float64).to(device)\n",
    ),
]
