"""Discovery: the submissions a path holds and each one's step files, on real layouts
(real folders, real zips, real git clones, Canvas and Moodle downloads)."""

import os
import stat
import subprocess
import zipfile

import pytest

from grader.grading import discovery
from grader.submission.files import step_files
from tests.kit.submission_files import make_zip

S03, S04 = "step03_normalization.py", "step04_one_hot_loss.py"


def tree(root, files):
    """Write ``files`` (relative path -> text) under ``root``; returns root."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def found(*paths, scratch):
    return discovery.discover(list(paths), scratch)


def graded(sub):
    """The step files a submission is graded with (what staging reads): name -> text."""
    return {name: data.decode() for name, data in step_files(sub.path).items()}


def student_repo(root, files):
    """A real clone of a student release: git history, .github, data_cache, exercises/."""
    tree(
        root,
        {
            ".github/workflows/classroom.yml": "on: push\n",
            "data_cache/mnist/README": "data\n",
            "exercises/__init__.py": "",
            "exercises/test_step03_normalization.py": "def test(): pass\n",
            "README.md": "# exercises\n",
            **{f"exercises/{name}": text for name, text in files.items()},
        },
    )
    git = ["git", "-C", str(root), "-c", "user.name=s", "-c", "user.email=s@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "my work"], check=True)
    return root


def test_one_cloned_repository_is_one_submission(tmp_path):
    repo = student_repo(tmp_path / "alice-mnist", {S03: "# alice\n"})
    (sub,) = found(repo, scratch=tmp_path / "scratch")
    assert sub.name == "alice-mnist" and sub.origin == str(repo.resolve())
    assert graded(sub) == {S03: "# alice\n"}
    assert sub.notes == ()


def test_a_class_of_cloned_repositories(tmp_path):
    student_repo(tmp_path / "class" / "alice-mnist", {S03: "# alice\n"})
    student_repo(tmp_path / "class" / "bob-mnist", {S03: "# bob\n", S04: "# bob 4\n"})
    tree(tmp_path / "class", {".git/HEAD": "ref\n", "__pycache__/x.pyc": ""})
    alice, bob = found(tmp_path / "class", scratch=tmp_path / "scratch")
    assert (alice.name, bob.name) == ("alice-mnist", "bob-mnist")
    assert graded(alice) == {S03: "# alice\n"}
    assert graded(bob) == {S03: "# bob\n", S04: "# bob 4\n"}


def test_a_folder_per_student_holding_a_zip(tmp_path):
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "bob").mkdir()
    make_zip(tmp_path / "class" / "alice" / "alice.zip", {f"work/{S03}": "# alice\n"})
    make_zip(tmp_path / "class" / "bob" / "hw.zip", {S03: "# bob zip\n"})
    tree(tmp_path / "class" / "bob", {S04: "# bob loose\n"})
    alice, bob = found(tmp_path / "class", scratch=tmp_path / "scratch")
    assert graded(alice) == {S03: "# alice\n"}
    assert f"{S03}: taken from alice.zip" in alice.notes
    assert graded(bob) == {S03: "# bob zip\n", S04: "# bob loose\n"}, "zips fill in"


def test_the_shallowest_file_wins_and_equal_depths_are_noted(tmp_path):
    root = tree(
        tmp_path / "class" / "carol",
        {
            f"a/{S03}": "# a\n",
            f"b/{S03}": "# b\n",
            f"a/deeper/{S04}": "# deep\n",
            f"c/{S04}": "# shallow\n",
        },
    )
    tree(tmp_path / "class" / "dan", {S03: "# dan\n"})
    sub, _ = found(root.parent, scratch=tmp_path / "scratch")
    assert sub.name == "carol"
    assert graded(sub) == {S03: "# a\n", S04: "# shallow\n"}
    assert sub.notes == (f"{S03}: 2 copies at the same depth, graded a/{S03}, not b/{S03}",)


@pytest.mark.parametrize(
    "folder",
    [".git", ".github", ".ipynb_checkpoints", "__pycache__", ".venv", "venv", "node_modules"]
    + ["build/lib", "dist", "kit.egg-info", "data_cache", "__MACOSX"],
)
def test_hidden_packaging_and_cache_folders_are_not_searched(tmp_path, folder):
    root = tree(tmp_path / "dave", {f"{folder}/{S03}": "# not this\n", f"src/deep/{S03}": "# me\n"})
    (sub,) = found(root, scratch=tmp_path / "scratch")
    assert graded(sub) == {S03: "# me\n"}


@pytest.mark.parametrize("copy", ["step03_normalization (1).py", "step03_normalization-2.py"])
def test_an_unambiguous_renamed_copy_is_graded_with_a_note(tmp_path, copy):
    root = tree(tmp_path / "erin", {copy: "# renamed\n"})
    (sub,) = found(root, scratch=tmp_path / "scratch")
    assert graded(sub) == {S03: "# renamed\n"}
    assert sub.notes == (f"{S03}: graded the renamed copy {copy}",)


def test_competing_renamed_copies_are_not_graded_and_the_exact_name_wins(tmp_path):
    two = tree(
        tmp_path / "two", {"step03_normalization (1).py": "", "step03_normalization (2).py": ""}
    )
    (sub,) = found(two, scratch=tmp_path / "scratch")
    assert graded(sub) == {} and sub.problem.startswith("no step files found")
    assert "2 renamed copies compete" in sub.notes[0] and "keep one" in sub.notes[0]
    exact = tree(
        tmp_path / "exact", {"step03_normalization (1).py": "# old\n", f"x/{S03}": "# ok\n"}
    )
    (sub,) = found(exact, scratch=tmp_path / "scratch2")
    assert graded(sub) == {S03: "# ok\n"}
    assert "the renamed copy step03_normalization (1).py was not graded" in sub.notes[0]


def test_a_canvas_bulk_download(tmp_path):
    canvas = tree(
        tmp_path / "submissions",
        {
            f"doejane_1234_98765_{S03}": "# jane 3\n",
            f"doejane_1234_98766_{S04}": "# jane 4\n",
            "smithbob_LATE_5678_98770_step03_normalization-1.py": "# bob late\n",
            "readme.txt": "not a submission",
        },
    )
    make_zip(canvas / "leeann_4321_98780_work.zip", {f"mnist/exercises/{S03}": "# ann\n"})
    jane, ann, bob = found(canvas, scratch=tmp_path / "scratch")
    assert [(s.name, s.student_id) for s in (jane, ann, bob)] == [
        ("doejane", "1234"),
        ("leeann", "4321"),
        ("smithbob", "5678"),
    ]
    assert graded(jane) == {S03: "# jane 3\n", S04: "# jane 4\n"}
    assert graded(bob) == {S03: "# bob late\n"} and "renamed copy" in bob.notes[0]
    assert graded(ann) == {S03: "# ann\n"}
    assert jane.origin == str(canvas.resolve() / "doejane_1234")
    assert len({s.origin for s in (ann, jane, bob)}) == 3, "--resume tells them apart"


def test_moodle_folders_give_the_name_and_id(tmp_path):
    moodle = tmp_path / "moodle"
    tree(moodle, {f"Jane Doe_123_assignsubmission_file_/{S03}": "# jane\n"})
    tree(moodle, {"Jane Doe_123_assignsubmission_onlinetext_/onlinetext.html": "<p>hi</p>"})
    (moodle / "Élise Ñúñez_456_assignsubmission_file_").mkdir()
    make_zip(moodle / "Élise Ñúñez_456_assignsubmission_file_" / "hw.zip", {S03: "# élise\n"})
    jane, elise = found(moodle, scratch=tmp_path / "scratch")
    assert (jane.name, jane.student_id, graded(jane)) == ("Jane Doe", "123", {S03: "# jane\n"})
    assert (elise.name, elise.student_id, graded(elise)) == (
        "Élise Ñúñez",
        "456",
        {S03: "# élise\n"},
    )


def test_in_a_class_a_folder_without_step_files_scores_and_says_so(tmp_path):
    tree(tmp_path / "class", {f"alice/{S03}": "", "frank/report.pdf": "pdf"})
    alice, frank = found(tmp_path / "class", scratch=tmp_path / "scratch")
    assert graded(frank) == {} and "no step files found" in frank.problem
    assert alice.path == (tmp_path / "class" / "alice").resolve(), "graded in place"


@pytest.mark.parametrize(
    "files",
    [{}, {"notes.txt": "x"}, {"a/readme.md": "x", "b/c/data.csv": "1"}, {f".git/{S03}": ""}],
)
def test_a_path_without_any_submission_is_a_usage_error(tmp_path, files):
    root = tree(tmp_path / "nothing", files)
    root.mkdir(exist_ok=True)
    with pytest.raises(discovery.NoSubmission, match=r"stepNN_\*\.py.*\.zip"):
        found(root, scratch=tmp_path / "scratch")


def test_links_are_never_followed(tmp_path):
    secret = tree(tmp_path / "outside", {S04: "SECRET\n"})
    root = tree(tmp_path / "gina", {S03: "# mine\n"})
    (root / S04).symlink_to(secret / S04)
    (root / "linked").symlink_to(secret, target_is_directory=True)
    (sub,) = found(root, scratch=tmp_path / "scratch")
    assert graded(sub) == {S03: "# mine\n"}
    assert f"{S04} is a symbolic link: not graded" in sub.notes
    assert "linked/ is a link: skipped" in sub.notes
    assert "SECRET" not in "".join(graded(sub).values())


def test_a_link_in_a_class_folder_is_not_a_submission(tmp_path, capsys):
    outside = tree(tmp_path / "outside", {S03: "# reference\n"})
    tree(tmp_path / "class", {f"alice/{S03}": "# alice\n"})
    (tmp_path / "class" / "mallory").symlink_to(outside, target_is_directory=True)
    (sub,) = found(tmp_path / "class", scratch=tmp_path / "scratch")
    assert sub.name == "alice"
    assert "symbolic links are not graded: mallory" in capsys.readouterr().err


def test_a_hostile_zip_gives_up_only_what_is_refused(tmp_path):
    archive = tmp_path / "mallory\x1b[2J.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo(S04)
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr(f"../../{S03}", "# escaped\n")
        zf.writestr(f"ok/{S03}", "# kept\n")
        zf.writestr("inner.zip", "PK")
        big = zipfile.ZipInfo("step05_cross_entropy.py")
        zf.writestr(big, "x" * (discovery.MAX_STEP_FILE + 1))
    (sub,) = found(archive, scratch=tmp_path / "scratch")
    assert sub.name == "mallory?[2J"
    assert graded(sub) == {S03: "# kept\n"}
    assert os.listdir(sub.path) == [S03], "nothing else is written"
    assert f"{S04} is a symbolic link: not graded" in sub.notes
    assert "inner.zip: a zip inside a zip is not opened" in sub.notes
    assert any("larger than" in n for n in sub.notes)


def test_a_zip_that_is_not_one_is_a_submission_that_cannot_be_graded(tmp_path):
    bad = tmp_path / "carol.zip"
    bad.write_bytes(b"not a zip")
    (sub,) = found(bad, scratch=tmp_path / "scratch")
    assert sub.problem and "could not be read as a zip" in sub.problem


def _patched_zip(path, files, patch):
    """A zip of ``files`` whose bytes ``patch`` edits (a flag, a method, the data)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    data = bytearray(path.read_bytes())
    patch(data)
    path.write_bytes(data)
    return path


