"""Discovery and the gradebook through ``python -m grader grade``: a class as an LMS or
git hands it over, and its grades as Moodle's worksheet upload reads them."""

import csv
import json
import subprocess

from tests.kit.submission_files import KIT_ROOT, grade_command, make_zip, reference

STEP03 = "step03_normalization"


def test_a_mixed_class_is_found_and_graded_with_notes(tmp_path):
    """A cloned repository, a Moodle folder holding a zip with a browser's renamed copy,
    and a folder without step files: all three graded, the choices noted; the grading
    worksheet Moodle exported comes back with Bob's grade."""
    repo = tmp_path / "class" / "alice-mnist"
    (repo / "exercises").mkdir(parents=True)
    (repo / ".github").mkdir()
    (repo / "exercises" / f"{STEP03}.py").write_text(reference(STEP03))
    (repo / ".github" / f"{STEP03}.py").write_text("raise SystemExit('never graded')\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    moodle = tmp_path / "class" / "Bob Smith_42_assignsubmission_file_"
    moodle.mkdir()
    make_zip(moodle / "hw.zip", {f"hw/{STEP03} (1).py": reference(STEP03)})
    (tmp_path / "class" / "carol").mkdir()
    (tmp_path / "class" / "carol" / "report.pdf").write_text("not code")
    roster = tmp_path / "worksheet.csv"
    roster.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum Grade\n"
        "Participant 42,Bob Smith,bob@example.edu,Submitted,,40\n"
        "Participant 43,Dana Lee,dana@example.edu,No submission,,40\n"
    )
    out, grades = tmp_path / "results.json", tmp_path / "grades.csv"
    proc = grade_command(
        tmp_path / "class",
        *("--steps", "03", "--jobs", "2", "--json", out),
        *("--csv", grades, "--roster", roster),
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    graded = {s["name"]: s for s in json.loads(out.read_text())["submissions"]}
    assert sorted(graded) == ["Bob Smith", "alice-mnist", "carol"]
    alice, bob, carol = graded["alice-mnist"], graded["Bob Smith"], graded["carol"]
    assert alice["score"] == alice["max_score"] > 0 and "notes" not in alice
    assert bob["score"] == bob["max_score"] and bob["student_id"] == "42"
    assert bob["notes"] == [
        f"hw.zip: {STEP03}.py: graded the renamed copy hw/{STEP03} (1).py",
        f"{STEP03}.py: taken from hw.zip",
    ]
    message = carol["steps"][f"{STEP03}"]["tests"][0]["message"]
    assert carol["score"] == 0 < carol["max_score"] and "no step files found" in message
    assert "notes on the files found:" in proc.stdout
    assert f"Bob Smith: hw.zip: {STEP03}.py: graded the renamed copy" in proc.stdout
    rows = list(csv.DictReader(grades.open()))
    assert [(r["Identifier"], r["Grade"]) for r in rows] == [
        ("Participant 42", f"{bob['score']:g}"),
        ("Participant 43", ""),
    ]
    assert "no submission (grade left empty): Dana Lee" in proc.stdout
    assert "not on the roster (not in the CSV): alice-mnist, carol" in proc.stdout


def test_a_path_without_a_submission_is_a_usage_error(tmp_path):
    (tmp_path / "empty" / "docs").mkdir(parents=True)
    (tmp_path / "empty" / "docs" / "notes.txt").write_text("no code here")
    proc = grade_command(tmp_path / "empty", "--steps", "03")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "holds no submission" in proc.stderr and "stepNN_*.py" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = grade_command(KIT_ROOT / "solutions", "--roster", tmp_path / "r.csv")
    assert proc.returncode == 2 and "--roster needs --csv" in proc.stderr
