"""Step 01, written independently from STEPS.md: figures built without pyplot."""

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SIDE = 28


def _new_axes(width, height):
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _as_array(a):
    return a.detach().to("cpu").numpy() if torch.is_tensor(a) else np.array(a)


def plot(X, y, pred=None):
    fig, ax = _new_axes(2.5, 2.8)
    ax.imshow(_as_array(X).reshape(SIDE, SIDE), cmap="gray")
    ax.set_xticks([])
    ax.set_yticks([])
    parts = [f"y = {y.item() if torch.is_tensor(y) else y}"]
    if pred is not None:
        parts.append(f"predicted {pred.item() if torch.is_tensor(pred) else pred}")
    fig.suptitle(" | ".join(parts))
    return fig


def plot_probs(theta):
    probs = _as_array(theta).astype(float)
    fig, ax = _new_axes(4, 2.5)
    positions = np.arange(len(probs))
    ax.bar(positions, probs, width=0.6, color="tab:orange")
    ax.set_xticks(positions)
    ax.set_title("class probabilities")
    return fig


def plot_grid(images, labels=None, ncols=10):
    digits = _as_array(images).reshape(-1, SIDE, SIDE)
    count = digits.shape[0]
    nrows = -(-count // ncols)
    padding = np.zeros((nrows * ncols - count, SIDE, SIDE), dtype=digits.dtype)
    tiles = np.concatenate([digits, padding]).reshape(nrows, ncols, SIDE, SIDE)
    canvas = tiles.transpose(0, 2, 1, 3).reshape(nrows * SIDE, ncols * SIDE)
    fig, ax = _new_axes(ncols * 0.5, nrows * 0.5 + 0.4)
    ax.imshow(canvas, cmap="Greys_r")
    ax.set_axis_off()
    if labels is not None:
        names = [str(int(v)) for v in _as_array(labels).ravel()]
        ax.set_title(" ".join(names), fontsize=6)
    return fig
