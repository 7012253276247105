"""The student release works: its visible tests run, fail on the stubs, pass with an answer,
and its package builds (the release itself: tests/kit/unit/test_release.py)."""

import shutil
import subprocess
import sys

import pytest

from tests.kit.submission_files import KIT_ROOT, student_env

STEP03 = "step03_normalization"


@pytest.mark.timeout(600)
def test_the_visible_tests_run_and_fail_on_the_stubs(released):
    out, _ = released
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "exercises",
            "-m",
            "step03",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=out,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    # The student's report (tests/kit/e2e/test_student_feedback.py): step 03 only.
    assert "step 03  normalization  0/6 checks pass: not written yet: " in proc.stdout
    assert "softmax" in proc.stdout and "step 04" not in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("start with step 03: ")


@pytest.mark.timeout(600)
def test_the_visible_tests_pass_with_an_answer_and_the_package_builds(released, tmp_path):
    out, _ = released
    work = tmp_path / "student"
    shutil.copytree(out, work, ignore=shutil.ignore_patterns(".git", "data_cache"))
    (work / "data_cache").symlink_to(out / "data_cache")
    shutil.copyfile(KIT_ROOT / "solutions" / f"{STEP03}.py", work / "exercises" / f"{STEP03}.py")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "step03", "-q", "-p", "no:cacheprovider"],
        cwd=work,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheel = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "wheel"),
            ".",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert wheel.returncode == 0, wheel.stderr[-3000:]
    assert list((tmp_path / "wheel").glob("mnist_exercises-*.whl"))
