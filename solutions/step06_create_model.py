"""Step 06: building a model out of layers, and letting PyTorch see them.

A ``nn.Linear(n_in, n_out)`` layer holds a weight matrix ``W`` of shape
``(n_out, n_in)`` and a bias ``b`` of shape ``(n_out,)``. For a batch ``x`` of
shape ``(B, n_in)`` it computes ``x @ W.T + b``, shape ``(B, n_out)``: every
output is a weighted sum of all inputs plus a constant. That is all a Linear
layer can do, and it is why the ReLU between two of them matters. Two Linear
layers in a row, ``(x @ W1.T + b1) @ W2.T + b2``, are again one Linear map
(weight ``W2 @ W1``, bias ``b1 @ W2.T + b2``): stacking them adds parameters but
no power, and such a "deep" network can draw only straight boundaries between
classes. ``ReLU(z) = max(z, 0)`` bends the map: each hidden unit switches off
for inputs on one side of a hyperplane, and with enough hidden units the model
can approximate curved boundaries. Our first MNIST model is therefore
``Linear(784, N)``, ``ReLU``, ``Linear(N, 10)``: 784 pixels in, ``N`` hidden
features, 10 logits out (one score per digit; softmax turns them into
probabilities, step 03).

``nn.Sequential`` chains layers for us. Writing our own ``nn.Module`` gives
more freedom, and one rule to keep: a layer stored as an attribute
(``self.hidden = nn.Linear(...)``) is *registered*, so ``model.parameters()``
yields its weight and bias, the optimizer updates them and ``model.to(device)``
moves them. A layer hidden inside a plain Python list is invisible to
``nn.Module``: the forward pass still works, but ``parameters()`` skips it, so
the optimizer never trains it and ``to()`` never moves it. ``nn.ModuleList`` is
the list that registers what it holds; use it whenever the number of layers is
only known at run time.
"""

from torch import nn


def create_model(N):
    """The MLP ``Linear(784, N)``, ``ReLU``, ``Linear(N, 10)`` as an ``nn.Sequential``.

    Args:
        N: the number of hidden units.
    Returns:
        an ``nn.Sequential`` mapping ``(B, 784)`` images to ``(B, 10)`` logits.
    Hint: ``nn.Sequential(layer1, layer2, layer3)`` calls its layers in order;
    do not forget the ``nn.ReLU()`` in the middle.
    """
    # BEGIN SOLUTION
    return nn.Sequential(nn.Linear(784, N), nn.ReLU(), nn.Linear(N, 10))
    # END SOLUTION


class Model(nn.Module):
    """The same three layers as :func:`create_model`, as our own ``nn.Module``.

    ``Model(n_in, nh, n_out)`` maps ``(B, n_in)`` to ``(B, n_out)`` through
    ``Linear(n_in, nh)``, ``ReLU``, ``Linear(nh, n_out)``;
    ``list(model.parameters())`` has 4 tensors: ``(nh, n_in)``, ``(nh,)``,
    ``(n_out, nh)``, ``(n_out,)``.
    Hint: store each layer as an attribute in ``__init__`` (after
    ``super().__init__()``) and call them in order in ``forward``.
    """

    def __init__(self, n_in, nh, n_out):
        super().__init__()
        # BEGIN SOLUTION
        self.hidden = nn.Linear(n_in, nh)
        self.relu = nn.ReLU()
        self.out = nn.Linear(nh, n_out)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.out(self.relu(self.hidden(x)))
        # END SOLUTION


class ClassifierNet(nn.Module):
    """An MLP with any number of hidden layers, kept in an ``nn.ModuleList``.

    Args:
        N_inputs: features per example (784 for MNIST).
        N_outputs: outputs per example (10 logits for MNIST).
        N_hidden_layers: how many hidden ``Linear`` layers; the first maps
            ``N_inputs`` to ``N_hidden_nodes``, the others ``N_hidden_nodes``
            to ``N_hidden_nodes``.
        N_hidden_nodes: the width of every hidden layer.
        activation: a callable applied after every hidden layer (``nn.ReLU()``,
            ``nn.Tanh()``, ``torch.relu``, ...).
        output_activation: a callable applied after the output layer
            (``nn.Sigmoid()``, ...), or None for raw outputs (logits).
    ``forward`` maps ``(B, N_inputs)`` to ``(B, N_outputs)``.
    Hint: append the hidden layers to ``nn.ModuleList()`` in a loop; a plain
    Python list would hide their parameters from ``parameters()``.
    """

    def __init__(
        self, N_inputs, N_outputs, N_hidden_layers, N_hidden_nodes, activation, output_activation
    ):
        super().__init__()
        # BEGIN SOLUTION
        self.hidden = nn.ModuleList()
        width = N_inputs
        for _ in range(N_hidden_layers):
            self.hidden.append(nn.Linear(width, N_hidden_nodes))
            width = N_hidden_nodes
        self.output = nn.Linear(width, N_outputs)
        self.activation = activation
        self.output_activation = output_activation
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        for layer in self.hidden:
            x = self.activation(layer(x))
        x = self.output(x)
        if self.output_activation is not None:
            x = self.output_activation(x)
        return x
        # END SOLUTION
