"""Cheat: the forbidden functions called from TorchScript compiled from a string."""

import torch

_cu = torch.jit.CompilationUnit(
    "def sm(x: torch.Tensor) -> torch.Tensor:\n    return torch.soft" + "max(x, -1)\n"
    "def lse(x: torch.Tensor) -> torch.Tensor:\n    return torch.log" + "sumexp(x, -1, True)\n"
    "def lsm(x: torch.Tensor) -> torch.Tensor:\n    return torch.log_soft" + "max(x, -1)\n"
)


def normalize(a):
    return a / a.sum(-1, keepdim=True)


def softmax(x):
    return _cu.sm(x)


def logsumexp(x):
    return _cu.lse(x)


def log_softmax(x):
    return _cu.lsm(x)
