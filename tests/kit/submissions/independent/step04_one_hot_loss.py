"""Step 04, written independently from STEPS.md (a second correct submission)."""

import torch


def one_hot(y, num_classes=10):
    # Compare every label against every class index: broadcasting (N, 1) == (1, K).
    classes = torch.arange(num_classes, device=y.device)
    return (y.reshape(-1, 1) == classes.reshape(1, -1)).long()


def _pick(rows, y):
    return rows.gather(1, y.reshape(-1, 1)).squeeze(1)


def one_hot_loss(x, y):
    e = (x - x.amax(dim=1, keepdim=True)).exp()
    probs = e / e.sum(dim=1, keepdim=True)
    per_example = torch.einsum("nk,nk->n", probs, one_hot(y, x.size(1)).to(probs.dtype))
    return per_example.log().neg().sum() / x.size(0)


def nll(log_probs, y):
    n = y.shape[0]
    return _pick(log_probs, y).sum().neg() / n
