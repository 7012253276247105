"""Operations the hidden tests run next to the submission's code.

Some judgements need autograd or a training loop on the submission's own
objects: a gradient cannot cross a process boundary, a model can only be
called there. These few kit functions run wherever the submission runs (in
the test process for the direct fixture, inside the worker for the sandboxed
one) and return plain data, which the hidden test then judges.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def grad_of(function, args, kwargs=None, weight=None):
    """Call ``function(*args, **kwargs)``; return ``(output, grads)``.

    ``grads`` has one entry per tensor argument that requires grad: the
    gradient of ``(output * weight).sum()`` (of ``output`` itself when no weight
    is given) with respect to it, or None where none reaches it. ``grads`` is
    None when the output is not a tensor connected to autograd.
    """
    output = function(*args, **(kwargs or {}))
    inputs = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        return output, None
    target = output if weight is None else output * weight.to(output.dtype)
    grads = torch.autograd.grad(target.sum(), inputs, allow_unused=True)
    return output.detach(), tuple(grads)


def module_grads(module, args, weight=None):
    """Gradients of a module's output by parameter name (None where none reaches).

    The target is ``(output * weight).sum()``; for a module returning a tuple,
    ``weight`` may be a tuple with one weight per output (the terms are added).
    """
    module.zero_grad(set_to_none=True)
    output = module(*args)
    outputs = output if isinstance(output, tuple) else (output,)
    weights = weight if isinstance(weight, tuple) else (weight,)
    terms = [
        o if w is None else o * w.to(o.dtype)
        for o, w in zip(outputs, weights, strict=False)
        if isinstance(o, torch.Tensor) and o.requires_grad
    ]
    if terms:
        sum(t.sum() for t in terms).backward()
    return {
        name: None if p.grad is None else p.grad.detach().clone()
        for name, p in module.named_parameters()
    }


def train_classifier(model, X, y, epochs=1, batch_size=64, lr=1e-3, seed=0, device="cpu"):
    """A plain Adam + cross-entropy loop (the kit's, not the student's); returns epoch losses."""
    torch.manual_seed(seed)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(model(X[idx].to(device)), y[idx].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
    model.to("cpu")
    return losses
