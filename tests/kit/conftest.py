"""Fixtures shared by the kit's unit and end-to-end tests.

Plain helpers (paths, submissions made on the fly, the grade command) live in
``tests/kit/submission_files.py`` and are imported as ``tests.kit.submission_files``:
``tests`` is a package, so no test needs ``sys.path`` tricks.
"""

import pytest

from grader.distribute import classroom, release
from grader.grading import runner
from grader.steps import STEPS


@pytest.fixture(scope="session")
def inventory() -> list[dict]:
    """The hidden tests of every step, collected once for the whole run (a child pytest of
    a few seconds): grading takes the tests of the steps it grades from it."""
    return runner.collect_inventory(list(STEPS))


@pytest.fixture(scope="session")
def budgets():
    return classroom.step_budgets()


@pytest.fixture(scope="session")
def released(tmp_path_factory, budgets):
    """One student release (with ``--git``) for the whole run; a test that changes files
    works on a copy."""
    out = tmp_path_factory.mktemp("release") / "student"
    written = release.release(out, git=True, budgets=budgets)
    return out, written
