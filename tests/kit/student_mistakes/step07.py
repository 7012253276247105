from . import Mistake

STEP = "step07_train_loop"
MISTAKES = [
    Mistake(
        STEP,
        "train-without-zero-grad",
        "        optimizer.step()\n        optimizer.zero_grad()\n        if step",
        "        optimizer.step()\n        if step",
        ("zero_grad",),
    ),
    Mistake(
        STEP,
        "train-without-optimizer-step",
        "        optimizer.step()\n        optimizer.zero_grad()\n        if step",
        "        optimizer.zero_grad()\n        if step",
        ("optimizer.step()",),
    ),
    Mistake(
        STEP,
        "train-ignores-the-seed",
        "        torch.manual_seed(seed)\n    model = create_model(Nhidden)",
        "        pass\n    model = create_model(Nhidden)",
        ("torch.manual_seed(seed)",),
    ),
    Mistake(
        STEP,
        "train-prints-every-step",
        "if step % log_every == 0:",
        "if True:",
        ("3 times",),
    ),
    Mistake(
        STEP,
        "sgd-step-without-no-grad",
        "    with torch.no_grad():\n        for p in params:",
        "    if True:\n        for p in params:",
        ("torch.no_grad()",),
    ),
    Mistake(
        STEP,
        "sgd-step-rebinds-instead-of-in-place",
        "            p -= lr * p.grad\n",
        "            p = p - lr * p.grad\n",
        ("in place",),
    ),
    Mistake(
        STEP,
        "sgd-step-keeps-the-gradients",
        "            p.grad.zero_()",
        "            pass",
        ("zero the gradients",),
    ),
    Mistake(
        STEP,
        "sgd-step-loops-over-params-twice",
        "            p -= lr * p.grad\n            p.grad.zero_()",
        "            p -= lr * p.grad\n        for p in params:\n            p.grad.zero_()",
        ("generator",),
    ),
    Mistake(
        STEP,
        "fit-returns-loss-tensors",
        "total += loss.item() * len(idx)",
        "total += loss * len(idx)",
        ("Python float",),
    ),
    Mistake(
        STEP,
        "fit-trains-a-copy",
        "    model.to(device)\n    model.train()",
        "    import copy\n\n    model = copy.deepcopy(model).to(device)\n    model.train()",
        ("in place",),
    ),
]
