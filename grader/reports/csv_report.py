"""CSV: one row per submission, a column per step (a gradebook import)."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..steps import STEPS
from .common import score_text

# Cells a spreadsheet would run as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(text: str) -> str:
    """Text a spreadsheet shows as text, not runs as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def report(document: dict[str, Any]) -> str:
    """CSV: header ``name, <step>..., total, max_total``, then one row per submission.

    Step columns are the steps present in any submission, in STEPS order; a cell is
    the step's score (empty where a submission lacks that step). Numbers are written
    exactly (``3``, ``2.5``). A name that would start a spreadsheet formula gets a
    leading ``'``.
    """
    subs = document["submissions"]
    steps = [s for s in STEPS if any(s in sub["steps"] for sub in subs)]
    steps += [s for sub in subs for s in sub["steps"] if s not in STEPS and s not in steps]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", *steps, "total", "max_total"])
    for sub in subs:
        writer.writerow(
            [
                _csv_cell(sub["name"]),
                *(score_text(sub["steps"][s]["score"]) if s in sub["steps"] else "" for s in steps),
                score_text(sub["score"]),
                score_text(sub["max_score"]),
            ]
        )
    return out.getvalue()
