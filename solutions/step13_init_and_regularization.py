"""Step 13: initialization, regularization and optimizers.

Initialization. A linear layer with fan_in inputs sums fan_in products
``w * x``; if the weights have standard deviation ``s``, the variance of the sum
is about ``fan_in * s**2`` times the variance of one input. With ``s`` too
large the activations grow by that factor at every layer, with ``s`` too small
they shrink by it; after ten layers the signal (and, on the way back, the
gradient) has exploded or vanished. The cure is to pick ``s`` so the factor is
about 1. Xavier (Glorot) initialization does that for tanh-like layers, which
are close to linear around 0, balancing the forward pass (fan_in) and the
backward pass (fan_out): ``std = sqrt(2 / (fan_in + fan_out))``. Kaiming (He)
initialization is for ReLU, which zeroes half of its inputs and so halves the
variance; it doubles the weights' variance to make up for it:
``std = sqrt(2 / fan_in)``. Biases start at zero. For a weight matrix of shape
``(out, in)``, fan_in is ``in`` and fan_out is ``out``.

Regularization. Dropout zeroes each hidden unit with probability p during
training and scales the survivors by ``1 / (1 - p)``, so no unit can rely on
one particular other unit and the expected activation stays the same. Batch
normalization standardizes every unit over the current batch (then scales and
shifts it with learned parameters) and keeps running averages of the batch
means and variances. Both behave differently in the two modes of a module:
in ``model.train()`` dropout is random and batch norm uses the batch's
statistics (and updates its running averages); in ``model.eval()`` dropout
does nothing and batch norm uses the running averages, so the output is
deterministic and one example's prediction does not depend on the rest of the
batch. So: train in train mode, and switch to eval mode (under
``torch.no_grad()``) whenever you measure accuracy, also on the training set.

Optimizers, in a sentence each. Plain SGD steps against the gradient,
``p -= lr * grad``. Momentum keeps a running sum of past gradients (a
velocity) and steps along it, which speeds up along consistent directions and
damps zig-zagging. RMSprop divides each parameter's gradient by a running root
mean square of its recent gradients, so every parameter takes steps of about
the same size. Adam combines the two: a momentum-like running mean of the
gradient divided by an RMSprop-like running root mean square, with a
correction for both averages starting at zero. Weight decay adds
``weight_decay * p`` to every gradient, pulling the weights towards zero.
"""

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    """A one-hidden-layer network with its parameters written out by hand.

    Args:
        num_features (F), num_hidden (H), num_output (O): the layer sizes.
        activation: a callable applied to the hidden layer (e.g. ``nn.Tanh()``);
            None means ``nn.ELU()``.
    Parameters: ``W_1 (H, F)``, ``b_1 (H,)``, ``W_2 (O, H)``, ``b_2 (O,)``; the
    weights drawn with ``nn.init.xavier_normal_``, the biases zero.
    ``forward``: ``(B, F)`` to ``(B, O)``: ``F.linear``, activation, ``F.linear``.
    Hint: ``nn.Parameter(torch.empty(H, F))`` registers a parameter under the
    attribute's name; ``nn.init.xavier_normal_`` fills it in place.
    """

    def __init__(self, num_features, num_hidden, num_output, activation=None):
        super().__init__()
        # BEGIN SOLUTION
        self.W_1 = nn.Parameter(torch.empty(num_hidden, num_features))
        self.b_1 = nn.Parameter(torch.zeros(num_hidden))
        self.W_2 = nn.Parameter(torch.empty(num_output, num_hidden))
        self.b_2 = nn.Parameter(torch.zeros(num_output))
        nn.init.xavier_normal_(self.W_1)
        nn.init.xavier_normal_(self.W_2)
        self.activation = nn.ELU() if activation is None else activation
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        x = F.linear(x, self.W_1, self.b_1)
        x = self.activation(x)
        return F.linear(x, self.W_2, self.b_2)
        # END SOLUTION


def kaiming_init_(module):
    """Re-initialize a model for ReLU layers, in place.

    Args:
        module: any ``nn.Module`` (e.g. an ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU``).
    Returns:
        the same module, after every weight matrix (2-D parameter) was refilled with
        ``nn.init.kaiming_normal_`` (std ``sqrt(2 / fan_in)``) and every bias (a
        parameter whose name ends in ``bias``) with zeros.
    Hint: loop over ``module.named_parameters()``; ``p.dim()`` is the number of dimensions.
    """
    # BEGIN SOLUTION
    for name, p in module.named_parameters():
        if p.dim() == 2:
            nn.init.kaiming_normal_(p)
        elif name.endswith("bias"):
            nn.init.zeros_(p)
    return module
    # END SOLUTION


