"""Step 05, written independently from STEPS.md (a second correct submission)."""

import torch


def _stable_lse(z):
    top = z.detach().amax(dim=1, keepdim=True)
    return (z - top).exp().sum(dim=1).log() + top.squeeze(1)


def cross_entropy(logits, y):
    target_logit = logits.gather(1, y.unsqueeze(1)).squeeze(1)
    losses = _stable_lse(logits) - target_logit
    return losses.sum() / len(losses)


def binary_cross_entropy(p, y, eps=1e-7):
    q = torch.clamp(p, min=eps, max=1.0 - eps)
    per_item = torch.where(y > 0.5, -torch.log(q), -torch.log1p(-q))
    return per_item.mean()


def mnist_loss(predictions, targets):
    s = 1.0 / (1.0 + torch.exp(-predictions))
    distance = torch.where(targets == 1, 1 - s, s)
    return distance.sum() / distance.numel()
