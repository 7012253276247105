"""Where the kit's files are: the one place that knows the repository's layout.

Every path is absolute and derived from this file's place in the kit, so the
grader works from any working folder (a batch run, a sandbox, a notebook kernel).
"""

from __future__ import annotations

from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
GRADER_DIR = KIT_ROOT / "grader"
SOLUTIONS_DIR = KIT_ROOT / "solutions"
EXERCISES_DIR = KIT_ROOT / "exercises"
HIDDEN_DIR = KIT_ROOT / "tests" / "hidden"
DATA_DIR = KIT_ROOT / "data_cache"
PYPROJECT = KIT_ROOT / "pyproject.toml"
README = KIT_ROOT / "README.md"


def kit_mnist() -> Path:
    """The kit's ``mnist.py`` helpers (``exercises/`` has the same file where a student's
    copy of the kit has no ``solutions/``)."""
    own = SOLUTIONS_DIR / "mnist.py"
    return own if own.is_file() else EXERCISES_DIR / "mnist.py"
