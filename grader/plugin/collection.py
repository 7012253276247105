"""Hidden tests at collection: one step marker and points each, timeouts, the inventory.

Every hidden test (under ``tests/hidden``) carries one step marker (``step03``)
and ``points(n)``; both are copied into the test's ``user_properties`` so JUnit
XML and the results file carry them. The step markers are registered here from
:data:`grader.steps.STEPS`, the kit's one list of steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .. import steps as step_names
from ..layout import HIDDEN_DIR

# CUDA start-up and kernel compilation on first use: added to training timeouts there.
CUDA_TIMEOUT_ALLOWANCE = 60.0


def is_hidden(item: pytest.Item) -> bool:
    return HIDDEN_DIR in Path(str(item.path)).parents


def step_of(item: pytest.Item) -> str | None:
    names = [m.name for m in item.iter_markers() if m.name.startswith("step")]
    return step_names.step_for_marker(names[0]) if names else None


def points_of(item: pytest.Item) -> float | None:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker else None


def timeout_of(item: pytest.Item, default: float) -> float:
    marker = item.get_closest_marker("timeout")
    return float(marker.args[0]) if marker and marker.args else default


def pytest_configure(config: pytest.Config) -> None:
    for step in step_names.STEPS:
        config.addinivalue_line("markers", step_names.marker_line(step))
    config.addinivalue_line("markers", "points(n): points a hidden test is worth")
    config.addinivalue_line(
        "markers", "training: a hidden test that trains a model (longer timeout, scaled on CUDA)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    problems = []
    default = float(config.getini("timeout") or 60)
    for item in items:
        if not is_hidden(item):
            continue
        steps = {m.name for m in item.iter_markers() if m.name.startswith("step")}
        step, points = step_of(item), points_of(item)
        if len(steps) != 1 or points is None or points <= 0:
            problems.append(item.nodeid)
            continue
        cap = config.getoption("grader_timeout_cap")
        if cap:
            item.add_marker(pytest.mark.timeout(min(timeout_of(item, default), cap)), append=False)
        item.user_properties.append(("step", step))
        item.user_properties.append(("points", points))
        if torch.cuda.is_available() and item.get_closest_marker("training"):
            base = timeout_of(item, default)
            item.add_marker(pytest.mark.timeout(base + CUDA_TIMEOUT_ALLOWANCE), append=False)
    if problems:
        raise pytest.UsageError(
            "hidden tests need exactly one step marker and points(n > 0): " + ", ".join(problems)
        )


def pytest_collection_finish(session: pytest.Session) -> None:
    """With ``--grader-inventory=FILE``: each hidden test's step, points and timeout."""
    path = session.config.getoption("grader_inventory")
    if not path:
        return
    default = float(session.config.getini("timeout") or 60)
    inventory = [
        {
            "nodeid": item.nodeid,
            "name": item.name,
            "step": step_of(item),
            "points": points_of(item),
            "timeout": timeout_of(item, default),
        }
        for item in session.items
        if is_hidden(item)
    ]
    Path(path).write_text(json.dumps(inventory))
