"""Step 12, written independently from STEPS.md (a different style on purpose)."""

import math

import numpy as np
import torch
from torch import nn


def _point(radius, angle):
    return [radius * math.cos(angle), radius * math.sin(angle)]


def generate_binary_data(N_examples=1000, seed=None):
    if seed is not None:
        np.random.seed(seed)
    rows, labels = [], []
    for _ in range(N_examples):
        for label, inner in ((0, 0.0), (1, 3.0)):
            r = inner + np.random.uniform()
            rows.append(_point(r, np.random.uniform(0.0, 2.0 * math.pi)))
            labels.append(label)
    return np.array(rows), np.array(labels)


def generate_regression_data(L=10, stepsize=0.1):
    x = np.arange(-L, L, stepsize)
    return x, np.sin(3.0 * x) * np.exp(-x / 8.0)


def train_model(
    features, target, model, lr, N_epochs, criterion=None, shuffle=False, device=None, seed=None
):
    if seed is not None:
        torch.manual_seed(seed)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    loss_fn = nn.BCELoss() if criterion is None else criterion
    inputs = torch.from_numpy(np.asarray(features, dtype=np.float32)).to(dev)
    labels = torch.from_numpy(np.asarray(target, dtype=np.float32)).to(dev)
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _epoch in range(N_epochs):
        if shuffle:
            perm = torch.randperm(inputs.shape[0], device=dev)
            inputs, labels = inputs[perm], labels[perm]
        prediction = model(inputs)
        loss = loss_fn(prediction, labels.reshape(prediction.shape))
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.to("cpu")
    return model
