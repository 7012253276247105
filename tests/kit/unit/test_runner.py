"""The runner reads the grading child's results file: what counts as a pass."""

import json

from grader.grading.runner import _read_outcomes


def _write(path, *records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _record(when, status, nodeid="t::a"):
    return {"nodeid": nodeid, "when": when, "status": status, "message": "", "duration": 0.1}


def test_a_test_whose_process_ended_during_its_call_has_no_outcome(tmp_path):
    """A submission that exits in the call phase must not pass on its set-up's record."""
    results = _write(tmp_path / "r.jsonl", _record("setup", "passed"))
    assert _read_outcomes(results) == {}


def test_a_test_passes_when_its_call_passed(tmp_path):
    results = _write(
        tmp_path / "r.jsonl",
        _record("setup", "passed"),
        _record("call", "passed"),
        _record("teardown", "passed"),
    )
    assert _read_outcomes(results)["t::a"]["status"] == "passed"


def test_the_first_phase_that_did_not_pass_decides(tmp_path):
    results = _write(
        tmp_path / "r.jsonl",
        _record("setup", "error"),
        _record("teardown", "passed"),
        _record("setup", "passed", "t::b"),
        _record("call", "failed", "t::b"),
        _record("teardown", "error", "t::b"),
    )
    outcomes = _read_outcomes(results)
    assert outcomes["t::a"]["status"] == "error"
    assert outcomes["t::b"]["status"] == "failed"
