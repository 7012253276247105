"""Step 04 in other styles: eye rows, gather, a softmax helper of its own."""

import torch


def one_hot(y, num_classes=10):
    return torch.eye(num_classes, dtype=torch.int64)[y]


def _probs(x):
    e = (x - x.amax(dim=1, keepdim=True)).exp()
    return e / e.sum(1, keepdim=True)


def one_hot_loss(x, y):
    p = (_probs(x) * one_hot(y, x.shape[1])).sum(dim=1)
    return -p.log().mean()


def nll(log_probs, y):
    return -torch.gather(log_probs, 1, y.unsqueeze(1)).squeeze(1).mean()
