"""One sandbox for submission after submission: a grading server's (grader/plugin/serve.py).

A sandbox's zygote runs no submission code, and every worker it forks is ended,
with all it started and its scratch folder emptied, before the next one starts
(:mod:`grader.sandbox.zygote`). That is what keeps one step of a submission from
another; it keeps one submission from the next just as well. So a grading
server starts its sandbox once and, for each job, stages the submission's step
files into the same read-only package folder. The server owns the sandbox and
replaces it after a job that did not end cleanly (a fork stopped mid-request
leaves the zygote's conversation out of step).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..sandbox.host import Sandbox
from ..sandbox.limits import Limits
from ..sandbox.scratch import remove_tree
from .files import prepare_package, step_files


class SharedSandbox:
    def __init__(self, isolation: str, limits: Limits, threads: int):
        self.isolation, self.limits, self.threads = isolation, limits, threads
        self._tmp = Path(tempfile.mkdtemp(prefix="grader-sandbox-"))
        self.staged = self._tmp / "staged"
        self.package = prepare_package(self.staged)
        for p in [self._tmp, self.staged, *self.staged.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)  # readable by the worker's user
        self.sandbox: Sandbox | None = None
        self._start()

    def _start(self) -> None:
        try:
            self.sandbox = Sandbox(
                self.staged, self.isolation, self.limits, self.threads, work=self._tmp
            )
        except RuntimeError:
            # The job's own submission tries again and reports why, as each test's error.
            self.sandbox = None

    def restage(self, submission: Path) -> None:
        """Put the step files of ``submission`` in the package (the last job's go first)."""
        # Whatever else is there goes too: without bubblewrap (``process``) a worker can
        # write to this folder, so it is made again from the kit's files.
        remove_tree(self.package)
        prepare_package(self.staged)
        for name, content in step_files(submission).items():
            (self.package / name).write_bytes(content)
        for p in [self.package, *self.package.iterdir()]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)

    def after_job(self, clean: bool) -> None:
        """Ready for the next job: kept when the job ended cleanly, else started again."""
        if self.sandbox is not None and (not clean or not self.sandbox.alive()):
            self.sandbox.close()
            self.sandbox = None
        if self.sandbox is None:
            self._start()
        elif self.sandbox.cgroup is not None:
            self.sandbox.cgroup.new_oom_kill()  # what the job's workers hit is counted

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
        remove_tree(self._tmp)
