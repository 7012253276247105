"""Grading many submissions for the kit's end-to-end tests, two gradings at a time.

Each grading child grades several submissions, a fork each (``grader.runner.grade_many``):
the interpreter, torch and the collected hidden tests are paid for once per child.
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.grading import runner

# Grading children at once: two on two cores, one torch thread each (more than the cores
# made training tests run past their time limits under load).
AT_ONCE = 2

Job = tuple[Path, list[str]]  # a submission directory and the steps to grade


def grade_runs(runs: list[tuple[str, list[Job], int]], inventory: list[dict]) -> list[list[dict]]:
    """Grade each run ``(sandbox mode, jobs, children)``: its jobs dealt out in turn to that
    many grading children; AT_ONCE children at a time over all runs. Returns the entries
    of each run, in the order of its jobs."""
    tasks = [
        (r, list(range(c, len(jobs), children)), mode)
        for r, (mode, jobs, children) in enumerate(runs)
        for c in range(children)
        if c < len(jobs)
    ]

    def grade(task):
        r, picked, mode = task
        return runner.grade_many([runs[r][1][i] for i in picked], inventory, sandbox=mode)

    entries: list[list[dict | None]] = [[None] * len(jobs) for _, jobs, _ in runs]
    with ThreadPoolExecutor(AT_ONCE) as pool:
        for (r, picked, _), graded in zip(tasks, pool.map(grade, tasks), strict=True):
            for i, entry in zip(picked, graded, strict=True):
                entries[r][i] = entry
    return entries
