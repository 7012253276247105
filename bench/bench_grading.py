"""Benchmark: the sandbox's overhead, and batch throughput.

    python bench/bench_grading.py overhead [--repeat 3] [--steps 01 02 ...]
    python bench/bench_grading.py throughput [--copies 6] [--jobs 2] [--steps ...]

``overhead`` grades the reference in one run with its code imported by the
grading process (``--sandbox off``) and in the bubblewrap sandbox, alternating,
and reports the median wall times. ``throughput`` grades a class of copies (the
reference, an independent solution, the reference again, the stubs, in turn)
with ``--jobs`` workers through the real command, and reports submissions per
minute.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent


def grade(paths: list[Path], *options: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "grader", "grade", *map(str, paths), "--quiet", *options],
        cwd=KIT_ROOT,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("what", choices=["overhead", "throughput"])
    parser.add_argument("--steps", nargs="+", default=None)
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="overhead: runs of each kind")
    args = parser.parse_args()
    steps = ["--steps", *args.steps] if args.steps else []
    if args.what == "overhead":
        reference = KIT_ROOT / "solutions"
        directs, sandboxeds = [], []
        for _ in range(args.repeat):  # alternating, so both see the same machine
            directs.append(grade([reference], "--jobs", "1", "--sandbox", "off", *steps))
            sandboxeds.append(grade([reference], "--jobs", "1", "--sandbox", "require", *steps))
        direct, sandboxed = statistics.median(directs), statistics.median(sandboxeds)
        print(
            f"reference, one submission, median of {args.repeat}: direct {direct:.1f} s, "
            f"sandboxed {sandboxed:.1f} s, overhead {sandboxed - direct:+.1f} s "
            f"({sandboxed / direct - 1:+.0%})"
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        sources = [  # a class: mostly working code, some of it not started
            KIT_ROOT / "solutions",
            KIT_ROOT / "tests" / "kit" / "submissions" / "independent",
            KIT_ROOT / "solutions",
            KIT_ROOT / "exercises",
        ]
        for i in range(args.copies):
            source = sources[i % len(sources)]
            shutil.copytree(
                source, folder / f"student{i:02d}", ignore=shutil.ignore_patterns("test_*")
            )
        wall = grade([folder], "--jobs", str(args.jobs), "--sandbox", "auto", *steps)
    print(
        f"{args.copies} submissions, --jobs {args.jobs}: {wall:.1f} s, "
        f"{args.copies / wall * 60:.1f} submissions per minute"
    )


if __name__ == "__main__":
    main()
