"""Standard report formats, each built from the results document (DESIGN.md's schema).

Pure functions: they take the document and return a ``dict`` (to dump as JSON) or a
``str``; writing files is the caller's job. Only the grader's messages cross into a
report, never hidden-test source or expected values, and each message is cut to
``MESSAGE_LIMIT`` characters.

- :func:`gradescope`: Gradescope autograder ``results.json`` for one submission.
- :func:`junit`: JUnit XML for every submission (CI test-report viewers).
- :func:`csv_table`: one CSV row per submission, a column per step.
- :func:`classroom`: GitHub Classroom autograding / Exercism test-runner v3 JSON.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from ..steps import STEPS, step_number

MESSAGE_LIMIT = 1000
_TRUNCATED = " ... [truncated]"
# Characters XML 1.0 cannot hold at all, even escaped (ANSI escapes, NUL, ...).
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Cells a spreadsheet would run as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _truncate(text: str | None, limit: int = MESSAGE_LIMIT) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - len(_TRUNCATED)] + _TRUNCATED


def _num(value: float) -> str:
    """A score as text: ``3`` for 3.0, else the shortest exact float text."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _steps_of(submission: dict) -> list[str]:
    """A submission's steps in STEPS order (any unknown ones after, as given)."""
    known = [s for s in STEPS if s in submission["steps"]]
    return known + [s for s in submission["steps"] if s not in STEPS]


def _number(step: str) -> int | None:
    try:
        return step_number(step)
    except ValueError:
        return None


def _test_name(step: str, name: str) -> str:
    return f"{step}: {name}"


def _submission(document: dict, index: int) -> dict:
    subs = document["submissions"]
    if not -len(subs) <= index < len(subs):
        raise ValueError(
            f"submission_index {index} is out of range: the document has {len(subs)} submission(s)"
        )
    return subs[index]


def _all_tests(submission: dict) -> list[tuple[str, dict]]:
    return [
        (step, test)
        for step in _steps_of(submission)
        for test in submission["steps"][step]["tests"]
    ]


# --------------------------------------------------------------------------- Gradescope


