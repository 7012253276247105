"""Grade the classic-bug corpus and print, per bug, the steps that lost points.

    python -m tests.kit.try_bugs [step03 ...]

A quick look for whoever adds bugs; tests/kit/e2e/test_grading.py asserts the same.
"""

import sys
import tempfile
from pathlib import Path

from grader.grading import runner
from tests.kit.classic_bugs import all_bugs, dependents


def grade_bug(bug, tmp: Path) -> dict:
    steps = dependents(bug.step)
    submission = bug.apply(tmp / bug.name)
    return runner.grade_one(submission, steps, runner.collect_inventory(steps))


def lost_steps(entry: dict) -> dict[str, str]:
    return {
        step: f"{s['score']:g}/{s['max_score']:g}"
        for step, s in entry["steps"].items()
        if s["score"] < s["max_score"]
    }


if __name__ == "__main__":
    wanted = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        for bug in all_bugs():
            if wanted and not any(bug.step.startswith(w) for w in wanted):
                continue
            print(f"{bug.step:32} {bug.name:40} lost: {lost_steps(grade_bug(bug, Path(tmp)))}")
