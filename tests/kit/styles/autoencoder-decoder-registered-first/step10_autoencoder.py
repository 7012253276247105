"""Step 10 in another style: the decoder registered first, functional activations."""

import torch
import torch.nn.functional as F
from torch import nn


class AE(nn.Module):
    def __init__(self, N_input=784, N_hidden_nodes=50):
        super().__init__()
        self.dec = nn.Linear(N_hidden_nodes, N_input)
        self.enc = nn.Linear(N_input, N_hidden_nodes)

    def encode(self, x):
        return F.relu(self.enc(x.flatten(start_dim=1)))

    def forward(self, x):
        return torch.sigmoid(self.dec(self.encode(x))).view(-1, 1, 28, 28)


def train_autoencoder(model, images, epochs=1, batch_size=64, lr=1e-3, device=None, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    flat = images.reshape(len(images), -1)
    out = []
    for _ in range(epochs):
        batch_losses = []
        for idx in torch.randperm(len(flat)).split(batch_size):
            batch = flat[idx].to(device)
            loss = F.mse_loss(model(batch).reshape(len(batch), -1), batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            batch_losses.append(loss.item())
        out.append(sum(batch_losses) / len(batch_losses))
    return out


def cosine_similarity_matrix(A):
    unit = F.normalize(A, dim=1)
    return unit @ unit.T


def nearest_neighbors(A, idx, k=5):
    return torch.argsort(cosine_similarity_matrix(A)[idx], descending=True)[:k]
