from . import Mistake

STEP = "step04_one_hot_loss"
MISTAKES = [
    Mistake(
        STEP,
        "one-hot-ignores-num-classes",
        "out = torch.zeros(len(y), num_classes, device=y.device)",
        "out = torch.zeros(len(y), 10, device=y.device)",
        ("num_classes",),
    ),
    Mistake(
        STEP,
        "one-hot-returns-numpy",
        "    out[torch.arange(len(y), device=y.device), y] = 1\n    return out",
        "    out[torch.arange(len(y), device=y.device), y] = 1\n    return out.numpy()",
        ("torch.Tensor", "ndarray"),
    ),
    Mistake(
        STEP,
        "one-hot-loss-without-minus",
        "return -torch.log(p_label).mean()",
        "return torch.log(p_label).mean()",
        ("minus",),
        ("sum",),
    ),
    Mistake(
        STEP,
        "one-hot-loss-sum-instead-of-mean",
        "return -torch.log(p_label).mean()",
        "return -torch.log(p_label).sum()",
        ("mean over the batch, not the sum",),
        ("minus",),
    ),
    Mistake(
        STEP,
        "one-hot-loss-softmax-over-the-batch",
        "p = torch.softmax(x, dim=-1)",
        "p = torch.softmax(x, dim=0)",
        ("each row",),
        ("minus",),
    ),
    Mistake(
        STEP,
        "nll-indexing-with-colon",
        "picked = log_probs[torch.arange(len(y), device=y.device), y]",
        "picked = log_probs[:, y]",
        ("log_probs[:, y]", "torch.arange"),
        ("minus", "sum"),
    ),
    Mistake(
        STEP,
        "nll-sum-instead-of-mean",
        "return -picked.mean()",
        "return -picked.sum()",
        ("mean over the batch, not the sum",),
        ("minus", "[:, y]"),
    ),
    Mistake(
        STEP,
        "nll-without-minus",
        "return -picked.mean()",
        "return picked.mean()",
        ("minus",),
        ("sum", "[:, y]"),
    ),
    Mistake(
        STEP,
        "nll-returns-a-python-float",
        "return -picked.mean()",
        "return -picked.mean().item()",
        ("scalar tensor", "float"),
    ),
]
