"""``python -m grader nbgrader grade SUBMISSION... --json OUT``: grade through nbgrader itself.

The whole nbgrader pipeline, for real: build the course (:mod:`.build`), ``nbgrader
generate_assignment``, put each submission into ``submitted/<student>/mnist_kit/``,
``nbgrader autograde`` (a kernel per notebook, the real gradebook database), then
read the scores back from the gradebook with nbgrader's API. A submission is a
directory of step files (each ``stepNN_*.py`` becomes the released notebook with
the student's definitions in its solution cells, see
:func:`.notebooks.fill_notebook`) or of step notebooks (``stepNN_*.ipynb``, used
as they are), or a single step notebook. The results document is DESIGN.md's,
the same as ``python -m grader grade`` writes: every test's score comes from its
grade cell in the gradebook; its status and message from that cell's output in
the autograded notebook.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat

from ..grading.results import validate
from ..grading.runner import collect_inventory, document
from ..layout import DATA_DIR, KIT_ROOT, SOLUTIONS_DIR
from ..steps import STEPS, resolve
from . import ASSIGNMENT, COURSE_ID
from .build import build
from .notebooks import fill_notebook

OUTPUT_TAIL = 3000
_JUDGED = re.compile(r"^\[(passed|failed|error|timeout)\] (.*)$", re.S)
# nbgrader's log line as it starts on a notebook: ".../<student>/<assignment>/<step>.ipynb"
_AUTOGRADING = re.compile(r"Autograding .*?([^/\\]+)[/\\][^/\\]+[/\\]([^/\\]+)\.ipynb\s*$")


def _path_with_bin() -> str:
    """PATH with this interpreter's folder first: nbgrader runs ``alembic`` from PATH."""
    scripts = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join([scripts, *(p for p in parts if p and p != scripts)])


@contextlib.contextmanager
def _bin_on_path() -> Iterator[None]:
    saved = os.environ.get("PATH")
    os.environ["PATH"] = _path_with_bin()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved


