"""``--executor dask``: grade submissions on a Dask distributed cluster.

Each submission is one Dask task, :func:`grade_files`, run by a worker of the
cluster: it writes the submission's step files into a folder of its own and grades
them with :func:`grader.grading.runner.grade_one`, exactly as local grading does (a
grading child, the sandbox, the same tests, seeds and timeouts). What travels is
data only: the step files' bytes (read and size-checked on the grader's side,
never a path the worker would have to share) and the hidden tests' inventory.

Without ``--scheduler`` a ``LocalCluster`` on loopback with ``--jobs`` worker
processes of one thread each grades the class, so ``--jobs`` means the same with
or without Dask. A worker lost mid-grading loses nothing: the scheduler runs the
task again on another worker (Dask's ``allowed-failures``), and the submission
scores 0 with the reason only when that keeps failing.

Every worker needs the kit installed (same version, with the hidden tests and
``data_cache/``) and, for ``--sandbox require``, bubblewrap: see the README's
deployment notes (Slurm with dask-jobqueue, Kubernetes with dask-kubernetes).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dask.config
from distributed import Client, LocalCluster, WorkerPlugin, as_completed

from ..steps import STEPS
from ..submission.files import step_files
from . import runner


def grade_files(
    files: dict[str, bytes],
    name: str,
    steps: list[str],
    inventory: list[dict],
    threads: int,
    sandbox: str,
    timeout_cap: float | None,
    artifacts: bool = False,
) -> dict:
    """The Dask task: grade one submission, given as its step files, on this worker."""
    allowed = {f"{s}.py" for s in STEPS}
    with tempfile.TemporaryDirectory(prefix="grader-dask-") as tmp:
        folder = Path(tmp) / "submission"  # never the submission's own name: it is data
        folder.mkdir()
        for file_name, content in files.items():
            if file_name in allowed:
                (folder / file_name).write_bytes(content)
        return runner.grade_one(
            folder,
            steps,
            inventory,
            threads,
            sandbox=sandbox,
            name=name,
            timeout_cap=timeout_cap,
            artifacts=artifacts,
        )


class StopGradingsOnClose(WorkerPlugin):
    """A Dask worker plugin: a worker that closes (the cluster shuts down, Ctrl-C on the
    grader) stops the grading processes it started, as local grading does on Ctrl-C.

    Dask also tears a plugin down when the next grading run registers it again: the
    worker lives on then, and so must its grading processes (stopping them would refuse
    every later task on it)."""

    name = "grader-stop-gradings"

    def teardown(self, worker: Any) -> None:
        status = getattr(getattr(worker, "status", None), "name", None)
        if status not in ("running", "paused"):
            runner.stop_all()


@contextmanager
def client(scheduler: str | None, jobs: int) -> Iterator[Any]:
    """A Dask client of ``scheduler``, or of a LocalCluster of ``jobs`` workers on loopback."""
    if scheduler:
        with Client(scheduler, timeout="30s") as connected:
            yield connected
        return
    with (
        tempfile.TemporaryDirectory(prefix="grader-dask-cluster-") as scratch,
        dask.config.set({"temporary-directory": scratch}),  # not /tmp/dask-scratch-space
        LocalCluster(
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=0,  # the sandbox limits memory per test; Dask must not kill workers
            local_directory=scratch,
        ) as cluster,
        Client(cluster) as connected,
    ):
        yield connected


def grade_on_cluster(
    work: list[tuple[Any, Path, str, list[str]]],
    arguments: dict[str, Any],
    scheduler: str | None,
    jobs: int,
    finished: Callable[[Any, dict | None, str | None], object],
) -> None:
    """Grade ``work`` (``(key, directory, name, steps)`` each) on the cluster; call
    ``finished(key, entry, problem)`` as each submission comes back, in the order they finish."""
    with client(scheduler, jobs) as cluster:
        cluster.register_plugin(StopGradingsOnClose())
        futures = {
            cluster.submit(
                grade_files, step_files(path), name, steps=steps, **arguments, pure=False
            ): key
            for key, path, name, steps in work
        }
        try:
            for future in as_completed(futures):
                key = futures[future]
                try:
                    finished(key, future.result(), None)
                except Exception as exc:  # noqa: BLE001 - this submission's loss only
                    what = f"{type(exc).__name__}: {exc}"
                    problem = f"the grader could not grade this submission on the cluster ({what})"
                    finished(key, None, problem)
        except BaseException:
            cluster.cancel(list(futures), force=True)  # Ctrl-C: stop the cluster's work too
            raise
