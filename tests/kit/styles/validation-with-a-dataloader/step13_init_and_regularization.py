"""Step 13 in another style: a DataLoader, the loss per example, legend([...]) on the
axes, epochs from 0, kaiming_init_ through Module.apply."""

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, num_features, num_hidden, num_output, activation=None):
        super().__init__()
        self.W_1 = nn.Parameter(nn.init.xavier_normal_(torch.empty(num_hidden, num_features)))
        self.W_2 = nn.Parameter(nn.init.xavier_normal_(torch.empty(num_output, num_hidden)))
        self.b_1 = nn.Parameter(torch.zeros(num_hidden))
        self.b_2 = nn.Parameter(torch.zeros(num_output))
        self.activation = activation if activation is not None else nn.ELU()

    def forward(self, x):
        hidden = self.activation(x @ self.W_1.T + self.b_1)
        return hidden @ self.W_2.T + self.b_2


def _kaiming(module):
    for name, p in module.named_parameters(recurse=False):
        if p.dim() == 2:
            nn.init.kaiming_normal_(p)
        elif name.endswith("bias"):
            nn.init.zeros_(p)


def kaiming_init_(module):
    return module.apply(_kaiming)


class RegularizedNet(nn.Module):
    def __init__(self, num_features, num_hidden, num_output, dropout=0.5, batchnorm=True):
        super().__init__()
        self.fc2 = nn.Linear(num_hidden, num_output)
        self.fc1 = nn.Linear(num_features, num_hidden)
        self.norm = nn.BatchNorm1d(num_hidden) if batchnorm else nn.Identity()
        self.p = dropout

    def forward(self, x):
        h = F.relu(self.norm(self.fc1(x)))
        return self.fc2(F.dropout(h, self.p, training=self.training))


def make_optimizer(params, kind="sgd", lr=0.01, momentum=0.9, weight_decay=0.0):
    builders = {
        "sgd": lambda: torch.optim.SGD(params, lr=lr, weight_decay=weight_decay),
        "momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=momentum,
                                            weight_decay=weight_decay),
        "adam": lambda: torch.optim.Adam(params, lr=lr, weight_decay=weight_decay),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay),
    }
    if kind not in builders:
        raise ValueError(f"kind must be one of SGD, Momentum, Adam, RMSprop; got {kind!r}")
    return builders[kind]()


@torch.no_grad()
def _accuracy(net, X, y):
    net.eval()
    return (net(X).argmax(1) == y).double().mean().item()


def train_with_validation(net, x_train, y_train, x_valid, y_valid, optimizer, epochs,
                          batch_size=100):
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True)
    history = {"train_loss": [], "train_acc": [], "valid_acc": []}
    for _ in range(epochs):
        net.train()
        total, seen = 0.0, 0
        for xb, yb in loader:
            loss = F.cross_entropy(net(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            seen += len(xb)
        history["train_loss"].append(total / seen)
        history["train_acc"].append(_accuracy(net, x_train, y_train))
        history["valid_acc"].append(_accuracy(net, x_valid, y_valid))
    return history


def plot_history(history):
    fig = plt.figure()
    ax = fig.add_subplot(1, 1, 1)
    epochs = list(range(len(history["train_acc"])))
    ax.plot(epochs, history["train_acc"])
    ax.plot(epochs, history["valid_acc"], linestyle="--")
    ax.set_xlabel("epoch (from 0)")
    ax.legend(["train", "valid"])
    return fig
