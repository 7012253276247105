"""Stub generation: strict markers, what a stub looks like, exercises/ in sync."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader import stubs

KIT_ROOT = Path(__file__).resolve().parents[2]

GOOD = textwrap.dedent('''\
    """Doc."""


    def f(x):
        """Shapes."""
        # BEGIN SOLUTION
        return x + 1
        # END SOLUTION


    class M:
        def forward(self, x):
            if x:
                # BEGIN SOLUTION
                return 2
                # END SOLUTION
            return 3
    ''')


def test_stub_replaces_each_region_with_a_named_raise():
    out = stubs.stub_source(GOOD, "step04_one_hot_loss.py")
    assert out.startswith("# GENERATED FILE")
    assert "return x + 1" not in out and "return 2" not in out
    assert '    raise NotImplementedError("step 04: f is not implemented yet")' in out
    assert '            raise NotImplementedError("step 04: M.forward is not implemented yet")' in out
    assert "# TODO (step 04): implement M.forward." in out
    assert '"""Shapes."""' in out, "stubs keep signatures and docstrings"
    assert "BEGIN SOLUTION" not in out and "END SOLUTION" not in out
    compile(out, "stub", "exec")


def test_stubbed_function_raises_with_the_step_named():
    namespace = {}
    exec(stubs.stub_source(GOOD, "step04_one_hot_loss.py"), namespace)
    with pytest.raises(NotImplementedError, match="step 04: f is not implemented yet"):
        namespace["f"](1)


@pytest.mark.parametrize("source, problem", [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without a matching"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", "nested"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION\n", "indentation"),
    ("def f():\n    # BEGIN SOLUTION\n    # just a comment\n    # END SOLUTION\n", "holds no code"),
    ("# BEGIN SOLUTION\nX = 1\n# END SOLUTION\n", "inside a function"),
    ("def f():\n    # BEGIN SOLUTION here\n    return 1\n    # END SOLUTION\n", "alone on its line"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", "alone on its line"),
    ("def f():\n    # begin solution\n    return 1\n    # END SOLUTION\n", "alone on its line"),
])
def test_malformed_markers_are_errors(source, problem):
    with pytest.raises(stubs.MarkerError, match=problem):
        stubs.stub_source(source, "step01_plotting.py")


def test_regions_only_in_step_modules():
    with pytest.raises(stubs.MarkerError, match="only step modules"):
        stubs.stub_source("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", "mnist.py")


def test_exercises_are_in_sync_with_solutions():
    problems = stubs.check(KIT_ROOT / "solutions", KIT_ROOT / "exercises")
    assert not problems, "run `python -m grader stubs`: " + "; ".join(problems)


def test_every_step_has_a_solution_and_a_stub_with_no_solution_text():
    from grader.steps import STEPS

    for step in STEPS:
        solution = (KIT_ROOT / "solutions" / f"{step}.py").read_text()
        exercise = (KIT_ROOT / "exercises" / f"{step}.py").read_text()
        regions = stubs.find_regions(solution, step)
        assert regions, f"{step} has no solution region"
        assert "NotImplementedError" in exercise
        lines = solution.splitlines()
        for region in regions:
            for line in lines[region.begin + 1 : region.end]:
                if line.strip() and not line.strip().startswith("#"):
                    assert line not in exercise.splitlines(), f"{step}: solution line leaked: {line!r}"


def _check(tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "stubs", "--check",
         "--solutions", str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises")],
        capture_output=True, text=True, cwd=KIT_ROOT,
    )


def test_check_command_fails_when_out_of_date_or_malformed(tmp_path):
    (tmp_path / "solutions").mkdir()
    src = tmp_path / "solutions" / "step02_exp_positivity.py"
    src.write_text("def positive(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n")
    assert _check(tmp_path).returncode == 1, "a missing exercises/ must fail the check"
    stubs.write(tmp_path / "solutions", tmp_path / "exercises")
    assert _check(tmp_path).returncode == 0
    src.write_text(src.read_text().replace("return x", "return x * 1"))
    src.write_text(src.read_text() + "\ndef g():\n    return 1\n")
    result = _check(tmp_path)
    assert result.returncode == 1 and "out of date" in result.stderr
    src.write_text("def positive(x):\n    # BEGIN SOLUTION\n    return x\n")
    result = _check(tmp_path)
    assert result.returncode == 1 and "never closed" in result.stderr
