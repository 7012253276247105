"""Batch grading: grade the submissions found (:mod:`.discovery`) in parallel, keep going.

Results are written after every finished submission, so ``--resume`` continues
an interrupted batch without regrading.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from . import results, runner
from .cache import Cache
from .discovery import NoSubmission, Submission, discover, extract_zip

__all__ = [  # discovery's names stay importable from here
    "NoSubmission",
    "Submission",
    "discover",
    "extract_zip",
    "grade_all",
    "load_previous",
    "scratch_dir",
    "unwritable",
    "write_atomically",
]


def unwritable(files: Sequence[Path], folders_or_files: Sequence[Path] = ()) -> list[str]:
    """Output paths that cannot be written, found before grading rather than after it.

    ``files`` must not be directories; ``folders_or_files`` may be either (a report
    that becomes a folder of files when there are several submissions).
    """
    problems = []
    for path in [*files, *folders_or_files]:
        if path in files and path.is_dir():
            problems.append(f"{path} (a directory; give a file name)")
            continue
        if not path.parent.is_dir():  # a typo'd folder is an error, never made (at / even)
            problems.append(f"{path} (the folder {path.parent} does not exist)")
            continue
        probe = path.parent / f".{path.name}.probe"
        try:
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            problems.append(f"{path} ({exc.strerror or exc})")
    return problems


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(exist_ok=True)  # a report's own folder of files; its parent exists
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text)
    os.replace(tmp, path)


def grade_all(
    submissions: list[Submission],
    steps: list[str],
    jobs: int,
    sandbox: str,
    out: Path | None,
    previous: list[dict],
    progress: bool = True,
    timeout_cap: float | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    artifacts: bool = False,
    cache: Path | None = None,
) -> list[dict]:
    """Grade every submission not already in ``previous``; write ``out`` after each one.

    Submissions are known by their origin (the directory or zip given), so a resumed
    batch skips zips graded before as well as directories. ``executor``: ``local``
    (``jobs`` grading processes on this machine) or ``dask`` (a Dask cluster: the one at
    ``scheduler``, else a LocalCluster of ``jobs`` workers; see :mod:`.dask_executor`).
    ``cache``: a folder of step results (:mod:`.cache`); only the steps it does not
    hold are graded, and each step's entry says ``"cached": true`` or ``false``.
    """
    done = {e["path"]: e for e in previous}
    todo = [s for s in submissions if s.origin not in done]
    store = Cache(cache, sandbox, timeout_cap) if cache is not None and todo else None
    # Per submission: the key of each step, and the steps found in the cache.
    keys: dict[str, dict[str, str]] = {}
    hits: dict[str, dict[str, dict]] = {}
    if store is not None:
        for sub in todo:
            if not sub.problem:
                keys[sub.origin] = store.keys(sub.path, sub.origin, steps)
                found = {s: store.get(keys[sub.origin][s], s) for s in steps}
                hits[sub.origin] = {s: e for s, e in found.items() if e is not None}

    def to_grade(sub: Submission) -> list[str]:
        return [s for s in steps if s not in hits.get(sub.origin, {})]

    graded = [s for s in todo if s.problem or to_grade(s)]  # these need a grading process
    inventory = runner.collect_inventory(steps) if graded else []
    threads = max(1, (os.cpu_count() or 1) // jobs)
    bar = None
    if progress and todo:
        from .progress import Progress  # rich: not for commands that show no progress

        bar = Progress(len(todo))
    lock = threading.Lock()

    def record(sub: Submission, entry: dict | None, problem: str | None) -> dict:
        if problem:
            print(f"warning: {sub.name}: {problem}", file=sys.stderr)
        if entry is None or sub.problem:  # every test scores 0 with the reason
            reason = sub.problem or problem or "not graded"
            entry = results.submission_entry(
                sub.name, sub.origin, inventory, {}, to_grade(sub), reason
            )
        elif store is not None:
            for step, step_entry in entry["steps"].items():
                store.put(keys[sub.origin][step], step, step_entry)
        if store is not None:
            entry = _merged(entry, hits.get(sub.origin, {}), steps)
        entry["path"] = sub.origin
        if sub.notes:  # what discovery chose or skipped, for the instructor
            entry["notes"] = list(sub.notes)
        if sub.student_id:
            entry["student_id"] = sub.student_id
        with lock:
            done[sub.origin] = entry
            if out is not None:
                ordered = [done[s.origin] for s in submissions if s.origin in done]
                write_atomically(out, json.dumps(runner.document(ordered), indent=2))
        if bar:
            bar.finished(entry)
        return entry

    arguments: dict[str, Any] = {
        "inventory": inventory,
        "threads": threads,
        "sandbox": sandbox,
        "timeout_cap": timeout_cap,
        "artifacts": artifacts,  # what hidden tests keep for --html
    }
    for sub in todo:
        if sub not in graded:  # every step came from the cache
            record(sub, results.submission_entry(sub.name, sub.origin, [], {}, [], ""), None)
    if executor == "dask":
        from .dask_executor import grade_on_cluster

        for sub in todo:  # what cannot be read is not sent
            if sub.problem:
                record(sub, None, None)
        work = [(sub, sub.path, sub.name, to_grade(sub)) for sub in graded if not sub.problem]
        try:
            if work:
                grade_on_cluster(work, arguments, scheduler, jobs, record)
        finally:
            if bar:
                bar.close()
        return [done[s.origin] for s in submissions if s.origin in done]

    def one(sub: Submission) -> dict:
        if sub.problem:
            return record(sub, None, None)
        try:
            where = bar.started(sub.name) if bar else None
            entry = runner.grade_one(
                sub.path, name=sub.name, progress=where, steps=to_grade(sub), **arguments
            )
        except Exception as exc:  # noqa: BLE001 - the grader's failure: this one only
            problem = f"the grader could not grade this submission ({type(exc).__name__}: {exc})"
            return record(sub, None, problem)
        return record(sub, entry, None)

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        for future in as_completed([pool.submit(one, s) for s in graded]):
            future.result()
    except BaseException:
        # Ctrl-C or SIGTERM: stop every child now (waiting for them could take an hour),
        # then let the threads finish, so that every scratch folder is removed.
        pool.shutdown(wait=False, cancel_futures=True)
        runner.stop_all()
        pool.shutdown(wait=True)
        raise
    finally:
        if bar:
            bar.close()
    pool.shutdown()
    return [done[s.origin] for s in submissions if s.origin in done]


def _merged(entry: dict, cached: dict[str, dict], steps: list[str]) -> dict:
    """``entry`` (the steps graded now) with the ``cached`` steps' results, in step order;
    each step says where its result came from."""
    fresh = {step: {**e, "cached": False} for step, e in entry["steps"].items()}
    every = {**fresh, **cached}
    by_step = {step: every[step] for step in steps if step in every}
    return {
        **entry,
        "score": sum(e["score"] for e in by_step.values()),
        "max_score": sum(e["max_score"] for e in by_step.values()),
        "steps": by_step,
    }


def load_previous(out: Path | None) -> list[dict]:
    """The submissions already graded in an earlier, interrupted run (for ``--resume``)."""
    if out is None or not out.is_file():
        return []
    return json.loads(out.read_text()).get("submissions", [])


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="grader-batch-")
