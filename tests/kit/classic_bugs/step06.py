from . import Bug

STEP = "step06_create_model"
BUGS = [
    Bug(
        STEP,
        "mlp-without-its-relu",
        "nn.Sequential(nn.Linear(784, N), nn.ReLU(), nn.Linear(N, 10))",
        "nn.Sequential(nn.Linear(784, N), nn.Linear(N, 10))",
    ),
    Bug(
        STEP,
        "model-forward-without-its-relu",
        "return self.out(self.relu(self.hidden(x)))",
        "return self.out(self.hidden(x))",
    ),
    Bug(
        STEP,
        "layers-kept-in-a-plain-python-list",
        "self.hidden = nn.ModuleList()",
        "self.hidden = []",
    ),
]
