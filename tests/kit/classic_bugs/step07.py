from . import Bug

STEP = "step07_train_loop"
BUGS = [
    Bug(STEP, "sgd-step-that-keeps-its-gradients",
        "            p -= lr * p.grad\n            p.grad.zero_()\n",
        "            p -= lr * p.grad\n"),
]
