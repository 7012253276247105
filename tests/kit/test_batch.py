"""Batch grading: which submissions a path holds, and a resumed batch that skips the done."""

import json
import zipfile
from pathlib import Path

import pytest
from submission_files import grade_command, reference, submission_with

from grader.grading import batch

KIT_ROOT = Path(__file__).resolve().parents[2]
STEP03 = "step03_normalization"


def make_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def test_a_folder_of_directories_and_zips(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    submission_with(folder, "alice", {f"{STEP03}.py": "# alice\n", "notes.txt": "x"})
    make_zip(
        folder / "bob.zip",
        {
            f"bob-work/deep/{STEP03}.py": "# deeper\n",
            f"bob-work/{STEP03}.py": "# bob\n",
            f"__MACOSX/bob-work/._{STEP03}.py": "junk",
            "bob-work/conftest.py": "import os\n",
            "bob-work/step99_unknown.py": "",
        },
    )
    (folder / "readme.txt").write_text("not a submission")
    found = batch.discover([folder], tmp_path / "scratch")
    assert [s.name for s in found] == ["alice", "bob"]
    alice, bob = found
    assert alice.path == (folder / "alice").resolve() and alice.origin == str(alice.path)
    assert bob.origin == str((folder / "bob.zip").resolve())
    assert sorted(p.name for p in bob.path.iterdir()) == [f"{STEP03}.py"]
    assert (bob.path / f"{STEP03}.py").read_text() == "# bob\n", "the shallowest copy wins"


def test_the_same_name_twice_gets_a_suffix(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = submission_with(tmp_path / "a", "sam", {f"{STEP03}.py": ""})
    two = submission_with(tmp_path / "b", "sam", {f"{STEP03}.py": ""})
    names = [s.name for s in batch.discover([one, two], tmp_path / "scratch")]
    assert names == ["sam", "sam~2"]


@pytest.mark.slow
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
