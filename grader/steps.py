"""The steps of the contract (docs/contract.md): module names in order, their titles,
and helpers to name them. The kit's one list of steps: markers, reports and the
student README are made from it."""

from __future__ import annotations

import re

STEPS = (
    "step01_plotting",
    "step02_exp_positivity",
    "step03_normalization",
    "step04_one_hot_loss",
    "step05_cross_entropy",
    "step06_create_model",
    "step07_train_loop",
    "step08_accuracy",
    "step09_convolution_shapes",
    "step10_autoencoder",
    "step11_rnn",
    "step12_toy_problems",
    "step13_init_and_regularization",
)

# What each step teaches, in a few words (the README's table, the pytest markers).
TITLES = {
    "step01_plotting": "looking at digits and probabilities with matplotlib",
    "step02_exp_positivity": "`exp` turns any score into a positive number",
    "step03_normalization": "normalizing, a softmax that never overflows, logsumexp",
    "step04_one_hot_loss": "one-hot vectors, the loss of the right class, NLL",
    "step05_cross_entropy": "cross-entropy, binary cross-entropy, the 3-vs-7 loss",
    "step06_create_model": "Linear + ReLU models, `nn.Module`, `nn.ModuleList`",
    "step07_train_loop": "the training loop, zeroing gradients, a manual SGD step",
    "step08_accuracy": "accuracy, predicting in eval mode, the mean-image baseline",
    "step09_convolution_shapes": "convolution and pooling sizes, a small CNN",
    "step10_autoencoder": "an autoencoder, its code space, nearest neighbours",
    "step11_rnn": "a recurrent network written by hand, teacher forcing",
    "step12_toy_problems": "two rings and a damped sine: small networks, full-batch training",
    "step13_init_and_regularization": "initialization, dropout, batch norm, optimizers",
}

# A step file larger than this is not graded (in a folder or in a zip).
MAX_STEP_FILE = 1 * 2**20

_STEP_RE = re.compile(r"^step(\d\d)(?:_\w+)?$")


def step_number(name: str) -> int:
    """``"step03_normalization"`` or ``"step03"`` -> 3."""
    match = _STEP_RE.match(name)
    if not match:
        raise ValueError(f"not a step name: {name!r} (expected like 'step03_normalization')")
    return int(match.group(1))


def marker_name(step: str) -> str:
    """The pytest marker of a step: ``"step03_normalization"`` -> ``"step03"``."""
    return f"step{step_number(step):02d}"


def marker_line(step: str) -> str:
    """How a step marker is described (pytest's markers list):
    ``"step03: step 03, normalizing, a softmax that never overflows, logsumexp"``."""
    marker = marker_name(step)
    return f"{marker}: step {marker[4:]}, {TITLES[step]}"


def step_for_marker(marker: str) -> str:
    """The full module name of a step marker: ``"step03"`` -> ``"step03_normalization"``."""
    for step in STEPS:
        if marker_name(step) == marker:
            return step
    raise ValueError(f"no step has the marker {marker!r}")


def _step_key(name: str) -> str:
    """``3``, ``03``, ``step3`` and ``step03`` all mean ``step03``; other text stays."""
    digits = name.removeprefix("step")
    return f"step{int(digits):02d}" if digits.isdigit() and len(digits) <= 2 else name


def resolve(names: list[str]) -> list[str]:
    """Full step names for user input like ``3``, ``03``, ``step3``, ``step03`` or
    ``step03_normalization``; a comma separates several (``3,4`` or ``03 04``)."""
    chosen: list[str] = []
    for name in [part.strip() for item in names for part in item.split(",") if part.strip()]:
        key = _step_key(name)
        matches = [s for s in STEPS if s == key or marker_name(s) == key]
        if not matches:
            raise ValueError(f"unknown step {name!r}; the steps are {', '.join(STEPS)}")
        chosen.extend(m for m in matches if m not in chosen)
    return [s for s in STEPS if s in chosen]
