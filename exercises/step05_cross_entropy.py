# GENERATED FILE: written by `python -m grader stubs` from solutions/step05_cross_entropy.py.
# Do not edit it in exercises/: edit solutions/step05_cross_entropy.py and regenerate.
"""Step 05: cross-entropy that never overflows, and two losses for yes/no questions.

Cross-entropy is the loss of step 04 done in one go: log-softmax of the
logits, then the negative log-likelihood of the labels. Writing the two out
for one row with logits ``x`` and label ``c``::

    log_softmax(x)[c] = x[c] - logsumexp(x)
    loss              = logsumexp(x) - x[c]

so the loss needs no probabilities at all, only the label's logit and the
row's ``logsumexp``. That matters for huge logits. Through probabilities
(``-log(softmax(x)[c])``), a logit of 0 in a row whose largest logit is 1e4
has probability ``exp(-1e4)``, which is 0 in floating point, and
``-log(0) = inf``; without the max trick ``exp(1e4)`` is ``inf`` already and
the result is NaN. ``logsumexp`` computed with the max trick (step 03; here
``torch.logsumexp``) stays finite: ``logsumexp([1e4, 0]) = 1e4 + log(1 +
exp(-1e4)) = 1e4``, and the loss ``1e4 - 0`` is large but exact. Fusing the
two steps is why ``F.cross_entropy`` takes logits, not probabilities.

Binary cross-entropy is the same idea for one yes/no output: with ``p`` the
probability of "yes" and target ``t`` in {0, 1}, the loss is
``-(t * log(p) + (1 - t) * log(1 - p))``: ``-log(p)`` when the answer is yes,
``-log(1 - p)`` when it is no. A model that outputs exactly 0 or 1 (a
saturated sigmoid does, in float32) gives ``log(0) = -inf``, and
``0 * -inf`` is NaN even where that term should vanish. Clamping ``p`` into
``[eps, 1 - eps]`` first keeps every log finite (at most ``-log(eps)``, about
16 for ``eps = 1e-7``) and changes nothing for sensible probabilities.

``mnist_loss`` is the simple loss of the classic "3 versus 7" example: a
single score per image, ``sigmoid`` to squash it into (0, 1), and the distance
from the target: ``1 - p`` when the image is the positive class (target 1),
``p`` when it is not. ``torch.where(cond, a, b)`` picks ``a`` where ``cond``
holds and ``b`` elsewhere, element by element, with no Python loop.
"""

import torch


def cross_entropy(logits, y):
    """Cross-entropy of logits against labels, stable for huge logits.

    Args:
        logits: ``(N, K)`` raw scores (may be as large as 1e4 in magnitude).
        y: int64 labels of shape ``(N,)``.
    Returns:
        scalar tensor equal to ``F.cross_entropy(logits, y)`` (value and
        gradient): the mean over rows of ``logsumexp(row) - row[label]``.
    Hint: ``torch.logsumexp(logits, dim=-1)`` (or your step 03 max trick) and
    integer-array indexing ``logits[torch.arange(N), y]``. Do not call
    ``F.cross_entropy``, ``F.nll_loss`` or ``F.log_softmax``, and do not go
    through probabilities.
    """
    # TODO (step 05): implement cross_entropy.
    raise NotImplementedError("step 05: cross_entropy is not implemented yet")


def binary_cross_entropy(p, y, eps=1e-7):
    """Mean binary cross-entropy of probabilities against 0/1 targets.

    Args:
        p: probabilities in [0, 1], any shape (exact 0s and 1s allowed).
        y: targets of the same shape, 0.0 or 1.0.
        eps: ``p`` is clamped into ``[eps, 1 - eps]`` before the logs.
    Returns:
        scalar tensor: the mean of ``-(y * log(p) + (1 - y) * log(1 - p))``
        over all elements, finite even when ``p`` holds exact 0s and 1s.
    Hint: ``p.clamp(eps, 1 - eps)`` first.
    """
    # TODO (step 05): implement binary_cross_entropy.
    raise NotImplementedError("step 05: binary_cross_entropy is not implemented yet")


def mnist_loss(predictions, targets):
    """The 3-versus-7 loss: how far the sigmoid of each score is from its target.

    Args:
        predictions: raw scores, any shape, e.g. ``(N,)`` or ``(N, 1)``.
        targets: the same shape, 1 for the positive class and 0 otherwise.
    Returns:
        scalar tensor: ``torch.where(targets == 1, 1 - p, p).mean()`` with
        ``p = sigmoid(predictions)``.
    Hint: ``torch.sigmoid`` then ``torch.where``.
    """
    # TODO (step 05): implement mnist_loss.
    raise NotImplementedError("step 05: mnist_loss is not implemented yet")
