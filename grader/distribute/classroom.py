"""The GitHub Classroom workflow of a release: ``.github/workflows/classroom.yml``.

Every push is graded one step at a time with the instructor's private kit (the
output of ``python -m grader kit-export``, grader/distribute/kit_export.py), and
each step's points go to GitHub Classroom's grading reporter (one runner per
step). The workflow is ``templates/student/classroom.yml`` (its first comment
block is the released file's header) with a grading step per exercise step added,
each running ``templates/student/classroom_step.sh`` (a ``string.Template``:
``$$`` is a shell ``$``) under a time budget from measured step times
(:func:`step_budgets`), then written with PyYAML.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from string import Template
from typing import Any

import yaml

from .. import __version__
from ..layout import KIT_ROOT
from ..steps import STEPS, marker_name, step_number
from . import read_template

# What each grading step of the workflow costs on the reference: the CPU seconds (user +
# sys of every process it starts) of `python -m grader grade solutions --steps NN --quiet`,
# the command a step runs, start-up included, sandboxed, on 2 cores as GitHub's runners
# for private repositories have. CPU time, because the machine they were measured on was
# shared (load 6 to 10 on 2 cores stretched the wall times 3 to 4 times) and CPU time
# hardly grows with load. Measured on 2026-12-03 with `python bench/bench_steps.py`; run
# it again after a hidden suite changes and paste its output here.
STEP_SECONDS = {
    "step01_plotting": 21,
    "step02_exp_positivity": 21,
    "step03_normalization": 19,
    "step04_one_hot_loss": 21,
    "step05_cross_entropy": 21,
    "step06_create_model": 20,
    "step07_train_loop": 23,
    "step08_accuracy": 23,
    "step09_convolution_shapes": 24,
    "step10_autoencoder": 23,
    "step11_rnn": 20,
    "step12_toy_problems": 22,
    "step13_init_and_regularization": 23,
}
# The same for the whole grading of every step in one run (what Gradescope runs).
GRADE_ALL_SECONDS = 47
# Wall time per CPU second on 2 idle cores: the whole grading of the reference takes
# about 74 s there (wall), against GRADE_ALL_SECONDS of CPU time (start-ups and the
# sandbox's round trips wait more than they compute).
WALL_PER_CPU = 1.6
# A step may take MARGIN times its expected wall time (WALL_PER_CPU * STEP_SECONDS),
# and in any case that time plus its slowest test's timeout (one hanging test then
# costs that test, not the whole step).
MARGIN = 3.0
# The job's time beyond its grading steps: the two check-outs, Python and
# `pip install -e ./kit` (PyTorch's CPU wheels). .ci/run installs the kit with every
# extra in about 4 minutes on 2 cores; the grader alone needs less.
SETUP_MINUTES = 10
# Seconds a step's grader has to clean up after its budget ran out, before it is killed.
KILL_GRACE_S = 30


def step_budgets(kit_root: Path = KIT_ROOT) -> dict[str, tuple[float, int]]:
    """``{step: (points, seconds)}``: the points of each step from the hidden suites, and
    the wall-clock budget of its grading step, ``max(MARGIN * wall, wall + the step's
    slowest test's timeout)`` with ``wall = WALL_PER_CPU * STEP_SECONDS[step]``, rounded
    up to whole seconds.

    Raises ValueError for a kit other than this one (its suites are the ones collected).
    """
    from ..grading.runner import collect_inventory

    if Path(kit_root).resolve() != KIT_ROOT:
        raise ValueError("step budgets come from this kit's own hidden suites")
    points = {s: 0.0 for s in STEPS}
    slowest = {s: 0.0 for s in STEPS}
    for test in collect_inventory(list(STEPS)):
        points[test["step"]] += test["points"]
        slowest[test["step"]] = max(slowest[test["step"]], test.get("timeout", 60.0))
    budgets = {}
    for s in STEPS:
        wall = WALL_PER_CPU * STEP_SECONDS[s]
        budgets[s] = (points[s], math.ceil(max(MARGIN * wall, wall + slowest[s])))
    return budgets


def job_minutes(budgets: dict[str, tuple[float, int]]) -> int:
    """The job's ``timeout-minutes``: every grading step's budget and clean-up time, plus
    the set-up."""
    grading = sum(seconds + KILL_GRACE_S for _, seconds in budgets.values())
    return math.ceil(grading / 60) + SETUP_MINUTES


def _fallback_result(step: str, points: float, message: str) -> str:
    """The classroom JSON a step reports when the grader wrote none: 0 points, ``message``."""
    return json.dumps(
        {
            "version": 3,
            "status": "error",
            "message": message,
            "max_score": float(points),
            "tests": [
                {
                    "name": f"{step}: grading",
                    "status": "error",
                    "message": message,
                    "test_code": "",
                    "filename": "",
                    "line_no": 0,
                    "duration": 0,
                    "score": 0.0,
                    "task_id": step_number(step),
                }
            ],
        }
    )


def _grading_step(step: str, points: float, seconds: int) -> dict[str, Any]:
    """The workflow step that grades ``step`` and leaves its result in its output."""
    script = Template(read_template("student", "classroom_step.sh")).substitute(
        out=f"classroom-{marker_name(step)}.json",
        seconds=seconds,
        grace=KILL_GRACE_S,
        number=f"{step_number(step):02d}",
        fallback=_fallback_result(
            step,
            points,
            f"the grader did not run for step {step_number(step):02d}: "
            "the log of this step in the Actions tab says why",
        ),
        timed_out=_fallback_result(
            step,
            points,
            f"grading step {step_number(step):02d} took longer than its {seconds} s "
            f"(about {MARGIN:g} times the reference's time): a loop that never ends or "
            "code far too slow; run this step's visible tests on your machine",
        ),
    )
    return {
        "name": f"Grade step {step_number(step):02d} ({points:g} points)",
        "id": marker_name(step),
        "if": "${{ !cancelled() }}",
        "run": script,
    }


class _Dumper(yaml.SafeDumper):
    """Safe YAML, with lists indented under their key and scripts as ``|`` blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def workflow(budgets: dict[str, tuple[float, int]]) -> str:
    """``.github/workflows/classroom.yml``: grade each push step by step, report per step.

    ``budgets``: ``{step: (points, seconds)}`` for every step (:func:`step_budgets`).
    """
    template = read_template("student", "classroom.yml")
    header = Template(template.partition("\n\n")[0] + "\n").substitute(version=__version__)
    data = yaml.safe_load(template)
    job = data["jobs"]["run-autograding-tests"]
    reporter = job["steps"][-1]
    job["steps"][-1:-1] = [_grading_step(s, *budgets[s]) for s in STEPS]
    job["timeout-minutes"] = job_minutes(budgets)
    runners = [marker_name(s) for s in STEPS]
    reporter["env"] = {
        f"{r.upper()}_RESULTS": f"${{{{ steps.{r}.outputs.result }}}}" for r in runners
    }
    reporter["with"]["runners"] = ",".join(runners)
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=float("inf"))
