"""``pytest exercises`` in a student release, as a student runs it: one line per failing
check, a summary line per step, and a step file that does not import blocks no other
(exercises/feedback.py, loaded by exercises/conftest.py)."""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.steps import STEPS
from tests.kit.submission_files import KIT_ROOT, student_env

LATER = ("step09", "step10", "step11", "step12", "step13")
NEEDS_06 = "  3/5 checks pass: needs step 06, which does not import"


def student_pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider"],
        cwd=cwd,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def lines_of(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.strip()]


def summary_line(proc: subprocess.CompletedProcess, step: str) -> str:
    (line,) = [line for line in lines_of(proc) if line.startswith(f"step {step}  ")]
    return line


def with_answers(released, tmp_path: Path) -> Path:
    """A copy of the release whose step files hold the reference answers."""
    out, _ = released
    work = tmp_path / "student"
    shutil.copytree(out, work, ignore=shutil.ignore_patterns(".git", "data_cache"))
    (work / "data_cache").symlink_to(out / "data_cache")
    for step in STEPS:
        shutil.copyfile(KIT_ROOT / "solutions" / f"{step}.py", work / "exercises" / f"{step}.py")
    return work


def replace(path: Path, old: str, new: str) -> int:
    """Replace the one line holding ``old``; returns its (1-based) line number."""
    lines = path.read_text().splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if old in line]
    lines[index] = lines[index].replace(old, new)
    path.write_text("".join(lines))
    return index + 1


def function_lines(path: Path, name: str) -> range:
    (node,) = [n for n in ast.parse(path.read_text()).body if getattr(n, "name", None) == name]
    return range(node.lineno, node.end_lineno + 1)


@pytest.mark.timeout(600)
def test_the_stubs_print_a_line_per_step_and_where_to_start(released):
    out, _ = released
    proc = student_pytest(out, "exercises")
    lines = lines_of(proc)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    # At most one line per step plus the summary: here exactly a line per step (the stubs
    # fold into it) and the closing line.
    assert len(lines) == len(STEPS) + 1, proc.stdout
    for noise in ("=====", "FAILED", "Traceback", "passed", "not implemented yet", "[100%]"):
        assert noise not in proc.stdout, proc.stdout
    # Each function not written yet that a check calls is named once, in its step's line.
    stubs = {}
    for step in STEPS:
        text = (out / "exercises" / f"{step}.py").read_text()
        stubs[step[4:6]] = re.findall(r'"step \d\d: (\S+) is not implemented yet"', text)
    for number, names in stubs.items():
        line = summary_line(proc, number)
        assert re.search(r"  0/\d+ checks pass: not written yet: (.*)$", line), line
        listed = line.split("not written yet: ")[1].split(", ")
        # (A stub reached only through another, like Model.forward, is not reached.)
        assert len(set(listed)) == len(listed) and set(listed) <= set(names), line
    assert lines[-1] == (
        "start with step 01: open exercises/step01_plotting.py, write "
        + summary_line(proc, "01").split("not written yet: ")[1]
        + ", then run pytest exercises -m step01"
    )


