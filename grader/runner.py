"""Grade submissions: each one in its own child process running the hidden suites.

The child (pytest with the kit's plugin) imports the submission and appends one
JSON line per finished test to a results file; this process never imports
submission code. It reads those lines, scores them against the inventory of
hidden tests (collected once, without any submission) and builds the results
document. A child that crashes, exits or hangs costs only the tests it had not
finished: they score 0 with a message saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import __version__
from .results import submission_entry
from .steps import marker_name

KIT_ROOT = Path(__file__).resolve().parent.parent
HIDDEN_DIR = KIT_ROOT / "tests" / "hidden"
# Beyond the sum of the per-test timeouts: interpreter, torch and data start-up.
STARTUP_ALLOWANCE_S = 120.0
OUTPUT_TAIL = 2000


def _pytest_command(extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        str(HIDDEN_DIR),
        "--rootdir",
        str(KIT_ROOT),
        "-c",
        str(KIT_ROOT / "pyproject.toml"),
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        "-q",
        "--no-header",
        "--show-capture=no",
        "--tb=no",
        "-o",
        "console_output_style=classic",
        *extra,
    ]


def _child_env(threads: int, results: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "GRADER_TORCH_THREADS": str(threads),
            "OMP_NUM_THREADS": str(threads),
            "MNIST_DATA_DIR": str(KIT_ROOT / "data_cache"),
        }
    )
    env.pop("GRADER_RESULTS", None)
    if results is not None:
        env["GRADER_RESULTS"] = str(results)
    return env


def _marker_expr(steps: list[str]) -> list[str]:
    return ["-m", " or ".join(marker_name(s) for s in steps)]


def collect_inventory(steps: list[str]) -> list[dict]:
    """The hidden tests of ``steps``: nodeid, name, step and points (no submission imported)."""
    with tempfile.TemporaryDirectory(prefix="grader-inventory-") as tmp:
        out = Path(tmp) / "inventory.json"
        proc = subprocess.run(
            _pytest_command(
                ["--collect-only", "--grader-inventory", str(out), *_marker_expr(steps)]
            ),
            cwd=tmp,
            env=_child_env(1),
            capture_output=True,
            text=True,
        )
        if not out.is_file():
            output = proc.stdout[-OUTPUT_TAIL:] + proc.stderr[-OUTPUT_TAIL:]
            raise RuntimeError(f"collecting the hidden tests failed:\n{output}")
        return json.loads(out.read_text())


def _read_outcomes(path: Path) -> dict[str, dict]:
    """The final status of each test: its first phase that did not pass, else passed."""
    outcomes: dict[str, dict] = {}
    if not path.is_file():
        return outcomes
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash
        previous = outcomes.get(record["nodeid"])
        if previous is None or previous["status"] == "passed":
            outcomes[record["nodeid"]] = {"status": record["status"], "message": record["message"]}
    return outcomes


def grade_one(
    path: Path,
    steps: list[str],
    inventory: list[dict],
    threads: int = 1,
    timeout_s: float | None = None,
    sandbox: str = "off",
    name: str | None = None,
    timeout_cap: float | None = None,
) -> dict:
    """Grade one submission directory in a child process; returns its results entry.

    ``sandbox`` is the isolation of the submission's code inside that child:
    ``off`` (imported by the child), ``bwrap`` or ``process`` (a worker; see grader/sandbox.py).
    """
    path = Path(path).resolve()
    if timeout_s is None:
        timeout_s = STARTUP_ALLOWANCE_S + sum(
            min(t.get("timeout", 60.0), timeout_cap or 1e9) for t in inventory if t["step"] in steps
        )
    cap = ["--grader-timeout-cap", str(timeout_cap)] if timeout_cap else []
    with tempfile.TemporaryDirectory(prefix="grader-run-") as tmp:
        results = Path(tmp) / "results.jsonl"
        log = Path(tmp) / "output.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                _pytest_command(
                    ["--submission", str(path), "--sandbox", sandbox, *cap, *_marker_expr(steps)]
                ),
                cwd=tmp,
                env=_child_env(threads, results),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                rc = proc.wait(timeout=timeout_s)
                reason = f"the grading process stopped before this test finished (exit code {rc})"
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
                reason = f"the grading process ran past {timeout_s:.0f} s and was stopped"
        outcomes = _read_outcomes(results)
    return submission_entry(name or path.name, str(path), inventory, outcomes, steps, reason)


def document(entries: list[dict]) -> dict:
    return {"kit_version": __version__, "submissions": entries}
