"""Assertions for the hidden tests, with messages that say what was expected and what came.

Messages never print expected values beyond what the visible tests show:
they name the shape, type or property that was wrong and, for numbers, the
largest difference.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch


def fail(message: str):
    pytest.fail(message, pytrace=False)


def describe(value) -> str:
    """A short description of a value: its type, and shape and dtype for arrays."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def tensor(
    value,
    what: str,
    shape: tuple | None = None,
    dtype: torch.dtype | None = None,
    finite: bool = True,
) -> torch.Tensor:
    """Check that ``value`` is a torch tensor (of ``shape`` and ``dtype``), finite; return it."""
    if type(value) is not torch.Tensor and not isinstance(value, torch.nn.Parameter):
        fail(f"{what} should be a torch.Tensor, got {describe(value)}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(f"{what} should have shape {tuple(shape)}, got {tuple(value.shape)}")
    if dtype is not None and value.dtype != dtype:
        fail(f"{what} should have dtype {dtype}, got {value.dtype}")
    if finite and value.is_floating_point() and not torch.isfinite(value).all():
        bad = (~torch.isfinite(value)).sum().item()
        fail(f"{what} has {bad} NaN or infinite value(s); it should be finite")
    return value


def scalar(value, what: str) -> torch.Tensor:
    """A 0-dimensional floating tensor (a loss)."""
    value = tensor(value, what)
    if value.dim() != 0:
        fail(
            f"{what} should be a scalar tensor (shape ()), got shape {tuple(value.shape)}; "
            "did you forget the mean over the batch?"
        )
    return value


def python_float(value, what: str, low: float | None = None, high: float | None = None) -> float:
    if type(value) is not float:
        fail(f"{what} should be a Python float, got {describe(value)} (hint: .item())")
    if value != value:
        fail(f"{what} is NaN")
    if (low is not None and value < low) or (high is not None and value > high):
        fail(f"{what} should lie in [{low}, {high}], got {value:.4g}")
    return value


def close(
    actual: torch.Tensor, expected: torch.Tensor, what: str, rtol: float = 1e-5, atol: float = 1e-6
) -> None:
    """``torch.testing.assert_close`` in float64, reporting the largest difference only."""
    actual = actual.detach().to("cpu", torch.float64)
    expected = expected.detach().to("cpu", torch.float64)
    if actual.shape != expected.shape:
        fail(f"{what} should have shape {tuple(expected.shape)}, got {tuple(actual.shape)}")
    try:
        torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=False)
    except AssertionError:
        diff = (actual - expected).abs()
        worst = diff.nan_to_num(float("inf")).max().item()
        fail(
            f"{what} is not close to the correct values: largest difference {worst:.3g} "
            f"(allowed about {atol:g} + {rtol:g} x |value|)"
        )


# --- "without X": the submission's source ---------------------------------------------


def _functions(tree: ast.Module) -> dict[str, ast.AST]:
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, node)
    return found


def _reachable(tree: ast.Module, function: str) -> list[ast.AST]:
    """The function and every module function it calls by name, transitively."""
    functions = _functions(tree)
    if function not in functions:
        return []
    seen, todo = [], [function]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.append(name)
        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Name) and node.id in functions:
                todo.append(node.id)
    return [functions[n] for n in seen]


def uses(source: str, function: str, names: set[str]) -> list[str]:
    """Which of ``names`` the function (and helpers it calls) reaches as an attribute
    (``torch.softmax``, ``x.softmax``, ``F.softmax``) or imports by name from torch."""
    tree = ast.parse(source)
    found = set()
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").split(".")[0] in ("torch", "numpy")
        for alias in node.names
        if alias.name in names
    }
    for fn in _reachable(tree, function):
        for node in ast.walk(fn):
            if isinstance(node, ast.Attribute) and node.attr in names:
                found.add(node.attr)
            elif isinstance(node, ast.Name) and node.id in imported:
                found.add(node.id)
    return sorted(found)


def without(source: str, function: str, names: set[str], lesson: str) -> None:
    """Fail when ``function`` uses any of ``names``; ``lesson`` says what to do instead."""
    used = uses(source, function, names)
    if used:
        fail(f"{function} must be written without {', '.join(used)}: {lesson}")


