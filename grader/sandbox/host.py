"""The grader's side of a sandbox: start it, ask its zygote for a worker per step, end it.

A :class:`Sandbox` starts the zygote (:mod:`.zygote`) under ``prlimit`` and, with
bubblewrap, inside the sandbox (:mod:`.bwrap`), in a cgroup of its own where one
can be made (:mod:`.limits`); it waits until the zygote has imported torch and
the data, then forks one :class:`StepWorker` at a time on request.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import torch

from ..layout import DATA_DIR, KIT_ROOT
from .bwrap import bwrap_args
from .limits import Cgroup, Limits, cgroup_base
from .scratch import mpl_cache, remove_tree

STARTUP_TIMEOUT_S = 180  # the zygote imports torch and reads MNIST before it is ready
_uids = itertools.count()
# The zygote's module, run by path inside the sandbox (only the kit's folder is there).
BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from grader.sandbox.zygote import main; main(sys.argv[2:])"
)


def _cuda_in_use() -> bool:
    """CUDA reserves more address space than any budget: RLIMIT_AS would break it."""
    return any(Path("/dev").glob("nvidia*")) and torch.cuda.is_available()


_said_once: set[str] = set()


def _say_once(text: str) -> None:
    if text not in _said_once:
        _said_once.add(text)
        print(f"grader: {text}", file=sys.stderr)


class Sandbox:
    """The sandbox of one submission: a zygote process that forks a worker per step.

    ``work`` (default: the folder holding ``staged``) is the grader's private folder
    for this submission; without bubblewrap the workers' scratch folder goes there.
    """

    def __init__(
        self,
        staged: Path,
        isolation: str,
        limits: Limits,
        threads: int,
        work: Path | None = None,
    ):
        work = Path(work) if work is not None else staged.parent
        self.proc: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.control_file: TextIO | None = None
        self.cgroup: Cgroup | None = None
        self.scratch: Path | None = None
        self._closed = False
        self._parent = os.getpid()  # the zygote's parent: only it can wait for the zygote
        mpl = mpl_cache(work)
        base = cgroup_base()
        budget = limits.memory_bytes
        if base is not None:
            self.cgroup, budget = Cgroup(base, limits), 0  # the cgroup caps them all
        elif _cuda_in_use():
            budget = 0
            _say_once(
                "CUDA without a usable cgroup v2: the sandbox's memory cap counts each "
                "process's private memory only (RLIMIT_DATA), not shared mappings"
            )
        control, child = socket.socketpair()
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp/mpl",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
        }
        prlimit = [
            "prlimit",
            f"--data={limits.memory_bytes}",
            f"--cpu={limits.cpu_seconds}",
            f"--nproc={limits.processes}",
            f"--fsize={limits.file_bytes}",
            # No POSIX message queue: one would outlive its worker, and, unlike System V
            # objects (grader/sandbox/zygote.py:_remove_ipc), they cannot be listed.
            "--msgqueue=0",
            "--",
        ]
        zygote_options = [f"budget={budget}"]
        if isolation == "bwrap":
            uid = 40000 + (os.getpid() * 64 + next(_uids)) % 20000  # its own, so nproc is its own
            env["MNIST_DATA_DIR"] = "/kit/data_cache"
            command = [
                *prlimit,
                *bwrap_args(staged, mpl, limits, uid, env),
                sys.executable,
                "-I",
                "-c",
                BOOT,
                "/kit",
                str(child.fileno()),
                "/submission/submission",
                str(threads),
                *zygote_options,
                "scratch=/tmp",  # the sandbox's private tmpfs
                "mpl=/kit/mplcache",
            ]
            popen_env = None
        else:
            # No private /tmp without bubblewrap: a private folder, emptied after each worker.
            self.scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=work))
            scratch = str(self.scratch)
            env.update(
                MNIST_DATA_DIR=str(DATA_DIR),
                MPLCONFIGDIR=f"{scratch}/mpl",
                HOME=scratch,
                TMPDIR=scratch,
            )
            command = [
                *prlimit,
                sys.executable,
                "-I",
                "-c",
                BOOT,
                str(KIT_ROOT),
                str(child.fileno()),
                str(staged / "submission"),
                str(threads),
                *zygote_options,
                f"scratch={scratch}",
                f"mpl={mpl}",
            ]
            popen_env = {**env, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if self.cgroup is not None:
            command = self.cgroup.enter(command)
        # Output printed through Python is captured per request (capped); what bypasses it
        # (os.write, C code) goes nowhere, so a flood can fill neither a disk nor a pipe.
        # Until the zygote is ready (no submission code has run), its stderr goes to a
        # file, to say why a sandbox could not start; then the zygote points it nowhere.
        # (An unnamed file: nothing is left behind, whatever happens to this process.)
        startup_log = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                command,
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=startup_log,
                env=popen_env,
                start_new_session=True,
            )
        except BaseException:
            startup_log.close()
            control.close()
            self.close()
            raise
        finally:
            child.close()
        self.control = control
        self.control_file = control.makefile("r")
        control.settimeout(STARTUP_TIMEOUT_S)
        timed_out = False
        try:
            ready = self.control_file.readline().strip()
        except TimeoutError:
            ready, timed_out = "", True
        except OSError:
            ready = ""
        except BaseException:
            startup_log.close()
            self.close()
            raise
        control.settimeout(None)
        if ready != "ready":
            self.close()
            startup_log.seek(0)
            said = startup_log.read()[-1500:].decode(errors="replace").strip()
            startup_log.close()
            code = self.proc.returncode  # -SIGKILL: ours, from close(), when it raced us
            how = (
                f"it was not ready within {STARTUP_TIMEOUT_S} s"
                if timed_out
                else "it ended at start"
                + (f" (exit code {code})" if code not in (None, -signal.SIGKILL) else "")
            )
            raise RuntimeError(
                f"the sandbox could not start: {how}" + (f": {said}" if said else "")
            )
        startup_log.close()
        if self.cgroup is not None:
            self.cgroup.ready()

    def alive(self) -> bool:
        if self._closed or self.proc is None:
            return False
        if os.getpid() == self._parent:
            return self.proc.poll() is None
        return _running(self.proc.pid)  # a fork of its parent (a grading server's job)

    def _ask(self, line: str, fds: tuple[int, ...] = ()) -> str:
        # Both set by __init__, which raises rather than return a sandbox without them.
        assert self.control is not None and self.control_file is not None
        try:
            socket.send_fds(self.control, [line.encode()], list(fds))
            answer = self.control_file.readline()
        except BaseException:
            # Interrupted halfway (a test's timeout): question and answer are out of step
            # now, so this sandbox is done; the next request starts a fresh one.
            self.close()
            raise
        if not answer:
            raise EOFError("the sandbox's zygote ended")
        return answer.strip()

    def fork(self) -> StepWorker:
        mine, theirs = socket.socketpair()
        try:
            pid = int(self._ask("fork", (theirs.fileno(),)))
        finally:
            theirs.close()
        return StepWorker(self, pid, mine)

    def end(self, worker: StepWorker, kill: bool) -> str:
        """Stop a worker (at once with ``kill``); how it ended, as the zygote saw it.

        The zygote answers once every process the worker left is gone and its scratch
        folder is empty again."""
        worker.sock.close()
        try:
            said = self._ask(f"{'kill' if kill else 'reap'} {worker.pid}")
        except (OSError, EOFError, ValueError):
            self.close()
            said = "its sandbox ended"
        if self.cgroup is not None and self.cgroup.new_oom_kill():
            said += f" (the sandbox's memory cap of {self.cgroup.budget // 2**20} MiB was hit)"
        return said

    def close(self) -> None:
        """Kill the sandbox (its PID namespace ends, and every process in it) and remove
        what it made; idempotent, and safe from a signal handler."""
        self._closed = True
        if self.proc is not None:
            # Everything below the zygote first, parents before children, round after
            # round: without bubblewrap the zygote is their subreaper, so what a killed
            # process leaves (a setsid'd daemon too) is its child by the next round.
            # With bubblewrap the first kill of the namespace's PID 1 ends them all.
            for _ in range(100):
                tree = _descendants(self.proc.pid)
                if not tree:
                    break
                for pid in tree:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.cgroup is not None:
            self.cgroup.close()  # also what left the process group (setsid), in any mode
        if self.control_file is not None:
            self.control_file.close()
        if self.control is not None:
            self.control.close()
        if self.scratch is not None:
            remove_tree(self.scratch)


def _running(pid: int) -> bool:
    """Whether a process that is not our child exists and has not ended (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _children(pid: int) -> list[int]:
    """The direct children of a process (of all its threads; Linux), or none where
    /proc cannot tell."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for task in tasks:
        with contextlib.suppress(OSError):
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, parents before their children."""
    found, queue = [], _children(pid)
    while queue:
        child = queue.pop(0)
        found.append(child)
        queue += _children(child)
    return found


@dataclass
class StepWorker:
    sandbox: Sandbox
    pid: int
    sock: socket.socket
    ended: str | None = None  # how it ended, once it has

    def end(self, kill: bool) -> str:
        if self.ended is None:
            self.ended = self.sandbox.end(self, kill)
        return self.ended
