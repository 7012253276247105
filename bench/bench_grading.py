"""Benchmark: the sandbox's overhead, and batch throughput.

    python bench/bench_grading.py overhead [--steps 01 02 ...]
    python bench/bench_grading.py throughput [--copies 6] [--jobs 2] [--steps ...]

``overhead`` grades the reference twice in one run, with its code imported by
the grading process (``--sandbox off``) and in the bubblewrap sandbox, and
reports both wall times. ``throughput`` grades a class of copies (the
reference and the stubs, alternating) with ``--jobs`` workers through the real
command, and reports submissions per minute.
"""

from __future__ import annotations

import argparse
import shutil
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
    args = parser.parse_args()
    steps = ["--steps", *args.steps] if args.steps else []
    if args.what == "overhead":
        reference = KIT_ROOT / "solutions"
        direct = grade([reference], "--jobs", "1", "--sandbox", "off", *steps)
        sandboxed = grade([reference], "--jobs", "1", "--sandbox", "require", *steps)
        print(
            f"reference, one submission: direct {direct:.1f} s, sandboxed {sandboxed:.1f} s, "
            f"overhead {sandboxed - direct:+.1f} s ({sandboxed / direct - 1:+.0%})"
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        for i in range(args.copies):
            source = KIT_ROOT / ("solutions" if i % 2 == 0 else "exercises")
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
