"""The sandbox itself: a sandbox that cannot start says why, as each test's error, once."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from grader import sandbox
from grader.sandbox import bwrap_problem
from grader.submission import SandboxUnavailable

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


def test_a_failure_to_start_is_kept_not_retried(monkeypatch):
    starts = []
    real = sandbox.Sandbox

    def counting(*args, **kwargs):
        starts.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sandbox, "Sandbox", counting)
    sub = sandbox.SandboxedSubmission(
        KIT_ROOT / "solutions", "bwrap", sandbox.Limits(memory_bytes=30 * 2**20)
    )
    try:
        for _ in range(3):
            with pytest.raises(RuntimeError, match="the sandbox could not start"):
                sub.warm()
        with pytest.raises(SandboxUnavailable, match="the sandbox could not start"):
            sub.step03_normalization.softmax(torch.zeros(1, 2))
    finally:
        sub.close()
    assert len(starts) == 1