def nbgrader(
    course: Path,
    *args: str,
    check: bool = True,
    on_line: Callable[[str], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one nbgrader command in the course folder (its ``nbgrader_config.py`` applies).

    Its log (stdout and stderr together) is the result's ``stdout``; ``on_line`` sees
    each line as nbgrader writes it.
    """
    # Its kernels' scratch folders (a staged notebook per step) go with this folder, also
    # when nbgrader ends a kernel without letting it clean up. The kit is importable in
    # nbgrader and its kernels even where it is not installed (the course holds no path).
    with tempfile.TemporaryDirectory(prefix="grader-nbgrader-tmp-") as scratch:
        env = dict(
            os.environ,
            MPLBACKEND="Agg",
            PYTHONDONTWRITEBYTECODE="1",
            MNIST_DATA_DIR=str(DATA_DIR),
            PATH=_path_with_bin(),
            PYTHONPATH=os.pathsep.join(
                p for p in (str(KIT_ROOT), os.environ.get("PYTHONPATH")) if p
            ),
            TMPDIR=scratch,
        )
        command = [sys.executable, "-m", "nbgrader", *args]
        lines: list[str] = []
        with subprocess.Popen(
            command,
            cwd=course,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        ) as child:
            assert child.stdout is not None
            for line in child.stdout:
                lines.append(line)
                if on_line is not None:
                    on_line(line)
        proc = subprocess.CompletedProcess(command, child.returncode, "".join(lines), "")
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"nbgrader {' '.join(args)} failed (exit code {proc.returncode}):\n"
            f"{proc.stdout[-OUTPUT_TAIL:]}"
        )
    return proc


def autograde_progress(total: int, show: Callable[[str], None]) -> Callable[[str], None]:
    """An ``on_line`` for ``nbgrader autograde``: ``show("[2/6] alice step03_normalization")``
    as nbgrader starts on each notebook."""
    done = 0

    def on_line(line: str) -> None:
        nonlocal done
        match = _AUTOGRADING.search(line)
        if match:
            done += 1
            show(f"[{done}/{total}] {match[1]} {match[2]}")

    return on_line


def autograde_failures(log: str) -> dict[str, str]:
    """Students whose assignment nbgrader could not autograde, with the error it logged.

    nbgrader gives up on a student's whole assignment when a notebook cannot be run
    (a kernel that dies or hangs, a notebook that is not valid JSON), logs the
    traceback, goes on with the next student and exits with 1 at the end.
    """
    failures: dict[str, str] = {}
    lines = log.splitlines()
    for i, line in enumerate(lines):
        match = re.search(
            r"There was an error processing assignment: .*[/\\]submitted[/\\]"
            r"([^/\\]+)[/\\]",
            line,
        )
        if not match:
            continue
        block: list[str] = []
        for follow in lines[i + 1 :]:
            if follow.startswith("[") and block:
                break
            if follow.strip():
                block.append(follow.strip())
        failures[match[1]] = block[-1] if block else "see nbgrader's log"
    return failures


def _student_ids(paths: list[Path]) -> list[str]:
    ids: list[str] = []
    for path in paths:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem if path.is_file() else path.name) or "x"
        sid, n = base, 1
        while sid in ids:
            n += 1
            sid = f"{base}-{n}"
        ids.append(sid)
    return ids


def _step_sources(path: Path, steps: list[str]) -> dict[str, Path]:
    """The file handed in for each step: a notebook, else a ``.py`` file."""
    if path.is_file():
        return {path.stem: path} if path.suffix == ".ipynb" and path.stem in steps else {}
    found = {}
    for step in steps:
        for candidate in (path / f"{step}.ipynb", path / f"{step}.py"):
            if candidate.is_file():
                found[step] = candidate
                break
    return found


def submit(course: Path, student: str, path: Path, steps: list[str]) -> dict[str, Path]:
    """Put a submission into ``submitted/<student>/<assignment>/`` as notebooks."""
    folder = course / "submitted" / student / ASSIGNMENT
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    sources = _step_sources(path, steps)
    for step, source in sources.items():
        if source.suffix == ".ipynb":
            shutil.copyfile(source, folder / f"{step}.ipynb")
            continue
        release = nbformat.read(course / "release" / ASSIGNMENT / f"{step}.ipynb", as_version=4)
        text = source.read_text(encoding="utf-8", errors="replace")
        nbformat.write(fill_notebook(release, text), folder / f"{step}.ipynb")
    return sources


def _cell_outputs(course: Path, student: str, step: str) -> dict[str, list]:
    """Outputs of each grade cell of the autograded notebook, by grade id."""
    path = course / "autograded" / student / ASSIGNMENT / f"{step}.ipynb"
    if not path.is_file():
        return {}
    nb = nbformat.read(path, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c.get("outputs", [])
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }


def _judgement(outputs: list) -> tuple[str, str]:
    """(status, message) of a grade cell that did not earn its points, from its outputs."""
    for output in outputs:
        if output.get("output_type") != "error":
            continue
        name, value = output.get("ename", ""), output.get("evalue", "")
        if name == "HiddenTestFailed":
            match = _JUDGED.match(value)
            if match:
                return match[1], match[2]
        if name == "CellTimeoutError":
            return "timeout", "the grade cell ran past nbgrader's cell timeout"
        return "error", f"{name}: {value}".strip(": ")
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return (
                "failed",
                "the grade cell wrote to stderr, which nbgrader scores 0: "
                + output.get("text", "")[-500:],
            )
    return "error", "nbgrader did not run this grade cell"


def read_scores(
    course: Path,
    student: str,
    name: str,
    path: Path,
    manifest: dict,
    steps: list[str],
    handed_in: dict[str, Path],
    failure: str | None = None,
) -> dict:
    """One submission's results entry, scores read from nbgrader's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    by_step: dict[str, dict[str, Any]] = {
        step: {"score": 0.0, "max_score": 0.0, "tests": []} for step in steps
    }
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    with _bin_on_path(), Gradebook(db_url, course_id=COURSE_ID) as gb:
        for step in steps:
            tests = [t for t in manifest["tests"] if t["step"] == step]
            if not tests:
                continue
            try:
                grades = {
                    g.name: g for g in gb.find_submission_notebook(step, ASSIGNMENT, student).grades
                }
            except MissingEntry:
                grades = {}
            outputs = _cell_outputs(course, student, step)
            entry = by_step[step]
            for test in tests:
                grade = grades.get(test["grade_id"])
                score = float(grade.score or 0.0) if grade is not None else 0.0
                max_score = float(grade.max_score) if grade is not None else float(test["points"])
                if step not in handed_in:
                    status, message = "failed", f"{step}.py is missing from the submission {path}"
                elif failure is not None and (grade is None or grade.auto_score is None):
                    status, message = (
                        "error",
                        f"nbgrader could not autograde the notebooks of this submission: {failure}",
                    )
                elif grade is None or grade.auto_score is None:
                    status, message = "error", "nbgrader did not grade this cell"
                elif score >= max_score:
                    status, message = "passed", ""
                else:
                    status, message = _judgement(outputs.get(test["grade_id"], []))
                entry["tests"].append(
                    {
                        "name": test["name"],
                        "score": score,
                        "max_score": max_score,
                        "status": status,
                        "message": message[:2000],
                    }
                )
                entry["score"] += score
                entry["max_score"] += max_score
    return {
        "name": name,
        "path": str(path),
        "score": sum(s["score"] for s in by_step.values()),
        "max_score": sum(s["max_score"] for s in by_step.values()),
        "steps": by_step,
    }


def grade(
    submissions: list[Path],
    out: Path | None,
    steps: list[str] | None = None,
    course_dir: Path | None = None,
    inventory: list[dict] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Grade submissions with nbgrader; write the results document to ``out``; return it.

    ``steps``: only these steps (as ``python -m grader grade --steps``); None:
    every step. ``course_dir``: where the course is built and kept (a temporary
    folder, removed afterwards, when None). ``progress``: called with a line as
    nbgrader starts on each notebook (``[2/6] alice step03_normalization``).
    """
    steps = resolve(steps) if steps else list(STEPS)
    paths = [Path(p).resolve() for p in submissions]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"no such submission: {', '.join(missing)}")
    if inventory is None:
        inventory = collect_inventory(steps)
    with tempfile.TemporaryDirectory(prefix="grader-nbgrader-") as tmp:
        course = Path(course_dir).resolve() if course_dir else Path(tmp) / "course"
        for stale in ("submitted", "autograded", "release", "gradebook.db"):
            target = course / stale
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        course_steps = [s for s in steps if (SOLUTIONS_DIR / f"{s}.py").is_file()]
        show = progress or (lambda line: None)
        show(f"building the course in {course} ({len(course_steps)} notebooks)")
        manifest = build(course, course_steps, inventory)
        show("nbgrader generate_assignment")
        nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
        students = _student_ids(paths)
        handed_in = {
            sid: submit(course, sid, p, course_steps)
            for sid, p in zip(students, paths, strict=True)
        }
        failures: dict[str, str] = {}
        total = sum(len(h) for h in handed_in.values())
        if total:
            show(f"nbgrader autograde: {total} notebooks of {len(paths)} submissions")
            on_line = autograde_progress(total, progress) if progress else None
            proc = nbgrader(
                course, "autograde", ASSIGNMENT, "--force", check=False, on_line=on_line
            )
            failures = autograde_failures(proc.stdout)
            if proc.returncode != 0 and not failures:
                raise RuntimeError(
                    f"nbgrader autograde failed (exit code {proc.returncode}):\n"
                    f"{proc.stdout[-OUTPUT_TAIL:]}"
                )
        entries = [
            read_scores(course, sid, p.name, p, manifest, steps, handed_in[sid], failures.get(sid))
            for sid, p in zip(students, paths, strict=True)
        ]
    result = document(entries)
    validate(result)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
    return result
