"""Gradescope: the autograder's ``results.json`` for one submission."""

from __future__ import annotations

import html
from typing import Any

from .common import (
    qualified_name,
    score_text,
    step_number_or_none,
    steps_of,
    submission_of,
    truncate,
)

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
PICTURES_LIMIT = 2_000_000  # characters of embedded pictures in one results.json


def report(
    document: dict[str, Any],
    submission_index: int = 0,
    hidden_details: bool = False,
    visibility: str | None = None,
) -> dict[str, Any]:
    """Gradescope's ``results.json`` for one submission of ``document``.

    Follows Gradescope's autograder specification ("Output format", "Controlling
    Test Case Visibility", "Test case status"):

    - top level: ``score`` (the submission's total, authoritative), a short
      ``output``, ``stdout_visibility: "hidden"`` (the grader's log stays with the
      instructors) and ``extra_data`` (kit version, submission, maximum);
    - one *step summary* per step, ``visibility: "visible"``: an informational entry
      (``status`` and an ``output`` with the step's points, no score fields, so the
      points are not counted twice), numbered ``"3"`` for step 03;
    - one entry per hidden test carrying the points (``score``, ``max_score``),
      ``status`` ``"passed"``/``"failed"`` (error and timeout are failures, named in
      the output), the grader's message as ``output``, numbered ``"3.1"``,
      ``"3.2"``, ... and, unless ``hidden_details`` is true, ``visibility:
      "after_published"``: students see them once the instructor publishes grades.

    ``hidden_details=True`` makes the per-test entries visible at once; ``visibility``
    (one of :data:`VISIBILITIES`) sets theirs outright. Gradescope hides a student's
    total while any test is held back, so by default students see the step summaries
    (with their points) until grades are published.

    A step whose tests kept artifacts (``grade --html`` or ``--gradescope``) carries the
    student's pictures in its summary: ``output_format: "html"``, PNGs as data URIs, at
    most :data:`PICTURES_LIMIT` characters of them per results.json.
    """
    sub = submission_of(document, submission_index)
    detail_visibility = visibility or ("visible" if hidden_details else "after_published")
    budget = PICTURES_LIMIT
    tests: list[dict[str, Any]] = []
    passed_count = 0
    total_count = 0
    for step in steps_of(sub):
        entry = sub["steps"][step]
        number = step_number_or_none(step)
        step_tests = entry["tests"]
        passed = sum(t["status"] == "passed" for t in step_tests)
        passed_count += passed
        total_count += len(step_tests)
        summary = (
            f"{score_text(entry['score'])}/{score_text(entry['max_score'])} points; "
            f"{passed} of {len(step_tests)} hidden tests passed"
        )
        if not step_tests:
            summary = "no hidden tests were run for this step"
        step_entry = {
            "name": f"{step} (step total)",
            "status": "passed" if entry["score"] >= entry["max_score"] - 1e-9 else "failed",
            "output": summary,
            "tags": [step],
            "visibility": "visible",
        }
        if number is not None:
            step_entry["number"] = str(number)
        kept = [a for t in step_tests for a in t.get("artifacts", [])]
        if kept:
            from .html_report import pictures_html  # matplotlib: only for pictures

            shown, budget = pictures_html(kept, budget)
            step_entry["output"] = f"<p>{html.escape(summary)}</p>{shown}"
            step_entry["output_format"] = "html"
        tests.append(step_entry)
        for i, test in enumerate(step_tests, start=1):
            message = test["message"]
            if test["status"] in ("error", "timeout"):
                message = f"[{test['status']}] {message}"
            test_entry = {
                "name": qualified_name(step, test["name"]),
                "score": float(test["score"]),
                "max_score": float(test["max_score"]),
                "status": "passed" if test["status"] == "passed" else "failed",
                "output": truncate(message),
                "tags": [step, test["status"]],
                "visibility": detail_visibility,
            }
            if number is not None:
                test_entry["number"] = f"{number}.{i}"
            tests.append(test_entry)
    output = (
        f"{sub['name']}: {score_text(sub['score'])}/{score_text(sub['max_score'])} points; "
        f"{passed_count} of {total_count} hidden tests passed."
    )
    if not hidden_details:
        output += " Each hidden test's result is shown once grades are published."
    return {
        "score": float(sub["score"]),
        "output": output,
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "stdout_visibility": "hidden",
        "extra_data": {
            "kit_version": document["kit_version"],
            "submission": sub["name"],
            "max_score": float(sub["max_score"]),
        },
        "tests": tests,
    }
