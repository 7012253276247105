"""Step 13, written independently from STEPS.md (a different style on purpose)."""

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn


def _xavier(rows, cols):
    return nn.Parameter(nn.init.xavier_normal_(torch.empty(rows, cols)))


class Net(nn.Module):
    def __init__(self, num_features, num_hidden, num_output, activation=None):
        super().__init__()
        self.W_1 = _xavier(num_hidden, num_features)
        self.b_1 = nn.Parameter(torch.zeros(num_hidden))
        self.W_2 = _xavier(num_output, num_hidden)
        self.b_2 = nn.Parameter(torch.zeros(num_output))
        self.act = activation if activation is not None else nn.ELU()

    def forward(self, x):
        hidden = self.act(F.linear(x, self.W_1, self.b_1))
        return F.linear(hidden, self.W_2, self.b_2)


def kaiming_init_(module):
    for sub in module.modules():
        for name, param in sub.named_parameters(recurse=False):
            if param.ndim == 2:
                nn.init.kaiming_normal_(param, mode="fan_in", nonlinearity="relu")
            elif name == "bias":
                with torch.no_grad():
                    param.zero_()
    return module


class RegularizedNet(nn.Module):
    def __init__(self, num_features, num_hidden, num_output, dropout=0.5, batchnorm=True):
        super().__init__()
        self.fc1 = nn.Linear(num_features, num_hidden)
        self.norm = nn.BatchNorm1d(num_hidden) if batchnorm else None
        self.drop = nn.Dropout(p=dropout)
        self.fc2 = nn.Linear(num_hidden, num_output)

    def forward(self, x):
        h = self.fc1(x)
        if self.norm is not None:
            h = self.norm(h)
        return self.fc2(self.drop(F.relu(h)))


_FACTORIES = {
    "sgd": lambda p, lr, m, wd: torch.optim.SGD(p, lr=lr, weight_decay=wd),
    "momentum": lambda p, lr, m, wd: torch.optim.SGD(p, lr=lr, momentum=m, weight_decay=wd),
    "adam": lambda p, lr, m, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd),
    "rmsprop": lambda p, lr, m, wd: torch.optim.RMSprop(p, lr=lr, weight_decay=wd),
}


def make_optimizer(params, kind="sgd", lr=0.01, momentum=0.9, weight_decay=0.0):
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise ValueError(f"kind must be one of {sorted(_FACTORIES)}, not {kind!r}")
    return factory(params, lr, momentum, weight_decay)


@torch.no_grad()
def _accuracy(net, x, y):
    net.eval()
    return float((net(x).argmax(-1) == y).sum().item() / len(y))


def train_with_validation(
    net, x_train, y_train, x_valid, y_valid, optimizer, epochs, batch_size=100
):
    history = {"train_loss": [], "train_acc": [], "valid_acc": []}
    for _ in range(epochs):
        net.train()
        total, count = 0.0, 0
        for idx in torch.randperm(x_train.shape[0]).split(batch_size):
            optimizer.zero_grad()
            loss = F.cross_entropy(net(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            count += len(idx)
        history["train_loss"].append(total / count)
        history["train_acc"].append(_accuracy(net, x_train, y_train))
        history["valid_acc"].append(_accuracy(net, x_valid, y_valid))
    return history


def plot_history(history):
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    epochs = np.arange(len(history["train_acc"]))
    ax.plot(epochs, history["train_acc"], "o-", label="train")
    ax.plot(epochs, history["valid_acc"], "s--", label="validation")
    ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy per epoch")
    ax.legend(loc="lower right")
    return fig