def calls(source: str, function: str, names: set[str]) -> bool:
    """Whether the function (or a helper it calls) uses one of ``names`` (see :func:`uses`)."""
    return bool(uses(source, function, names))


# --- gradients reported from where the submission runs, checked here ----------------------
#
# A gradient of the student's own code can only be taken where that code runs (in a
# sandboxed worker, where the submission can replace the kit's code or autograd). The
# grader checks what comes back against the student function's own outputs: along a few
# random directions, a central difference of those outputs, computed here in float64,
# must agree with the returned gradient. A gradient that is not the gradient of what
# the function computes fails. (A function whose values are right and whose autograd
# graph is cut, with a patched kit that reports the right gradient anyway, is beyond
# what values seen from outside can tell.)

_FD_SEED = 8128  # a fixed generator of its own: the directions never touch the global RNG


def _weighted_sum(output, weight) -> float | None:
    """``sum((o * w).sum())`` over the tensor outputs, in float64; None if none is a tensor."""
    outputs = output if isinstance(output, tuple) else (output,)
    weights = weight if isinstance(weight, tuple) else (weight,)
    total, found = 0.0, False
    for i, o in enumerate(outputs):
        if not isinstance(o, torch.Tensor) or not o.is_floating_point():
            continue
        w = weights[i] if i < len(weights) else None
        o = o.detach().to("cpu", torch.float64)
        term = o if w is None else o * w.detach().to("cpu", torch.float64)
        total += term.sum().item()
        found = True
    return total if found else None


def _magnitude(output, weight) -> float:
    outputs = output if isinstance(output, tuple) else (output,)
    weights = weight if isinstance(weight, tuple) else (weight,)
    total = 0.0
    for i, o in enumerate(outputs):
        if isinstance(o, torch.Tensor) and o.is_floating_point():
            w = weights[i] if i < len(weights) else None
            o = o.detach().to("cpu", torch.float64).abs()
            total += (o if w is None else o * w.detach().to("cpu", torch.float64).abs()).sum()
    return float(total)


def _agrees(fd: float, claimed: float, scale: float, rounding: float, rel: float) -> bool:
    return abs(fd - claimed) <= rel * (scale + abs(fd)) + rounding + 1e-9


def gradient_of_outputs(call, args, kwargs, weight, output, grads, what: str) -> None:
    """Check ``(output, grads)`` reported for ``call(*args, **kwargs)`` against ``call`` itself.

    ``call`` runs the student's function on the grader's behalf and returns plain
    data. The reported output must be what ``call`` returns; each gradient must have
    its input's shape; and where the inputs that require grad are float64, the
    gradient must match a directional central difference of ``call``'s outputs.
    Float32 inputs get the first two checks only: rounding at float32 makes a
    difference quotient too coarse to judge a gradient at the magnitudes tests use.
    """
    kwargs = kwargs or {}
    inputs = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor) and a.requires_grad]
    if grads is None:
        return  # not connected to autograd: the test says so
    if not isinstance(grads, tuple) or len(grads) != len(inputs):
        fail(f"the gradients reported for {what} do not match its inputs that require grad")
    for i, g in zip(inputs, grads, strict=True):
        if g is not None and (
            type(g) is not torch.Tensor or tuple(g.shape) != tuple(args[i].shape)
        ):
            fail(
                f"the gradient reported for argument {i} of {what} should be a tensor of shape "
                f"{tuple(args[i].shape)}, got {describe(g)}"
            )

    def run(shift=None, h=0.0):
        fresh = []
        for i, a in enumerate(args):
            if i in inputs:
                a = a.detach().clone()
                if shift is not None:
                    a = (a.double() + h * shift[inputs.index(i)]).to(a.dtype)
                a.requires_grad_()
            fresh.append(a)
        return call(*fresh, **kwargs)

    again = run()
    if not isinstance(again, torch.Tensor) or not isinstance(output, torch.Tensor):
        fail(f"{what} should return a tensor, got {describe(again)}")
    if again.shape != output.shape or not torch.allclose(
        again.detach().double(), output.detach().double(), rtol=1e-6, atol=1e-9, equal_nan=True
    ):
        fail(f"the output reported with the gradient of {what} is not what {what} returns")
    if any(args[i].dtype != torch.float64 for i in inputs):
        return
    g = torch.Generator().manual_seed(_FD_SEED)
    sizes = [args[i].detach().abs().max().item() for i in inputs if args[i].numel()]
    largest = max(sizes, default=1.0)
    h = 1e-6 * max(1.0, largest)
    magnitude = _magnitude(output, weight)
    for _ in range(2):
        shift = [torch.randn(args[i].shape, generator=g, dtype=torch.float64) for i in inputs]
        plus, minus = _weighted_sum(run(shift, h), weight), _weighted_sum(run(shift, -h), weight)
        if plus is None or minus is None:
            fail(f"{what} should return a tensor for every input")
        fd = (plus - minus) / (2 * h)
        pairs = [(gr, v) for gr, v in zip(grads, shift, strict=True) if gr is not None]
        claimed = sum((gr.double() * v).sum().item() for gr, v in pairs)
        scale = sum((gr.double().abs() * v.abs()).sum().item() for gr, v in pairs)
        rounding = 100 * torch.finfo(torch.float64).eps * magnitude / h
        if not _agrees(fd, claimed, scale, rounding, rel=1e-4):
            fail(
                f"the gradient reported for {what} is not the gradient of what {what} "
                f"computes: along a random direction its outputs change at the rate "
                f"{fd:.6g}, the reported gradient says {claimed:.6g} (is part of the "
                "computation detached, or rebuilt with torch.tensor(...)?)"
            )


