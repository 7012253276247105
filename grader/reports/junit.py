"""JUnit XML of every submission's hidden tests (CI test-report viewers)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from .common import score_text, steps_of, truncate

# Characters XML 1.0 cannot hold at all, even escaped (ANSI escapes, NUL, ...).
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: illegal characters become visible ``\\xNN`` escapes."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    props = ET.SubElement(parent, "properties")
    for key, value in values.items():
        ET.SubElement(props, "property", name=key, value=_xml_text(value))


def report(document: dict[str, Any]) -> str:
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
        for step in steps_of(sub):
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
                    "points": score_text(entry["score"]),
                    "max_points": score_text(entry["max_score"]),
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
                        "points": score_text(test["score"]),
                        "max_points": score_text(test["max_score"]),
                        "status": test["status"],
                    },
                )
                if test["status"] == "passed":
                    continue
                message = _xml_text(truncate(test["message"]))
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
