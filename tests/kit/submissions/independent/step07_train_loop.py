"""Step 07, written independently from STEPS.md."""

import torch
from torch import nn

from .mnist import get_random_batch
from .step06_create_model import create_model


def _where(device):
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train(Nhidden=200, Nsteps=300, lr=1e-3, batch_size=200, device=None, seed=None, log_every=50):
    dev = _where(device)
    if seed is not None:
        torch.manual_seed(seed)
    net = create_model(Nhidden).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    for i in range(1, Nsteps + 1):
        images, labels = (t.to(dev) for t in get_random_batch(batch_size))
        opt.zero_grad()
        loss = criterion(net(images), labels)
        loss.backward()
        opt.step()
        if i % log_every == 0:
            print(f"Step [{i}/{Nsteps}], loss: {loss.item():.5f}")
    return net


def sgd_step(params, lr):
    for p in list(params):
        if p.grad is not None:
            p.data.add_(p.grad.data, alpha=-lr)
            p.grad = None


def fit(model, X, y, epochs=1, batch_size=64, lr=1e-3, device=None, seed=None):
    dev = _where(device)
    if seed is not None:
        torch.manual_seed(seed)
    model = model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss(reduction="sum")
    dataset = torch.utils.data.TensorDataset(X, y)
    history = []
    for _epoch in range(epochs):
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
        seen, summed = 0, 0.0
        for xb, yb in loader:
            xb, yb = xb.to(dev), yb.to(dev)
            total = criterion(model(xb), yb)
            opt.zero_grad()
            (total / len(yb)).backward()
            opt.step()
            summed += total.item()
            seen += len(yb)
        history.append(summed / seen)
    return history
