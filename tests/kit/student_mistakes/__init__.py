"""Common student mistakes, each a one-place edit of a reference step, and what the VISIBLE
tests must say about it.

Every ``stepNN.py`` here lists ``MISTAKES``: a :class:`Mistake` is a classic-bug edit
(``old`` replaced by ``new`` in a copy of ``solutions/<step>.py``) plus ``words``, which the
first line of one of the failures of that step's visible tests must contain (the hint that
names the mistake), and ``absent``, words no failure may contain (a hint for another
mistake). No failure may be a raw exception: each is an ``AssertionError`` or a
``pytest.fail`` line. tests/kit/e2e/test_visible_mistakes.py runs them all in one pytest;
``python -m tests.kit.student_mistakes [step03 ...]`` prints what each one gets.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from grader.steps import STEPS
from tests.kit.classic_bugs import SOLUTIONS, Bug


@dataclass(frozen=True)
class Mistake(Bug):
    words: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()


def all_mistakes() -> list[Mistake]:
    found = []
    for path in sorted(Path(__file__).parent.glob("step*.py")):
        found.extend(importlib.import_module(f"{__name__}.{path.stem}").MISTAKES)
    return found


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def tests_of(mistake: Mistake) -> list[str]:
    """The visible tests that can see ``mistake``: those that use, directly or through other
    functions of the step or of its test file, the function or class the edit is in (all the
    step's tests for an edit outside any). Keeps the run short: training tests run only for
    training mistakes."""
    text = (SOLUTIONS / f"{mistake.step}.py").read_text()
    line = text[: text.index(mistake.old)].count("\n") + 1
    test_file = f"test_{mistake.step}.py"
    step_defs, test_defs = (
        [d for d in ast.parse(source).body if isinstance(d, ast.FunctionDef | ast.ClassDef)]
        for source in (text, (SOLUTIONS / test_file).read_text())
    )
    edited = {d.name for d in step_defs if d.lineno <= line <= (d.end_lineno or 0)}
    defs = step_defs + test_defs
    if not edited:
        return [test_file]
    found, grew = set(edited), True
    while grew:
        grew = False
        for d in defs:
            if d.name not in found and _names(d) & found:
                found.add(d.name)
                grew = True
    return [
        f"{test_file}::{d.name}" for d in defs if d.name in found and d.name.startswith("test_")
    ]


def package(dest: Path, mistake: Mistake | None = None, files: dict[str, Path] | None = None):
    """``dest`` as a student's ``exercises`` package: the reference steps (with ``mistake``
    applied, or with ``files`` (step file name -> path) in their place), the kit's mnist.py,
    conftest.py (and the plugin it loads) and visible tests."""
    if mistake is not None:
        mistake.apply(dest)
    else:
        dest.mkdir(parents=True)
        for path in SOLUTIONS.glob("step*.py"):
            shutil.copyfile((files or {}).get(path.name, path), dest / path.name)
    for path in SOLUTIONS.glob("test_step*.py"):
        shutil.copyfile(path, dest / path.name)
    for path in SOLUTIONS.glob("*.py"):  # __init__, mnist, conftest and its plugin
        if not path.name.startswith(("step", "test_step")):
            shutil.copyfile(path, dest / path.name)
    return dest


# A pytest plugin for the run: records each test's outcome and, for a failure, the exception
# type and the first line of its message (whatever the kit's conftest makes of the report).
RECORDER = """
import json
import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.failed or (report.when == "call" and report.passed):
        exc = call.excinfo
        text = str(exc.value) if exc is not None else ""
        entry = {
            "folder": item.nodeid.split("/")[0],
            "test": item.name,
            "type": exc.typename if exc is not None else "",
            "line": text.splitlines()[0] if text else "",
        }
        with open(os.environ["VISIBLE_RECORD"], "a") as out:
            out.write(json.dumps(entry) + "\\n")
"""

Outcome = list[tuple[str, str, str]]  # (test, exception type or "" for a pass, first line)


def run_visible(folders: dict[str, list[str]], root: Path) -> dict[str, Outcome]:
    """Run the given visible tests (folder name -> test files or node ids in it) of each
    package folder under ``root``, all in ONE pytest process; returns folder name ->
    [(test, exception type, first line of its message)], type "" for a pass."""
    markers = "\n".join(f"    {step[:6]}" for step in STEPS)
    (root / "pytest.ini").write_text(
        f"[pytest]\naddopts = --strict-markers\nmarkers =\n{markers}\n"
    )
    (root / "_visible_record.py").write_text(RECORDER)
    record = root / "record.jsonl"
    args = [f"{root / f / test}" for f, tests in folders.items() for test in tests]
    env = dict(
        os.environ,
        MNIST_DATA_DIR=str(SOLUTIONS.parent / "data_cache"),
        VISIBLE_RECORD=str(record),
        PYTHONPATH=str(root),  # the recorder; the folders import as packages of root
    )
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "_visible_record"]
        + ["--rootdir", str(root), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    results: dict[str, Outcome] = {f: [] for f in folders}
    for entry in map(json.loads, record.read_text().splitlines() if record.exists() else []):
        results[entry["folder"]].append((entry["test"], entry["type"], entry["line"]))
    return results


def judge(mistake: Mistake, outcome: Outcome) -> list[str]:
    """What is wrong with the visible tests' answer to ``mistake`` (empty: all is well)."""
    failures = [(name, kind, line) for name, kind, line in outcome if kind]
    if not outcome:
        return ["no visible test ran"]
    if not failures:
        return ["every visible test passes"]
    problems = [
        f"{name} fails with a raw {kind}: {line[:200]}"
        for name, kind, line in failures
        if kind not in ("AssertionError", "Failed")
    ]
    if not any(all(w in line for w in mistake.words) for _, _, line in failures):
        problems.append(
            f"no failure says {mistake.words}: "
            + " | ".join(f"{name}: {line[:300]}" for name, _, line in failures)
        )
    problems += [
        f"{name} says {w!r}: {line[:200]}"
        for name, _, line in failures
        for w in mistake.absent
        if w in line
    ]
    return problems


def folder_name(i: int, mistake: Mistake) -> str:
    return f"m{i:03d}_" + re.sub(r"\W", "_", mistake.name)
