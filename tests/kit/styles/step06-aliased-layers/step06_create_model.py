"""Correct code in another style: the layers kept in a Sequential, with handy aliases."""

from torch import nn


def create_model(N):
    return nn.Sequential(nn.Linear(784, N), nn.ReLU(), nn.Linear(N, 10))


class Model(nn.Module):
    def __init__(self, n_in, nh, n_out):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out))
        self.first, self.last = self.net[0], self.net[2]  # the same modules, for inspection

    def forward(self, x):
        return self.net(x)


class ClassifierNet(nn.Module):
    def __init__(
        self, N_inputs, N_outputs, N_hidden_layers, N_hidden_nodes, activation, output_activation
    ):
        super().__init__()
        sizes = [N_inputs] + [N_hidden_nodes] * N_hidden_layers
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairs)
        self.output = nn.Linear(sizes[-1], N_outputs)
        self.activation = activation
        self.output_activation = output_activation

    def forward(self, x):
        for layer in self.hidden:
            x = self.activation(layer(x))
        x = self.output(x)
        return x if self.output_activation is None else self.output_activation(x)
