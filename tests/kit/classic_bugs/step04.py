from . import Bug

STEP = "step04_one_hot_loss"
BUGS = [
    Bug(
        STEP,
        "one-hot-loss-without-minus",
        "return -torch.log(p_label).mean()",
        "return torch.log(p_label).mean()",
    ),
    Bug(STEP, "nll-sum-instead-of-mean", "return -picked.mean()", "return -picked.sum()"),
    Bug(
        STEP,
        "nll-indexing-with-colon",
        "picked = log_probs[torch.arange(len(y), device=y.device), y]",
        "picked = log_probs[:, y]",
    ),
    Bug(
        STEP,
        "one-hot-ignores-num-classes",
        "out = torch.zeros(len(y), num_classes, device=y.device)",
        "out = torch.zeros(len(y), 10, device=y.device)",
    ),
    Bug(
        STEP,
        "nll-through-vars-of-functional",
        "    picked = log_probs[torch.arange(len(y), device=y.device), y]\n"
        "    return -picked.mean()",
        '    return vars(torch.nn.functional)["nll_loss"](log_probs, y)',
    ),
]
