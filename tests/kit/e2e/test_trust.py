"""The judge's own process stays the kit's: nothing of a submission is imported there,
nothing is read through a link, nothing is left behind.

Each test grades real submissions with the real ``python -m grader grade`` in a
private ``TMPDIR`` and then looks at what happened on the machine: marker files,
the scores, what is left in that ``TMPDIR``.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.sandbox.bwrap import bwrap_problem
from grader.steps import MAX_STEP_FILE
from tests.kit.submission_files import KIT_ROOT, processes_with

STEP03, STEP04 = "step03_normalization", "step04_one_hot_loss"
MODES = [
    "off",
    pytest.param(
        "require",
        marks=pytest.mark.skipif(
            bwrap_problem() is not None, reason=f"no sandbox: {bwrap_problem()}"
        ),
    ),
]

pytestmark = pytest.mark.timeout(600)


def grade(tmpdir: Path, *args, **popen) -> subprocess.CompletedProcess:
    """``python -m grader grade ARGS`` with ``tmpdir`` as its TMPDIR."""
    return subprocess.run(
        [sys.executable, "-m", "grader", "grade", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=KIT_ROOT,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        timeout=500,
        **popen,
    )


def leftovers(tmpdir: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in tmpdir.iterdir() if p.name not in keep)


def plant(path: Path, marker: Path) -> None:
    """A Python file that leaves ``marker`` behind if anything imports it."""
    path.write_text(f"open({str(marker)!r}, 'w').write('imported')\n")


@pytest.mark.parametrize("sandbox", MODES)
def test_no_file_of_a_submission_or_its_folders_is_imported(tmp_path, sandbox):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    markers = tmp_path / "markers"
    markers.mkdir()
    parent = tmp_path / "class"
    sub = parent / "student"
    sub.mkdir(parents=True)
    for step in (STEP03, STEP04):  # the stubs: zero unless something cheats
        shutil.copy(KIT_ROOT / "exercises" / f"{step}.py", sub / f"{step}.py")
    plant(sub / "conftest.py", markers / "submission-conftest")
    plant(sub / "__init__.py", markers / "submission-init")
    plant(parent / "conftest.py", markers / "parent-conftest")
    plant(tmpdir / "conftest.py", markers / "tmpdir-conftest")
    os.chmod(tmpdir, 0o1777)  # a world-writable TMPDIR, as /tmp is
    out = tmp_path / "r.json"
    proc = grade(tmpdir, sub, "--steps", "03", "04", "--sandbox", sandbox, "--json", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert sorted(p.name for p in markers.iterdir()) == [], "a submission's file was imported"
    entry = json.loads(out.read_text())["submissions"][0]
    assert entry["score"] == 0, "the stubs must score 0"
    assert "not implemented" in entry["steps"][STEP03]["tests"][0]["message"].lower()


def test_step_files_that_are_links_are_refused(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    sub = tmp_path / "linked"
    sub.mkdir()
    (sub / f"{STEP03}.py").symlink_to(KIT_ROOT / "solutions" / f"{STEP03}.py")
    (sub / f"{STEP04}.py").write_bytes(b"# " + b"x" * (MAX_STEP_FILE + 10) + b"\n")
    out = tmp_path / "r.json"
    proc = grade(tmpdir, sub, "--steps", "03", "04", "--json", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    steps = json.loads(out.read_text())["submissions"][0]["steps"]
    assert steps[STEP03]["score"] == 0, "a link to the reference must not earn its points"
    assert all("symbolic link" in t["message"] for t in steps[STEP03]["tests"])
    assert steps[STEP04]["score"] == 0
    assert all("more than the" in t["message"] for t in steps[STEP04]["tests"])


def test_a_link_in_a_class_folder_is_not_graded(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    folder = tmp_path / "class"
    (folder / "alice").mkdir(parents=True)
    shutil.copy(KIT_ROOT / "exercises" / f"{STEP03}.py", folder / "alice" / f"{STEP03}.py")
    (folder / "mallory").symlink_to(KIT_ROOT / "solutions")
    out = tmp_path / "r.json"
    proc = grade(tmpdir, folder, "--steps", "03", "--json", out)
    names = [s["name"] for s in json.loads(out.read_text())["submissions"]]
    assert names == ["alice"]
    assert "symbolic links are not graded: mallory" in proc.stderr


@pytest.mark.parametrize("sandbox", MODES)
def test_a_grading_leaves_nothing_in_tmp(tmp_path, sandbox):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(KIT_ROOT / "solutions" / f"{STEP04}.py", sub)
    # A step that writes scratch files and dies hard mid-test.
    (sub / f"{STEP03}.py").write_text(
        "import os, tempfile\n"
        "tempfile.mkdtemp()\n"
        "def normalize(a):\n"
        "    tempfile.NamedTemporaryFile(delete=False).write(b'x')\n"
        "    os._exit(3)\n"
    )
    proc = grade(tmpdir, sub, "--steps", "03", "04", "--sandbox", sandbox)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert leftovers(tmpdir, set()) == []


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_batch_leaves_nothing_behind(tmp_path, how):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    folder = tmpdir / "class"
    for name in ("a", "b", "c"):
        sub = folder / name
        sub.mkdir(parents=True)
        # Hangs in every test: the batch is surely mid-grading when it is stopped.
        (sub / f"{STEP03}.py").write_text("import time\ndef normalize(a):\n    time.sleep(600)\n")
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", "grade", folder, "--jobs", "2", "--json", out],
        cwd=KIT_ROOT,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any("grader-run-" in p.name for p in tmpdir.iterdir()):
        assert time.monotonic() < deadline, "the batch never started grading"
        time.sleep(0.2)
    time.sleep(3)
    proc.send_signal(how)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped" in err
    assert leftovers(tmpdir, {"class"}) == []
    assert processes_with(str(tmpdir)) == []
    # Nothing half-graded was recorded: a resumed batch grades all three again.
    graded = json.loads(out.read_text())["submissions"] if out.exists() else []
    assert graded == []
