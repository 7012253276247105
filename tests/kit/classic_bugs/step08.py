from . import Bug

STEP = "step08_accuracy"
BUGS = [
    Bug(
        STEP,
        "accuracy-as-a-count",
        "return (logits.argmax(dim=1) == y).float().mean().item()",
        "return (logits.argmax(dim=1) == y).sum().item()",
    ),
    Bug(
        STEP,
        "predict-left-in-train-mode",
        "    model.eval()\n    device = next(model.parameters()).device\n",
        "    device = next(model.parameters()).device\n",
    ),
    Bug(
        STEP,
        "predict-records-gradients",
        "    with torch.no_grad():\n        for start in range(0, len(X), batch_size):",
        "    if True:\n        for start in range(0, len(X), batch_size):",
    ),
    Bug(
        STEP,
        "mean-image-predict-loops-over-images",
        "    diff = X[:, None, :] - means[None, :, :]\n"
        "    return (diff**2).sum(dim=2).argmin(dim=1)",
        "    return torch.stack([((x - means) ** 2).sum(dim=1).argmin() for x in X])",
    ),
]
