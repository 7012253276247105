"""The report formats built from a results document: Gradescope, JUnit XML, CSV, Classroom.

A small hand-built document (two submissions, two steps, every status); no grading runs.
"""

import copy
import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from grader.grading import results
from grader.reports import classroom_results, common, csv_report, gradescope_results, junit

S03 = "step03_normalization"
S04 = "step04_one_hot_loss"
SECRET = "HIDDEN-DETAIL: expected 0.7311 got 0.5"
MISSING = "step03_normalization.py is missing"
ANSI = "ImportError: no module torch\x1b[0m"


def _test(name, status, points, message=""):
    return {
        "name": name,
        "score": points if status == "passed" else 0.0,
        "max_score": points,
        "status": status,
        "message": message,
    }


def _step(*tests):
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "tests": list(tests),
    }


def _submission(name, steps):
    return {
        "name": name,
        "path": f"/subs/{name}",
        "steps": steps,
        "score": sum(s["score"] for s in steps.values()),
        "max_score": sum(s["max_score"] for s in steps.values()),
    }


@pytest.fixture
def document():
    alice = _submission(
        "alice",
        {
            S03: _step(
                _test("test_softmax_sums_to_one", "passed", 2.0),
                _test("test_softmax_stable", "failed", 1.5, SECRET + "\nsecond line"),
                _test("test_normalize_shape", "error", 1.0, ANSI),
                _test("test_big_batch", "timeout", 0.5, "ran past 60 s"),
            ),
            S04: _step(
                _test("test_one_hot", "passed", 1.0), _test('test_nll <&> "quoted"', "passed", 2.0)
            ),
        },
    )
    bob = _submission(
        "=bob",
        {
            S03: _step(
                _test("test_softmax_sums_to_one", "error", 2.0, MISSING),
                _test("test_softmax_stable", "error", 1.5, MISSING),
                _test("test_normalize_shape", "error", 1.0, MISSING),
                _test("test_big_batch", "error", 0.5, MISSING),
            ),
            S04: _step(
                _test("test_one_hot", "failed", 1.0, "x" * 5000),
                _test('test_nll <&> "quoted"', "passed", 2.0),
            ),
        },
    )
    doc = {"kit_version": "0.1.0", "submissions": [alice, bob]}
    results.validate(doc)
    return doc


def _all_tests(sub):
    return [(step, t) for step, entry in sub["steps"].items() for t in entry["tests"]]


# ------------------------------------------------------------------------------------ Gradescope


def test_gradescope_structure_and_totals(document):
    out = gradescope_results.report(document)
    json.dumps(out)  # serialisable as it is
    alice = document["submissions"][0]
    assert out["score"] == alice["score"] == 5.0
    assert "alice" in out["output"] and "5/8" in out["output"]
    assert out["stdout_visibility"] == "hidden"
    summaries = [t for t in out["tests"] if t["visibility"] == "visible"]
    details = [t for t in out["tests"] if t not in summaries]
    assert [t["name"] for t in summaries] == [f"{S03} (step total)", f"{S04} (step total)"]
    assert [t["number"] for t in summaries] == ["3", "4"]
    assert all("score" not in t and "max_score" not in t for t in summaries)
    assert [t["status"] for t in summaries] == ["failed", "passed"]
    assert summaries[0]["output"].startswith("2/5 points; 1 of 4")
    # one entry per hidden test, carrying the points; their sum is the total
    assert len(details) == len(_all_tests(alice))
    assert sum(t["score"] for t in details) == out["score"]
    assert sum(t["max_score"] for t in details) == alice["max_score"]
    assert [t["number"] for t in details[:4]] == ["3.1", "3.2", "3.3", "3.4"]
    assert details[0]["name"] == f"{S03}: test_softmax_sums_to_one"
    assert [t["status"] for t in details[:4]] == ["passed", "failed", "failed", "failed"]
    assert details[2]["output"].startswith("[error] ")
    assert details[3]["output"].startswith("[timeout] ")
    for entry in out["tests"]:
        assert entry["status"] in ("passed", "failed")
        assert entry["visibility"] in ("visible", "hidden", "after_due_date", "after_published")


