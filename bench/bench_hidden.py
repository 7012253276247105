"""Benchmark: how long the hidden suites take on the reference solutions.

    python bench/bench_hidden.py [--steps 01 02 ...] [--repeat 3] [--submission solutions]

Runs the real grading path (`python -m grader grade`, one child process) and
reports the wall time of the whole run, and the time of each step's tests as
pytest measured them. Targets (2-core CPU): steps 01-08 under 30 s, all 13
steps under 60 s. Timeouts in the suites are set to about 3x these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT_ROOT))

from grader.grading.runner import _marker_expr  # noqa: E402
from grader.grading.server import child_env, pytest_command  # noqa: E402
from grader.steps import STEPS, resolve  # noqa: E402


def run_once(submission: Path, steps: list[str]) -> tuple[float, dict[str, float], int]:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.jsonl"
        start = time.perf_counter()
        subprocess.run(
            pytest_command(
                [f"--submission={submission}", f"--grader-results={results}", *_marker_expr(steps)]
            ),
            cwd=tmp,
            env=child_env(os.cpu_count() or 1, tmp),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        wall = time.perf_counter() - start
        per_step: dict[str, float] = defaultdict(float)
        failed = 0
        for line in results.read_text().splitlines():
            record = json.loads(line)
            step = next(s for s in STEPS if f"test_{s}.py" in record["nodeid"])
            per_step[step] += record["duration"]
            failed += record["status"] != "passed"
    return wall, dict(per_step), failed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--steps", nargs="+", default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--submission", type=Path, default=KIT_ROOT / "solutions")
    args = parser.parse_args()
    steps = resolve(args.steps) if args.steps else list(STEPS)
    walls, per_steps = [], []
    for _ in range(args.repeat):
        wall, per_step, failed = run_once(args.submission.resolve(), steps)
        walls.append(wall)
        per_steps.append(per_step)
        if failed:
            print(f"warning: {failed} test phase(s) did not pass", file=sys.stderr)
    print(f"hidden suites, {len(steps)} steps, {args.repeat} run(s), {os.cpu_count()} cores")
    for step in steps:
        times = [p.get(step, 0.0) for p in per_steps]
        print(f"  {step:32} {statistics.median(times):7.2f} s")
    print(f"  {'tests total':32} {statistics.median([sum(p.values()) for p in per_steps]):7.2f} s")
    print(f"  {'wall (with start-up)':32} {statistics.median(walls):7.2f} s")


if __name__ == "__main__":
    main()
