from . import Mistake

STEP = "step05_cross_entropy"
CE = "return (torch.logsumexp(logits, dim=-1) - picked).mean()"
MISTAKES = [
    Mistake(
        STEP,
        "cross-entropy-sum-instead-of-mean",
        CE,
        "return (torch.logsumexp(logits, dim=-1) - picked).sum()",
        ("mean over the batch, not the sum",),
        ("minus",),
    ),
    Mistake(
        STEP,
        "cross-entropy-sign-swapped",
        CE,
        "return (picked - torch.logsumexp(logits, dim=-1)).mean()",
        ("minus",),
        ("sum",),
    ),
    Mistake(
        STEP,
        "cross-entropy-logsumexp-over-the-batch",
        CE,
        "return (torch.logsumexp(logits, dim=0) - picked).mean()",
        ("cross_entropy", "dim"),
    ),
    Mistake(
        STEP,
        "cross-entropy-indexing-with-colon",
        "picked = logits[torch.arange(len(y), device=y.device), y]",
        "picked = logits[:, y]",
        ("torch.arange",),
    ),
    Mistake(
        STEP,
        "cross-entropy-through-softmax-underflows",
        CE,
        "return -torch.log(torch.softmax(logits, dim=-1)[torch.arange(len(y)), y]).mean()",
        ("underflows",),
    ),
    Mistake(
        STEP,
        "bce-without-clamp",
        "    p = p.clamp(eps, 1 - eps)\n",
        "",
        ("clamp",),
    ),
    Mistake(
        STEP,
        "bce-clamps-only-from-below",
        "p = p.clamp(eps, 1 - eps)",
        "p = p.clamp(min=eps)",
        ("clamp",),
    ),
    Mistake(
        STEP,
        "bce-without-minus",
        "return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()",
        "return (y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()",
        ("minus",),
        ("sum",),
    ),
    Mistake(
        STEP,
        "bce-sum-instead-of-mean",
        "return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()",
        "return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).sum()",
        ("mean over the batch, not the sum",),
        ("minus",),
    ),
    Mistake(
        STEP,
        "mnist-loss-without-sigmoid",
        "p = torch.sigmoid(predictions)",
        "p = predictions",
        ("sigmoid",),
    ),
    Mistake(
        STEP,
        "mnist-loss-softmax-instead-of-sigmoid",
        "p = torch.sigmoid(predictions)",
        "p = torch.softmax(predictions, dim=0)",
        ("sigmoid",),
    ),
    Mistake(
        STEP,
        "mnist-loss-cases-swapped",
        "return torch.where(targets == 1, 1 - p, p)",
        "return torch.where(targets == 1, p, 1 - p)",
        ("1 - sigmoid where the target is 1",),
    ),
]
