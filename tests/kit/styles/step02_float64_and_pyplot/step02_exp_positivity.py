"""Step 02 in other styles: exp in float64 (STEPS.md names no dtype), pyplot's state
machine, an axis line at y = 0 besides the curve."""

import matplotlib.pyplot as plt
import torch


def positive(x):
    return x.double().exp()


def plot_exp(lo=-10.0, hi=10.0, steps=200):
    fig = plt.figure()
    xs = torch.linspace(lo, hi, steps)
    plt.plot(xs.numpy(), positive(xs).numpy(), label="exp(x)")
    plt.axhline(0.0, color="gray")
    plt.title("exp is always positive")
    return fig
