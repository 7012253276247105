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
