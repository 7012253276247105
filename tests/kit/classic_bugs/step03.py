from . import Bug

STEP = "step03_normalization"
BUGS = [
    Bug(
        STEP,
        "softmax-normalized-over-whole-batch",
        "return e / e.sum(dim=-1, keepdim=True)",
        "return e / e.sum()",
    ),
    Bug(
        STEP,
        "naive-softmax-overflows",
        "shifted = x - x.max(dim=-1, keepdim=True).values",
        "shifted = x",
    ),
    Bug(
        STEP,
        "softmax-by-calling-the-library",
        "    shifted = x - x.max(dim=-1, keepdim=True).values\n    e = torch.exp(shifted)\n"
        "    return e / e.sum(dim=-1, keepdim=True)",
        "    return torch.softmax(x, dim=-1)",
    ),
    Bug(
        STEP,
        "naive-log-softmax-overflows",
        "return x - logsumexp(x)",
        "return torch.log(torch.exp(x) / torch.exp(x).sum(-1, keepdim=True))",
    ),
    Bug(
        STEP,
        "softmax-looked-up-by-string",
        "    shifted = x - x.max(dim=-1, keepdim=True).values\n    e = torch.exp(shifted)\n"
        "    return e / e.sum(dim=-1, keepdim=True)",
        '    return getattr(torch, "soft" + "max")(x, dim=-1)',
    ),
    Bug(
        STEP,
        "logsumexp-redefined-later-by-the-library",
        "def log_softmax(x):",
        "logsumexp = lambda x: torch.logsumexp(x, dim=-1, keepdim=True)  # noqa: E731\n\n\n"
        "def log_softmax(x):",
    ),
]
