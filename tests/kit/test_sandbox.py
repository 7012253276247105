"""The sandbox itself: a sandbox that cannot start says why, fast, as each test's error."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox import bwrap_problem

KIT_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    bwrap_problem() is not None, reason=f"no sandbox: {bwrap_problem()}"
)


def test_a_sandbox_that_cannot_start_says_why_in_every_test(tmp_path):
    """30 MiB of memory cannot hold the interpreter and torch: no test waits for it."""
    results = tmp_path / "results.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/hidden",
            "-m",
            "step03",
            "-q",
            "-p",
            "no:cacheprovider",
            "--sandbox",
            "require",
            "--worker-memory-mb",
            "30",
        ],
        cwd=KIT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GRADER_RESULTS": str(results)},
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    calls = [json.loads(line) for line in results.read_text().splitlines()]
    calls = [c for c in calls if c["when"] == "call"]
    assert len(calls) > 5
    for call in calls:
        assert call["status"] == "error", call
        assert "the sandbox could not start: it ended at start" in call["message"], call
        assert call["duration"] < 5, "the failure to start is kept, not retried per test"
