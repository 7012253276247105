"""Correct code in another style: Sequential halves, a DataLoader, F.normalize, topk."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader


class AE(nn.Module):
    def __init__(self, N_input=784, N_hidden_nodes=50):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(N_input, N_hidden_nodes), nn.ReLU())
        self.dec = nn.Sequential(nn.Linear(N_hidden_nodes, N_input), nn.Sigmoid())

    def encode(self, x):
        return self.enc(x)

    def forward(self, x):
        return self.dec(self.encode(x)).view(-1, 1, 28, 28)


def train_autoencoder(model, images, epochs=1, batch_size=64, lr=1e-3, device=None, seed=None):
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        total = 0.0
        for batch in DataLoader(images, batch_size=batch_size, shuffle=True):
            batch = batch.to(device).reshape(len(batch), 1, 28, 28).float()
            loss = F.mse_loss(model(batch), batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
        history.append(total / len(images))
    return history


def cosine_similarity_matrix(A):
    unit = F.normalize(A, dim=1)
    return unit @ unit.T


def nearest_neighbors(A, idx, k=5):
    return torch.topk(cosine_similarity_matrix(A)[idx], k).indices
