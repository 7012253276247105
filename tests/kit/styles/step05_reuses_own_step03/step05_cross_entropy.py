"""Step 05 reusing the student's own step 03 (by name and as a module)."""

import torch

from . import step03_normalization as s3
from .step03_normalization import log_softmax


def cross_entropy(logits, y):
    picked = log_softmax(logits)[torch.arange(len(y)), y]
    check = s3.logsumexp(logits)[:, 0] - logits.gather(1, y[:, None])[:, 0]
    return (-picked).mean() + 0 * check.mean()


def binary_cross_entropy(p, y, eps=1e-7):
    p = torch.clamp(p, min=eps, max=1 - eps)
    return torch.mean(-(y * p.log() + (1 - y) * (1 - p).log()))


def mnist_loss(predictions, targets):
    p = predictions.sigmoid()
    return torch.where(targets == 1, 1 - p, p).mean()
