"""GitHub Classroom autograding / Exercism test-runner v3 JSON for one submission."""

from __future__ import annotations

from typing import Any

from .common import all_tests, qualified_name, step_number_or_none, submission_of, truncate

_CLASSROOM_STATUS = {"passed": "pass", "failed": "fail", "error": "error", "timeout": "error"}


def report(document: dict[str, Any], submission_index: int = 0) -> dict[str, Any]:
    """GitHub Classroom autograding / Exercism test-runner interface v3 results for one
    submission.

    Top level: ``version`` 3, ``status`` (``"pass"`` when every test passed;
    ``"error"`` when no test ran cleanly, i.e. every test errored or timed out, or
    there were none; else ``"fail"``), ``message`` (the reason when ``"error"``, else
    null), ``max_score`` (GitHub Classroom's reporter adds it up across runners) and
    ``tests`` in the document's order (steps in STEPS order).

    Per test: ``name`` (``"<step>: <test>"``), ``status`` (pass/fail/error; a timeout
    is an error), ``message`` (the grader's message, null when empty), ``test_code``
    ``""`` (hidden-test source is never shown), ``filename`` ``""``, ``line_no`` 0 (the
    reporter prints no line then), ``duration`` 0 (not recorded), ``score`` (the
    reporter's points are the sum of these) and ``task_id``, the step number, which
    links a test to exactly one task as v3 asks.

    GitHub Classroom's reporter reads a runner's result base64-encoded from a step
    output, e.g. ``echo "result=$(base64 -w0 classroom.json)" >> "$GITHUB_OUTPUT"``.
    """
    sub = submission_of(document, submission_index)
    tests: list[dict[str, Any]] = []
    for step, test in all_tests(sub):
        entry = {
            "name": qualified_name(step, test["name"]),
            "status": _CLASSROOM_STATUS[test["status"]],
            "message": truncate(test["message"]) or None,
            "test_code": "",
            "filename": "",
            "line_no": 0,
            "duration": 0,
            "score": float(test["score"]),
        }
        number = step_number_or_none(step)
        if number is not None:
            entry["task_id"] = number
        tests.append(entry)
    statuses = {t["status"] for t in tests}
    if not tests or statuses == {"error"}:
        status = "error"
        message = (
            "no hidden tests were run"
            if not tests
            else "no hidden test ran cleanly: " + truncate(tests[0]["message"] or "", 500)
        )
    else:
        status = "pass" if statuses == {"pass"} else "fail"
        message = None
    return {
        "version": 3,
        "status": status,
        "message": message,
        "max_score": float(sub["max_score"]),
        "tests": tests,
    }