@pytest.mark.timeout(600)
def test_a_broken_step_blocks_no_other_and_a_failure_is_one_line(released, tmp_path):
    work = with_answers(released, tmp_path)
    steps = work / "exercises"
    # A syntax error in step 05 and a step 06 that fails when imported.
    bad05 = replace(steps / "step05_cross_entropy.py", "def cross_entropy(logits, y):", "def (:")
    bad06 = replace(steps / "step06_create_model.py", "from torch import nn", "from torch import x")

    # -m step03, from inside the folder: step 03 runs, and passes.
    proc = student_pytest(steps, "-m", "step03")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert lines_of(proc) == [
        "step 03  normalization  6/6 checks pass",
        "all 6 checks pass: well done!",
    ]

    # Two mistakes in step 03: one line each, and no other step held back.
    softmax_wrong = steps / "step03_normalization.py"
    replace(softmax_wrong, "return e / e.sum(dim=-1, keepdim=True)", "return e / e.sum()")
    raises_at = replace(
        softmax_wrong, "return a / a.sum(-1, keepdim=True)", "return a / a.sum(-1).item()"
    )
    # And a test file that does not import (it asks for a function renamed away).
    replace(steps / "step04_one_hot_loss.py", "def nll(", "def nll_loss(")
    # (Steps 01 to 08: the later ones train for seconds and add nothing here.)
    proc = student_pytest(work, "exercises", "-m", " and ".join(f"not {s}" for s in LATER))
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = lines_of(proc)
    softmax = [line for line in lines if line.startswith("step 03 softmax: ")]
    assert len(softmax) == 2, proc.stdout  # two checks of softmax fail: a line each
    found = re.fullmatch(
        r"step 03 softmax: every row of softmax should sum to 1, got row sums \[.*\]; "
        r"did you divide by the sum over the whole batch\? "
        r"\(exercises/step03_normalization\.py:(\d+)\)",
        softmax[0],
    )
    assert found, softmax[0]
    assert int(found.group(1)) in function_lines(softmax_wrong, "softmax")
    # An exception names its type and the line of the student's code that raised it.
    normalize = [line for line in lines if line.startswith("step 03 normalize: ")]
    assert normalize == [
        "step 03 normalize: normalize of shape (2, 2) raised RuntimeError: a Tensor with 2 "
        f"elements cannot be converted to Scalar (exercises/step03_normalization.py:{raises_at})"
    ], proc.stdout
    assert summary_line(proc, "03").endswith("  3/6 checks pass")
    assert summary_line(proc, "05").endswith(
        f"  0/6 checks pass: your file does not import: SyntaxError: invalid syntax "
        f"(step05_cross_entropy.py, line {bad05})"
    )
    assert summary_line(proc, "06").endswith(
        "  0/7 checks pass: your file does not import: ImportError: cannot import name 'x' "
        f"from 'torch' (step06_create_model.py, line {bad06})"
    )
    assert summary_line(proc, "07").endswith(
        "  3/5 checks pass: needs step 06, which does not import"
    )
    assert summary_line(proc, "04").endswith(
        "  no checks ran: step04_one_hot_loss.py has no nll: keep the names of the functions "
        "as given"
    )
    for step in ("01", "02", "08"):
        assert re.search(r"  (\d+)/\1 checks pass$", summary_line(proc, step))
    # Three failures, a line per step, the next step, the figures drawn (steps 01, 02, 07).
    assert len(lines) == 3 + 8 + 1 + 1, proc.stdout
    assert lines[-1].startswith("your code drew ") and "exercises/figures/" in lines[-1]
    assert lines[-2] == (
        "work on step 03 next (exercises/step03_normalization.py): pytest exercises -m step03 "
        "runs its checks alone, add -v for pytest's full report"
    )
    for noise in ("=====", "FAILED", "Traceback", "_pytest", "[100%]"):
        assert noise not in proc.stdout, proc.stdout


@pytest.mark.timeout(600)
def test_v_brings_pytest_back_and_other_runs_are_left_alone(released, tmp_path):
    work = with_answers(released, tmp_path)
    replace(work / "exercises" / "step06_create_model.py", "from torch import nn", "import nm")

    # -v: pytest's own report, and the step summary under it. step 07's checks that do
    # not build a step 06 model pass.
    proc = student_pytest(work, "exercises", "-m", "step07", "-v")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    for test in ("test_sgd_step_updates_and_zeroes", "test_fit_returns_one_loss_per_epoch"):
        assert re.search(rf"::{test}\w* PASSED", proc.stdout), proc.stdout
    assert "test session starts" in proc.stdout and "= FAILURES =" in proc.stdout
    assert "StepDoesNotImport: step 06: your file does not import: ModuleNotFoundError" in (
        proc.stdout
    )
    assert summary_line(proc, "07").endswith(
        "  3/5 checks pass: needs step 06, which does not import"
    )
    assert re.search(r"2 failed, 3 passed, \d+ deselected", proc.stdout.splitlines()[-1])

    # A run that goes beyond the folder (as the kit's own `pytest` does) is pytest's.
    (work / "other").mkdir()
    (work / "other" / "test_other.py").write_text("def test_other():\n    assert 1 == 2, 'boom'\n")
    proc = student_pytest(work, "exercises/test_step03_normalization.py", "other")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "test session starts" in proc.stdout and "= FAILURES =" in proc.stdout
    assert "checks pass" not in proc.stdout
    assert "1 failed, 6 passed" in proc.stdout.splitlines()[-1]
