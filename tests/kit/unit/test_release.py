"""The student release: what it holds, what it must never hold, and that it works.

One release (with ``--git``) is made per module run and shared by the tests; a
test that changes files works on a copy.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from grader import cli
from grader.distribute import classroom, leak_scan, release, stubs
from grader.steps import STEPS, TITLES, marker_line, marker_name, step_number
from tests.kit.submission_files import KIT_ROOT, student_env

STEP03 = "step03_normalization"


def _workflow(out: Path) -> dict:
    return yaml.safe_load((out / ".github" / "workflows" / "classroom.yml").read_text())


# --------------------------------------------------------------------------- contents


def test_the_release_holds_what_students_need(released):
    out, written = released
    expected = {f"exercises/{p.name}" for p in (KIT_ROOT / "exercises").glob("*.py")}
    expected |= {
        "README.md",
        "pyproject.toml",
        ".gitignore",
        ".github/workflows/classroom.yml",
        "data_cache/SHA256SUMS",
    }
    expected |= {f"notebooks/{step}.ipynb" for step in STEPS}
    expected |= {
        f"data_cache/MNIST/raw/{n}"
        for n in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    }
    assert set(written) == expected
    on_disk = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(out).parts[:1]
    }
    assert on_disk == expected
    generated = stubs.generate(KIT_ROOT / "solutions")  # what exercises/ must hold
    assert {f"exercises/{name}" for name in generated} == {
        w for w in written if w.startswith("exercises/")
    }
    for name, text in generated.items():
        assert (out / "exercises" / name).read_text() == stubs.for_student(text, name)
    for step in STEPS:
        assert f"exercises/test_{step}.py" in written


def test_no_solutions_hidden_tests_or_grader(released):
    out, written = released
    assert not any(w.startswith(("solutions/", "tests/", "grader/", "bench/")) for w in written)
    assert not (out / "solutions").exists() and not (out / "tests").exists()
    assert not (out / "grader").exists() and not (out / "conftest.py").exists()
    for step in STEPS:
        stub = (out / "exercises" / f"{step}.py").read_text()
        assert "BEGIN SOLUTION" not in stub and "NotImplementedError" in stub


# What only the kit's authors have: a student reading these would be lost or misled.
NOT_FOR_STUDENTS = (
    "GENERATED",
    "Do not edit",
    "python -m grader",
    "tests/kit",
    "tests/hidden",
    "solutions/",
    "this solution",
    "the reference",
)


def test_every_released_text_speaks_to_students(released):
    out, written = released
    # The Classroom workflow is the course's CI (students leave it as it is): it runs the
    # grader, so it names it.
    texts = [w for w in written if not w.startswith(("data_cache/MNIST/", ".github/"))]
    problems = [
        f"{name} says {phrase!r}"
        for name in texts
        for phrase in NOT_FOR_STUDENTS
        if phrase.lower() in (out / name).read_text().lower()
    ]
    assert not problems
    step03 = (out / "exercises" / f"{STEP03}.py").read_text()
    assert step03.startswith("# Step 03: write your code in place of each")
    test03 = (out / "exercises" / f"test_{STEP03}.py").read_text()
    assert test03.startswith("# The visible tests of step 03: run them with")


def test_the_leak_scan_of_the_release_is_clean(released):
    out, _ = released
    assert leak_scan.scan(out) == []


def test_the_solution_lines_are_the_secret_ones():
    secret = leak_scan.solution_lines()
    reference = (KIT_ROOT / "solutions" / f"{STEP03}.py").read_text()
    key = leak_scan._line_key("    return a / a.sum(-1, keepdim=True)")
    assert key is not None and key[0] in secret and STEP03 in secret[key[0]]
    assert reference.count("return a / a.sum(-1, keepdim=True)") == 1
    # Trivial lines never count; spacing and a trailing comment do not hide a line.
    assert leak_scan._line_key("return x")[1] < leak_scan.MIN_SIGNIFICANT_TOKENS
    assert leak_scan._line_key("loss.backward()")[1] < leak_scan.MIN_SIGNIFICANT_TOKENS
    assert leak_scan._line_key("return a/a.sum(-1,keepdim=True)  # mine")[0] == key[0]
    # Lines that the stubs or visible tests show are public.
    for stub_line in (KIT_ROOT / "exercises" / f"{STEP03}.py").read_text().splitlines():
        k = leak_scan._line_key(stub_line)
        assert k is None or k[0] not in secret


@pytest.mark.parametrize("where", ["exercises/step03_normalization.py", "README.md", "notes.txt"])
def test_a_planted_leak_is_found(released, tmp_path, where):
    out, _ = released
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns(".git", "data_cache"))
    path = copy / where
    before = path.read_text() if path.exists() else ""
    path.write_text(before + "\n        shifted = x  -  x.max(dim=-1, keepdim=True).values\n")
    leaks = leak_scan.scan(copy)
    assert len(leaks) == 1 and leaks[0].startswith(f"{where}:")
    assert "solutions/step03_normalization.py" in leaks[0]


def test_a_copied_solution_file_is_found(released, tmp_path):
    out, _ = released
    copy = tmp_path / "copy"
    shutil.copytree(out / "exercises", copy / "exercises")
    shutil.copyfile(KIT_ROOT / "solutions" / f"{STEP03}.py", copy / "exercises" / "mine.py")
    leaks = leak_scan.scan(copy)
    assert any("solution marker" in leak for leak in leaks)
    assert sum("the solution line" in leak for leak in leaks) >= 5


def test_release_refuses_stale_exercises(tmp_path):
    kit = tmp_path / "kit"
    shutil.copytree(
        KIT_ROOT / "solutions", kit / "solutions", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        KIT_ROOT / "exercises", kit / "exercises", ignore=shutil.ignore_patterns("__pycache__")
    )
    stale = kit / "exercises" / f"{STEP03}.py"
    stale.write_text(stale.read_text() + "\n# edited by hand\n")
    with pytest.raises(release.ReleaseError, match="out of date"):
        release.release(tmp_path / "out", kit_root=kit, budgets={})
    assert not (tmp_path / "out").exists()


def test_the_command_refuses_a_folder_in_use(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    release.add_arguments(parser.add_subparsers(dest="command"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    args = parser.parse_args(["release", str(tmp_path / "busy"), "--git"])
    assert args.git and args.out_dir == tmp_path / "busy"
    assert release.run(args) == 2  # a usage error
    assert "not an empty folder" in capsys.readouterr().err
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    args = parser.parse_args(["release", str(tmp_path / "no-such-folder" / "out")])
    assert release.run(args) == 2
    assert "no-such-folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "no-such-folder").exists()


# --------------------------------------------------------------------------- git


def test_git_makes_one_commit_of_everything(released):
    out, written = released

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=out, capture_output=True, text=True, check=True
        ).stdout

    assert git("rev-list", "--count", "HEAD").strip() == "1"
    assert git("rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert sorted(git("ls-files").split()) == written
    assert git("config", "--local", "user.name").strip()
    assert git("config", "--local", "user.email").strip()


# --------------------------------------------------------------------------- packaging


def test_pyproject_installs_what_the_exercises_import(released):
    out, _ = released
    data = tomllib.loads((out / "pyproject.toml").read_text())
    deps = data["project"]["dependencies"]
    names = {release._dist_name(d) for d in deps}
    assert {"torch", "torchvision", "numpy", "matplotlib", "pytest"} <= names
    assert "torch>=2.14,<2.15" in deps and "torchvision>=0.29,<0.30" in deps
    for module in release.third_party_imports(out / "exercises"):
        assert release.IMPORT_TO_DIST[module] in names
    imported = release.third_party_imports(out / "exercises")
    assert ("hypothesis" in names) == ("hypothesis" in imported)
    assert "grader" not in (out / "pyproject.toml").read_text()
    pytest_ini = data["tool"]["pytest"]["ini_options"]
    assert "--strict-markers" in pytest_ini["addopts"]
    assert pytest_ini["testpaths"] == ["exercises"]
    assert [m.split(":")[0] for m in pytest_ini["markers"]] == [marker_name(s) for s in STEPS]
    # The markers as the kit's plugin registers them, titles and all.
    assert pytest_ini["markers"] == [marker_line(s) for s in STEPS]


def test_readme_tells_how_to_set_up_test_and_hand_in(released):
    out, _ = released
    readme = (out / "README.md").read_text()
    for needed in (
        "pip install -e .",
        "pytest exercises",
        "pytest exercises -m step03",
        "Gradescope",
        "GitHub Classroom",
        "zip",
    ):
        assert needed in readme
    for step in STEPS:
        row = f"| {step_number(step):02d} | `exercises/{step}.py` | {TITLES[step]} |"
        assert row in readme.splitlines()


# --------------------------------------------------------------------------- GitHub Classroom


def test_the_workflow_grades_every_step_and_reports_each(released, budgets):
    out, _ = released
    wf = _workflow(out)
    assert set(wf["on"]) >= {"push"}
    assert wf["permissions"]["checks"] == "write"
    job = wf["jobs"]["run-autograding-tests"]
    steps = job["steps"]
    kit = next(s for s in steps if s.get("with", {}).get("path") == "kit")
    assert kit["uses"].startswith("actions/checkout@")
    assert kit["with"]["repository"] == "${{ vars.KIT_REPOSITORY }}"
    assert kit["with"]["token"] == "${{ secrets.KIT_TOKEN }}"
    assert any("pip install -e ./kit" in s.get("run", "") for s in steps)
    by_id = {s["id"]: s for s in steps if "id" in s}
    for step in STEPS:
        runner = by_id[marker_name(step)]
        assert (
            f"python -m grader grade exercises --steps {step_number(step):02d} "
            f"--classroom classroom-{marker_name(step)}.json"
        ) in runner["run"]
        assert f"{budgets[step][0]:g} points" in runner["name"]
    reporter = steps[-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    runners = reporter["with"]["runners"].split(",")
    assert runners == [marker_name(s) for s in STEPS]
    for r in runners:
        assert reporter["env"][f"{r.upper()}_RESULTS"] == "${{ steps." + r + ".outputs.result }}"


def _run_step_script(out: Path, step: str, workdir: Path, python: str) -> tuple[dict, list[str]]:
    """Run one grading step of the workflow with ``python`` first on PATH; returns the
    decoded result it reports and the arguments its python was given."""
    script = next(
        s["run"]
        for s in _workflow(out)["jobs"]["run-autograding-tests"]["steps"]
        if s.get("id") == marker_name(step)
    )
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(f'#!/bin/sh\necho "$@" >> "{workdir}/argv"\n{python}\n')
    (bin_dir / "python").chmod(0o755)
    output = workdir / "github_output"
    env = {
        **student_env(),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
    }
    subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=workdir,
        env=env,
        check=True,
        timeout=600,
        capture_output=True,
    )
    lines = [ln for ln in output.read_text().splitlines() if ln.startswith("result=")]
    assert len(lines) == 1
    result = json.loads(base64.b64decode(lines[0][len("result=") :]))
    return result, (workdir / "argv").read_text().split()


def test_a_step_that_cannot_grade_still_reports_its_points(released, budgets, tmp_path):
    out, _ = released
    result, argv = _run_step_script(out, STEP03, tmp_path, "exit 1")
    assert result["version"] == 3 and result["status"] == "error"
    assert result["max_score"] == budgets[STEP03][0] > 0
    assert [t["score"] for t in result["tests"]] == [0.0]
    # What the workflow asked for is a valid grade command.
    assert argv[:2] == ["-m", "grader"]
    args = cli._parser().parse_args(argv[2:])
    assert args.command == "grade" and args.steps == ["03"] and args.classroom


def test_the_budgets_come_from_measured_step_times(released, budgets):
    out, _ = released
    job = _workflow(out)["jobs"]["run-autograding-tests"]
    by_id = {s["id"]: s for s in job["steps"] if "id" in s}
    assert set(classroom.STEP_SECONDS) == set(STEPS)
    for step in STEPS:
        wall = classroom.WALL_PER_CPU * classroom.STEP_SECONDS[step]
        seconds = budgets[step][1]
        assert 0 < wall < seconds
        # Three times the reference's time, and room for one test to reach its timeout.
        assert seconds >= classroom.MARGIN * wall and seconds >= wall + 60
        assert seconds <= max(classroom.MARGIN * wall, wall + 60) + 1
        script = by_id[marker_name(step)]["run"]
        assert f"timeout -k {classroom.KILL_GRACE_S} {seconds} python -m grader" in script
    assert job["timeout-minutes"] == classroom.job_minutes(budgets)
    grading = sum(seconds + classroom.KILL_GRACE_S for _, seconds in budgets.values())
    assert (job["timeout-minutes"] - classroom.SETUP_MINUTES) * 60 >= grading
    # Measured, not the sum of every test's timeout (that gave 222 minutes).
    assert job["timeout-minutes"] < 60


def test_a_step_out_of_time_reports_0_and_says_so(budgets, tmp_path):
    out = tmp_path / "release"
    (out / ".github" / "workflows").mkdir(parents=True)
    one_second = {step: (points, 1) for step, (points, _) in budgets.items()}
    (out / ".github" / "workflows" / "classroom.yml").write_text(classroom.workflow(one_second))
    (tmp_path / "work").mkdir()
    result, _ = _run_step_script(out, STEP03, tmp_path / "work", "sleep 20")
    assert result["status"] == "error" and result["max_score"] == budgets[STEP03][0]
    [test] = result["tests"]
    assert test["score"] == 0.0
    assert "step 03 took longer than its 1 s" in test["message"]
