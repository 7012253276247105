"""Correct code written in any style the contract allows gets full marks, in every mode.

Each folder of tests/kit/styles/ is a correct submission of one or a few steps,
written differently from solutions/ (loops, helpers, pyplot's state machine, numpy
floats, a UTF-8 byte order mark, latin-1 with a coding cookie, ...). Each is graded
on exactly the steps whose files it holds, directly and in the bubblewrap sandbox,
and must lose no point.

Cases whose steps do not overlap are graded together, as one submission: a few
sandboxes to start for all of them instead of one per case.
"""

import re
import shutil

import pytest

from grader.sandbox.bwrap import bwrap_problem
from grader.steps import STEPS
from tests.kit.grading import grade_runs
from tests.kit.submission_files import STYLES

pytestmark = pytest.mark.timeout(900)


def cases() -> dict[str, list[str]]:
    """Every case folder and the steps whose files it holds."""
    found = {}
    for folder in sorted(p for p in STYLES.iterdir() if p.is_dir() and p.name[0] not in "._"):
        found[folder.name] = [s for s in STEPS if (folder / f"{s}.py").is_file()]
    return found


def bundles(found: dict[str, list[str]]) -> list[list[str]]:
    """Cases packed into as few submissions as their steps allow (no step twice), each
    case into the lightest bundle it fits, so the child processes take about as long."""
    packed: list[tuple[set[str], list[str]]] = []
    for name in sorted(found, key=lambda n: (-len(found[n]), n)):
        fits = [b for b in packed if not b[0] & set(found[name])]
        if fits:
            steps, names = min(fits, key=lambda b: len(b[0]))
            steps.update(found[name])
            names.append(name)
        else:
            packed.append((set(found[name]), [name]))
    return [names for _, names in packed]


def test_every_case_holds_what_it_imports():
    """Grading cases together must not lend one case another's step file."""
    for name, steps in cases().items():
        assert steps, f"styles/{name} holds no step file"
        for step in steps:
            text = (STYLES / name / f"{step}.py").read_bytes().decode("latin-1")
            for imported in re.findall(r"\b(step\d\d_\w+)\b", text):
                if imported in STEPS and imported != step:
                    assert imported in steps, f"styles/{name}/{step}.py uses {imported}.py"


@pytest.fixture(scope="module")
def graded(tmp_path_factory, inventory):
    """Each bundle graded with --sandbox off and, where it can run, bubblewrap (a fork of a
    grading child each: runner.grade_many)."""
    found = cases()
    modes = ["off"] + (["bwrap"] if bwrap_problem() is None else [])
    packed = bundles(found)
    jobs = []
    for i, names in enumerate(packed):
        folder = tmp_path_factory.mktemp(f"bundle{i}")
        for name in names:
            for step in found[name]:
                shutil.copyfile(STYLES / name / f"{step}.py", folder / f"{step}.py")
        jobs.append((folder, [s for s in STEPS if any(s in found[n] for n in names)]))

    # One child grades the bundles directly, two share them in the sandbox.
    entries = grade_runs([(mode, jobs, 1 if mode == "off" else 2) for mode in modes], inventory)
    results: dict[tuple[str, str], dict] = {}
    for mode, graded in zip(modes, entries, strict=True):
        for names, entry in zip(packed, graded, strict=True):
            for name in names:
                results[(name, mode)] = {s: entry["steps"][s] for s in found[name]}
    return results


@pytest.mark.parametrize("mode", ["off", "bwrap"])
@pytest.mark.parametrize("case", sorted(cases()))
def test_correct_style_gets_full_marks(graded, case, mode):
    if mode == "bwrap" and bwrap_problem() is not None:
        pytest.skip(f"no bubblewrap sandbox here: {bwrap_problem()}")
    steps = graded[(case, mode)]
    lost = [
        f"{step}::{t['name']}: {t['message'][:400]}"
        for step, s in steps.items()
        for t in s["tests"]
        if t["status"] != "passed"
    ]
    assert steps and all(s["max_score"] > 0 for s in steps.values())
    assert not lost, f"styles/{case} (sandbox {mode}) lost points:\n" + "\n".join(lost)
