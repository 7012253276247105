"""Benchmark: grading a class with long-lived grading processes (issue 10's figures).

    python bench/bench_class.py fixed [--repeat 4]
    python bench/bench_class.py class [--jobs 2] [--sandbox off]
    python bench/bench_class.py batch [--copies 10]
    python bench/bench_class.py dask [--copies 6]

``fixed``   the cost of a submission beyond its tests: the reference graded
            ``--repeat`` times in a row by one sandboxed grading process, each
            submission's wall time minus the time its tests took (their set-up,
            call and teardown, as the results file records them); the first
            submission, which also pays the process's start, is shown apart.
``class``   20 mixed submissions (5 reference, 5 independent, 6 classic bugs,
            4 stubs) through ``python -m grader grade --jobs N``, sandboxed:
            submissions per minute.
``batch``   ``--copies`` correct submissions in one ``grade`` run, against one
            ``grade`` run of one of them (times ``--copies``: each in its own run).
``dask``    the same class graded locally and with ``--executor dask`` (a
            LocalCluster on loopback): same scores?, and the overhead per submission.

Run it on a quiet machine; it prints what it measured, one line each.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT_ROOT))

from grader.steps import STEPS  # noqa: E402
from tests.kit.classic_bugs import all_bugs  # noqa: E402

SOLUTIONS = KIT_ROOT / "solutions"
INDEPENDENT = KIT_ROOT / "tests" / "kit" / "submissions" / "independent"
STUBS = KIT_ROOT / "exercises"


def grade(paths: list[Path], *options: str) -> tuple[float, dict]:
    """Wall time of one ``python -m grader grade`` run, and its results document."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "results.json"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "grader", "grade", *map(str, paths), "--quiet"]
            + ["--json", str(out), *options],
            cwd=KIT_ROOT,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        wall = time.perf_counter() - start
        return wall, json.loads(out.read_text())


def copy_steps(source: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for step in STEPS:
        shutil.copyfile(source / f"{step}.py", dest / f"{step}.py")
    return dest


def mixed_class(folder: Path) -> Path:
    bugs = all_bugs()
    picked = [bugs[i * len(bugs) // 6] for i in range(6)]  # spread over the steps
    for i in range(5):
        copy_steps(SOLUTIONS, folder / f"reference{i}")
        copy_steps(INDEPENDENT, folder / f"independent{i}")
    for bug in picked:
        bug.apply(folder / f"bug-{bug.name}")
    for i in range(4):
        copy_steps(STUBS, folder / f"stubs{i}")
    return folder


def scores(document: dict) -> dict[str, float]:
    return {e["name"]: e["score"] for e in document["submissions"]}


def fixed(repeat: int) -> None:
    from grader.grading import runner, server

    steps = list(STEPS)
    inventory = runner.collect_inventory(steps)
    deadline = runner._deadline(inventory, steps, None)
    grading = server.take(("bwrap", 1, None))
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for i in range(repeat):
            results, scratch = Path(tmp) / f"results{i}.jsonl", Path(tmp) / f"scratch{i}"
            scratch.mkdir()
            job = {
                "submission": str(SOLUTIONS),
                "steps": steps,
                "results": str(results),
                "scratch": str(scratch),
                "deadline_s": deadline,
            }
            start = time.perf_counter()
            ended = grading.grade(job)
            wall = time.perf_counter() - start
            tests = sum(json.loads(line)["duration"] for line in results.read_text().splitlines())
            rows.append((wall, tests))
            print(f"submission {i + 1}: {wall:.1f} s, its tests {tests:.1f} s ({ended})")
    server.discard(grading)
    steady = [wall - tests for wall, tests in rows[1:]]
    print(
        f"first submission (the process's start included): {rows[0][0] - rows[0][1]:.1f} s "
        f"beyond its tests; then a median of {statistics.median(steady):.2f} s beyond its tests"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("what", choices=["fixed", "class", "batch", "dask"])
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--sandbox",
        default="auto",
        help="passed to grade; `class --sandbox off` measures the tests alone (no worker)",
    )
    args = parser.parse_args()
    if args.what == "fixed":
        fixed(args.repeat)
        return
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        root = Path(tmp)
        if args.what == "class":
            folder = mixed_class(root / "class")
            wall, document = grade([folder], "--jobs", str(args.jobs), "--sandbox", args.sandbox)
            n = len(document["submissions"])
            rate = n / wall * 60
            print(
                f"{n} mixed submissions, --jobs {args.jobs}, --sandbox {args.sandbox}: "
                f"{wall:.1f} s, {rate:.1f}/min"
            )
            for name, score in sorted(scores(document).items()):
                print(f"  {name}: {score:g}")
        elif args.what == "batch":
            folder = root / "batch"
            for i in range(args.copies):
                copy_steps(SOLUTIONS if i % 2 == 0 else INDEPENDENT, folder / f"correct{i}")
            batch, document = grade([folder], "--jobs", str(args.jobs))
            one, _ = grade([folder / "correct0"], "--jobs", str(args.jobs))
            full = all(e["score"] == e["max_score"] for e in document["submissions"])
            print(
                f"{args.copies} correct submissions in one run: {batch:.1f} s (all full marks: "
                f"{full}); one in its own run: {one:.1f} s; {args.copies} such runs / the "
                f"batch: {args.copies * one / batch:.1f}x"
            )
        else:
            folder = root / "class"
            for i in range(args.copies):
                copy_steps([SOLUTIONS, INDEPENDENT, STUBS][i % 3], folder / f"student{i}")
            local, here = grade([folder], "--jobs", str(args.jobs))
            dask, there = grade([folder], "--jobs", str(args.jobs), "--executor", "dask")
            print(
                f"{args.copies} submissions, --jobs {args.jobs}: local {local:.1f} s, Dask "
                f"{dask:.1f} s ({(dask - local) / args.copies:+.1f} s per submission); same "
                f"scores: {scores(here) == scores(there)}"
            )


if __name__ == "__main__":
    main()
