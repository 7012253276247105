"""Step 02, written independently from STEPS.md."""

import torch
from matplotlib.figure import Figure


def positive(x):
    return x.exp()


def plot_exp(lo=-10.0, hi=10.0, steps=200):
    grid = torch.linspace(lo, hi, steps)
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot(grid, grid.exp(), color="black", label="exp")
    ax.grid(True)
    ax.legend()
    return fig