class RegularizedNet(nn.Module):
    """Linear, BatchNorm1d (if ``batchnorm``), ReLU, Dropout(``dropout``), Linear.

    Args:
        num_features (F), num_hidden (H), num_output (O): the layer sizes.
        dropout: the probability of zeroing a hidden unit in train mode.
        batchnorm: whether to put an ``nn.BatchNorm1d(H)`` after the first layer.
    ``forward``: ``(B, F)`` to ``(B, O)`` logits; random in train mode (dropout),
    deterministic in eval mode.
    Hint: collect the layers in a list and wrap them in ``nn.Sequential(*layers)``.
    """

    def __init__(self, num_features, num_hidden, num_output, dropout=0.5, batchnorm=True):
        super().__init__()
        # BEGIN SOLUTION
        layers = [nn.Linear(num_features, num_hidden)]
        if batchnorm:
            layers.append(nn.BatchNorm1d(num_hidden))
        layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(num_hidden, num_output)]
        self.layers = nn.Sequential(*layers)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.layers(x)
        # END SOLUTION


def make_optimizer(params, kind="sgd", lr=0.01, momentum=0.9, weight_decay=0.0):
    """A ``torch.optim`` optimizer over ``params``, chosen by name.

    Args:
        params: the tensors to optimize (e.g. ``model.parameters()``).
        kind: "sgd" (plain SGD, no momentum), "momentum" (SGD with ``momentum``),
            "adam" or "rmsprop" (both with torch's default betas / alpha).
        lr, weight_decay: passed to every kind; momentum: only to "momentum".
    Returns:
        the optimizer. Any other ``kind`` raises ``ValueError`` naming the four choices.
    Hint: ``torch.optim.SGD``, ``torch.optim.Adam``, ``torch.optim.RMSprop``.
    """
    # BEGIN SOLUTION
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if kind == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(
        f"unknown optimizer kind {kind!r}; choose 'sgd', 'momentum', 'adam' or 'rmsprop'"
    )
    # END SOLUTION


def train_with_validation(
    net, x_train, y_train, x_valid, y_valid, optimizer, epochs, batch_size=100
):
    """Minibatch training with cross-entropy, measuring both sets after every epoch.

    Args:
        net: a classifier, ``(B, F)`` to ``(B, K)`` logits.
        x_train ``(N, F)``, y_train ``(N,)`` int64; x_valid ``(M, F)``, y_valid ``(M,)``.
        optimizer: a ``torch.optim`` optimizer over ``net``'s parameters (use this one).
        epochs: passes over the training set, in shuffled minibatches of ``batch_size``.
    Returns:
        ``{"train_loss": [...], "train_acc": [...], "valid_acc": [...]}``, one Python
        float per epoch each: the mean minibatch loss of the epoch, then the accuracy
        on the whole training set and on the validation set measured after the epoch.
    Hint: ``net.train()`` before the minibatches; ``net.eval()`` and ``torch.no_grad()``
    for the measurements (so dropout is off and batch norm uses its running averages).
    """
    # BEGIN SOLUTION
    history = {"train_loss": [], "train_acc": [], "valid_acc": []}
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(x_train))
        losses = []
        for start in range(0, len(x_train), batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(net(x_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        net.eval()
        with torch.no_grad():
            train_acc = (net(x_train).argmax(dim=1) == y_train).float().mean().item()
            valid_acc = (net(x_valid).argmax(dim=1) == y_valid).float().mean().item()
        history["train_loss"].append(sum(losses) / len(losses))
        history["train_acc"].append(train_acc)
        history["valid_acc"].append(valid_acc)
    return history
    # END SOLUTION


def plot_history(history):
    """The training and validation accuracy against the epoch, on one axes.

    Args:
        history: the dictionary ``train_with_validation`` returns.
    Returns:
        a ``matplotlib.figure.Figure`` with one axes, two labelled lines (x = epoch 1, 2, ...,
        y = ``history["train_acc"]`` and ``history["valid_acc"]``) and a legend.
    Hint: ``ax.plot(x, y, label="training")``, then ``ax.legend()``.
    """
    # BEGIN SOLUTION
    epochs = range(1, len(history["train_acc"]) + 1)
    fig, ax = plt.subplots()
    ax.plot(epochs, history["train_acc"], label="training accuracy")
    ax.plot(epochs, history["valid_acc"], label="validation accuracy")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend()
    return fig
    # END SOLUTION
