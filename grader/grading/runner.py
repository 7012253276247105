"""Grade submissions: each one in its own child process running the hidden suites.

The child (pytest with the kit's plugin) imports the submission and appends one
JSON line per finished test to a results file; this process never imports
submission code. It reads those lines, scores them against the inventory of
hidden tests (collected once, without any submission) and builds the results
document. A child that crashes, exits or hangs costs only the tests it had not
finished: they score 0 with a message saying so.

The child is started so that nothing of a submission can be imported by it as
pytest configuration: the plugin is loaded with ``-p``, conftest discovery is off
(``--noconftest``), every option is one token (``--submission=PATH``: pytest's
early argument scan would take a separate ``PATH`` for a test path and load the
conftests around it), and it runs in a scratch folder private to the grader that
is also its ``TMPDIR``, so whatever it leaves there goes when the run ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .. import __version__
from ..layout import DATA_DIR, HIDDEN_DIR, KIT_ROOT, PYPROJECT
from ..steps import marker_name
from .results import submission_entry

# Beyond the sum of the per-test timeouts: interpreter, torch and data start-up, and a
# sandbox's start (grader/sandbox/host.py waits up to STARTUP_TIMEOUT_S for it).
STARTUP_ALLOWANCE_S = 180.0
# grade_many: a forked submission's opening and closing (a sandbox starts), beyond its tests.
FORK_ALLOWANCE_S = 60.0
OUTPUT_TAIL = 2000  # characters of a failed child's output quoted in an error


def pytest_options() -> list[str]:
    """The options of every pytest that grades: the kit's configuration and plugin only
    (no conftest discovery, so nothing of a submission is imported as configuration;
    no cache folder), plain asserts, quiet classic output."""
    return [
        f"--rootdir={KIT_ROOT}",
        f"--config-file={PYPROJECT}",
        "--noconftest",
        "-p",
        "grader.plugin",
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        "-q",
        "--no-header",
        "-o",
        "console_output_style=classic",
    ]


def _pytest_command(extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        str(HIDDEN_DIR),
        *pytest_options(),
        "--show-capture=no",
        "--tb=no",
        *extra,
    ]


def _child_env(threads: int, scratch: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": str(threads),
            "MNIST_DATA_DIR": str(DATA_DIR),
            # Everything the child makes with tempfile lands in our scratch folder,
            # which goes with the run, also when the child is killed.
            "TMPDIR": scratch,
        }
    )
    # No pytest options or plugins from the instructor's environment in a grading run.
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(name, None)
    return env


def _marker_expr(steps: list[str]) -> list[str]:
    return ["-m", " or ".join(marker_name(s) for s in steps)]


class Interrupted(BaseException):
    """The grading was stopped from outside (Ctrl-C, SIGTERM): no verdict to record.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` takes it
    for the failure of one submission.
    """


# The grading children running now, so that an interrupted batch can stop them all.
_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()
_stopping = threading.Event()


def stop_all() -> None:
    """Kill every grading child still running (and all it started in its session);
    no new one starts after this."""
    _stopping.set()
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        try:
            os.killpg(proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass


def collect_inventory(steps: list[str]) -> list[dict]:
    """The hidden tests of ``steps``: nodeid, name, step and points (no submission imported)."""
    with tempfile.TemporaryDirectory(prefix="grader-inventory-") as tmp:
        out = Path(tmp) / "inventory.json"
        proc = subprocess.run(
            _pytest_command(["--collect-only", f"--grader-inventory={out}", *_marker_expr(steps)]),
            cwd=tmp,
            env=_child_env(1, tmp),
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


def _last_line(log: Path) -> str:
    with open(log, "rb") as f:
        f.seek(max(0, log.stat().st_size - OUTPUT_TAIL))
        lines = f.read().decode(errors="replace").strip().splitlines()
    return lines[-1][:300] if lines else "(no output)"


def grade_one(
    path: Path,
    steps: list[str],
    inventory: list[dict],
    threads: int = 1,
    timeout_s: float | None = None,
    sandbox: str = "off",
    name: str | None = None,
    timeout_cap: float | None = None,
    artifacts: bool = False,
) -> dict:
    """Grade one submission directory in a child process; returns its results entry.

    ``sandbox`` is the isolation of the submission's code inside that child:
    ``off`` (imported by the child), ``bwrap`` or ``process`` (a worker; see
    grader/submission/sandboxed.py). ``artifacts``: keep what the hidden tests keep with
    ``keep_artifact`` in the entry's tests (for ``--html``).
    """
    path = Path(path).resolve()
    if _stopping.is_set():
        raise Interrupted(f"grading {path} was stopped")
    if timeout_s is None:
        timeout_s = STARTUP_ALLOWANCE_S + sum(
            min(t.get("timeout", 60.0), timeout_cap or 1e9) for t in inventory if t["step"] in steps
        )
    cap = [f"--grader-timeout-cap={timeout_cap}"] if timeout_cap else []
    with tempfile.TemporaryDirectory(prefix="grader-run-") as tmp:
        results = Path(tmp) / "results.jsonl"
        options = [
            f"--submission={path}",
            f"--sandbox={sandbox}",
            f"--grader-results={results}",
            f"--grader-threads={threads}",
            *(["--grader-artifacts"] if artifacts else []),
        ]
        reason = _run_child(Path(tmp), [*options, *cap, *_marker_expr(steps)], threads, timeout_s)
        if _stopping.is_set():
            raise Interrupted(f"grading {path} was stopped")
        outcomes = _read_outcomes(results)
    return submission_entry(name or path.name, str(path), inventory, outcomes, steps, reason)


def grade_many(
    jobs: list[tuple[Path, list[str]]],
    inventory: list[dict],
    sandbox: str = "off",
    timeout_cap: float | None = None,
    artifacts: bool = False,
) -> list[dict]:
    """Grade several submissions, ``(directory, steps)`` each, in ONE child process; returns
    their results entries, in order.

    The child collects the hidden tests and starts its interpreter and torch once, then
    grades each submission in a process forked from itself (``--grader-batch``), one after
    the other: the same tests, seeds and judgement as :func:`grade_one`, without its start-up
    per submission. With one torch thread only (a fork of a process whose thread pool had
    started could deadlock). For trusted batches (the kit's own tests): with
    ``sandbox="off"`` a submission runs in a fork of the child and could reach the child
    itself, and so the submissions after it.
    """
    jobs = [(Path(path).resolve(), list(steps)) for path, steps in jobs]
    if _stopping.is_set():
        raise Interrupted("grading was stopped")
    every = {s for _, steps in jobs for s in steps}
    deadlines = [
        FORK_ALLOWANCE_S
        + sum(min(t.get("timeout", 60.0), timeout_cap or 1e9) for t in inventory if t["step"] in s)
        for _, s in jobs
    ]
    cap = [f"--grader-timeout-cap={timeout_cap}"] if timeout_cap else []
    with tempfile.TemporaryDirectory(prefix="grader-run-") as tmp:
        batch = [
            {
                "submission": str(path),
                "steps": steps,
                "results": str(Path(tmp) / f"results-{i}.jsonl"),
                "status": str(Path(tmp) / f"status-{i}.txt"),
                "deadline_s": deadline,
            }
            for i, ((path, steps), deadline) in enumerate(zip(jobs, deadlines, strict=True))
        ]
        (Path(tmp) / "batch.json").write_text(json.dumps(batch))
        options = [
            f"--grader-batch={Path(tmp) / 'batch.json'}",
            f"--sandbox={sandbox}",
            "--grader-threads=1",
            *(["--grader-artifacts"] if artifacts else []),
        ]
        timeout_s = STARTUP_ALLOWANCE_S + sum(deadlines)
        reason = _run_child(Path(tmp), [*options, *cap, *_marker_expr(sorted(every))], 1, timeout_s)
        if _stopping.is_set():
            raise Interrupted("grading was stopped")
        entries = []
        for job, (path, steps) in zip(batch, jobs, strict=True):
            status = Path(job["status"])
            why = (
                f"the grading process stopped before this test finished ({status.read_text()})"
                if status.is_file()
                else reason
            )
            outcomes = _read_outcomes(Path(job["results"]))
            entries.append(submission_entry(path.name, str(path), inventory, outcomes, steps, why))
    return entries


def _run_child(tmp: Path, options: list[str], threads: int, timeout_s: float) -> str:
    """Run the grading child in the scratch folder ``tmp``; the reason to give each test it
    did not finish."""
    work = tmp / "work"
    work.mkdir()
    log = tmp / "output.log"
    with (
        open(log, "wb") as out,
        subprocess.Popen(
            _pytest_command(options),
            cwd=work,
            env=_child_env(threads, str(work)),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        ) as proc,
    ):
        with _running_lock:
            _running.add(proc)
            if _stopping.is_set():
                os.killpg(proc.pid, 9)
        try:
            rc = proc.wait(timeout=timeout_s)
            reason = f"the grading process stopped before this test finished (exit code {rc})"
            if rc in (2, 3, 4):  # pytest's usage or internal error: say what it said
                reason += f": {_last_line(log)}"
        except subprocess.TimeoutExpired:
            reason = f"the grading process ran past {timeout_s:.0f} s and was stopped"
        finally:
            # Whatever the child left running in its session goes with it.
            try:
                os.killpg(proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            with _running_lock:
                _running.discard(proc)
    return reason


def document(entries: list[dict]) -> dict:
    return {"kit_version": __version__, "submissions": entries}
