from . import Bug

STEP = "step10_autoencoder"
BUGS = [
    Bug(
        STEP,
        "autoencoder-without-sigmoid",
        "nn.Linear(N_hidden_nodes, N_input), nn.Sigmoid())",
        "nn.Linear(N_hidden_nodes, N_input))",
    ),
    Bug(
        STEP,
        "cosine-without-normalizing",
        "An = A / A.norm(dim=1, keepdim=True).clamp_min(1e-12)",
        "An = A",
    ),
    Bug(
        STEP,
        "neighbours-least-similar-first",
        "torch.topk(similarities, k).indices",
        "torch.topk(similarities, k, largest=False).indices",
    ),
    Bug(
        STEP,
        "code-without-relu",
        "nn.Sequential(nn.Linear(N_input, N_hidden_nodes), nn.ReLU())",
        "nn.Sequential(nn.Linear(N_input, N_hidden_nodes))",
    ),
    Bug(STEP, "autoencoder-never-steps-the-optimizer", "            optimizer.step()\n", ""),
]
