"""Step 06 in another style: named children, layers registered in another order."""

from collections import OrderedDict

from torch import nn


def create_model(N):
    return nn.Sequential(
        OrderedDict(
            [
                ("fc_in", nn.Linear(784, N)),
                ("act", nn.ReLU()),
                ("fc_out", nn.Linear(N, 10)),
            ]
        )
    )


class Model(nn.Module):
    def __init__(self, n_in, nh, n_out):
        super().__init__()
        # The output layer first: registration order is free.
        self.readout = nn.Linear(nh, n_out)
        self.features = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU())

    def forward(self, x):
        return self.readout(self.features(x))


class ClassifierNet(nn.Module):
    def __init__(self, N_inputs, N_outputs, N_hidden_layers, N_hidden_nodes, activation,
                 output_activation):
        super().__init__()
        self.head = nn.Linear(N_hidden_nodes, N_outputs)
        self.blocks = nn.ModuleList()
        width = N_inputs
        for _ in range(N_hidden_layers):
            self.blocks.append(nn.Linear(width, N_hidden_nodes))
            width = N_hidden_nodes
        self.activation = activation
        self.output_activation = output_activation

    def forward(self, x):
        for block in self.blocks:
            x = self.activation(block(x))
        x = self.head(x)
        return x if self.output_activation is None else self.output_activation(x)

