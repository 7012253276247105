"""``python -m grader nbgrader build|grade``: the command line of the nbgrader route."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path


def add_arguments(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``nbgrader`` command (with ``build`` and ``grade``) to a subparsers object."""
    examples = (
        "examples:\n  python -m grader nbgrader build course/\n"
        "  python -m grader nbgrader grade class/ --json results.json --steps 3 4"
    )
    parser = subparsers.add_parser(
        "nbgrader",
        help="build an nbgrader course of the kit, or grade through nbgrader",
        description="The nbgrader route: a course with one notebook per step, and grading "
        "through nbgrader's own generate_assignment and autograde.",
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="nbgrader_command", required=True, metavar="ACTION")

    build = sub.add_parser(
        "build",
        help="write a ready nbgrader course (one notebook per step)",
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("course_dir", type=Path, help="the course folder (created if missing)")
    build.add_argument(
        "--steps",
        nargs="+",
        metavar="STEP",
        help="only these steps (default: every step in solutions/)",
    )

    grade = sub.add_parser(
        "grade",
        help="grade submissions with nbgrader generate/autograde",
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grade.add_argument(
        "paths",
        nargs="+",
        type=Path,
        help="submissions: directories of step .py files or notebooks, or notebooks",
    )
    grade.add_argument("--json", type=Path, metavar="OUT", help="write the results document here")
    grade.add_argument(
        "--steps",
        nargs="+",
        metavar="STEP",
        help="only these steps: 3, 03, step3, step03 or step03_normalization",
    )
    grade.add_argument(
        "--course-dir",
        type=Path,
        metavar="DIR",
        help="build and keep the course here (default: a temporary folder)",
    )
    parser.set_defaults(nbgrader_run=run)
    return parser


def next_steps(course: Path, assignment: str) -> str:
    """What the instructor does next, starting with the environment nbgrader must run in."""
    if sys.prefix != sys.base_prefix:  # a virtual environment: the kit is installed in it
        activate = Path(sys.prefix) / ("Scripts/activate" if os.name == "nt" else "bin/activate")
        env = f"source {shlex.quote(str(activate))}"
    else:
        env = "activate the environment where the kit is installed (pip install -e KIT)"
    return (
        "next steps (nbgrader needs the kit, so run it in the kit's environment):\n"
        f"  {env}\n"
        f"  cd {shlex.quote(str(course))}\n"
        f"  nbgrader generate_assignment {assignment}   # the students' copy: release/\n"
        f"  # collect submissions into submitted/STUDENT/{assignment}/, then:\n"
        f"  nbgrader autograde {assignment}\n"
        f"  nbgrader generate_feedback {assignment}"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``python -m grader nbgrader ...``; returns the exit code."""
    from ..grading import results

    try:
        if args.nbgrader_command == "build":
            from .build import build

            manifest = build(args.course_dir, args.steps)
            points = sum(t["points"] for t in manifest["tests"])
            print(
                f"wrote {args.course_dir}: assignment {manifest['assignment']!r}, "
                f"{len(manifest['steps'])} notebooks, {len(manifest['tests'])} hidden checks "
                f"({points:g} points)"
            )
            print(next_steps(args.course_dir, manifest["assignment"]))
            return 0
        from .grade import grade

        document = grade(
            args.paths,
            args.json,
            args.steps,
            course_dir=args.course_dir,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(results.table(document))
    subs = document["submissions"]
    return 0 if all(s["score"] == s["max_score"] for s in subs) else 1