def parameter_gradients_of_outputs(module, args, weight, grads, what: str) -> None:
    """Check parameter gradients reported for ``module(*args)`` against the module itself.

    For each parameter, the module's parameters are moved along a random direction
    (``load_state_dict``, then restored) and a central difference of the module's
    own outputs must match the reported gradient. The module must be smooth near its
    parameters (the tests use tanh): across a ReLU's kink a difference quotient is not
    a derivative. Float32 parameters get a tolerance of 1e-3 relative (an honest RNN
    stays below a twentieth of it; a gradient 10% off, or one left out, exceeds it).
    """
    if not isinstance(grads, dict):
        fail(f"the gradients reported for {what} should be a dict by parameter name")
    original = {k: v.detach().clone() for k, v in module.state_dict().items()}
    params = dict(module.named_parameters())
    g = torch.Generator().manual_seed(_FD_SEED)
    try:
        base = module(*args)
        magnitude = _magnitude(base, weight)
        for name, p in params.items():
            grad = grads.get(name)
            if grad is not None and (
                type(grad) is not torch.Tensor or tuple(grad.shape) != tuple(p.shape)
            ):
                fail(
                    f"the gradient reported for {what}'s parameter {name} should have shape "
                    f"{tuple(p.shape)}, got {describe(grad)}"
                )
            if name not in original or not p.is_floating_point():
                continue
            v = torch.randn(p.shape, generator=g, dtype=torch.float64)
            v /= v.norm().clamp_min(1e-12)
            eps = torch.finfo(p.dtype).eps
            h = (1e-6 if p.dtype == torch.float64 else 3e-3) * max(1.0, p.abs().max().item())
            sums = []
            for sign in (1, -1):
                moved = dict(original)
                moved[name] = (original[name].double() + sign * h * v).to(original[name].dtype)
                module.load_state_dict(moved)
                sums.append(_weighted_sum(module(*args), weight))
            if None in sums:
                fail(f"{what} should return tensors")
            fd = (sums[0] - sums[1]) / (2 * h)
            claimed = 0.0 if grad is None else (grad.double() * v).sum().item()
            scale = 0.0 if grad is None else (grad.double().abs() * v.abs()).sum().item()
            rounding = 5 * eps * magnitude / h
            rel = 1e-4 if p.dtype == torch.float64 else 1e-3
            if not _agrees(fd, claimed, scale, rounding, rel):
                fail(
                    f"the gradient reported for {what}'s parameter {name} is not the gradient "
                    f"of what {what} computes: along a random direction its outputs change at "
                    f"the rate {fd:.6g}, the reported gradient says {claimed:.6g} (is part of "
                    "the computation detached, or rebuilt with torch.tensor(...)?)"
                )
    finally:
        module.load_state_dict(original)
