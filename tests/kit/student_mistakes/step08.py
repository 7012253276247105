from . import Mistake

STEP = "step08_accuracy"
MISTAKES = [
    Mistake(
        STEP,
        "accuracy-returns-a-tensor",
        "return (logits.argmax(dim=1) == y).float().mean().item()",
        "return (logits.argmax(dim=1) == y).float().mean()",
        ("Python float",),
    ),
    Mistake(
        STEP,
        "accuracy-argmax-over-the-batch",
        "return (logits.argmax(dim=1) == y).float().mean().item()",
        "return (logits.argmax(dim=0) == y).float().mean().item()",
        ("argmax", "dim=1"),
    ),
    Mistake(
        STEP,
        "accuracy-counts-instead-of-fraction",
        "return (logits.argmax(dim=1) == y).float().mean().item()",
        "return (logits.argmax(dim=1) == y).float().sum().item()",
        ("fraction",),
    ),
    Mistake(
        STEP,
        "predict-without-eval",
        "    model.eval()\n    device",
        "    device",
        ("model.eval()",),
    ),
    Mistake(
        STEP,
        "predict-does-not-restore-the-mode",
        "    model.train(was_training)\n",
        "",
        ("back in train mode",),
    ),
    Mistake(
        STEP,
        "predict-always-leaves-train-mode",
        "    model.train(was_training)\n",
        "    model.train()\n",
        ("eval mode",),
    ),
    Mistake(
        STEP,
        "predict-without-no-grad",
        "    with torch.no_grad():\n        for start",
        "    if True:\n        for start",
        ("torch.no_grad()",),
    ),
    Mistake(
        STEP,
        "predict-argmax-over-the-batch",
        "labels.append(logits.argmax(dim=1).cpu())",
        "labels.append(logits.argmax(dim=0).cpu())",
        ("(30,)", "dim=1"),
    ),
    Mistake(
        STEP,
        "class-means-over-the-pixels",
        "X[y == k].mean(dim=0)",
        "X[y == k].mean(dim=1)",
        ("class_mean_images", "dim=0"),
    ),
    Mistake(
        STEP,
        "mean-image-predict-farthest",
        "(diff**2).sum(dim=2).argmin(dim=1)",
        "(diff**2).sum(dim=2).argmax(dim=1)",
        ("nearest",),
    ),
    Mistake(
        STEP,
        "stderr-divides-after-the-root",
        "math.sqrt(acc * (1 - acc) / n)",
        "math.sqrt(acc * (1 - acc)) / n",
        ("sqrt(0.9 * 0.1 / 100)",),
    ),
    Mistake(
        STEP,
        "stderr-returns-a-tensor",
        "return math.sqrt(acc * (1 - acc) / n)",
        "return torch.sqrt(torch.tensor(acc * (1 - acc) / n))",
        ("Python float",),
    ),
]
