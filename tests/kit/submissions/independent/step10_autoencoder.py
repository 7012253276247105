"""Step 10, written independently: functional layers, a DataLoader, F.normalize."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AE(nn.Module):
    def __init__(self, N_input=784, N_hidden_nodes=50):
        super().__init__()
        self.down = nn.Linear(N_input, N_hidden_nodes)
        self.up = nn.Linear(N_hidden_nodes, N_input)

    def encode(self, x):
        return F.relu(self.down(torch.flatten(x, 1)))

    def forward(self, x):
        pixels = torch.sigmoid(self.up(self.encode(x)))
        return pixels.view(len(pixels), 1, 28, 28)


def train_autoencoder(model, images, epochs=1, batch_size=64, lr=1e-3, device=None, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(
        TensorDataset(images.reshape(len(images), 784)), batch_size=batch_size, shuffle=True
    )
    history = []
    for _ in range(epochs):
        batch_losses = []
        for (x,) in loader:
            x = x.to(device)
            loss = F.mse_loss(model(x).flatten(1), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            batch_losses.append(loss.item())
        history.append(sum(batch_losses) / len(batch_losses))
    return history


def cosine_similarity_matrix(A):
    unit = F.normalize(A, p=2, dim=1)
    return torch.mm(unit, unit.t())


def nearest_neighbors(A, idx, k=5):
    order = torch.argsort(cosine_similarity_matrix(A)[idx], descending=True)
    return order[:k].to(torch.int64)
