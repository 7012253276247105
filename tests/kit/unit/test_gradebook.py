"""The gradebook CSV: Canvas's and Moodle's own exports as rosters, written back with
each total; matching by the LMS's id or by a normalized name."""

import csv
import io

import pytest

from grader.reports import gradebook

# As Canvas's Grades > Export writes it: a BOM, a "Points Possible" row, read-only totals.
CANVAS_EXPORT = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,MNIST exercises (991),Quiz 1 (992),"
    "Current Score\n"
    "    Points Possible,,,,,40.00,10.00,(read only)\n"
    '"Doe, Jane",1234,S001,jdoe,Section A,,8.00,80\n'
    '"Smith, Bob",5678,S002,bsmith,Section A,,7.00,70\n'
    '"Núñez, Élise",4321,S003,enunez,Section B,,9.00,90\n'
)
# As Moodle's Assignment > Download grading worksheet writes it.
MOODLE_WORKSHEET = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\n"
    "Participant 123,Jane Doe,jane@example.edu,Submitted,,40.00,Yes,-,-,\n"
    "Participant 456,Bob Smith,bob@example.edu,No submission,,40.00,Yes,-,-,\n"
)
# As Moodle's gradebook export (plain text file) writes it.
MOODLE_EXPORT = (
    "First name,Last name,ID number,Institution,Department,Email address,"
    '"Assignment: MNIST (Real)","Course total (Real)","Last downloaded from this course"\n'
    "Jane,Doe,S001,,,jane.doe@example.edu,-,-,1700000000\n"
    "Bob,Smith,S002,,,bob@example.edu,-,-,1700000000\n"
)


def roster(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return gradebook.read_roster(path)


def document(*subs):
    return {
        "kit_version": "x",
        "submissions": [
            {"name": name, "path": "/x", "score": score, "max_score": 40.0, "steps": {}, **extra}
            for name, score, extra in subs
        ],
    }


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_canvas_matches_by_user_id_and_name(tmp_path):
    canvas = roster(tmp_path, CANVAS_EXPORT)
    assert canvas.kind == "canvas" and len(canvas.rows) == 3, "Points Possible is not a student"
    graded = document(
        ("doejane", 31.5, {"student_id": "1234"}),  # a Canvas bulk download
        ("NUNEZ_elise", 40.0, {}),  # a folder named by hand: accents, case, order
        ("mallory", 12.0, {}),
    )
    text = gradebook.report(canvas, graded, "MNIST exercises (991)")
    out = rows(text)
    assert list(out[0]) == [*gradebook.CANVAS_COLUMNS, "MNIST exercises (991)"]
    assert [(r["Student"], r["SIS Login ID"], r["MNIST exercises (991)"]) for r in out] == [
        ("Doe, Jane", "jdoe", "31.5"),
        ("Smith, Bob", "bsmith", ""),
        ("Núñez, Élise", "enunez", "40"),
    ]
    assert "Quiz 1" not in text, "other assignments are not written back"
    lines = gradebook.summary(canvas, graded)
    assert lines == [
        "2 of 3 roster students graded",
        "no submission (grade left empty): Smith, Bob",
        "not on the roster (not in the CSV): mallory",
    ]


def test_an_id_beats_a_name(tmp_path):
    canvas = roster(tmp_path, CANVAS_EXPORT)
    # Named like Jane, but Canvas says user 5678 (Bob) uploaded it.
    out = rows(gradebook.report(canvas, document(("doejane", 5.0, {"student_id": "5678"}))))
    assert [r[gradebook.DEFAULT_COLUMN] for r in out] == ["", "5", ""]


def test_the_moodle_worksheet_is_written_back_with_the_grade(tmp_path):
    sheet = roster(tmp_path, MOODLE_WORKSHEET)
    assert sheet.kind == "moodle-worksheet"
    graded = document(("Jane Doe", 38.0, {"student_id": "123"}))
    text = gradebook.report(sheet, graded)
    assert text.splitlines()[0] == MOODLE_WORKSHEET.splitlines()[0], "every column, in order"
    out = rows(text)
    assert [(r["Identifier"], r["Grade"]) for r in out] == [
        ("Participant 123", "38"),
        ("Participant 456", ""),
    ]


def test_the_moodle_gradebook_export_keeps_the_identity_columns(tmp_path):
    export = roster(tmp_path, MOODLE_EXPORT)
    graded = document(("bob", 20.0, {}), ("jane_doe", 30.0, {}))  # email's name, folder name
    out = rows(gradebook.report(export, graded, "MNIST"))
    assert list(out[0]) == [
        "First name",
        "Last name",
        "ID number",
        "Email address",
        "MNIST",
    ]
    assert [(r["ID number"], r["MNIST"]) for r in out] == [("S001", "30"), ("S002", "20")]


def test_two_submissions_for_one_student_leave_the_grade_to_the_instructor(tmp_path):
    canvas = roster(tmp_path, CANVAS_EXPORT)
    graded = document(("Jane Doe", 10.0, {}), ("Jane Doe~2", 30.0, {}))
    out = rows(gradebook.report(canvas, graded))
    assert out[0][gradebook.DEFAULT_COLUMN] == ""
    assert "Doe, Jane: 2 submissions match (Jane Doe, Jane Doe~2)" in "\n".join(
        gradebook.summary(canvas, graded)
    )


def test_a_roster_without_a_name_column_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no column that names a student"):
        roster(tmp_path, "a,b\n1,2\n")


def test_a_hostile_roster_name_is_shown_printable(tmp_path):
    canvas = roster(tmp_path, CANVAS_EXPORT + '"Eve\x1b[2J, X",9,S9,eve,A,,,\n')
    lines = gradebook.summary(canvas, document())
    assert "Eve?[2J, X" in lines[1] and "\x1b" not in "".join(lines)
