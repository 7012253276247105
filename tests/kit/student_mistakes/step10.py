from . import Mistake

STEP = "step10_autoencoder"
MISTAKES = [
    Mistake(
        STEP,
        "ae-without-sigmoid",
        "nn.Sequential(nn.Linear(N_hidden_nodes, N_input), nn.Sigmoid())",
        "nn.Sequential(nn.Linear(N_hidden_nodes, N_input))",
        ("sigmoid",),
    ),
    Mistake(
        STEP,
        "ae-encoder-without-relu",
        "nn.Sequential(nn.Linear(N_input, N_hidden_nodes), nn.ReLU())",
        "nn.Sequential(nn.Linear(N_input, N_hidden_nodes))",
        ("ReLU",),
    ),
    Mistake(
        STEP,
        "ae-forward-stays-flat",
        "return self.decoder(self.encode(x)).reshape(-1, 1, 28, 28)",
        "return self.decoder(self.encode(x))",
        ("(8, 1, 28, 28)",),
    ),
    Mistake(
        STEP,
        "ae-encode-does-not-flatten",
        "return self.encoder(x.reshape(x.shape[0], -1))",
        "return self.encoder(x)",
        ("(B, 1, 28, 28)", "flatten"),
    ),
    Mistake(
        STEP,
        "train-autoencoder-loss-tensors",
        "total += loss.item() * batch.shape[0]",
        "total += loss * batch.shape[0]",
        ("Python float",),
    ),
    Mistake(
        STEP,
        "cosine-without-normalizing",
        "An = A / A.norm(dim=1, keepdim=True).clamp_min(1e-12)",
        "An = A",
        ("normalize each row",),
    ),
    Mistake(
        STEP,
        "cosine-normalizes-columns",
        "An = A / A.norm(dim=1, keepdim=True).clamp_min(1e-12)",
        "An = A / A.norm(dim=0, keepdim=True).clamp_min(1e-12)",
        ("normalize each row",),
    ),
    Mistake(
        STEP,
        "cosine-norm-without-keepdim",
        "An = A / A.norm(dim=1, keepdim=True).clamp_min(1e-12)",
        "An = A / A.norm(dim=1).clamp_min(1e-12)",
        ("cosine_similarity_matrix", "keepdim=True"),
    ),
    Mistake(
        STEP,
        "neighbors-least-similar-first",
        "torch.topk(similarities, k).indices",
        "torch.topk(similarities, k, largest=False).indices",
        ("decreasing cosine similarity",),
    ),
    Mistake(
        STEP,
        "neighbors-skip-the-row-itself",
        "torch.topk(similarities, k).indices",
        "torch.topk(similarities, k + 1).indices[1:]",
        ("row 0 itself",),
    ),
]