def gradescope(document: dict, submission_index: int = 0, hidden_details: bool = False) -> dict:
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

    ``hidden_details=True`` makes the per-test entries visible at once. Gradescope
    hides a student's total while any test is held back, so by default students see
    the step summaries (with their points) until grades are published.
    """
    sub = _submission(document, submission_index)
    detail_visibility = "visible" if hidden_details else "after_published"
    tests: list[dict] = []
    passed_count = 0
    total_count = 0
    for step in _steps_of(sub):
        entry = sub["steps"][step]
        number = _number(step)
        step_tests = entry["tests"]
        passed = sum(t["status"] == "passed" for t in step_tests)
        passed_count += passed
        total_count += len(step_tests)
        summary = (
            f"{_num(entry['score'])}/{_num(entry['max_score'])} points; "
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
        tests.append(step_entry)
        for i, test in enumerate(step_tests, start=1):
            message = test["message"]
            if test["status"] in ("error", "timeout"):
                message = f"[{test['status']}] {message}"
            test_entry = {
                "name": _test_name(step, test["name"]),
                "score": float(test["score"]),
                "max_score": float(test["max_score"]),
                "status": "passed" if test["status"] == "passed" else "failed",
                "output": _truncate(message),
                "tags": [step, test["status"]],
                "visibility": detail_visibility,
            }
            if number is not None:
                test_entry["number"] = f"{number}.{i}"
            tests.append(test_entry)
    output = (
        f"{sub['name']}: {_num(sub['score'])}/{_num(sub['max_score'])} points; "
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


# --------------------------------------------------------------------------- JUnit XML


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: illegal characters become visible ``\\xNN`` escapes."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    props = ET.SubElement(parent, "properties")
    for key, value in values.items():
        ET.SubElement(props, "property", name=key, value=_xml_text(value))


def junit(document: dict) -> str:
    """JUnit XML: ``testsuites`` > a ``testsuite`` per submission and step > a ``testcase``
    per hidden test.

    Suites are named ``"<submission>.<step>"``, which is also each test case's
    ``classname``. A failed test carries a ``<failure type="failed">``, an errored or
    timed-out one an ``<error type="error"|"timeout">``, with the grader's message as
    the element's text and its first line as the ``message`` attribute. Each test
    case has ``<properties>`` with ``step``, ``points``, ``max_points`` and
    ``status``; each suite has ``submission``, ``step``, ``points``, ``max_points``
    and ``kit_version``. Durations are not in the document, so every ``time`` is 0.
    """
    root = ET.Element("testsuites", name="grader")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for sub in document["submissions"]:
        for step in _steps_of(sub):
            entry = sub["steps"][step]
            suite_name = _xml_text(f"{sub['name']}.{step}")
            tests = entry["tests"]
            failures = sum(t["status"] == "failed" for t in tests)
            errors = sum(t["status"] in ("error", "timeout") for t in tests)
            suite = ET.SubElement(
                root,
                "testsuite",
                name=suite_name,
                tests=str(len(tests)),
                failures=str(failures),
                errors=str(errors),
                skipped="0",
                time="0",
            )
            _properties(
                suite,
                {
                    "submission": sub["name"],
                    "step": step,
                    "points": _num(entry["score"]),
                    "max_points": _num(entry["max_score"]),
                    "kit_version": document["kit_version"],
                },
            )
            for test in tests:
                case = ET.SubElement(
                    suite, "testcase", name=_xml_text(test["name"]), classname=suite_name, time="0"
                )
                _properties(
                    case,
                    {
                        "step": step,
                        "points": _num(test["score"]),
                        "max_points": _num(test["max_score"]),
                        "status": test["status"],
                    },
                )
                if test["status"] == "passed":
                    continue
                message = _xml_text(_truncate(test["message"]))
                first_line = message.splitlines()[0] if message else test["status"]
                tag = "failure" if test["status"] == "failed" else "error"
                element = ET.SubElement(case, tag, message=first_line, type=test["status"])
                element.text = message
            totals["tests"] += len(tests)
            totals["failures"] += failures
            totals["errors"] += errors
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# --------------------------------------------------------------------------- CSV


def _csv_cell(text: str) -> str:
    """Text a spreadsheet shows as text, not runs as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_table(document: dict) -> str:
    """CSV: header ``name, <step>..., total, max_total``, then one row per submission.

    Step columns are the steps present in any submission, in STEPS order; a cell is
    the step's score (empty where a submission lacks that step). Numbers are written
    exactly (``3``, ``2.5``). A name that would start a spreadsheet formula gets a
    leading ``'``.
    """
    subs = document["submissions"]
    steps = [s for s in STEPS if any(s in sub["steps"] for sub in subs)]
    steps += [s for sub in subs for s in sub["steps"] if s not in STEPS and s not in steps]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", *steps, "total", "max_total"])
    for sub in subs:
        writer.writerow(
            [
                _csv_cell(sub["name"]),
                *(_num(sub["steps"][s]["score"]) if s in sub["steps"] else "" for s in steps),
                _num(sub["score"]),
                _num(sub["max_score"]),
            ]
        )
    return out.getvalue()


# --------------------------------------------------------------------------- Classroom

_CLASSROOM_STATUS = {"passed": "pass", "failed": "fail", "error": "error", "timeout": "error"}


def classroom(document: dict, submission_index: int = 0) -> dict:
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
    sub = _submission(document, submission_index)
    tests = []
    for step, test in _all_tests(sub):
        entry = {
            "name": _test_name(step, test["name"]),
            "status": _CLASSROOM_STATUS[test["status"]],
            "message": _truncate(test["message"]) or None,
            "test_code": "",
            "filename": "",
            "line_no": 0,
            "duration": 0,
            "score": float(test["score"]),
        }
        number = _number(step)
        if number is not None:
            entry["task_id"] = number
        tests.append(entry)
    statuses = {t["status"] for t in tests}
    if not tests or statuses == {"error"}:
        status = "error"
        message = (
            "no hidden tests were run"
            if not tests
            else "no hidden test ran cleanly: " + _truncate(tests[0]["message"] or "", 500)
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
