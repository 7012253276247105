"""Step 10: an autoencoder, and what its code space is good for.

An autoencoder learns without labels: its target is its own input. The
*encoder* maps a 784-pixel image to a short code (here 50 numbers), the
*decoder* maps the code back to 784 pixels, and training makes the
reconstruction match the input (mean squared error).

Why squeeze through a narrow layer? If the code were as wide as the image, the
network could learn to copy pixels straight through and would learn nothing
about digits. Fifty numbers cannot hold 784 arbitrary pixels, so the network
must find what digits have in common (strokes, loops, slants) and store only
how this image differs: a compressed description.

The codes are useful on their own. Images the network finds similar get
similar codes, so in the code space the *nearest neighbours* of a digit are
mostly the same digit, although no label was ever used. We measure closeness
with cosine similarity, the cosine of the angle between two code vectors:
divide each vector by its length, then a dot product. For all pairs at once,
normalize the rows of the code matrix ``A`` and take ``A @ A.T``.

The decoder ends in a sigmoid, which squashes any number into (0, 1): exactly
the range of pixel intensities once the images are scaled with ``pixel / 255``.
So train the autoencoder on images in [0, 1] (not on the normalized images of
the earlier steps, which go below 0 and above 1, where a sigmoid cannot reach).
"""

import torch
from torch import nn


class AE(nn.Module):
    """An autoencoder: 784 pixels -> ``N_hidden_nodes`` code -> 784 pixels.

    ``encode(x)``: ``(B, 784)`` or ``(B, 1, 28, 28)`` -> ``(B, N_hidden_nodes)``
    codes, after a ReLU (so all >= 0).
    ``forward(x)``: the same inputs -> ``(B, 1, 28, 28)`` reconstructions in
    [0, 1], through a sigmoid.
    Hint: an encoder ``Linear(N_input, N_hidden_nodes)`` + ``ReLU`` and a
    decoder ``Linear(N_hidden_nodes, N_input)`` + ``Sigmoid``; flatten the input
    with ``x.reshape(x.shape[0], -1)`` first, and reshape the output with
    ``.reshape(-1, 1, 28, 28)``.
    """

    def __init__(self, N_input=784, N_hidden_nodes=50):
        super().__init__()
        # BEGIN SOLUTION
        self.encoder = nn.Sequential(nn.Linear(N_input, N_hidden_nodes), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(N_hidden_nodes, N_input), nn.Sigmoid())
        # END SOLUTION

    def encode(self, x):
        # BEGIN SOLUTION
        return self.encoder(x.reshape(x.shape[0], -1))
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.decoder(self.encode(x)).reshape(-1, 1, 28, 28)
        # END SOLUTION


def train_autoencoder(model, images, epochs=1, batch_size=64, lr=1e-3, device=None, seed=None):
    """Train ``model`` to reconstruct ``images``: MSE, Adam, shuffled minibatches.

    Args:
        model: an ``AE`` (trained in place, moved to ``device``).
        images: float tensor ``(N, 784)`` or ``(N, 1, 28, 28)`` with values in
            [0, 1] (``pixel / 255``), the range of the sigmoid output.
        epochs, batch_size, lr: the usual.
        device: None means CUDA if available, else the CPU.
        seed: when given, ``torch.manual_seed(seed)`` first (same seed, same result).
    Returns:
        list of ``epochs`` Python floats: the mean training loss of each epoch.
    Hint: the target is the input itself; compare ``model(batch)`` with
    ``batch.reshape(-1, 1, 28, 28)`` using ``nn.functional.mse_loss``. Reshuffle
    with ``torch.randperm(N)`` every epoch.
    """
    # BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    n = images.shape[0]
    losses = []
    for _ in range(epochs):
        order = torch.randperm(n)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = images[order[start : start + batch_size]].to(device)
            loss = nn.functional.mse_loss(model(batch), batch.reshape(-1, 1, 28, 28))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * batch.shape[0]
        losses.append(total / n)
    return losses
    # END SOLUTION


def cosine_similarity_matrix(A):
    """All pairwise cosine similarities between the rows of ``A``.

    Args:
        A: ``(N, D)`` tensor (no all-zero rows).
    Returns:
        ``(N, N)`` tensor; entry ``[i, j]`` is the cosine of the angle between
        rows i and j: symmetric, 1 on the diagonal, values in [-1, 1].
    Hint: divide each row by its length (``A.norm(dim=1, keepdim=True)``), then
    one matrix product ``An @ An.T``. Without normalizing you get dot products,
    which favour long vectors instead of similar directions.
    """
    # BEGIN SOLUTION
    An = A / A.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return An @ An.T
    # END SOLUTION


def nearest_neighbors(A, idx, k=5):
    """The ``k`` rows of ``A`` most cosine-similar to row ``idx``.

    Args:
        A: ``(N, D)`` tensor, e.g. the codes of N images.
        idx: int, the row to look up.
        k: how many neighbours.
    Returns:
        int64 ``(k,)`` row indices, most similar first; row ``idx`` itself comes
        first (its similarity to itself is 1).
    Hint: row ``idx`` of ``cosine_similarity_matrix(A)`` and
    ``torch.topk(..., k).indices`` (sorted, largest first).
    """
    # BEGIN SOLUTION
    similarities = cosine_similarity_matrix(A)[idx]
    return torch.topk(similarities, k).indices
    # END SOLUTION
