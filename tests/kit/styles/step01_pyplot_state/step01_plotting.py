"""Step 01 in other styles: pyplot's state machine, np.asarray on tensors or arrays,
one bar per call, labels as a suptitle."""

import matplotlib.pyplot as plt
import numpy as np


def plot(X, y, pred=None):
    fig = plt.figure(figsize=(3, 3))
    plt.imshow(np.asarray(X, dtype=float).reshape(28, 28), cmap=plt.cm.gray)
    plt.title(f"y={int(y)}" + ("" if pred is None else f" pred={int(pred)}"))
    plt.axis("off")
    return plt.gcf() if plt.gcf() is fig else fig


def plot_probs(theta):
    fig, ax = plt.subplots()
    for k, p in enumerate(np.asarray(theta, dtype=float)):
        ax.bar(k, p, color="C0")
    ax.set_xticks(range(10))
    return fig


def plot_grid(images, labels=None, ncols=10):
    images = np.asarray(images, dtype=float).reshape(-1, 28, 28)
    rows = -(-len(images) // ncols)
    canvas = np.zeros((rows * 28, ncols * 28))
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        canvas[r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28] = image
    fig = plt.figure()
    plt.imshow(canvas, cmap="gray")
    if labels is not None:
        fig.suptitle(" ".join(str(int(v)) for v in labels))
    return fig
