"""Make the visible tests speak plainly.

A step that is not written yet raises ``NotImplementedError("step 03: softmax
is not implemented yet")``; its test then reports that one line instead of a
traceback. Every test starts from the same random seed, so a failure you see
is a failure you can reproduce.
"""

import os
import random

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # draw without a screen


@pytest.fixture(autouse=True)
def _same_seed_every_test():
    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(NotImplementedError):
        report.longrepr = f"{call.excinfo.value} (see {item.path.name.replace('test_', '', 1)})"
