"""Make the visible tests speak plainly.

``pytest exercises`` prints one line per failing check, with the file and line
of your code it points at, then one line per step: ``feedback.py`` in this
folder does that. For pytest's full report, tracebacks and all, add ``-v`` or
``--tb=long``: ``pytest exercises -m step03 -v``.

Every test starts from the same random seed, so a failure you see is a failure
you can reproduce.
"""

import os
import random
from pathlib import Path

import pytest

from .feedback import StudentFeedback

os.environ.setdefault("MPLBACKEND", "Agg")  # draw without a screen


def pytest_configure(config):
    # Before any test file is collected: a step file that does not import must
    # be caught when the first test file imports it.
    # Named after the package: a session may hold several (the kit's own tests do).
    config.pluginmanager.register(
        StudentFeedback(config, Path(__file__).parent, __package__),
        f"student-feedback-{__package__}",
    )


@pytest.fixture(autouse=True)
def _same_seed_every_test():
    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


# ---- figures: what your code drew or learned, as PNG files you can open ----------------
# Tests that call a drawing or a training function save the result in figures/ beside the
# step files, before they check it: a failing test still leaves its picture to look at.

FIGURE_DPI = 80  # of the pictures drawn here; a figure of yours keeps its own


@pytest.fixture
def save_figure(request):
    """``save_figure(fig, "step02_plot_exp")`` writes ``figures/step02_plot_exp.png`` and
    closes ``fig``. ``fig`` is a Figure or a function that draws one (called here). A picture
    that cannot be drawn or written is skipped: it never fails a test."""
    folder = request.path.parent / "figures"

    def save(fig, name):
        from matplotlib import pyplot as plt
        from matplotlib.figure import Figure

        try:
            if callable(fig) and not isinstance(fig, Figure):
                fig = fig()
            if isinstance(fig, Figure):
                folder.mkdir(exist_ok=True)
                fig.savefig(folder / f"{name}.png")  # at the figure's own dpi: one layout
        except Exception:
            pass  # the test judges the code; the picture is only a help
        finally:
            if isinstance(fig, Figure):
                plt.close(fig)

    return save


@pytest.fixture
def save_curves(save_figure):
    """``save_curves("step07_fit_loss", {"training loss": losses})``: each curve against 1, 2,
    3, ... (or ``x``). ``curves`` may be a function returning them, so an error while
    computing them skips the picture instead of failing the test."""

    def save(name, curves, x=None, xlabel="epoch", ylabel="loss"):
        def draw():
            from matplotlib.figure import Figure

            named = curves() if callable(curves) else curves
            if not any(len(values) for values in named.values()):
                raise ValueError("no values to draw")
            fig = Figure(figsize=(6, 4), dpi=FIGURE_DPI)
            ax = fig.add_subplot()
            for label, values in named.items():
                values = [float(v) for v in values]
                xs = range(1, len(values) + 1) if x is None else list(x)
                ax.plot(xs, values, marker=".", label=label)
            ax.set(title=name, xlabel=xlabel, ylabel=ylabel)
            ax.legend()
            return fig

        save_figure(draw, name)

    return save


@pytest.fixture
def save_digits(save_figure):
    """``save_digits("step10_reconstructions", {"input": x, "output": out})``: one row of
    28x28 digits (pixels in [0, 1]) per entry; the entries may come from a function."""

    def save(name, rows):
        def draw():
            import torch
            from matplotlib.figure import Figure

            named = rows() if callable(rows) else rows
            fig = Figure(figsize=(8, 1.4 * len(named)), dpi=FIGURE_DPI)
            for i, (label, images) in enumerate(named.items()):
                images = torch.as_tensor(images).detach().cpu().float().reshape(-1, 28, 28)
                ax = fig.add_subplot(len(named), 1, i + 1)
                ax.imshow(torch.cat(list(images), dim=1).numpy(), cmap="gray", vmin=0, vmax=1)
                ax.set_title(label)
                ax.set_axis_off()
            return fig

        save_figure(draw, name)

    return save
