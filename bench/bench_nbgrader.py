"""Benchmark: the nbgrader route against `python -m grader grade`, same five submissions.

    python bench/bench_nbgrader.py [--steps 03 04 ...] [--course-dir DIR]

One run grades five submissions both ways: the reference (solutions/), the stubs
(exercises/), the independent submission (tests/kit/submissions/independent), and
two partly correct copies of the reference (a classic step 03 bug with step 04
removed; a step 05 that does not parse). The hidden-test inventory is collected
once and shared. Reported: wall time of each route, its time per submission, and
whether every step scored the same both ways.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT_ROOT))

from grader.grading.runner import collect_inventory, grade_one  # noqa: E402
from grader.grading.runner import document as document_of  # noqa: E402
from grader.nbgrader_bridge.grade import grade  # noqa: E402
from grader.sandbox.bwrap import choose_isolation  # noqa: E402
from grader.steps import STEPS, resolve  # noqa: E402

SOLUTIONS = KIT_ROOT / "solutions"


def _copy(dest: Path, drop: tuple[str, ...] = (), edits: dict | None = None) -> Path:
    shutil.copytree(SOLUTIONS, dest, ignore=shutil.ignore_patterns("__pycache__", *drop))
    for step, (old, new) in (edits or {}).items():
        path = dest / f"{step}.py"
        if path.is_file():
            path.write_text(path.read_text().replace(old, new, 1))
    return dest


def submissions(tmp: Path) -> list[Path]:
    return [
        SOLUTIONS,
        KIT_ROOT / "exercises",
        KIT_ROOT / "tests" / "kit" / "submissions" / "independent",
        _copy(
            tmp / "bug03-no04",
            drop=("step04_*",),
            edits={
                "step03_normalization": (
                    "shifted = x - x.max(dim=-1, keepdim=True).values",
                    "shifted = x",
                )
            },
        ),
        _copy(tmp / "broken05", edits={"step05_cross_entropy": ("def ", "def def ")}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--steps", nargs="+", default=None)
    parser.add_argument(
        "--course-dir", type=Path, default=None, help="keep the nbgrader course here"
    )
    parser.add_argument(
        "--json-dir",
        type=Path,
        default=None,
        help="write both results documents here (kit.json, nbgrader.json)",
    )
    args = parser.parse_args()
    steps = resolve(args.steps) if args.steps else list(STEPS)
    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-") as tmp:
        subs = submissions(Path(tmp))
        start = time.perf_counter()
        inventory = collect_inventory(steps)
        t_inventory = time.perf_counter() - start

        start = time.perf_counter()
        threads = os.cpu_count() or 1
        # As `python -m grader grade --jobs 1` runs them: in its default sandbox.
        sandbox = choose_isolation("auto")
        kit = [grade_one(p, steps, inventory, threads, sandbox=sandbox) for p in subs]
        t_kit = time.perf_counter() - start

        start = time.perf_counter()
        document = grade(subs, None, steps, course_dir=args.course_dir, inventory=inventory)
        t_nb = time.perf_counter() - start

    if args.json_dir:
        args.json_dir.mkdir(parents=True, exist_ok=True)
        (args.json_dir / "kit.json").write_text(json.dumps(document_of(kit), indent=2))
        (args.json_dir / "nbgrader.json").write_text(json.dumps(document, indent=2))
    same = True
    print(
        f"{len(subs)} submissions, {len(steps)} steps, {len(inventory)} hidden tests, "
        f"{os.cpu_count()} cores"
    )
    print(f"{'submission':14} {'kit':>9} {'nbgrader':>9}")
    for expected, actual in zip(kit, document["submissions"], strict=True):
        differ = [s for s in steps if expected["steps"][s]["score"] != actual["steps"][s]["score"]]
        same &= not differ
        print(
            f"{actual['name'][:14]:14} {expected['score']:>4g}/{expected['max_score']:<4g}"
            f" {actual['score']:>4g}/{actual['max_score']:<4g}"
            + (f"  DIFFERENT in {', '.join(differ)}" if differ else "")
        )
        for step in differ:
            pairs = zip(
                expected["steps"][step]["tests"], actual["steps"][step]["tests"], strict=True
            )
            for e, a in pairs:
                if e["score"] != a["score"]:
                    print(
                        f"    {e['name']}: kit {e['status']} ({e['message'][:90]}) / "
                        f"nbgrader {a['status']} ({a['message'][:90]})"
                    )
    print(f"inventory (shared)          {t_inventory:7.1f} s")
    print(
        f"python -m grader grade      {t_kit:7.1f} s  ({t_kit / len(subs):.1f} s per submission,"
        f" sandbox {sandbox}, one at a time)"
    )
    print(f"nbgrader route              {t_nb:7.1f} s  ({t_nb / len(subs):.1f} s per submission)")
    print(f"ratio nbgrader / kit        {t_nb / t_kit:7.2f}")
    print("same scores per step: " + ("yes" if same else "NO"))
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
