"""The results document (DESIGN.md's schema) and the score table printed from it."""

from __future__ import annotations

from typing import Any

from ..steps import STEPS
from .artifacts import check_stored

STATUSES = ("passed", "failed", "error", "timeout")


def submission_entry(
    name: str,
    path: str,
    inventory: list[dict],
    outcomes: dict[str, dict],
    steps: list[str],
    missing_reason: str,
) -> dict:
    """Score one submission: every test of the inventory, judged or not, counts in the maximum.

    ``outcomes`` maps a test's nodeid to ``{"status", "message"}``; a test with no
    outcome (the grading process died before it) scores 0 with ``missing_reason``.
    """
    by_step: dict[str, dict[str, Any]] = {
        step: {"score": 0.0, "max_score": 0.0, "tests": []} for step in steps
    }
    for test in inventory:
        if test["step"] not in by_step:
            continue
        outcome = outcomes.get(test["nodeid"], {"status": "error", "message": missing_reason})
        earned = test["points"] if outcome["status"] == "passed" else 0.0
        entry = by_step[test["step"]]
        judged = {
            "name": test["name"],
            "score": earned,
            "max_score": test["points"],
            "status": outcome["status"],
            "message": outcome["message"],
        }
        if outcome.get("artifacts"):
            judged["artifacts"] = outcome["artifacts"]  # only with --html (optional)
        entry["tests"].append(judged)
        entry["score"] += earned
        entry["max_score"] += test["points"]
    return {
        "name": name,
        "path": path,
        "score": sum(s["score"] for s in by_step.values()),
        "max_score": sum(s["max_score"] for s in by_step.values()),
        "steps": by_step,
    }


def validate(document: dict) -> None:
    """Raise ValueError where a document departs from the schema."""

    def need(cond: bool, what: str) -> None:
        if not cond:
            raise ValueError(f"results document: {what}")

    need(isinstance(document.get("kit_version"), str), "kit_version must be a string")
    need(isinstance(document.get("submissions"), list), "submissions must be a list")
    for sub in document["submissions"]:
        for key, kind in (
            ("name", str),
            ("path", str),
            ("score", float),
            ("max_score", float),
            ("steps", dict),
        ):
            need(isinstance(sub.get(key), kind), f"submission {key} must be {kind.__name__}")
        notes = sub.get("notes", [])
        need(isinstance(notes, list) and all(isinstance(n, str) for n in notes), "bad notes")
        need(isinstance(sub.get("student_id", ""), str), "student_id must be a string")
        for step, entry in sub["steps"].items():
            need(step in STEPS, f"unknown step {step!r}")
            need(isinstance(entry.get("tests"), list), f"{step}: tests must be a list")
            need(isinstance(entry.get("cached", False), bool), f"{step}: cached must be a boolean")
            for test in entry["tests"]:
                need(test.get("status") in STATUSES, f"{step}: bad status {test.get('status')!r}")
                need(isinstance(test.get("message"), str), f"{step}: message must be a string")
                for artifact in test.get("artifacts", []):
                    check_stored(artifact)  # ValueError names what is wrong
            need(
                abs(entry["score"] - sum(t["score"] for t in entry["tests"])) < 1e-9,
                f"{step}: score is not the sum of its tests",
            )


def _cell(score: float, max_score: float) -> str:
    return f"{score:g}/{max_score:g}"


# Beyond this many submissions the table turns: one row per submission (a class fits).
WIDE_TABLE = 4


def table(document: dict) -> str:
    """Score/max of every step and the total: steps down and submissions across for a
    few submissions; one row per submission for a batch."""
    subs = document["submissions"]
    steps = [s for s in STEPS if any(s in sub["steps"] for sub in subs)]

    def cell(sub: dict, step: str) -> str:
        entry = sub["steps"].get(step)
        return _cell(entry["score"], entry["max_score"]) if entry else "-"

    if len(subs) > WIDE_TABLE:
        rows = [["submission", *(f"step{s[4:6]}" for s in steps), "total"]]
        rows += [
            [sub["name"], *(cell(sub, s) for s in steps), _cell(sub["score"], sub["max_score"])]
            for sub in subs
        ]
        return _layout(rows, rule_before_last=False)
    rows = [["step", *(sub["name"] for sub in subs)]]
    rows += [[step, *(cell(sub, step) for sub in subs)] for step in steps]
    rows.append(["total", *(_cell(sub["score"], sub["max_score"]) for sub in subs)])
    return _layout(rows, rule_before_last=True)


def printable(text: str) -> str:
    """Text from a submission (a message, a file name) as a terminal may show it: an escape
    sequence in it would be obeyed, redrawing the instructor's screen, so each character
    that is not printable becomes ``?``."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _short(text: str, width: int) -> str:
    """The first line of a message, cut to ``width``, printable (:func:`printable`)."""
    line = printable(" ".join(text.strip().splitlines()[:1]) or "no message")
    return line if len(line) <= width else line[: width - 3] + "..."


def reasons(document: dict, width: int = 160, most: int = 40) -> list[str]:
    """Why points were lost, one line per submission and step that lost some (the first
    failing test's message, cut to ``width``); one line per submission when every lost
    step says the same (a zip that does not open). At most ``most`` lines."""
    lines: list[str] = []
    for sub in document["submissions"]:
        lost = {}
        for step, entry in sub["steps"].items():
            failed = [t for t in entry["tests"] if t["status"] != "passed"]
            if failed:
                more = f" ({len(failed)} of {len(entry['tests'])} tests failed)"
                lost[step] = (failed[0]["message"] or failed[0]["status"], more)
        if len(lost) > 1 and len({message for message, _ in lost.values()}) == 1:
            message = next(iter(lost.values()))[0]
            lines.append(_short(f"{sub['name']}: {message}", width))
            continue
        for step, (message, more) in lost.items():
            lines.append(_short(f"{sub['name']} {step[:6]}: {message}", width - len(more)) + more)
    if len(lines) > most:
        hidden = len(lines) - most + 1
        lines = [*lines[: most - 1], f"... and {hidden} more lines: every message is in --json"]
    return lines


def notes(document: dict, width: int = 160, most: int = 40) -> list[str]:
    """What discovery chose or skipped (a renamed copy graded, competing copies), one
    line per note, cut to ``width``; at most ``most`` lines."""
    lines = [
        _short(f"{sub['name']}: {note}", width)
        for sub in document["submissions"]
        for note in sub.get("notes", [])
    ]
    if len(lines) > most:
        hidden = len(lines) - most + 1
        lines = [*lines[: most - 1], f"... and {hidden} more notes: every note is in --json"]
    return lines


def _layout(rows: list[list[str]], rule_before_last: bool) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    if rule_before_last:
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join(lines)
