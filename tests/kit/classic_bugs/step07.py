from . import Bug

STEP = "step07_train_loop"
BUGS = [
    Bug(
        STEP,
        "sgd-step-that-keeps-its-gradients",
        "            p -= lr * p.grad\n            p.grad.zero_()\n",
        "            p -= lr * p.grad\n",
    ),
    # Right for a list, wrong for model.parameters(): a generator is empty the second time.
    Bug(
        STEP,
        "sgd-step-that-zeroes-in-a-second-loop",
        "            p -= lr * p.grad\n            p.grad.zero_()\n",
        "            p -= lr * p.grad\n"
        "        for p in params:\n"
        "            if p.grad is not None:\n"
        "                p.grad.zero_()\n",
    ),
]
