"""Visible tests of step 01: run ``pytest exercises -m step01``."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from .step01_plotting import plot, plot_grid, plot_probs

pytestmark = pytest.mark.step01


def a_figure(fig, name):
    assert isinstance(fig, Figure), (
        f"{name} should return the matplotlib Figure, got {type(fig).__name__}; "
        "hint: fig, ax = plt.subplots() ... return fig (no plt.show())"
    )
    return fig


def only_image(fig, name):
    """The one image drawn on ``fig`` (as a numpy array) and its colormap name."""
    a_figure(fig, name)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 1, f"{name} should draw exactly one imshow, found {len(images)}"
    return np.asarray(images[0].get_array()), images[0].get_cmap().name


def titles(fig):
    return " ".join(ax.get_title() for ax in fig.axes) + (
        fig._suptitle.get_text() if fig._suptitle else ""
    )


def test_plot_shows_the_flat_vector_as_a_28x28_image(save_figure):
    X = torch.arange(784, dtype=torch.float32)
    fig = plot(X, 3)
    save_figure(fig, "step01_plot")
    image, cmap = only_image(fig, "plot")
    plt.close(fig)
    assert image.shape == (28, 28), (
        f"plot should show a 28x28 image, got shape {image.shape}; hint: reshape(28, 28)"
    )
    assert image[0, 1] == 1 and image[1, 0] == 28, (
        "pixel k of the flat vector belongs in row k // 28, column k % 28; "
        "did you transpose the image?"
    )
    assert cmap == "gray", f'plot should use cmap="gray", got the colormap {cmap!r}'


def test_plot_accepts_a_28x28_numpy_array():
    X = np.random.rand(28, 28)
    fig = plot(X, 5)
    image, _ = only_image(fig, "plot")
    plt.close(fig)
    assert np.allclose(image, X), "plot(X) for a (28, 28) numpy array should show X as it is"


def test_plot_title_shows_label_and_prediction():
    fig = a_figure(plot(torch.zeros(784), 3), "plot")
    title = titles(fig)
    plt.close(fig)
    assert "3" in title, f"the title should show the label 3, got {title!r}"
    fig = a_figure(plot(torch.zeros(784), 3, pred=8), "plot")
    title = titles(fig)
    plt.close(fig)
    assert "3" in title and "8" in title, (
        f"with pred=8 the title should show the label 3 and the prediction 8, got {title!r}"
    )


def test_plot_probs_draws_ten_bars(save_figure):
    theta = torch.softmax(torch.randn(10), dim=0)
    fig = a_figure(plot_probs(theta), "plot_probs")
    save_figure(fig, "step01_plot_probs")
    bars = [p for ax in fig.axes for c in ax.containers for p in c]
    plt.close(fig)
    assert len(bars) == 10, f"plot_probs should draw 10 bars, got {len(bars)}"
    centers = [p.get_x() + p.get_width() / 2 for p in bars]
    assert np.allclose(centers, range(10)), f"the bars should sit at x = 0..9, got {centers}"
    heights = [p.get_height() for p in bars]
    assert np.allclose(heights, theta.numpy()), "the bar heights should be the probabilities"


def test_plot_grid_is_one_canvas_filled_row_by_row(save_figure):
    images = torch.stack([torch.full((784,), float(i)) for i in range(7)])
    try:
        fig = plot_grid(images, ncols=3)
    except (ValueError, IndexError) as err:
        raise AssertionError(
            f"plot_grid(7 images, ncols=3) raised {type(err).__name__}: {err}; 7 images in 3 "
            "columns make 3 rows: round the number of rows up"
        ) from err
    save_figure(fig, "step01_plot_grid")
    canvas, _ = only_image(fig, "plot_grid")
    plt.close(fig)
    assert canvas.shape == (3 * 28, 3 * 28), (
        f"7 images in 3 columns make 3 rows (round up): the canvas should be (84, 84), got "
        f"{canvas.shape}"
    )
    assert canvas[0, 28] == 1 and canvas[28, 0] == 3, (
        "image 1 belongs right of image 0 (row-major order: row i // ncols, column i % ncols)"
    )
    assert canvas[2 * 28, 0] == 6, "image 6 belongs in row 2, column 0"


def test_plot_grid_writes_the_labels():
    images = torch.zeros(4, 784)
    fig = a_figure(plot_grid(images, labels=torch.tensor([7, 2, 1, 0]), ncols=4), "plot_grid")
    texts = [t for ax in fig.axes for t in ax.texts] + fig.texts
    text = titles(fig) + " ".join(t.get_text() for t in texts)
    plt.close(fig)
    assert all(d in text for d in "7210"), (
        f"plot_grid should show the labels 7, 2, 1, 0 (in the title or as text), got {text!r}"
    )
