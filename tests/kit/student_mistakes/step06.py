from . import Mistake

STEP = "step06_create_model"
MISTAKES = [
    Mistake(
        STEP,
        "create-model-without-relu",
        "nn.Sequential(nn.Linear(784, N), nn.ReLU(), nn.Linear(N, 10))",
        "nn.Sequential(nn.Linear(784, N), nn.Linear(N, 10))",
        ("nn.ReLU()",),
    ),
    Mistake(
        STEP,
        "create-model-fixed-width",
        "nn.Sequential(nn.Linear(784, N), nn.ReLU(), nn.Linear(N, 10))",
        "nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))",
        ("Linear(784, 32)",),
    ),
    Mistake(
        STEP,
        "create-model-ends-with-softmax",
        "nn.Sequential(nn.Linear(784, N), nn.ReLU(), nn.Linear(N, 10))",
        "nn.Sequential(nn.Linear(784, N), nn.ReLU(), nn.Linear(N, 10), nn.Softmax(dim=1))",
        ("logits", "softmax"),
    ),
    Mistake(
        STEP,
        "model-forward-without-relu",
        "return self.out(self.relu(self.hidden(x)))",
        "return self.out(self.hidden(x))",
        ("ReLU",),
    ),
    Mistake(
        STEP,
        "classifiernet-plain-list",
        "self.hidden = nn.ModuleList()",
        "self.hidden = []",
        ("nn.ModuleList",),
    ),
    Mistake(
        STEP,
        "classifiernet-without-activation",
        "x = self.activation(layer(x))",
        "x = layer(x)",
        ("activation after every hidden layer",),
    ),
    Mistake(
        STEP,
        "classifiernet-activation-after-the-output-layer",
        "        x = self.output(x)\n",
        "        x = self.activation(self.output(x))\n",
        ("raw scores", "not after the output layer"),
    ),
    Mistake(
        STEP,
        "classifiernet-ignores-output-activation",
        "        if self.output_activation is not None:\n"
        "            x = self.output_activation(x)\n",
        "",
        ("output_activation=nn.Sigmoid()",),
    ),
]
