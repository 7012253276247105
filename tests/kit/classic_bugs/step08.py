from . import Bug

STEP = "step08_accuracy"
BUGS = [
    Bug(STEP, "accuracy-as-a-count",
        "return (logits.argmax(dim=1) == y).float().mean().item()",
        "return (logits.argmax(dim=1) == y).sum().item()"),
    Bug(STEP, "predict-left-in-train-mode",
        "    model.eval()\n    device = next(model.parameters()).device\n",
        "    device = next(model.parameters()).device\n"),
]
