"""``python -m grader``: grade submissions, generate stubs, check the data."""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import dataset, results, runner, stubs
from .steps import STEPS, resolve

KIT_ROOT = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade submission directories against the hidden suites")
    grade.add_argument("paths", nargs="+", type=Path, help="submission directories (one per student)")
    grade.add_argument("--json", type=Path, metavar="OUT", help="write the results document here")
    grade.add_argument("--steps", nargs="+", metavar="STEP",
                       help="only these steps (03, step03 or step03_normalization)")
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")

    stub = sub.add_parser("stubs", help="generate exercises/ from solutions/")
    stub.add_argument("--check", action="store_true",
                      help="do not write: fail if exercises/ is out of date or a marker is malformed")
    stub.add_argument("--solutions", type=Path, default=KIT_ROOT / "solutions")
    stub.add_argument("--exercises", type=Path, default=KIT_ROOT / "exercises")

    data = sub.add_parser("data", help="verify or rebuild the MNIST files in data_cache/")
    data.add_argument("action", choices=["verify", "rebuild"])
    return parser


def cmd_grade(args: argparse.Namespace) -> int:
    try:
        steps = resolve(args.steps) if args.steps else list(STEPS)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    missing = [p for p in args.paths if not p.is_dir()]
    if missing:
        print(f"error: not a submission directory: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    inventory = runner.collect_inventory(steps)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        entries = list(pool.map(lambda p: runner.grade_one(p, steps, inventory, threads), args.paths))
    document = runner.document(entries)
    results.validate(document)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2))
    print(results.table(document))
    return 0 if all(e["score"] == e["max_score"] for e in entries) else 1


def cmd_stubs(args: argparse.Namespace) -> int:
    try:
        if args.check:
            problems = stubs.check(args.solutions, args.exercises)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print("run `python -m grader stubs` to regenerate exercises/", file=sys.stderr)
                return 1
            print("exercises/ is in sync with solutions/")
            return 0
        written = stubs.write(args.solutions, args.exercises)
    except stubs.MarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} files to {args.exercises}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    if args.action == "rebuild":
        dataset.rebuild()
    problems = dataset.verify()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"MNIST in {dataset.DATA_DIR} matches its checksums")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return {"grade": cmd_grade, "stubs": cmd_stubs, "data": cmd_data}[args.command](args)
