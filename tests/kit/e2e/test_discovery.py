"""Discovery through ``python -m grader grade``: a class as an LMS or git hands it over."""

import json
import subprocess

from tests.kit.submission_files import grade_command, make_zip, reference

STEP03 = "step03_normalization"


def test_a_mixed_class_is_found_and_graded_with_notes(tmp_path):
    """A cloned repository, a Moodle folder holding a zip with a browser's renamed copy,
    and a folder without step files: all three graded, the choices noted."""
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
    out = tmp_path / "results.json"
    proc = grade_command(tmp_path / "class", "--steps", "03", "--jobs", "2", "--json", out)
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


def test_a_path_without_a_submission_is_a_usage_error(tmp_path):
    (tmp_path / "empty" / "docs").mkdir(parents=True)
    (tmp_path / "empty" / "docs" / "notes.txt").write_text("no code here")
    proc = grade_command(tmp_path / "empty", "--steps", "03")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "holds no submission" in proc.stderr and "stepNN_*.py" in proc.stderr
    assert "Traceback" not in proc.stderr
