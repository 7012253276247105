from . import Bug

STEP = "step13_init_and_regularization"
BUGS = [
    Bug(
        STEP,
        "xavier-uniform-instead-of-normal",
        "nn.init.xavier_normal_(self.W_1)",
        "nn.init.xavier_uniform_(self.W_1)",
    ),
    Bug(
        STEP,
        "default-activation-relu-not-elu",
        "self.activation = nn.ELU() if activation is None else activation",
        "self.activation = nn.ReLU() if activation is None else activation",
    ),
    Bug(
        STEP,
        "kaiming-init-that-keeps-the-biases",
        '        elif name.endswith("bias"):\n            nn.init.zeros_(p)\n',
        "",
    ),
    Bug(
        STEP,
        "kaiming-init-with-fan-out",
        "nn.init.kaiming_normal_(p)",
        'nn.init.kaiming_normal_(p, mode="fan_out")',
    ),
    Bug(STEP, "dropout-rate-hard-coded", "nn.Dropout(dropout)", "nn.Dropout(0.5)"),
    Bug(
        STEP,
        "batchnorm-flag-ignored",
        "        if batchnorm:\n            layers.append",
        "        if True:\n            layers.append",
    ),
    Bug(
        STEP,
        "batchnorm-after-the-relu",
        "        if batchnorm:\n"
        "            layers.append(nn.BatchNorm1d(num_hidden))\n"
        "        layers += [nn.ReLU(), nn.Dropout(dropout)",
        "        layers.append(nn.ReLU())\n"
        "        if batchnorm:\n"
        "            layers.append(nn.BatchNorm1d(num_hidden))\n"
        "        layers += [nn.Dropout(dropout)",
    ),
    Bug(
        STEP,
        "sgd-with-momentum",
        "return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)",
        "return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)",
    ),
    Bug(
        STEP,
        "momentum-value-ignored",
        "momentum=momentum, weight_decay",
        "momentum=0.9, weight_decay",
    ),
    Bug(
        STEP,
        "rmsprop-gives-adam",
        "return torch.optim.RMSprop(params",
        "return torch.optim.Adam(params",
    ),
    Bug(
        STEP,
        "adam-without-weight-decay",
        "torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)",
        "torch.optim.Adam(params, lr=lr)",
    ),
    Bug(
        STEP,
        "an-optimizer-factory-that-accepts-unknown-kinds",
        "    raise ValueError(\n"
        "        f\"unknown optimizer kind {kind!r}; choose 'sgd', 'momentum', 'adam' "
        "or 'rmsprop'\"\n"
        "    )\n",
        "    return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)\n",
    ),
    Bug(
        STEP,
        "value-error-without-the-choices",
        "    raise ValueError(\n"
        "        f\"unknown optimizer kind {kind!r}; choose 'sgd', 'momentum', 'adam' "
        "or 'rmsprop'\"\n"
        "    )\n",
        '    raise ValueError(f"unknown optimizer kind {kind!r}")\n',
    ),
    Bug(STEP, "accuracy-measured-in-train-mode", "        net.eval()\n", ""),
    Bug(STEP, "train-mode-never-restored", "        net.train()\n", ""),
    Bug(
        STEP,
        "own-optimizer-instead-of-the-given-one",
        '    history = {"train_loss"',
        '    optimizer = torch.optim.Adam(net.parameters())\n    history = {"train_loss"',
    ),
    Bug(
        STEP,
        "batch-size-ignored",
        "        for start in range(0, len(x_train), batch_size):\n"
        "            idx = order[start : start + batch_size]\n",
        "        for start in range(0, len(x_train), 100):\n"
        "            idx = order[start : start + 100]\n",
    ),
    Bug(STEP, "plot-without-legend", "    ax.legend()\n", ""),
    Bug(
        STEP,
        "epochs-in-the-stored-order",
        "order = torch.randperm(len(x_train))",
        "order = torch.arange(len(x_train))",
    ),
    Bug(
        STEP,
        "shuffled-once-for-all-epochs",
        "    for _ in range(epochs):\n        net.train()\n"
        "        order = torch.randperm(len(x_train))\n",
        "    order = torch.randperm(len(x_train))\n"
        "    for _ in range(epochs):\n        net.train()\n",
    ),
    Bug(
        STEP,
        "last-partial-batch-dropped",
        "        for start in range(0, len(x_train), batch_size):\n",
        "        for start in range(0, len(x_train) - batch_size + 1, batch_size):\n",
    ),
    Bug(
        STEP,
        "train-loss-of-the-last-batch-only",
        'history["train_loss"].append(sum(losses) / len(losses))',
        'history["train_loss"].append(losses[-1])',
    ),
]
