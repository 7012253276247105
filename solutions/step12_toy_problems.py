"""Step 12: toy problems you can see, and one training function for both.

Two data sets small enough to draw. The first is two rings in the plane:
class 0 fills the disc of radius 1 around the origin, class 1 the ring between
radius 3 and 4. No straight line separates them, so a single linear layer
(logistic regression) cannot. One hidden layer of three sigmoid units can, and
it is worth seeing why. Each hidden unit computes ``sigmoid(w . x + b)``: it is
close to 1 on one side of the line ``w . x + b = 0`` and close to 0 on the
other, so each unit draws one line. Three lines bound a triangle; if the
triangle sits between the inner disc and the outer ring, "inside all three
lines" is exactly class 0. The output unit combines the three half-planes with
its own weights and a sigmoid, which gives a probability between 0 and 1.
Two hidden units give only two lines, which bound no closed region: try it.

Because the output is already a probability (a sigmoid), the loss is the
binary cross-entropy ``nn.BCELoss`` on probabilities (not
``nn.BCEWithLogitsLoss``, which expects logits and applies the sigmoid
itself). The targets are 0.0 and 1.0 as floats, shaped like the output.

The second data set is a regression: the damped sine ``y = sin(3x) exp(-x/8)``
on a grid of x. The same training function fits it with a small MLP and
``nn.MSELoss``: only the model and the criterion change.

With a few thousand examples there is no need for minibatches: every epoch
uses the whole data set at once ("full-batch" training), so one epoch is one
Adam step on the exact gradient of the mean loss. Shuffling the order of the
examples then changes nothing but the order of a sum; shuffle features and
targets with the same permutation, or the pairs fall apart.
"""

import numpy as np
import torch
from torch import nn


def generate_binary_data(N_examples=1000, seed=None):
    """Two classes in the plane: a disc of radius 1 and a ring from radius 3 to 4.

    Args:
        N_examples: how many points of each class.
        seed: seed of the numpy random generator (None: a different draw each call).
    Returns:
        ``(features, target)``, numpy arrays of shapes ``(2 * N_examples, 2)`` and
        ``(2 * N_examples,)``. Row ``2i`` is a class 0 point (radius uniform in
        ``[0, 1)``), row ``2i + 1`` a class 1 point (radius uniform in ``[3, 4)``);
        every angle is uniform in ``[0, 2 pi)``; so ``target`` is 0, 1, 0, 1, ...
    Hint: ``rng = np.random.default_rng(seed)``; a point at radius r and angle t
    is ``(r cos t, r sin t)``; ``radius[0::2] = ...`` fills the even rows.
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    radius = np.empty(2 * N_examples)
    radius[0::2] = rng.uniform(0, 1, N_examples)  # class 0: the inner disc
    radius[1::2] = rng.uniform(3, 4, N_examples)  # class 1: the outer ring
    angle = rng.uniform(0, 2 * np.pi, 2 * N_examples)
    features = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    target = np.tile([0, 1], N_examples)
    return features, target
    # END SOLUTION


def generate_regression_data(L=10, stepsize=0.1):
    """A damped sine on a grid.

    Args:
        L: the grid runs from ``-L`` up to (not including) ``L``.
        stepsize: the spacing of the grid.
    Returns:
        ``(x, y)``, 1-D numpy arrays of the same length:
        ``x = np.arange(-L, L, stepsize)`` and ``y = sin(3x) * exp(-x / 8)``.
    """
    # BEGIN SOLUTION
    x = np.arange(-L, L, stepsize)
    y = np.sin(3 * x) * np.exp(-x / 8)
    return x, y
    # END SOLUTION


def train_model(
    features, target, model, lr, N_epochs, criterion=None, shuffle=False, device=None, seed=None
):
    """Full-batch training with Adam: one step per epoch on the whole data set.

    Args:
        features: ``(N, F)`` numpy array or tensor (any numeric dtype).
        target: ``(N,)`` or the model output's shape, e.g. ``(N, 1)``; 0/1 labels
            for classification, numbers for regression.
        model: an ``nn.Module`` mapping ``(N, F)`` to its output; trained in place.
        lr: Adam's learning rate.  N_epochs: how many steps (one per epoch).
        criterion: the loss; None means ``nn.BCELoss()`` (the model outputs probabilities).
        shuffle: reorder the examples (features and targets alike) every epoch.
        device: None means CUDA if available, else the CPU.
        seed: when given, ``torch.manual_seed(seed)`` first.
    Returns:
        the trained model, moved back to the CPU.
    Hint: ``torch.as_tensor(features, dtype=torch.float32)`` turns numpy into a float
    tensor; reshape the target like the output (``y.view_as(out)``) before the loss;
    each epoch: ``zero_grad``, forward, loss, ``backward``, ``step``.
    """
    # BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if criterion is None:
        criterion = nn.BCELoss()
    model = model.to(device)
    X = torch.as_tensor(features, dtype=torch.float32).to(device)
    y = torch.as_tensor(target, dtype=torch.float32).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(N_epochs):
        if shuffle:
            order = torch.randperm(len(X), device=device)
            X, y = X[order], y[order]
        optimizer.zero_grad()
        out = model(X)
        loss = criterion(out, y.view_as(out))
        loss.backward()
        optimizer.step()
    return model.cpu()
    # END SOLUTION
