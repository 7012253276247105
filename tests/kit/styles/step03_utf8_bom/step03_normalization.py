# Saved by an editor that writes a UTF-8 byte order mark: Größe, naïve, ½.
"""Step 03 written plainly: max trick, exp, sum."""
import torch


def normalize(a):
    return a / a.sum(-1, keepdim=True)


def softmax(x):
    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1, keepdim=True)


def logsumexp(x):
    m = x.max(dim=-1, keepdim=True).values
    return m + torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True))


def log_softmax(x):
    return x - logsumexp(x)
