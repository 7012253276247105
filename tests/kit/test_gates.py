"""The gates the repository claims, run by the kit's own test run (and so by CI).

``tox -e lint`` runs the same commands one by one; here each is a test, so a
change that breaks one does not land.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from grader.layout import KIT_ROOT
from grader.steps import STEPS, TITLES

BIN = Path(sys.executable).parent


def _run(*command: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=KIT_ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "--no-cache", "."),
        ("ruff", "format", "--check", "--no-cache", "."),
    ],
    ids=["ruff-check", "ruff-format"],
)
def test_ruff_is_clean(command):
    proc = _run(str(BIN / command[0]), *command[1:])
    assert proc.returncode == 0, (
        f"{' '.join(command)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-1000:]}"
    )


@pytest.mark.timeout(300)
def test_mypy_passes_on_the_grader():
    proc = _run(sys.executable, "-m", "mypy", "--cache-dir=/dev/null", timeout=280)
    assert proc.returncode == 0, f"mypy failed:\n{proc.stdout[-3000:]}{proc.stderr[-1000:]}"


def test_exercises_are_in_sync_with_the_solutions():
    proc = _run(sys.executable, "-m", "grader", "stubs", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_readme_table_names_every_step_with_its_title():
    readme = (KIT_ROOT / "README.md").read_text()
    for number, step in enumerate(STEPS, start=1):
        row = f"| {number:02d} | `{step}` | {TITLES[step]} |"
        assert row in readme, f"README.md lacks the row {row!r} (titles live in grader/steps.py)"


def test_every_folder_of_the_grader_is_a_regular_package():
    """setuptools' package discovery skips a folder without ``__init__.py``: a non-editable
    install (pip install ., the Gradescope image) would lack its modules."""
    folders = {p.parent for p in (KIT_ROOT / "grader").rglob("*.py")}
    missing = sorted(
        str(f.relative_to(KIT_ROOT)) for f in folders if not (f / "__init__.py").is_file()
    )
    assert not missing, f"folders of grader/ without __init__.py: {missing}"
