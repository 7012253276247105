"""Step 04: a loss from probabilities, with one-hot vectors and with indexing.

A classifier gives, for each image, a row of K probabilities ``p`` (softmax of
its logits, step 03). Training needs one number that says how bad that row is
for the true label. The natural choice is the probability the model gave to
the label: high is good, low is bad.

One way to pick that probability is a one-hot vector: K numbers, all 0 except
a single 1 at the label. Multiplying ``p`` by it element-wise zeroes every
entry but the label's, so the sum of the product is exactly ``p[label]``::

    p      = [0.1, 0.7, 0.2]
    onehot = [0,   1,   0  ]      (label 1)
    sum(p * onehot) = 0.7 = p[1]

A loss must be small when the model is right and large when it is wrong, and
``p[label]`` is the other way round. ``-log`` turns it into a loss: when the
model is certain and right, ``p[label] = 1`` and ``-log(1) = 0``; as
``p[label]`` falls towards 0, ``-log(p[label])`` grows without bound, so a
confident wrong answer is punished hard. The log also turns a product of
probabilities over a batch into a sum, and the batch loss is the mean of the
per-image losses. This is the negative log-likelihood (NLL).

Building a ``(N, K)`` one-hot matrix to pick one number per row is wasteful.
Integer-array indexing picks them directly: with ``rows = torch.arange(N)``,
``p[rows, y]`` is the vector ``[p[0, y[0]], p[1, y[1]], ...]`` of shape
``(N,)``. (``p[:, y]`` is a different thing: every row at every label, a
``(N, N)`` matrix.) With log-probabilities (``log_softmax``) as input this is
the ``nll`` below, the same as ``F.nll_loss``.

Taking ``log(softmax(x))`` directly, as ``one_hot_loss`` does, is fine for
moderate logits but breaks for huge ones (a probability that underflows to 0
has ``-log(0) = inf``); step 05 fixes that.
"""

import torch


def one_hot(y, num_classes=10):
    """Labels to one-hot rows.

    Args:
        y: int64 labels of shape ``(N,)``, each in ``0 .. num_classes - 1``.
        num_classes: the number of classes K (10 for MNIST digits).
    Returns:
        ``(N, num_classes)`` tensor of zeros with a single 1 per row, in the
        label's column. Float32 (the default float dtype) is ready to
        multiply with probabilities; an integer dtype (as ``F.one_hot``
        gives) is fine too.
    Hint: start from ``torch.zeros(len(y), num_classes)`` and set the ones with
    integer-array indexing: ``out[torch.arange(len(y)), y] = 1``.
    """
    # BEGIN SOLUTION
    out = torch.zeros(len(y), num_classes, device=y.device)
    out[torch.arange(len(y), device=y.device), y] = 1
    return out
    # END SOLUTION


def one_hot_loss(x, y):
    """The mean negative log of the label's probability, via a one-hot product.

    Args:
        x: logits of shape ``(N, 10)``.
        y: int64 labels of shape ``(N,)``.
    Returns:
        scalar tensor (shape ``()``): the mean over the batch of
        ``-log(sum(softmax(x) * one_hot(y)))``; gradients flow back to ``x``.
    Hint: ``torch.softmax(x, dim=-1)`` (or your step 03 softmax), multiply by
    ``one_hot(y, x.shape[-1])``, ``.sum(dim=-1)``, ``torch.log``, minus,
    ``.mean()``.
    """
    # BEGIN SOLUTION
    p = torch.softmax(x, dim=-1)
    p_label = (p * one_hot(y, x.shape[-1])).sum(dim=-1)
    return -torch.log(p_label).mean()
    # END SOLUTION


def nll(log_probs, y):
    """Negative log-likelihood by integer-array indexing (what ``F.nll_loss`` does).

    Args:
        log_probs: ``(N, K)`` log-probabilities (for example ``log_softmax(x)``).
        y: int64 labels of shape ``(N,)``.
    Returns:
        scalar tensor: ``-log_probs[range(N), y].mean()``.
    Hint: ``log_probs[torch.arange(len(y)), y]`` picks one entry per row, shape
    ``(N,)``; not ``log_probs[:, y]``, which is ``(N, N)``. Do not call
    ``F.nll_loss``.
    """
    # BEGIN SOLUTION
    picked = log_probs[torch.arange(len(y), device=y.device), y]
    return -picked.mean()
    # END SOLUTION
