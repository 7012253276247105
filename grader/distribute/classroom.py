"""The GitHub Classroom workflow of a release: ``.github/workflows/classroom.yml``.

Every push is graded one step at a time with the instructor's private kit, and
each step's points go to GitHub Classroom's grading reporter (one runner per
step). The workflow is ``templates/student/classroom.yml`` (its first comment
block is the released file's header) with a grading step per exercise step added,
each running ``templates/student/classroom_step.sh`` (a ``string.Template``:
``$$`` is a shell ``$``), then written with PyYAML.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from string import Template
from typing import Any

import yaml

from .. import __version__
from ..grading.runner import STARTUP_ALLOWANCE_S
from ..layout import KIT_ROOT
from ..steps import STEPS, marker_name, step_number
from . import read_template

# The job's time beyond its grading steps' budgets: check-outs and installing the kit.
SETUP_MINUTES = 30


def step_budgets(kit_root: Path = KIT_ROOT) -> dict[str, tuple[float, int]]:
    """``{step: (points, seconds)}`` from the hidden suites: the points of each step, and
    a wall-clock budget for grading it (its tests' timeouts plus start-up).

    Raises ValueError for a kit other than this one (its suites are the ones collected).
    """
    from ..grading.runner import collect_inventory

    if Path(kit_root).resolve() != KIT_ROOT:
        raise ValueError("step budgets come from this kit's own hidden suites")
    points = {s: 0.0 for s in STEPS}
    seconds = {s: float(STARTUP_ALLOWANCE_S) for s in STEPS}
    for test in collect_inventory(list(STEPS)):
        points[test["step"]] += test["points"]
        seconds[test["step"]] += test.get("timeout", 60.0)
    return {s: (points[s], int(math.ceil(seconds[s] / 60.0)) * 60) for s in STEPS}


def _fallback_result(step: str, points: float) -> str:
    """The classroom JSON a step reports when the grader wrote none (it could not run)."""
    message = (
        f"the grader did not run for step {step_number(step):02d}: "
        "the log of this step in the Actions tab says why"
    )
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
        number=f"{step_number(step):02d}",
        fallback=_fallback_result(step, points),
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
    job["timeout-minutes"] = sum(s for _, s in budgets.values()) // 60 + SETUP_MINUTES
    runners = [marker_name(s) for s in STEPS]
    reporter["env"] = {
        f"{r.upper()}_RESULTS": f"${{{{ steps.{r}.outputs.result }}}}" for r in runners
    }
    reporter["with"]["runners"] = ",".join(runners)
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=float("inf"))
