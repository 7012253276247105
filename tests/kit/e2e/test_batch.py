"""Batch grading: a resumed batch grades only what is not done."""

import json

from tests.kit.submission_files import grade_command, make_zip, reference, submission_with

STEP03 = "step03_normalization"


def test_resume_grades_only_what_is_not_done(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    submission_with(folder, "alice", {f"{STEP03}.py": reference(STEP03)})
    make_zip(folder / "bob.zip", {f"{STEP03}.py": reference(STEP03)})
    out = tmp_path / "results.json"

    def grade(*extra):
        return grade_command(folder, "--steps", "03", "--jobs", "2", "--json", out, *extra)

    first = grade()
    assert first.returncode == 0, first.stderr[-2000:]
    graded = json.loads(out.read_text())["submissions"]
    assert [s["path"] for s in graded] == [
        str((folder / "alice").resolve()),
        str((folder / "bob.zip").resolve()),
    ]
    # As if the batch had stopped after alice; carol arrives; bob's zip is still there.
    out.write_text(json.dumps({"kit_version": "x", "submissions": graded[:1]}))
    (folder / "alice" / f"{STEP03}.py").write_text("broken(")  # kept: not graded again
    submission_with(folder, "carol", {f"{STEP03}.py": "broken("})
    second = grade("--resume")
    resumed = {s["name"]: s for s in json.loads(out.read_text())["submissions"]}
    assert list(resumed) == ["alice", "bob", "carol"]
    assert resumed["alice"] == graded[0], "a submission already graded is kept as it was"
    assert resumed["bob"]["score"] == resumed["bob"]["max_score"] > 0
    assert resumed["carol"]["score"] == 0
    assert second.returncode == 1
    assert "2/2" in second.stderr, "the progress counts only what is left to grade"
