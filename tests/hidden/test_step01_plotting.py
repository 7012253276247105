"""Hidden tests of step 01: plot, plot_probs, plot_grid."""

import re
from collections import Counter

import numpy as np
import pytest
import torch

from grader.authoring import checks
from grader.authoring.figures import FigureData
from grader.authoring.kit_mnist import mnist

pytestmark = pytest.mark.step01
STEP = "step01_plotting"
# Gray-scale colormaps (the contract says gray; its reversed and named variants are fine).
GRAYS = {"gray", "grey", "gray_r", "grey_r", "Greys", "Greys_r", "binary", "binary_r"}


@pytest.fixture(scope="module")
def digits():
    """The first 30 test images (float32 (30, 784), normalized) and labels (int64 (30,))."""
    X, y = mnist.tensors("test")
    return X[:30].clone(), y[:30].clone()


def figure(value, what: str) -> FigureData:
    if not isinstance(value, FigureData):
        checks.fail(
            f"{what} should return the matplotlib Figure it drew, got "
            f"{checks.describe(value)}; hint: fig, ax = plt.subplots() ... return fig"
        )
    return value


def one_image(fig: FigureData, what: str) -> dict:
    images = [im for ax in fig.axes for im in ax.images]
    if len(images) != 1:
        checks.fail(f"{what} should draw exactly one image with imshow, found {len(images)}")
    return images[0]


def image_array(image: dict) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image["array"], dtype=np.float64))


def digit_counts(text: str) -> Counter:
    return Counter(re.findall(r"\d", text))


# --- plot ---------------------------------------------------------------------------


def plot_input(form: str, digits):
    X, _ = digits
    if form == "tensor (784,)":
        return X[0], X[0].reshape(28, 28)
    if form == "tensor (28, 28)":
        return X[1].reshape(28, 28), X[1].reshape(28, 28)
    if form == "ndarray (784,)":
        return X[2].double().numpy(), X[2].reshape(28, 28)
    raw = np.array(mnist.test_images()[3])  # uint8 (28, 28), as the mnist package gives it
    return raw, torch.from_numpy(raw)


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "form", ["tensor (784,)", "tensor (28, 28)", "ndarray (784,)", "ndarray (28, 28) uint8"]
)
def test_plot_shows_the_digit(submission, digits, form):
    X, expected = plot_input(form, digits)
    fig = figure(submission.step01_plotting.plot(X, 7), f"plot(X, 7) for X a {form}")
    image = one_image(fig, "plot")
    checks.close(
        image_array(image),
        expected.double(),
        f"the image plot shows for X a {form} (pixel k belongs in row k // 28, "
        "column k % 28: reshape(28, 28), no transpose)",
    )


@pytest.mark.points(1)
def test_plot_is_gray(submission, digits):
    fig = figure(submission.step01_plotting.plot(digits[0][0], 7), "plot(X, 7)")
    cmap = one_image(fig, "plot")["cmap"]
    if cmap not in GRAYS:
        checks.fail(
            f'plot should show the digit in gray (imshow(..., cmap="gray")), '
            f"got the colormap {cmap!r}"
        )


@pytest.mark.points(1)
def test_plot_title_shows_the_label(submission, digits):
    X, y = digits
    i = int((y == 4).nonzero()[0])
    fig = figure(submission.step01_plotting.plot(X[i], y[i]), "plot(X, y)")
    if "4" not in " ".join(fig.titles):
        checks.fail(
            f"plot(X, y) with the label y = 4 (a 0-d tensor) should show 4 in the title, "
            f"got the title(s) {fig.titles!r}"
        )


@pytest.mark.points(3)
def test_plot_title_shows_the_prediction(submission, digits, keep_artifact):
    X, y = digits
    i = int((y == 3).nonzero()[0])
    for pred in (8, torch.tensor(6)):
        shown = int(pred)
        fig = figure(
            submission.step01_plotting.plot(X[i], y[i], pred=pred), f"plot(X, y, pred={shown})"
        )
        keep_artifact(f"plot(X, y={int(y[i])}, pred={shown})", "figure", fig)
        counts = digit_counts(" ".join(fig.titles))
        if counts["3"] < 1 or counts[str(shown)] < 1:
            checks.fail(
                f"plot(X, y, pred) with the label 3 and the prediction {shown} "
                f"(as {type(pred).__name__}) should show both in the title, got the "
                f"title(s) {fig.titles!r}"
            )


# --- plot_probs ---------------------------------------------------------------------


