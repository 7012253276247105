"""What the kit hands out, and the files it writes for it.

- :mod:`.stubs`: ``exercises/`` generated from ``solutions/``;
- :mod:`.release`: the student kit (``python -m grader release``);
- :mod:`.student_branch`: the release as the next commit of a branch (``release --branch``);
- :mod:`.kit_export`: the grading kit without solutions (``python -m grader kit-export``);
- :mod:`.notebooks`: its notebook per step, from ``templates/notebooks/``;
- :mod:`.classroom`: its GitHub Classroom workflow and the step budgets;
- :mod:`.leak_scan`: the solution lines, and the scan that keeps them out;
- :mod:`.gradescope`: the Gradescope autograder zip (``python -m grader gradescope``).

Files written from text live in ``templates/`` (package data), named after the
file they become; ``pyproject.toml.in``, ``gitignore`` and the notebooks' ``*.py.in`` are named
so that no tool here takes them for the real thing.
"""

from __future__ import annotations

from importlib.resources import files


def read_template(*parts: str) -> str:
    """The text of ``templates/<parts>``, read from the installed package."""
    resource = files(__name__).joinpath("templates")
    for part in parts:
        resource = resource.joinpath(part)
    return resource.read_text(encoding="utf-8")
