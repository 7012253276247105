"""Correct code in another style: DataLoader, .data updates, gradients set to None."""

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from .mnist import get_random_batch
from .step06_create_model import create_model


def _device(device):
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def train(Nhidden=200, Nsteps=300, lr=1e-3, batch_size=200, device=None, seed=None, log_every=50):
    device = _device(device)
    if seed is not None:
        torch.manual_seed(seed)
    model = create_model(Nhidden).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(1, Nsteps + 1):
        X, y = get_random_batch(batch_size)
        loss = F.cross_entropy(model(X.to(device)), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if log_every and step % log_every == 0:
            print(f"step {step}: loss {loss.item():.4f}")
    return model


def sgd_step(params, lr):
    for p in params:
        if p.grad is not None:
            p.data.add_(p.grad.data, alpha=-lr)
            p.grad = None


def fit(model, X, y, epochs=1, batch_size=64, lr=1e-3, device=None, seed=None):
    device = _device(device)
    if seed is not None:
        torch.manual_seed(seed)
    model = model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    history = []
    for _ in range(epochs):
        losses, sizes = [], []
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb.to(device)), yb.to(device), reduction="sum")
            opt.zero_grad()
            (loss / len(xb)).backward()
            opt.step()
            losses.append(loss.item())
            sizes.append(len(xb))
        history.append(sum(losses) / sum(sizes))
    return history
