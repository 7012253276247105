"""``python -m grader kit-export``: the grading kit without solutions, leak-scanned, and the
Gradescope bundle made of the same files (that the bundle's kit grades:
tests/kit/e2e/test_gradescope_bundle.py)."""

import argparse
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.distribute import classroom, gradescope, kit_export
from tests.kit.submission_files import KIT_ROOT

STEP03 = "step03_normalization"
# A line of the reference's softmax (tests/kit/unit/test_release.py plants the same).
SOLUTION_LINE = "        shifted = x  -  x.max(dim=-1, keepdim=True).values\n"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "grading-kit"
    return out, kit_export.export(out)


def _on_disk(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_the_export_holds_what_grading_needs_and_no_solutions(exported):
    out, written = exported
    assert _on_disk(out) == set(written)
    hidden = {f"tests/hidden/{p.name}" for p in (KIT_ROOT / "tests" / "hidden").glob("*.py")}
    assert hidden <= set(written)
    assert {
        "grader/cli.py",
        "grader/distribute/templates/student/classroom.yml",
        "conftest.py",
        "pyproject.toml",
        "README.md",
        ".gitignore",
        "exercises/mnist.py",
        "data_cache/SHA256SUMS",
    } <= set(written)
    assert len([w for w in written if w.startswith("data_cache/MNIST/raw/")]) == 4
    assert not any(w.startswith(("solutions/", "tests/kit/", "bench/", "docs/")) for w in written)
    assert [w for w in written if w.startswith("exercises/")] == ["exercises/mnist.py"]
    assert not any("__pycache__" in w or w.endswith(".pyc") for w in written)
    # The packaging installs from here: the readme pyproject.toml names is the export's own.
    readme = (out / "README.md").read_text()
    assert "private" in readme and "KIT_REPOSITORY" in readme and "KIT_TOKEN" in readme


def test_the_export_is_leak_free(exported):
    out, _ = exported
    assert kit_export.scan(out) == []


def _kit_copy(tmp_path: Path) -> Path:
    """The parts of the kit an export reads, with solutions/ to scan against."""
    kit = tmp_path / "kit"
    ignore = shutil.ignore_patterns("__pycache__", "figures")
    for part in ("grader", "tests/hidden", "solutions"):
        shutil.copytree(KIT_ROOT / part, kit / part, ignore=ignore)
    for part in ("conftest.py", "pyproject.toml", "exercises/mnist.py"):
        (kit / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(KIT_ROOT / part, kit / part)
    (kit / "data_cache").symlink_to(KIT_ROOT / "data_cache")
    return kit


def test_a_planted_solution_line_fails_the_export(tmp_path):
    kit = _kit_copy(tmp_path)
    assert kit_export.export(tmp_path / "clean", kit_root=kit)  # the copy exports cleanly
    mnist = kit / "exercises" / "mnist.py"
    mnist.write_text(mnist.read_text() + "\ndef _helper(x):\n" + SOLUTION_LINE)
    with pytest.raises(kit_export.ExportError, match="give solutions away") as caught:
        kit_export.export(tmp_path / "out", kit_root=kit)
    assert "exercises/mnist.py:" in str(caught.value)
    assert f"solutions/{STEP03}.py" in str(caught.value)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean", "kit"]  # nothing partial


def test_the_scan_finds_a_line_or_a_solution_file_planted_in_an_export(exported, tmp_path):
    out, _ = exported
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("data_cache"))
    (copy / "README.md").write_text((copy / "README.md").read_text() + SOLUTION_LINE)
    leaks = kit_export.scan(copy)
    assert len(leaks) == 1 and leaks[0].startswith("README.md:")
    # Inside the grading code, whose own lines are allowed, a copied solution file is
    # still found by its marker lines and by every line grader/ does not already hold.
    (copy / "README.md").write_text((out / "README.md").read_text())
    shutil.copyfile(KIT_ROOT / "solutions" / f"{STEP03}.py", copy / "grader" / "x.py")
    leaks = kit_export.scan(copy)
    assert leaks and all(leak.startswith("grader/x.py:") for leak in leaks)
    assert any("solution marker" in leak for leak in leaks)


def test_the_gradescope_bundle_carries_the_export(exported, tmp_path):
    out, written = exported
    # From the kit: the bundle's kit/ is the export, file for file.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    from_kit = gradescope.stage(tmp_path / "a")
    assert {w[len("kit/") :] for w in from_kit if w.startswith("kit/")} == set(written)
    # From the exported kit (no solutions/ there): the same files again.
    from_export = gradescope.stage(tmp_path / "b", kit_root=out)
    assert sorted(from_export) == sorted(from_kit)
    for rel in written:
        assert (tmp_path / "b" / "kit" / rel).read_bytes() == (out / rel).read_bytes()
    # The staff README's timing advice is the measured time, filled in.
    readme = (tmp_path / "a" / "README.md").read_text()
    wall = classroom.WALL_PER_CPU * classroom.GRADE_ALL_SECONDS
    text = " ".join(readme.split())
    assert f"about {wall:.0f} s on 2 cores" in text
    assert f"({classroom.GRADE_ALL_SECONDS} s of CPU time" in text
    assert "20 minutes" not in readme
    assert "$" not in readme.replace("KIT_DIR=$PWD/kit", "")


def test_the_exported_kit_runs_the_grader_on_its_own(exported):
    out, _ = exported
    # Its grader is the export's own (no solutions/ beside it) and knows every command.
    proc = subprocess.run(
        [sys.executable, "-c", "import grader.layout as l; print(l.KIT_ROOT, l.kit_mnist())"],
        cwd=out,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(out)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(out), str(out / "exercises" / "mnist.py")]
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "data", "verify"],
        cwd=out,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(out)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert str(out / "data_cache") in proc.stdout


def test_usage_errors_exit_2(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    kit_export.add_arguments(parser.add_subparsers(dest="command"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    for out, says in (
        (tmp_path / "busy", "not an empty folder"),
        (tmp_path / "no-such-folder" / "out", "no-such-folder does not exist"),
        (KIT_ROOT / "build-export", "inside the kit"),
    ):
        assert kit_export.run(parser.parse_args(["kit-export", str(out)])) == 2
        assert says in capsys.readouterr().err
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "no-such-folder").exists()
    assert not (KIT_ROOT / "build-export").exists()
    args = parser.parse_args(["kit-export", str(tmp_path / "new"), "--git"])
    assert args.git


def test_the_exported_kit_builds_as_a_package(exported, tmp_path):
    out, _ = exported
    # What `pip install -e ./kit` in the Classroom workflow builds (offline here).
    work = tmp_path / "kit"
    shutil.copytree(out, work, ignore=shutil.ignore_patterns("data_cache"))
    wheel = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index"]
        + ["--no-build-isolation", "-q", "-w", str(tmp_path / "wheel"), "."],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert wheel.returncode == 0, wheel.stderr[-3000:]
    [built] = (tmp_path / "wheel").glob("mnist_exercise_kit-*.whl")
    with zipfile.ZipFile(built) as zf:
        names = set(zf.namelist())
    assert {"grader/cli.py", "grader/distribute/templates/student/classroom.yml"} <= names
    assert not any(n.startswith(("solutions/", "tests/")) for n in names)