def test_gradescope_hides_hidden_test_details_by_default(document):
    out = gradescope_results.report(document)
    visible = [t for t in out["tests"] if t["visibility"] == "visible"]
    assert SECRET not in json.dumps(visible) + out["output"]
    assert all(t["visibility"] == "after_published" for t in out["tests"] if t not in visible)
    assert any(SECRET in t["output"] for t in out["tests"])  # held back, not lost

    shown = gradescope_results.report(document, hidden_details=True)
    assert all(t["visibility"] == "visible" for t in shown["tests"])
    assert shown["score"] == out["score"]


def test_gradescope_second_submission_and_truncation(document):
    out = gradescope_results.report(document, submission_index=1)
    assert out["score"] == document["submissions"][1]["score"] == 2.0
    assert out["extra_data"]["submission"] == "=bob"
    assert all(len(t["output"]) <= common.MESSAGE_LIMIT for t in out["tests"])
    long = next(t for t in out["tests"] if t["name"] == f"{S04}: test_one_hot")
    assert long["output"].endswith("[truncated]")
    with pytest.raises(ValueError, match="out of range"):
        gradescope_results.report(document, submission_index=2)


# ------------------------------------------------------------------------------------ JUnit


def test_junit_parses_back_with_counts_and_properties(document):
    text = junit.report(document)
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        f"alice.{S03}",
        f"alice.{S04}",
        f"=bob.{S03}",
        f"=bob.{S04}",
    ]
    total = sum(len(_all_tests(s)) for s in document["submissions"])
    assert int(root.get("tests")) == len(list(root.iter("testcase"))) == total
    assert int(root.get("failures")) == 2 and int(root.get("errors")) == 6

    alice03 = suites[0]
    assert (alice03.get("tests"), alice03.get("failures"), alice03.get("errors")) == ("4", "1", "2")
    suite_props = {p.get("name"): p.get("value") for p in alice03.find("properties")}
    assert suite_props == {
        "submission": "alice",
        "step": S03,
        "points": "2",
        "max_points": "5",
        "kit_version": "0.1.0",
    }
    cases = alice03.findall("testcase")
    assert all(c.get("classname") == f"alice.{S03}" for c in cases)
    passed, failed, errored, timed_out = cases
    assert passed.find("failure") is None and passed.find("error") is None
    props = {p.get("name"): p.get("value") for p in passed.find("properties")}
    assert props == {"step": S03, "points": "2", "max_points": "2", "status": "passed"}
    failure = failed.find("failure")
    assert failure.get("type") == "failed" and failure.get("message") == SECRET
    assert failure.text == SECRET + "\nsecond line"
    assert {p.get("name"): p.get("value") for p in failed.find("properties")}["points"] == "0"
    assert errored.find("error").get("type") == "error"
    assert "\\x1b" in errored.find("error").text  # an illegal XML character, made visible
    assert timed_out.find("error").get("type") == "timeout"

    # points add up to the document's totals
    for sub in document["submissions"]:
        cases = [
            c
            for s in suites
            if s.get("name").startswith(sub["name"] + ".")
            for c in s.findall("testcase")
        ]
        points = sum(
            float({p.get("name"): p.get("value") for p in c.find("properties")}["points"])
            for c in cases
        )
        assert points == sub["score"]


def test_junit_escapes_names(document):
    root = ET.fromstring(junit.report(document).encode())
    names = [c.get("name") for c in root.iter("testcase")]
    assert 'test_nll <&> "quoted"' in names


# ------------------------------------------------------------------------------------ CSV


def test_csv_parses_back(document):
    rows = list(csv.reader(io.StringIO(csv_report.report(document))))
    assert rows[0] == ["name", S03, S04, "total", "max_total"]
    assert rows[1] == ["alice", "2", "3", "5", "8"]
    assert rows[2] == ["'=bob", "0", "2", "2", "8"]  # no spreadsheet formula
    for row, sub in zip(rows[1:], document["submissions"], strict=True):
        assert float(row[-2]) == sub["score"] and float(row[-1]) == sub["max_score"]
        assert sum(map(float, row[1:-2])) == sub["score"]


