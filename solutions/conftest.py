"""Make the visible tests speak plainly.

``pytest exercises`` prints one line per failing check, with the file and line
of your code it points at, then one line per step: ``feedback.py`` in this
folder does that. For pytest's full report, tracebacks and all, add ``-v`` or
``--tb=long``: ``pytest exercises -m step03 -v``.

Every test starts from the same random seed, so a failure you see is a failure
you can reproduce.
"""

import os
import random
from pathlib import Path

import pytest

from .feedback import StudentFeedback

os.environ.setdefault("MPLBACKEND", "Agg")  # draw without a screen


def pytest_configure(config):
    # Before any test file is collected: a step file that does not import must
    # be caught when the first test file imports it.
    config.pluginmanager.register(
        StudentFeedback(config, Path(__file__).parent, __package__), "student-feedback"
    )


@pytest.fixture(autouse=True)
def _same_seed_every_test():
    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
