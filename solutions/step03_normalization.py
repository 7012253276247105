"""Step 03: from positive numbers to probabilities, and a softmax that never overflows.

A probability distribution over K classes is K numbers that are positive and
sum to one. Given positive numbers, dividing each by their total gives exactly
that: the ratios between them stay the same, and the total becomes 1. Softmax
is this normalization applied to ``exp(logits)``: exp makes any real number
positive (step 02), the division makes the row sum to one.

The catch is size: ``exp(1000.0)`` is ``inf`` in floating point, and
``inf / inf`` is NaN. Subtracting the row's maximum first changes nothing
mathematically (``exp(x - m) / sum(exp(x - m))`` has the factor ``exp(-m)`` on
top and bottom), but now the largest exponent is ``exp(0) = 1``, so nothing
overflows. The same "max trick" gives a stable ``logsumexp``, and
``log_softmax(x) = x - logsumexp(x)`` without ever taking the log of 0.
"""

import torch


def normalize(a):
    """Scale positive numbers so they sum to one along the last dimension.

    Args:
        a: positive tensor of shape ``(K,)`` or ``(N, K)``.
    Returns:
        tensor of the same shape; each row (or the vector) sums to 1.
    Hint: ``a.sum(-1, keepdim=True)`` keeps the summed dimension, so the
    division broadcasts row by row.
    """
    # BEGIN SOLUTION
    return a / a.sum(-1, keepdim=True)
    # END SOLUTION


def softmax(x):
    """Logits to probabilities, row by row, without overflow.

    Args:
        x: logits of shape ``(N, K)``; may be as large as 1e4 in magnitude.
    Returns:
        ``(N, K)`` probabilities; every row sums to 1.
    Hint: subtract each row's max (``x.max(dim=-1, keepdim=True).values``)
    before ``torch.exp``. Do not call ``torch.softmax`` or ``F.softmax``.
    """
    # BEGIN SOLUTION
    shifted = x - x.max(dim=-1, keepdim=True).values
    e = torch.exp(shifted)
    return e / e.sum(dim=-1, keepdim=True)
    # END SOLUTION


def logsumexp(x):
    """``log(sum(exp(x)))`` of each row, stably.

    Args:
        x: ``(N, K)``.
    Returns:
        ``(N, 1)``.
    Hint: with ``m`` the row max, ``logsumexp(x) = m + log(sum(exp(x - m)))``.
    Do not call ``torch.logsumexp``.
    """
    # BEGIN SOLUTION
    m = x.max(dim=-1, keepdim=True).values
    return m + torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True))
    # END SOLUTION


def log_softmax(x):
    """The log of softmax, computed stably as ``x - logsumexp(x)``.

    Args:
        x: ``(N, K)`` logits.
    Returns:
        ``(N, K)`` log-probabilities (all <= 0; ``exp`` of each row sums to 1).
    Hint: reuse ``logsumexp``; never take ``log(softmax(x))``, which is
    ``log(0) = -inf`` for very negative logits. Do not call ``F.log_softmax``.
    """
    # BEGIN SOLUTION
    return x - logsumexp(x)
    # END SOLUTION
