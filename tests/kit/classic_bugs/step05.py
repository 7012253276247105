from . import Bug

STEP = "step05_cross_entropy"
BUGS = [
    Bug(
        STEP,
        "cross-entropy-through-one-hot-formula",
        "    picked = logits[torch.arange(len(y), device=y.device), y]\n"
        "    return (torch.logsumexp(logits, dim=-1) - picked).mean()",
        "    p = torch.softmax(logits, dim=-1)\n"
        "    onehot = torch.zeros_like(p)\n"
        "    onehot[torch.arange(len(y)), y] = 1\n"
        "    return -torch.log((p * onehot).sum(dim=-1)).mean()",
    ),
    Bug(
        STEP,
        "cross-entropy-naive-logsumexp",
        "(torch.logsumexp(logits, dim=-1) - picked)",
        "(torch.log(torch.exp(logits).sum(dim=-1)) - picked)",
    ),
    Bug(STEP, "bce-without-clamping", "    p = p.clamp(eps, 1 - eps)\n", ""),
    Bug(STEP, "bce-ignores-eps", "p = p.clamp(eps, 1 - eps)", "p = p.clamp(1e-7, 1 - 1e-7)"),
    Bug(
        STEP,
        "mnist-loss-branches-swapped",
        "return torch.where(targets == 1, 1 - p, p)",
        "return torch.where(targets == 1, p, 1 - p)",
    ),
    Bug(
        STEP,
        "cross-entropy-rebound-to-the-library",
        "def binary_cross_entropy(",
        "cross_entropy = torch.nn.functional.cross_entropy\n\n\ndef binary_cross_entropy(",
    ),
]
