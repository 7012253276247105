"""Batch grading: which submissions a path holds (no grading here)."""

from grader.grading import batch
from tests.kit.submission_files import make_zip, submission_with

STEP03 = "step03_normalization"


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


def test_a_name_a_terminal_would_obey_is_shown_plainly(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    make_zip(folder / "eve\x1b[2J.zip", {"step03_normalization.py": "x = 1\n"})
    (sub,) = batch.discover([folder], tmp_path / "scratch")
    assert sub.name == "eve?[2J" and sub.origin.endswith("eve\x1b[2J.zip")