def _member(data, name):
    """Offsets of ``name``'s local header and its central directory entry."""
    local = data.find(b"PK\x03\x04")
    while data[local + 30 : local + 30 + len(name)] != name.encode():
        local = data.find(b"PK\x03\x04", local + 1)
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name.encode():
        central = data.find(b"PK\x01\x02", central + 1)
    return local, central


def test_a_zip_that_zipfile_cannot_extract_costs_its_own_files_only(tmp_path):
    """An encrypted member, a compression Python lacks (Deflate64 from Windows), corrupt
    data: each raised out of discovery, so one student's zip stopped the whole class."""
    (tmp_path / "class").mkdir()
    tree(tmp_path / "class" / "alice", {S03: "# alice\n"})

    def encrypted(data):
        local, central = _member(data, S03)
        data[local + 6] |= 1  # general purpose flag: encrypted
        data[central + 8] |= 1

    def deflate64(data):
        local, central = _member(data, S03)
        data[local + 8] = data[central + 10] = 9

    def corrupt(data):
        local, _ = _member(data, S03)
        start = local + 30 + len(S03)
        data[start : start + 4] = b"\xff\xff\xff\xff"

    for who, patch in (("bob", encrypted), ("carol", deflate64), ("dave", corrupt)):
        _patched_zip(
            tmp_path / "class" / f"{who}.zip", {S03: "x = 1\n" * 50, S04: f"# {who}\n"}, patch
        )
    alice, *others = found(tmp_path / "class", scratch=tmp_path / "scratch")
    assert graded(alice) == {S03: "# alice\n"}
    assert [sub.name for sub in others] == ["bob", "carol", "dave"]
    for sub in others:
        assert graded(sub) == {S04: f"# {sub.name}\n"}, "the rest of the zip is graded"
        assert any(n.startswith(f"{S03} cannot be extracted") for n in sub.notes), sub.notes


