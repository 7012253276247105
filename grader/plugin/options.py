"""The plugin's command-line options, and what it sets up once per run.

pytest-timeout style: the plugin owns its options; nobody reads them from the
environment. The grader's child pytest gets each as one token
(``--submission=PATH``), so pytest never takes a path for a test to collect.
"""

from __future__ import annotations

import os

import pytest

from ..layout import DATA_DIR, SOLUTIONS_DIR
from .verdicts import ResultsWriter


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "MNIST exercise kit")
    group.addoption(
        "--submission",
        default=str(SOLUTIONS_DIR),
        help="directory of step files the hidden tests grade (default: solutions/)",
    )
    group.addoption(
        "--sandbox",
        default="off",
        choices=["off", "auto", "require", "bwrap", "process"],
        help="where submission code runs: off = in this process (default; trusted code "
        "only); auto = a sandboxed worker (bubblewrap if it can run, else a plain child "
        "process); require = bubblewrap or fail",
    )
    group.addoption(
        "--worker-memory-mb",
        type=int,
        default=4096,
        help="memory limit of a sandboxed worker, in MiB (default 4096)",
    )
    group.addoption(
        "--grader-threads",
        type=int,
        default=None,
        metavar="N",
        help="torch threads of this process and of each sandboxed worker (default: torch's "
        "own choice here, 1 in a worker)",
    )
    group.addoption(
        "--grader-timeout-cap",
        type=float,
        default=None,
        metavar="SECONDS",
        help="cap every hidden test's timeout (quick checks of hanging submissions)",
    )
    group.addoption(
        "--grader-inventory",
        default=None,
        metavar="FILE",
        help="write the hidden tests' steps and points to FILE as JSON (used by the grader)",
    )
    group.addoption(
        "--grader-results",
        default=None,
        metavar="FILE",
        help="append one JSON line per finished hidden test to FILE (used by the grader)",
    )
    group.addoption(
        "--grader-artifacts",
        action="store_true",
        help="write what hidden tests keep with keep_artifact (losses, predictions, figures) "
        "into the results file, for the HTML report (used by the grader)",
    )
    group.addoption(
        "--grader-serve",
        default=None,
        metavar="FD",
        help="grade submission after submission, a fork each, as jobs arrive on the socket "
        "FD (used by the grader; see grader/plugin/serve.py)",
    )


def _hypothesis_profile() -> None:
    """Property tests: the same examples every run, no per-example deadline."""
    try:
        from hypothesis import HealthCheck, Phase, settings
    except ImportError:
        return
    settings.register_profile(
        "kit",
        derandomize=True,
        deadline=None,
        max_examples=25,
        database=None,
        report_multiple_bugs=False,  # one failure decides a test; stop looking for more
        # Shrunk examples make clearer messages; the explain phase only adds notes we drop.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    settings.load_profile("kit")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    # A staged submission's mnist.py lives in a temporary folder: point it at the kit's data.
    os.environ.setdefault("MNIST_DATA_DIR", str(DATA_DIR))
    _hypothesis_profile()
    results = config.getoption("grader_results", None)
    if results:
        config.pluginmanager.register(ResultsWriter(results), "grader-results-writer")
    threads = config.getoption("grader_threads", None)
    if threads:
        import torch

        torch.set_num_threads(threads)
