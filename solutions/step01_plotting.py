"""Step 01: look at the data before you model it.

Before training anything, look at a few examples. A picture tells you at once
what the numbers mean (a handwritten 7), whether the labels fit the images,
and whether something went wrong on the way in (a transposed image, a batch of
blanks, labels shifted by one). Every later step is easier to debug when you
can draw an input, its label and what the model predicted for it.

An MNIST image is 28 rows of 28 gray pixels. Models take it as one flat vector
of 784 numbers: row 0 first, then row 1, and so on, so pixel ``k`` of the
vector sits in row ``k // 28``, column ``k % 28``. ``reshape(28, 28)`` undoes
the flattening without moving any number. (``.T`` would swap rows and columns:
the digit would come out mirrored along its diagonal.)

``imshow`` turns a 2-D array into colours: it stretches the smallest value to
one end of a colormap and the largest to the other. Matplotlib's default map
(viridis) paints digits green and yellow; ``cmap="gray"`` shows them as they
are meant to be, low values black and high values white. This works for raw
pixels (0..255) and for normalized ones (about -0.4..2.8) alike.

A classifier does not just answer "7": it gives 10 probabilities, one per
digit, that sum to one. A bar chart with one bar per class shows them at a
glance: the tallest bar is the prediction, and its height says how sure the
model is (one bar near 1 versus several half-high bars).

To look at many digits at once, copy them into one big array, a canvas of
``rows x ncols`` blocks of 28x28 pixels, and show that with a single
``imshow``. Digit ``i`` goes row by row (row-major): block row ``i // ncols``,
block column ``i % ncols``. One image is much faster to draw than a hundred
small subplots.

Every function here builds its own figure and returns it. None calls
``plt.show()``: a notebook shows a returned figure by itself, a script can save
it with ``fig.savefig(...)``, and tests can look inside it.
"""

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
    # BEGIN SOLUTION
    image = _numpy(X).reshape(28, 28)
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(image, cmap="gray")
    title = f"label: {int(y)}"
    if pred is not None:
        title += f", prediction: {int(pred)}"
    ax.set_title(title)
    ax.axis("off")
    return fig
    # END SOLUTION


def plot_probs(theta):
    """Bar chart of the 10 class probabilities: one bar per digit.

    Args:
        theta: 10 probabilities, a tensor or numpy array of shape ``(10,)``.
    Returns:
        the ``Figure``, with bars at x = 0, 1, ..., 9 of heights ``theta``.
    Hint: ``ax.bar(range(10), heights)``; ``ax.set_xticks(range(10))`` labels
    every digit; a y-range of ``(0, 1)`` makes charts comparable.
    """
    # BEGIN SOLUTION
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(range(10), _numpy(theta))
    ax.set_xticks(range(10))
    ax.set_ylim(0, 1)
    ax.set_xlabel("digit")
    ax.set_ylabel("probability")
    return fig
    # END SOLUTION


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
    # BEGIN SOLUTION
    images = _numpy(images).reshape(-1, 28, 28)
    n = len(images)
    rows = (n + ncols - 1) // ncols
    canvas = np.full((rows * 28, ncols * 28), images.min(), dtype=np.float32)
    fig, ax = plt.subplots(figsize=(0.6 * ncols, 0.6 * rows))
    for i in range(n):
        top, left = (i // ncols) * 28, (i % ncols) * 28
        canvas[top : top + 28, left : left + 28] = images[i]
        if labels is not None:
            ax.text(left + 1, top + 7, str(int(labels[i])), color="yellow", fontsize=8)
    ax.imshow(canvas, cmap="gray")
    ax.axis("off")
    return fig
    # END SOLUTION
