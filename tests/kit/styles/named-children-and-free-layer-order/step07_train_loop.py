"""Step 07 in another style: a while loop, optimizer.zero_grad first, per-example sums."""

import torch
from torch import nn

from .mnist import get_random_batch
from .step06_create_model import create_model


def _device(device):
    return torch.device(device if device is not None else
                        ("cuda" if torch.cuda.is_available() else "cpu"))


def train(Nhidden=200, Nsteps=300, lr=1e-3, batch_size=200, device=None, seed=None, log_every=50):
    device = _device(device)
    if seed is not None:
        torch.manual_seed(seed)
    net = create_model(Nhidden).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    step = 0
    while step < Nsteps:
        images, labels = get_random_batch(batch_size)
        opt.zero_grad()
        loss = criterion(net(images.to(device)), labels.to(device))
        loss.backward()
        opt.step()
        if step % log_every == 0:
            print("step", step, "loss", round(loss.item(), 4))
        step += 1
    return net


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.sub_(lr * p.grad)
                p.grad = None


def fit(model, X, y, epochs=1, batch_size=64, lr=1e-3, device=None, seed=None):
    device = _device(device)
    if seed is not None:
        torch.manual_seed(seed)
    model = model.to(device)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        perm = torch.randperm(X.shape[0])
        summed, count = 0.0, 0
        for chunk in perm.split(batch_size):
            xb, yb = X[chunk].to(device), y[chunk].to(device)
            loss = nn.functional.cross_entropy(model(xb), yb, reduction="sum")
            opt.zero_grad()
            (loss / len(chunk)).backward()
            opt.step()
            summed += loss.item()
            count += len(chunk)
        history.append(summed / count)
    return history
