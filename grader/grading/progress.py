"""What the instructor sees while a class is graded (on stderr, with rich).

One line per finished submission, always (a CI log keeps them). On a terminal,
also live bars under those lines: the class, and each submission being graded
now with the step it is in and that step's finished tests.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as Bars
from rich.text import Text

from .results import printable

StepProgress = Callable[[str, int, int], None]  # (step, tests finished, tests of the step)


class Progress:
    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done = total, 0
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.console = Console(file=stream, highlight=False)
        self.bars = Bars(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        self.bars.start()
        self.overall = self.bars.add_task("class", total=total)
        self.running: dict[str, TaskID] = {}

    def started(self, name: str) -> StepProgress:
        """A submission's grading began; the callback tells where it is."""
        label = printable(name)[:30]
        with self.lock:
            task = self.bars.add_task(f"  {label}", total=None)
            self.running[name] = task

        def step(step: str, finished: int, tests: int) -> None:
            self.bars.update(
                task,
                description=f"  {label} {step}",
                completed=finished,
                total=tests,
            )

        return step

    def finished(self, entry: dict) -> None:
        with self.lock:
            self.done += 1
            task = self.running.pop(entry["name"], None)
            if task is not None:
                self.bars.remove_task(task)
            self.bars.advance(self.overall)
            elapsed = time.monotonic() - self.start
            left = elapsed / self.done * (self.total - self.done)
            self.console.print(
                Text(
                    f"{self.done}/{self.total} {printable(entry['name'])}: "
                    f"{entry['score']:g}/{entry['max_score']:g}  ({left:.0f} s left)"
                )
            )

    def close(self) -> None:
        self.bars.stop()
