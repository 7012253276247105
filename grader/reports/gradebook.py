"""A gradebook import: the LMS's own roster with each student's total filled in.

The roster is the CSV the LMS exports, written back in the form its import reads:

- Canvas (Grades > Export): ``Student, ID, SIS User ID, SIS Login ID, Section``
  and one column per assignment. Written: those five columns (Canvas's import
  needs them) and one assignment column (``--grade-column``: an existing
  ``Name (id)`` header updates that assignment; a new name creates one).
  Matched on ``ID`` (the user id in a Canvas bulk download's file names), else
  on the name.
- Moodle's grading worksheet (Assignment > Download grading worksheet):
  ``Identifier`` ("Participant 123", the number in the download's folder
  names), ``Full name``, ``Email address``, ``Grade``, ... Written: every column
  as exported, ``Grade`` filled in (Upload grading worksheet reads it back).
- Any other roster with a name, email, username or id column (Moodle's
  gradebook export: ``First name, Last name, ID number, Email address``): those
  columns and the grade column; Moodle's CSV grade import maps one of them to
  the user and the grade column to the grade item.

Names are compared normalized (case, accents, spaces, underscores, commas and
word order do not matter: "Doe, Jane", "jane_doe" and Canvas's "doejane" match).
A student on the roster without a submission gets an empty grade: both imports
leave an empty cell alone, so the kit never enters a 0 it did not grade (a late
or excused student keeps what the instructor decides); they are listed on screen.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..grading.results import printable
from .common import score_text

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# Columns that say who a row is (kept); every other column of a roster is dropped.
IDENTITY = (
    *CANVAS_COLUMNS,
    "Identifier",
    "Full name",
    "First name",
    "Last name",
    "Name",
    "ID number",
    "Username",
    "Email address",
    "Email",
)
NAME_COLUMNS = ("Student", "Full name", "Name")
DEFAULT_COLUMN = "MNIST exercises"


@dataclass
class Roster:
    kind: str  # "canvas", "moodle-worksheet" or "other"
    header: list[str]
    rows: list[dict[str, str]]


@dataclass
class Matching:
    grades: dict[int, dict[str, Any]] = field(default_factory=dict)  # roster row -> submission
    absent: list[int] = field(default_factory=list)  # roster rows without a submission
    unknown: list[str] = field(default_factory=list)  # submissions not on the roster
    problems: list[str] = field(default_factory=list)


def read_roster(path: Path) -> Roster:
    """The roster exported by Canvas or Moodle; ValueError says what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel and Moodle write a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the roster {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    rows = [
        {k.strip(): (v or "").strip() for k, v in row.items() if isinstance(k, str)}
        for row in reader
    ]
    # Canvas's second row: "Points Possible" (and a blank "muted" row in old exports).
    rows = [r for r in rows if r.get("Student", "x") not in ("Points Possible", "")]
    if "Student" in header and "ID" in header:
        kind = "canvas"
    elif "Identifier" in header and "Grade" in header:
        kind = "moodle-worksheet"
    elif any(h in IDENTITY for h in header):
        kind = "other"
    else:
        raise ValueError(
            f"the roster {path} has no column that names a student: expected Canvas's "
            "gradebook export (Student, ID, ...), Moodle's grading worksheet (Identifier, "
            "Full name, ...) or a CSV with one of: " + ", ".join(IDENTITY)
        )
    return Roster(kind, header, rows)


def name_keys(name: str, reorder: bool) -> set[str]:
    """A name compared without case, accents or separators; with ``reorder`` also its
    words reversed and sorted ("Doe, Jane" also as "janedoe")."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    words = [w for w in re.split(r"[\W_]+", plain) if w]
    if not words:
        return set()
    keys = {"".join(words), "".join(sorted(words))}
    if reorder:
        keys.add("".join(reversed(words)))
    return keys


def _row_ids(row: dict[str, str]) -> set[str]:
    ids = {row.get("ID", ""), re.sub(r"\D", "", row.get("Identifier", ""))}
    return {i for i in ids if i}


def _row_names(row: dict[str, str]) -> set[str]:
    keys: set[str] = set()
    for column in NAME_COLUMNS:
        keys |= name_keys(row.get(column, ""), reorder=True)
    keys |= name_keys(f"{row.get('First name', '')} {row.get('Last name', '')}", reorder=True)
    keys |= name_keys(row.get("Username", ""), reorder=False)
    email = row.get("Email address") or row.get("Email") or ""
    keys |= name_keys(email.split("@")[0], reorder=False)
    return keys


def match(roster: Roster, document: dict[str, Any]) -> Matching:
    """Each submission's roster row: by the LMS's id where both have one, else by name."""
    result = Matching()
    claims: dict[int, list[dict[str, Any]]] = {}
    for sub in document["submissions"]:
        sid = sub.get("student_id")
        rows = [i for i, row in enumerate(roster.rows) if sid and sid in _row_ids(row)]
        if not rows:
            keys = name_keys(sub["name"].split("~")[0], reorder=False)
            rows = [i for i, row in enumerate(roster.rows) if keys & _row_names(row)]
        if len(rows) == 1:
            claims.setdefault(rows[0], []).append(sub)
        elif rows:
            who = "; ".join(_who(roster.rows[i]) for i in rows)
            result.problems.append(f"{sub['name']} matches {len(rows)} roster rows ({who})")
        else:
            result.unknown.append(sub["name"])
    for i, subs in claims.items():
        if len(subs) == 1:
            result.grades[i] = subs[0]
        else:
            names = ", ".join(s["name"] for s in subs)
            result.problems.append(
                f"{_who(roster.rows[i])}: {len(subs)} submissions match ({names}); grade left empty"
            )
    result.absent = [i for i in range(len(roster.rows)) if i not in claims]
    return result


def _who(row: dict[str, str]) -> str:
    """How a roster row is shown: its name, else its first identity cell (printable)."""
    for column in (*NAME_COLUMNS, "Email address", "Username", "ID", "Identifier"):
        if row.get(column):
            return printable(row[column])
    return printable(f"{row.get('First name', '')} {row.get('Last name', '')}".strip() or "?")


def report(roster: Roster, document: dict[str, Any], column: str = DEFAULT_COLUMN) -> str:
    """The gradebook CSV: the roster's identity columns and the grade (see the module)."""
    matching = match(roster, document)
    if roster.kind == "moodle-worksheet":
        header, grade_column = roster.header, "Grade"
    elif roster.kind == "canvas":
        header, grade_column = [*CANVAS_COLUMNS, column], column
    else:
        header = [h for h in roster.header if h in IDENTITY or h == column]
        header += [] if column in header else [column]
        grade_column = column
    out = io.StringIO()
    writer = csv.DictWriter(out, header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(roster.rows):
        cells = {h: row.get(h, "") for h in header}
        sub = matching.grades.get(i)
        cells[grade_column] = score_text(sub["score"]) if sub else row.get(grade_column, "")
        writer.writerow(cells)
    return out.getvalue()


def summary(roster: Roster, document: dict[str, Any], most: int = 40) -> list[str]:
    """Lines for the terminal: who is on the roster without a submission, which
    submissions are not on it, and what could not be matched."""
    matching = match(roster, document)
    lines = [f"{len(matching.grades)} of {len(roster.rows)} roster students graded"]
    if matching.absent:
        names = ", ".join(_who(roster.rows[i]) for i in matching.absent)
        lines.append(f"no submission (grade left empty): {names}")
    if matching.unknown:
        lines.append(f"not on the roster (not in the CSV): {', '.join(matching.unknown)}")
    lines += matching.problems
    return lines[:most]
