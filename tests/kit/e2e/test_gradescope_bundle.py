"""The Gradescope autograder zip: its contents, and that its run_autograder grades.

The zip is built once per module run and unpacked as Gradescope does
(``$AUTOGRADER_ROOT/source``); ``run_autograder`` then runs with this venv's
Python for the kit (``KIT_PYTHON``) instead of the one ``setup.sh`` would make.
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.distribute import gradescope as bundle
from grader.distribute import leak_scan
from tests.kit.submission_files import KIT_ROOT

STEP03 = "step03_normalization"
PYTHON = sys.executable  # this venv: the kit and its dependencies are installed here


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gradescope")
    out = tmp / "autograder.zip"
    parser = argparse.ArgumentParser()
    bundle.add_arguments(parser.add_subparsers(dest="command"))
    assert bundle.run(parser.parse_args(["gradescope", str(out)])) == 0  # build_bundle(out)
    root = tmp / "autograder"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(root / "source")
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    for name, mode in modes.items():  # extractall drops the permission bits
        os.chmod(root / "source" / name, stat.S_IMODE(mode))
    return out, root, modes


def run_autograder(
    root: Path, python: str, steps: str = ""
) -> tuple[subprocess.CompletedProcess, dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MNIST_DATA_DIR")}
    env.update(AUTOGRADER_ROOT=str(root), KIT_PYTHON=python, GRADER_STEPS=steps)
    proc = subprocess.run(
        [str(root / "source" / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    results = root / "results" / "results.json"
    assert results.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(results.read_text())


def fresh_submission(root: Path) -> Path:
    shutil.rmtree(root / "submission", ignore_errors=True)
    (root / "submission").mkdir(parents=True)
    return root / "submission"


def test_the_bundle_holds_the_grading_kit_and_no_solutions(built):
    _, root, modes = built
    names = set(modes)
    assert {
        "setup.sh",
        "run_autograder",
        "kit/conftest.py",
        "kit/pyproject.toml",
        "kit/exercises/mnist.py",
        "kit/data_cache/SHA256SUMS",
        "kit/grader/cli.py",
        "kit/grader/distribute/gradescope.py",
    } <= names
    hidden = {p.name for p in (KIT_ROOT / "tests" / "hidden").glob("test_*.py")}
    assert {n.split("/")[-1] for n in names if n.startswith("kit/tests/hidden/")} == hidden
    assert len([n for n in names if n.startswith("kit/data_cache/MNIST/raw/")]) == 4
    assert not any(n.startswith(("kit/solutions/", "solutions/", "kit/tests/kit/")) for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert [n for n in names if n.startswith("kit/exercises/")] == ["kit/exercises/mnist.py"]
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    # The kit's mnist.py is the one graded submissions get.
    assert (root / "source" / "kit" / "exercises" / "mnist.py").read_bytes() == (
        KIT_ROOT / "exercises" / "mnist.py"
    ).read_bytes()


def test_the_bundle_gives_no_solution_away(built, tmp_path):
    _, root, _ = built
    assert bundle.scan(root / "source") == []
    # Outside the kit's own grading code the strict rule holds: the bundle's scripts,
    # readme and data carry no solution line even with nothing allowed.
    strict = [
        leak
        for leak in leak_scan.scan(root / "source")
        if not leak.startswith(("kit/grader/", "kit/tests/hidden/"))
    ]
    assert strict == []
    planted = tmp_path / "planted"
    shutil.copytree(root / "source", planted, ignore=shutil.ignore_patterns("data_cache"))
    shutil.copyfile(KIT_ROOT / "solutions" / f"{STEP03}.py", planted / "kit" / "grader" / "x.py")
    assert any("solution" in leak for leak in bundle.scan(planted))


def test_setup_installs_the_kit_from_the_bundle(built):
    _, root, _ = built
    setup = (root / "source" / "setup.sh").read_text()
    assert "apt-get install" in setup and "bubblewrap" in setup and "-m venv" in setup
    assert "pip install" in setup and '"$HERE/kit"' in setup
    subprocess.run(["bash", "-n", str(root / "source" / "setup.sh")], check=True)
    subprocess.run(["bash", "-n", str(root / "source" / "run_autograder")], check=True)


def test_collect_takes_step_files_at_any_depth_and_from_zips(tmp_path):
    src = tmp_path / "submission"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / f"{STEP03}.py").write_text("deep = True\n")
    (src / "a" / f"{STEP03}.py").write_text("shallow = True\n")
    (src / "__MACOSX").mkdir()
    (src / "__MACOSX" / "step01_plotting.py").write_text("junk = True\n")
    (src / "notes.py").write_text("not a step\n")
    (src / "link").mkdir()
    (src / "link" / "step05_cross_entropy.py").symlink_to("/etc/hostname")
    with zipfile.ZipFile(src / "work.zip", "w") as zf:
        zf.writestr("exercises/step04_one_hot_loss.py", "zipped = True\n")
        zf.writestr(f"exercises/{STEP03}.py", "from_zip = True\n")
    (src / "broken.zip").write_bytes(b"not a zip")
    names = bundle.collect(src, tmp_path / "out")
    assert names == [STEP03 + ".py", "step04_one_hot_loss.py"]
    assert (tmp_path / "out" / f"{STEP03}.py").read_text() == "shallow = True\n"
    assert (tmp_path / "out" / "step04_one_hot_loss.py").read_text() == "zipped = True\n"
    assert bundle.collect(tmp_path / "missing", tmp_path / "empty") == []
    assert (tmp_path / "empty").is_dir()


def test_a_crash_still_writes_valid_results(built):
    _, root, _ = built
    fresh_submission(root)
    # No Python at all: run_autograder's own fallback.
    _, results = run_autograder(root, "/nonexistent/python")
    assert results["score"] == 0 and bundle.check_results(root / "results" / "results.json") == []
    # An upload without a single step file: the student is told what to upload.
    proc, results = run_autograder(root, PYTHON)
    assert results["score"] == 0 and "No step file was found" in results["output"]
    assert "grader exit status: 3" in proc.stdout
    # The grader refuses (an unknown step): the kit writes the fallback.
    (fresh_submission(root) / f"{STEP03}.py").write_text("x = 1\n")
    proc, results = run_autograder(root, PYTHON, steps="99")
    assert results["score"] == 0 and "could not finish" in results["output"]
    assert "grader exit status: 2" in proc.stdout


@pytest.mark.timeout(600)
def test_run_autograder_grades_a_submission(built):
    _, root, _ = built
    sub = fresh_submission(root)
    # Step 03 from the reference, except log_softmax, zipped in a folder; a stray file beside it.
    answer = (KIT_ROOT / "solutions" / f"{STEP03}.py").read_text()
    head, _, _ = answer.partition("def log_softmax(x):")
    answer = head + 'def log_softmax(x):\n    raise NotImplementedError("not yet")\n'
    (sub / "upload").mkdir()
    with zipfile.ZipFile(sub / "upload" / "hand-in.zip", "w") as zf:
        zf.writestr(f"my work/exercises/{STEP03}.py", answer)
    (sub / "README.txt").write_text("hello\n")
    proc, results = run_autograder(root, PYTHON, steps="03")
    assert bundle.check_results(root / "results" / "results.json") == []
    graded = [t for t in results["tests"] if "max_score" in t]
    assert graded and all(t["name"].startswith(STEP03) for t in graded)
    for test in graded:
        assert {"name", "score", "max_score", "visibility"} <= set(test)
        expected = test["max_score"] if "log_softmax" not in test["name"] else 0.0
        assert test["score"] == expected, (test, proc.stdout[-3000:])
    total = sum(t["max_score"] for t in graded)
    lost = sum(t["max_score"] for t in graded if "log_softmax" in t["name"])
    assert 0 < lost < total
    assert results["score"] == total - lost
    assert results["extra_data"]["max_score"] == total