def check_bars(fig: FigureData, theta: torch.Tensor, what: str) -> None:
    bars = [bar for ax in fig.axes for bar in ax.bars]
    if len(bars) != 10:
        checks.fail(f"{what} should draw 10 bars (one per digit), found {len(bars)}")
    xs = torch.tensor([bar["x"] for bar in bars], dtype=torch.float64)
    checks.close(
        xs,
        torch.arange(10, dtype=torch.float64),
        f"the bar positions of {what} (they should sit at x = 0, 1, ..., 9)",
    )
    heights = torch.tensor([bar["height"] for bar in bars], dtype=torch.float64)
    checks.close(heights, theta.double(), f"the bar heights of {what} (the probabilities)")


@pytest.mark.points(2)
def test_plot_probs_tensor(submission, keep_artifact):
    theta = torch.softmax(torch.randn(10) * 2, dim=0)
    fig = figure(submission.step01_plotting.plot_probs(theta), "plot_probs(theta)")
    keep_artifact("plot_probs(theta)", "figure", fig)
    check_bars(fig, theta, "plot_probs(theta) for a tensor theta")


@pytest.mark.points(1)
def test_plot_probs_ndarray(submission):
    theta = torch.softmax(torch.randn(10, dtype=torch.float64), dim=0)
    fig = figure(submission.step01_plotting.plot_probs(theta.numpy()), "plot_probs(theta)")
    check_bars(fig, theta, "plot_probs(theta) for a numpy array theta")


# --- plot_grid ----------------------------------------------------------------------


@pytest.mark.points(2)
@pytest.mark.parametrize("n, ncols", [(12, 5), (20, None), (7, 3)])
def test_plot_grid_canvas_row_major(submission, digits, n, ncols):
    images = digits[0][:n]
    call = f"plot_grid(images of shape ({n}, 784)" + (f", ncols={ncols})" if ncols else ")")
    if ncols is None:
        fig, ncols = submission.step01_plotting.plot_grid(images), 10
    else:
        fig = submission.step01_plotting.plot_grid(images, ncols=ncols)
    canvas = image_array(one_image(figure(fig, call), call))
    rows = -(-n // ncols)
    if tuple(canvas.shape) != (rows * 28, ncols * 28):
        checks.fail(
            f"{call} should draw one canvas of shape {(rows * 28, ncols * 28)} "
            f"({rows} rows of {ncols} digits), got {tuple(canvas.shape)}"
        )
    blocks = torch.stack(
        [
            canvas[
                (i // ncols) * 28 : (i // ncols) * 28 + 28, (i % ncols) * 28 : (i % ncols) * 28 + 28
            ]
            for i in range(n)
        ]
    )
    checks.close(
        blocks,
        images.reshape(n, 28, 28).double(),
        f"the digits on the canvas of {call} (digit i belongs in block row i // ncols, "
        "block column i % ncols: row-major order)",
    )


@pytest.mark.points(2)
def test_plot_grid_shows_the_labels(submission, digits, keep_artifact):
    X, y = digits
    fig = figure(
        submission.step01_plotting.plot_grid(X[:12], labels=y[:12], ncols=6),
        "plot_grid(images, labels, ncols=6)",
    )
    keep_artifact("plot_grid(images, labels, ncols=6)", "figure", fig)
    one_image(fig, "plot_grid")
    shown, wanted = digit_counts(fig.all_text), digit_counts(" ".join(map(str, y[:12].tolist())))
    missing = wanted - shown
    if missing:
        checks.fail(
            "plot_grid(images, labels) should show every label (in the title or as text "
            f"on the digits); these labels are missing: {sorted(missing.elements())}"
        )


# --- no plt.show() ------------------------------------------------------------------


@pytest.mark.points(1)
def test_never_calls_show(submission, digits):
    X, y = digits
    step = submission.step01_plotting
    one_image(figure(step.plot(X[0], y[0]), "plot(X, y)"), "plot")
    check_bars(
        figure(step.plot_probs(torch.full((10,), 0.1)), "plot_probs(theta)"),
        torch.full((10,), 0.1),
        "plot_probs(theta)",
    )
    one_image(figure(step.plot_grid(X[:4], ncols=2), "plot_grid(images, ncols=2)"), "plot_grid")
    sources = checks.step_sources(submission)
    for name in ("plot", "plot_probs", "plot_grid"):
        checks.without(
            sources,
            name,
            {"show"},
            "return the figure instead; a notebook shows a returned figure by itself",
            step=STEP,
            rule="plt.show()",
        )
