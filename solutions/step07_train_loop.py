"""Step 07: the training loop.

Training repeats four moves, one batch at a time:

1. forward: ``logits = model(X)`` runs the batch through the model;
2. loss: ``loss = F.cross_entropy(logits, y)`` measures how wrong it was
   (one number, the mean over the batch; step 05);
3. backward: ``loss.backward()`` lets autograd compute, for every parameter
   ``p``, the gradient ``p.grad``: how the loss changes when ``p`` grows;
4. step: move every parameter a little against its gradient, downhill.
   Plain gradient descent (SGD) does ``p -= lr * p.grad``; Adam does the same
   with a step size tuned per parameter from the gradients seen so far.

Then we zero the gradients. ``backward()`` does not overwrite ``p.grad``, it
*adds* to it (so that gradients of several losses can be summed). Without the
reset, every step would use the sum of all gradients since the start, and the
steps would grow and point the wrong way. ``optimizer.zero_grad()`` resets
them for us; in a hand-written update we call ``p.grad.zero_()``.

The hand-written update is itself a computation on tensors that require
gradients. Autograd would record it, as if the update were part of the model,
and it refuses in-place changes to such leaf tensors anyway. Inside
``with torch.no_grad():`` nothing is recorded: the parameters change in place
and stay plain leaves of the next forward pass.

``train`` draws a fresh random batch every step; ``fit`` instead walks through
a fixed data set in epochs, in a new random order every epoch, so that the
batches differ from one epoch to the next and the model never learns the
order itself.
"""

import torch
import torch.nn.functional as F

from .mnist import get_random_batch
from .step06_create_model import create_model


def pick_device(device=None):
    """``device`` as given, or CUDA when it is available, else the CPU."""
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def train(Nhidden=200, Nsteps=300, lr=1e-3, batch_size=200, device=None, seed=None, log_every=50):
    """Train ``create_model(Nhidden)`` on random MNIST batches with Adam.

    Args:
        Nhidden: hidden units of the model (step 06's ``create_model``).
        Nsteps: how many optimizer steps, each on a fresh batch from
            ``get_random_batch(batch_size)``.
        lr: Adam's learning rate.
        batch_size: examples per step.
        device: where to train; None means CUDA if available, else the CPU
            (``pick_device``).
        seed: when given, ``torch.manual_seed(seed)`` first, so the same seed
            gives the same model.
        log_every: print the step number and the loss every ``log_every`` steps.
    Returns:
        the trained model (on ``device``); with the defaults it classifies at
        least 90% of the MNIST test set correctly.
    Hint: forward, ``F.cross_entropy``, ``loss.backward()``,
    ``optimizer.step()``, ``optimizer.zero_grad()``; print ``loss.item()``.
    """
    # BEGIN SOLUTION
    device = pick_device(device)
    if seed is not None:
        torch.manual_seed(seed)
    model = create_model(Nhidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(Nsteps):
        X, y = get_random_batch(batch_size)
        X, y = X.to(device), y.to(device)
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % log_every == 0:
            print(f"step {step:5d}   loss {loss.item():.4f}")
    return model
    # END SOLUTION


def sgd_step(params, lr):
    """One step of plain gradient descent, by hand, then zero the gradients.

    Args:
        params: an iterable of parameters (``model.parameters()`` or a list of
            leaf tensors with ``requires_grad=True``) whose ``.grad`` is filled.
        lr: the learning rate.
    Returns:
        None; every ``p`` becomes ``p - lr * p.grad`` in place, stays a leaf
        tensor that requires grad, and its ``p.grad`` is zero afterwards.
    Hint: loop once over ``params`` inside ``with torch.no_grad():``
    (``params`` may be a generator, which can be read only once); use ``-=``
    and ``p.grad.zero_()``. Skip parameters whose ``grad`` is None.
    """
    # BEGIN SOLUTION
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * p.grad
            p.grad.zero_()
    # END SOLUTION


def fit(model, X, y, epochs=1, batch_size=64, lr=1e-3, device=None, seed=None):
    """Train ``model`` on ``(X, y)`` in minibatches with Adam and cross-entropy.

    Args:
        model: any classifier mapping ``(B, D)`` to ``(B, K)`` logits; trained
            in place and moved to ``device``.
        X: ``(N, D)`` inputs; y: ``(N,)`` int64 labels.
        epochs: passes over the data; each pass visits every example once, in
            a new random order (``torch.randperm(N)``).
        batch_size: examples per step (the last batch may be smaller).
        lr: Adam's learning rate.
        device, seed: as in :func:`train`.
    Returns:
        a list of ``epochs`` Python floats: the mean training loss over the
        examples of each epoch.
    Hint: index ``X`` and ``y`` with slices of the permutation; add up
    ``loss.item() * len(batch)`` and divide by ``N`` at the end of the epoch.
    """
    # BEGIN SOLUTION
    device = pick_device(device)
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            xb, yb = X[idx].to(device), y[idx].to(device)
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
    return losses
    # END SOLUTION
