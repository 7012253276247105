"""Step 12 in other styles: train_model uses the float32 tensors it is given (STEPS.md)
with tensor methods only; the data generators build with torch and return numpy."""

import numpy as np
import torch
from torch import nn


def generate_binary_data(N_examples=1000, seed=None):
    g = torch.Generator()
    if seed is not None:
        g.manual_seed(seed)
    else:
        g.seed()
    label = torch.arange(2 * N_examples) % 2
    radius = torch.rand(2 * N_examples, generator=g, dtype=torch.float64) + 3.0 * label
    angle = torch.rand(2 * N_examples, generator=g, dtype=torch.float64) * 2 * np.pi
    features = torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)
    return features.numpy(), label.numpy()


def generate_regression_data(L=10, stepsize=0.1):
    x = np.arange(-L, L, stepsize)
    return x, np.sin(3 * x) * np.exp(-x / 8)


def train_model(
    features, target, model, lr, N_epochs, criterion=None, shuffle=False, device=None, seed=None
):
    if seed is not None:
        torch.manual_seed(seed)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    loss_fn = criterion if criterion is not None else nn.BCELoss()
    model.to(device)
    X, y = features.to(device), target.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(N_epochs):
        if shuffle:
            idx = torch.randperm(X.shape[0], device=device)
            X, y = X[idx], y[idx]
        opt.zero_grad()
        out = model(X)
        loss_fn(out, y.reshape(out.shape)).backward()
        opt.step()
    return model.to("cpu")
