"""End-to-end tests grade real submissions in child processes: each starts Python, torch
and the data (seconds per child, more on a loaded machine). Their safety net is three
minutes unless a test sets its own: the slowest without one measured 57 s on two busy
cores (a batch graded twice)."""

import pytest

E2E_TIMEOUT_S = 180


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/kit/e2e/" in item.nodeid and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_S))
