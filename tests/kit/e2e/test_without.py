""" "Without X" end to end: bypasses lose the "without" points, and only those, in both modes.

The checks themselves are tested in tests/kit/unit/test_without.py.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.grading import runner
from grader.sandbox.bwrap import bwrap_problem
from tests.kit.grading import AT_ONCE

HEADER = "import torch\nimport torch.nn.functional as F\n"
STEP03 = "step03_normalization"
STEP05 = "step05_cross_entropy"


BYPASS_SUBMISSION = {
    # module alias, getattr by string, a second definition later in the file
    STEP03: HEADER
    + (
        "_sm = F.softmax\n"
        "def normalize(a):\n    return a / a.sum(-1, keepdim=True)\n"
        "def softmax(x):\n    return _sm(x, dim=-1)\n"
        "def logsumexp(x):\n"
        '    return getattr(torch, "log" + "sum" + "exp")(x, dim=-1, keepdim=True)\n'
        "def log_softmax(x):\n    return x - logsumexp(x)\n"
        "def log_softmax(x):\n    return F.log_softmax(x, dim=-1)\n"
        "def _picked(x, y):\n    return F.nll_loss(x - logsumexp(x), y)\n"
    ),
    # vars(torch...)
    "step04_one_hot_loss": HEADER
    + (
        "def one_hot(y, num_classes=10):\n    return torch.eye(num_classes)[y]\n"
        "def one_hot_loss(x, y):\n    p = torch.softmax(x, -1)\n"
        "    return -torch.log((p * one_hot(y, x.shape[1])).sum(-1)).mean()\n"
        "def nll(log_probs, y):\n"
        '    return vars(torch.nn.functional)["nll_loss"](log_probs, y)\n'
    ),
    # a helper in another step file
    STEP05: HEADER
    + (
        "from .step03_normalization import _picked\n"
        "def cross_entropy(logits, y):\n    return _picked(logits, y)\n"
        "def binary_cross_entropy(p, y, eps=1e-7):\n    p = p.clamp(eps, 1 - eps)\n"
        "    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n"
        "def mnist_loss(predictions, targets):\n    p = torch.sigmoid(predictions)\n"
        "    return torch.where(targets == 1, 1 - p, p).mean()\n"
    ),
}
EXPECTED_LOSSES = {
    STEP03: {
        "test_softmax_without_library": "F.softmax",
        "test_logsumexp_without_library": "getattr(torch",
        "test_log_softmax_without_library": "F.log_softmax",
    },
    "step04_one_hot_loss": {"test_nll_without_library": "vars"},
    STEP05: {"test_cross_entropy_without_library": "F.nll_loss"},
}


@pytest.mark.timeout(600)
def test_bypasses_lose_the_without_points_in_both_modes(tmp_path, inventory):
    for step, text in BYPASS_SUBMISSION.items():
        (tmp_path / f"{step}.py").write_text(text)
    steps = sorted(BYPASS_SUBMISSION)
    modes = ["off"] + (["bwrap"] if bwrap_problem() is None else [])
    with ThreadPoolExecutor(AT_ONCE) as pool:
        entries = list(
            pool.map(lambda m: runner.grade_one(tmp_path, steps, inventory, sandbox=m), modes)
        )
    for mode, entry in zip(modes, entries, strict=True):
        for step in steps:
            lost = {
                t["name"]: t["message"]
                for t in entry["steps"][step]["tests"]
                if t["status"] != "passed"
            }
            assert set(lost) == set(EXPECTED_LOSSES[step]), (mode, step, lost)
            for test, said in EXPECTED_LOSSES[step].items():
                assert "must be written without" in lost[test] and said in lost[test], (
                    mode,
                    lost[test],
                )
    if len(modes) == 1:
        print(f"bubblewrap half not run: {bwrap_problem()}", file=sys.stderr)