def test_a_tree_deeper_than_python_recurses_is_cut_not_fatal(tmp_path):
    """os.walk recurses once per folder: 1100 nested folders (a clone or an LMS upload
    can hold them) raised RecursionError out of discovery, and no one was graded."""
    class_dir = tree(tmp_path / "class", {f"alice/{S03}": "# alice\n"})
    deep = class_dir / "bob"
    deep.mkdir()
    for _ in range(1100):  # one level at a time: mkdir(parents=True) recurses per level too
        deep = deep / "a"
        deep.mkdir()
    (deep / S03).write_text("# bob, deep down\n")
    (class_dir / "bob" / S04).write_text("# bob\n")
    try:
        alice, bob = found(class_dir, scratch=tmp_path / "scratch")
        assert graded(alice) == {S03: "# alice\n"}
        assert graded(bob) == {S04: "# bob\n"}
        assert any("folders deep, not searched" in n for n in bob.notes), bob.notes
    finally:
        while deep != class_dir / "bob":  # shutil.rmtree recurses once per level too
            for child in deep.iterdir():
                child.unlink()
            deep.rmdir()
            deep = deep.parent


@pytest.mark.timeout(30)
def test_a_fifo_named_like_a_zip_is_not_opened(tmp_path):
    """Where students write their own folders (a shared course directory), ``mkfifo
    hw.zip`` made discovery wait for a writer, forever: the whole batch hung."""
    class_dir = tree(tmp_path / "class", {f"alice/{S03}": "# alice\n", f"mallory/{S04}": "# m\n"})
    os.mkfifo(class_dir / "mallory" / "hw.zip")
    os.mkfifo(class_dir / "eve.zip")
    alice, mallory = found(class_dir, scratch=tmp_path / "scratch")
    assert graded(alice) == {S03: "# alice\n"}
    assert graded(mallory) == {S04: "# m\n"}


def test_names_stay_unique_when_a_folder_is_named_like_a_renamed_one(tmp_path):
    """Two "jane" folders and one named "jane~2": the second jane was "jane~2" too, so two
    students shared a name in every report (and the gradebook's matching)."""
    paths = []
    for parent, name in (("a", "jane"), ("b", "jane"), ("c", "jane~2")):
        paths.append(tree(tmp_path / parent / name, {S03: f"# {parent}\n"}))
    subs = found(*paths, scratch=tmp_path / "scratch")
    assert [s.name for s in subs] == ["jane", "jane~3", "jane~2"]
    assert [graded(s)[S03] for s in subs] == ["# a\n", "# b\n", "# c\n"]