def test_csv_fractional_scores_and_missing_steps(document):
    doc = copy.deepcopy(document)
    del doc["submissions"][1]["steps"][S04]
    doc["submissions"][1]["score"] = 0.0
    doc["submissions"][1]["max_score"] = 5.0
    doc["submissions"][0]["steps"][S03]["tests"][1].update(score=1.5, status="passed")
    doc["submissions"][0]["steps"][S03]["score"] = 3.5
    doc["submissions"][0]["score"] = 6.5
    results.validate(doc)
    rows = list(csv.reader(io.StringIO(csv_report.report(doc))))
    assert rows[1] == ["alice", "3.5", "3", "6.5", "8"]
    assert rows[2] == ["'=bob", "0", "", "0", "5"]


# ------------------------------------------------------------------------------------ Classroom


def test_classroom_fields(document):
    out = classroom_results.report(document)
    json.dumps(out)
    alice = document["submissions"][0]
    assert out["version"] == 3
    assert out["status"] == "fail" and out["message"] is None
    assert out["max_score"] == alice["max_score"]
    assert sum(t["score"] for t in out["tests"]) == alice["score"]
    assert len(out["tests"]) == len(_all_tests(alice))
    assert [t["status"] for t in out["tests"]] == ["pass", "fail", "error", "error", "pass", "pass"]
    for test in out["tests"]:
        assert set(test) == {
            "name",
            "status",
            "message",
            "test_code",
            "filename",
            "line_no",
            "duration",
            "score",
            "task_id",
        }
        assert test["test_code"] == "" and test["filename"] == ""
        assert test["line_no"] == 0 and test["duration"] == 0
        assert test["task_id"] in (3, 4)
    first = out["tests"][0]
    assert first["name"] == f"{S03}: test_softmax_sums_to_one" and first["message"] is None
    assert out["tests"][1]["message"].startswith(SECRET)


def test_classroom_overall_status(document):
    bob = classroom_results.report(document, submission_index=1)
    assert bob["status"] == "fail"  # step 04 ran
    assert all(len(t["message"] or "") <= common.MESSAGE_LIMIT for t in bob["tests"])

    doc = copy.deepcopy(document)
    bob_doc = doc["submissions"][1]
    bob_doc["steps"] = {S03: bob_doc["steps"][S03]}
    bob_doc["score"], bob_doc["max_score"] = 0.0, 5.0
    errored = classroom_results.report(doc, submission_index=1)
    assert errored["status"] == "error" and "missing" in errored["message"]

    passing = copy.deepcopy(document)
    alice = passing["submissions"][0]
    alice["steps"] = {S04: alice["steps"][S04]}
    alice["score"], alice["max_score"] = 3.0, 3.0
    assert classroom_results.report(passing)["status"] == "pass"


def test_the_score_table_turns_for_a_class(document):
    def cell(entry):
        return f"{entry['score']:g}/{entry['max_score']:g}"

    alice, bob = document["submissions"]
    few = results.table(document).splitlines()
    assert few[0].split() == ["step", "alice", "=bob"]
    assert few[2].split() == [S03, cell(alice["steps"][S03]), cell(bob["steps"][S03])]
    assert few[-1].split() == ["total", cell(alice), cell(bob)]
    many = copy.deepcopy(document)
    many["submissions"] = [
        {**copy.deepcopy(sub), "name": f"{sub['name']}{i}"}
        for i in range(3)
        for sub in document["submissions"]
    ]
    lines = results.table(many).splitlines()
    assert lines[0].split() == ["submission", "step03", "step04", "total"]
    assert len(lines) == 2 + 6
    assert lines[2].split() == [
        "alice0",
        cell(alice["steps"][S03]),
        cell(alice["steps"][S04]),
        cell(alice),
    ]
