"""A correct step 01 whose plot_grid writes the labels with fig.text."""

import matplotlib.pyplot as plt
import numpy as np
import torch


def _numpy(a):
    """A tensor (on any device, with or without gradients) or an array as a numpy array."""
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def plot(X, y, pred=None):
    """Show one digit in gray with its label (and the prediction, when given) as title.

    Args:
        X: one image, 784 values ``(784,)`` or ``(28, 28)``; a tensor or a numpy array.
        y: its label (an int, or a 0-d tensor such as ``labels[i]``).
        pred: the predicted label, or None.
    Returns:
        the ``matplotlib.figure.Figure`` (do not call ``plt.show()``).
    Hint: ``fig, ax = plt.subplots()``; ``_numpy(X).reshape(28, 28)``;
    ``ax.imshow(image, cmap="gray")``; ``ax.set_title(...)``; ``int(y)`` turns
    a 0-d tensor into a plain number for the title.
    """
    image = _numpy(X).reshape(28, 28)
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(image, cmap="gray")
    title = f"label: {int(y)}"
    if pred is not None:
        title += f", prediction: {int(pred)}"
    ax.set_title(title)
    ax.axis("off")
    return fig


def plot_probs(theta):
    """Bar chart of the 10 class probabilities: one bar per digit.

    Args:
        theta: 10 probabilities, a tensor or numpy array of shape ``(10,)``.
    Returns:
        the ``Figure``, with bars at x = 0, 1, ..., 9 of heights ``theta``.
    Hint: ``ax.bar(range(10), heights)``; ``ax.set_xticks(range(10))`` labels
    every digit; a y-range of ``(0, 1)`` makes charts comparable.
    """
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(range(10), _numpy(theta))
    ax.set_xticks(range(10))
    ax.set_ylim(0, 1)
    ax.set_xlabel("digit")
    ax.set_ylabel("probability")
    return fig


def plot_grid(images, labels=None, ncols=10):
    """Many digits as one canvas image, filled row by row.

    Args:
        images: ``(N, 784)`` tensor (``(N, 28, 28)`` works too).
        labels: None, or ``N`` labels (tensor or list) written on the digits.
        ncols: digits per row; ``rows = ceil(N / ncols)``.
    Returns:
        the ``Figure`` with ONE ``imshow`` of a ``(rows * 28, ncols * 28)`` array
        in gray; digit ``i`` fills block row ``i // ncols``, block column
        ``i % ncols``; unused blocks at the end show background.
    Hint: start from ``np.full((rows * 28, ncols * 28), images.min())`` and copy
    each digit into its slice ``canvas[top:top + 28, left:left + 28]``; put the
    labels on with ``ax.text(left, top, str(int(label)))`` or in the title.
    """
    images = _numpy(images).reshape(-1, 28, 28)
    n = len(images)
    rows = (n + ncols - 1) // ncols
    canvas = np.full((rows * 28, ncols * 28), images.min(), dtype=np.float32)
    fig, ax = plt.subplots(figsize=(0.6 * ncols, 0.6 * rows))
    for i in range(n):
        top, left = (i // ncols) * 28, (i % ncols) * 28
        canvas[top : top + 28, left : left + 28] = images[i]
        if labels is not None:
            # Labels on the figure itself, in figure coordinates (fig.text, not ax.text).
            x, y = (left + 2) / (ncols * 28), 1 - (top + 8) / (rows * 28)
            fig.text(x, y, f"{int(labels[i])}", color="yellow", fontsize=8)
    ax.imshow(canvas, cmap="gray")
    ax.axis("off")
    return fig
