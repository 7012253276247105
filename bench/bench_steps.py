"""Benchmark: what each grading step of the GitHub Classroom workflow costs on the reference.

    python bench/bench_steps.py [--steps 01 02 ...] [--submission solutions]

Runs the command each workflow step runs, ``python -m grader grade SUBMISSION --steps
NN --quiet`` (sandboxed where bubblewrap runs, start-up included), one step at a time,
then the whole grading once, and prints per step the wall time and the CPU time (user +
sys of the command and everything it waited for), then ``STEP_SECONDS`` (the CPU
seconds, rounded up) to paste into grader/distribute/classroom.py. CPU time is what
the budgets use: on a machine shared with other work the wall time grows, the CPU time
of these mostly single-threaded runs hardly does.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT_ROOT))

from grader.steps import STEPS, resolve, step_number  # noqa: E402


def _cpu_cgroup() -> Path | None:
    """A cgroup v1 ``cpuacct`` group of our own, to count the CPU time of every process a
    run starts (rusage misses the sandbox's processes that are killed, not reaped); None
    where one cannot be made."""
    group = Path("/sys/fs/cgroup/cpuacct") / f"bench-steps-{os.getpid()}"
    try:
        group.mkdir()
    except OSError:
        return None
    return group


def timed(args: list[str], group: Path | None) -> tuple[float, float, int]:
    """``(wall, cpu, exit status)`` of ``python -m grader ARGS`` run from the kit root."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage = int((group / "cpuacct.usage").read_text()) if group else 0
    command = [sys.executable, "-m", "grader", *args]
    if group:  # join the group, then run the command: its every descendant is counted
        command = ["sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', "sh", *command]
    start = time.perf_counter()
    proc = subprocess.run(
        command,
        cwd=KIT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - start
    if group:
        cpu = (int((group / "cpuacct.usage").read_text()) - usage) / 1e9
    else:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--steps", nargs="+", default=None)
    parser.add_argument("--submission", type=Path, default=KIT_ROOT / "solutions")
    args = parser.parse_args()
    steps = resolve(args.steps) if args.steps else list(STEPS)
    submission = str(args.submission.resolve())
    group = _cpu_cgroup()
    how = "cgroup cpuacct" if group else "rusage (misses killed sandbox processes: low)"
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, CPU time from {how}")
    cpu_of = {}
    try:
        for step in steps:
            number = str(step_number(step))
            wall, cpu, status = timed(["grade", submission, "--steps", number, "--quiet"], group)
            cpu_of[step] = cpu
            print(f"  {step:32} wall {wall:6.1f} s  cpu {cpu:6.1f} s  exit {status}", flush=True)
        wall, cpu, status = timed(["grade", submission, "--quiet"], group)
    finally:
        if group:
            group.rmdir()
    print(f"  {'every step in one run':32} wall {wall:6.1f} s  cpu {cpu:6.1f} s  exit {status}")
    print(f"load {os.getloadavg()[0]:.1f} at the end\nSTEP_SECONDS = {{")
    for step in steps:
        print(f'    "{step}": {math.ceil(cpu_of[step])},')
    print(f"}}\nGRADE_ALL_SECONDS = {math.ceil(cpu)}")


if __name__ == "__main__":
    main()
