"""What every report shares: the message limit, score text, steps in order, test names."""

from __future__ import annotations

from typing import Any

from ..steps import STEPS, step_number

MESSAGE_LIMIT = 1000
_TRUNCATED = " ... [truncated]"


def truncate(text: str | None, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, marked where cut (None: empty)."""
    text = text or ""
    return text if len(text) <= limit else text[: limit - len(_TRUNCATED)] + _TRUNCATED


def score_text(value: float) -> str:
    """A score as text: ``3`` for 3.0, else the shortest exact float text."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def steps_of(submission: dict[str, Any]) -> list[str]:
    """A submission's steps in STEPS order (any unknown ones after, as given)."""
    known = [s for s in STEPS if s in submission["steps"]]
    return known + [s for s in submission["steps"] if s not in STEPS]


def step_number_or_none(step: str) -> int | None:
    """The step's number, None for a step name the kit does not know."""
    try:
        return step_number(step)
    except ValueError:
        return None


def qualified_name(step: str, name: str) -> str:
    """A hidden test's name in a report: ``"step03_normalization: test_x"``."""
    return f"{step}: {name}"


def submission_of(document: dict[str, Any], index: int) -> dict[str, Any]:
    """The document's submission ``index``; ValueError when there is none."""
    subs = document["submissions"]
    if not -len(subs) <= index < len(subs):
        raise ValueError(
            f"submission_index {index} is out of range: the document has {len(subs)} submission(s)"
        )
    return subs[index]


def all_tests(submission: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(step, test)`` of every test of a submission, steps in STEPS order."""
    return [
        (step, test) for step in steps_of(submission) for test in submission["steps"][step]["tests"]
    ]
