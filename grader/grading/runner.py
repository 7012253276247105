"""Grade submissions: each one in a fork of a long-lived grading process.

A grading process (:mod:`.server`: pytest with the kit's plugin) grades the
submissions it is sent one after the other, each in a fork of itself, which
appends one JSON line per finished test to the job's results file; this process
never imports submission code. It reads those lines, scores them against the
inventory of hidden tests (collected once, without any submission) and builds
the results document. A fork that crashes or hangs costs only the tests it had
not finished: they score 0 with a message saying so. A grading process that
dies costs nothing: its submission is graded again, once, in a fresh one.

The grading process is started so that nothing of a submission can be imported by
it as pytest configuration: the plugin is loaded with ``-p``, conftest discovery
is off (``--noconftest``), every option is one token, and it runs in a scratch
folder private to the grader that is also its ``TMPDIR``.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..steps import marker_name
from . import server
from .results import submission_entry
from .server import OUTPUT_TAIL, child_env, pytest_command, pytest_options

if TYPE_CHECKING:
    from .progress import StepProgress  # rich: imported where progress is shown

__all__ = ["pytest_options", "grade_one", "grade_many", "collect_inventory", "stop_all"]

# Beyond the sum of a submission's test timeouts, for its fork: a sandbox started again
# after a worker ended mid-request, and the session's set-up and teardown.
FORK_ALLOWANCE_S = 60.0


def _marker_expr(steps: list[str]) -> list[str]:
    return ["-m", " or ".join(marker_name(s) for s in steps)]


class Interrupted(BaseException):
    """The grading was stopped from outside (Ctrl-C, SIGTERM): no verdict to record.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` takes it
    for the failure of one submission.
    """


def stop_all() -> None:
    """Kill every grading process still running (and all it started in its session);
    no new one starts after this."""
    server.stop_all()


def collect_inventory(steps: list[str]) -> list[dict]:
    """The hidden tests of ``steps``: nodeid, name, step and points (no submission imported)."""
    with tempfile.TemporaryDirectory(prefix="grader-inventory-") as tmp:
        out = Path(tmp) / "inventory.json"
        proc = subprocess.run(
            pytest_command(["--collect-only", f"--grader-inventory={out}", *_marker_expr(steps)]),
            cwd=tmp,
            env=child_env(1, tmp),
            capture_output=True,
            text=True,
        )
        if not out.is_file():
            output = proc.stdout[-OUTPUT_TAIL:] + proc.stderr[-OUTPUT_TAIL:]
            raise RuntimeError(f"collecting the hidden tests failed:\n{output}")
        return json.loads(out.read_text())


def _read_outcomes(path: Path) -> dict[str, dict]:
    """The final status of each test: its first phase that did not pass, else passed.

    A passed set-up is not a pass: a test whose process ended during its call (a
    submission that exits) has no outcome, and scores as one the run never finished.
    """
    outcomes: dict[str, dict] = {}
    artifacts: dict[str, list] = {}  # kept by the call phase, whichever phase decides
    if not path.is_file():
        return outcomes
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash
        if record.get("artifacts"):
            artifacts[record["nodeid"]] = record["artifacts"]
        previous = outcomes.get(record["nodeid"])
        if previous is not None and previous["status"] != "passed":
            continue  # the first phase that did not pass decides
        if record["status"] == "passed" and record.get("when") == "setup":
            continue
        outcomes[record["nodeid"]] = {"status": record["status"], "message": record["message"]}
        kept = artifacts.get(record["nodeid"])
        if kept:
            outcomes[record["nodeid"]]["artifacts"] = kept
    return outcomes


def _deadline(inventory: list[dict], steps: list[str], timeout_cap: float | None) -> float:
    """How long a submission's fork may take: its tests' time limits and an allowance."""
    limits = [min(t.get("timeout", 60.0), timeout_cap or 1e9) for t in inventory]
    return FORK_ALLOWANCE_S + sum(
        limit for t, limit in zip(inventory, limits, strict=True) if t["step"] in steps
    )


def grade_one(
    path: Path,
    steps: list[str],
    inventory: list[dict],
    threads: int = 1,
    timeout_s: float | None = None,
    sandbox: str = "off",
    name: str | None = None,
    timeout_cap: float | None = None,
    progress: StepProgress | None = None,
    artifacts: bool = False,
) -> dict:
    """Grade one submission directory; returns its results entry.

    ``sandbox`` is the isolation of the submission's code: ``off`` (imported by the
    grading process's fork: trusted code only), ``bwrap`` or ``process`` (workers;
    see grader/submission/sandboxed.py). ``timeout_s`` replaces the fork's deadline.
    ``progress`` is told the step being graded and how many of its tests finished.
    ``artifacts``: keep what the hidden tests keep with ``keep_artifact`` in the entry's
    tests (for ``--html``).
    """
    path = Path(path).resolve()
    deadline = timeout_s if timeout_s is not None else _deadline(inventory, steps, timeout_cap)
    key = (sandbox, threads, timeout_cap)
    lost = ""
    for attempt in (1, 2):
        with tempfile.TemporaryDirectory(prefix="grader-run-") as tmp:
            results, scratch = Path(tmp) / "results.jsonl", Path(tmp) / "scratch"
            scratch.mkdir()
            job = {
                "submission": str(path),
                "steps": list(steps),
                "results": str(results),
                "scratch": str(scratch),
                "deadline_s": deadline,
                "artifacts": artifacts,
            }
            try:
                grading = server.take(key)
                watch = _watcher(results, inventory, steps, progress) if progress else None
                ended = grading.grade(job, watch)
            except server.Stopped:
                raise Interrupted(f"grading {path} was stopped") from None
            except server.ServerLost as exc:
                server.discard(grading)
                if server.stopping():
                    raise Interrupted(f"grading {path} was stopped") from None
                if attempt == 1:
                    lost = str(exc)
                    continue  # the grader's failure, not the student's: once more, afresh
                reason = f"{exc} (and before, in another: {lost})"
            else:
                server.give_back(grading)
                reason = (
                    f"the grading process stopped this submission after {deadline:.0f} s (the "
                    "sum of its tests' time limits and an allowance)"
                    if ended.startswith("ran past")
                    else f"the grading process stopped before this test finished ({ended})"
                )
            outcomes = _read_outcomes(results)
        return submission_entry(name or path.name, str(path), inventory, outcomes, steps, reason)
    raise AssertionError("unreachable")


def _watcher(
    results: Path, inventory: list[dict], steps: list[str], progress: StepProgress
) -> Callable[[], None]:
    """A poll that tells ``progress`` the step of the last finished test and how many of
    that step's tests have finished (read from the results file as it grows)."""
    step_of = {t["nodeid"]: t["step"] for t in inventory if t["step"] in steps}
    tests = Counter(step_of.values())
    said: list[tuple[str, int]] = []

    def poll() -> None:
        outcomes = _read_outcomes(results)  # a few kB: read again each time
        if not outcomes:
            return
        step = step_of.get(list(outcomes)[-1])
        if step is None:
            return
        finished = sum(1 for n in outcomes if step_of.get(n) == step)
        if said != [(step, finished)]:
            said[:] = [(step, finished)]
            progress(step, finished, tests[step])

    return poll


def grade_many(
    jobs: list[tuple[Path, list[str]]],
    inventory: list[dict],
    sandbox: str = "off",
    timeout_cap: float | None = None,
    artifacts: bool = False,
) -> list[dict]:
    """Grade several submissions, ``(directory, steps)`` each, one after the other in one
    grading process (the kit's own tests); returns their results entries, in order."""
    return [
        grade_one(
            path,
            list(steps),
            inventory,
            sandbox=sandbox,
            timeout_cap=timeout_cap,
            artifacts=artifacts,
        )
        for path, steps in jobs
    ]


def document(entries: list[dict]) -> dict:
    return {"kit_version": __version__, "submissions": entries}
