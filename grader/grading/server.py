"""Long-lived grading processes: a pytest that grades submission after submission.

Starting a grading pytest costs seconds (the interpreter, torch, collecting the
hidden suites, the sandbox's zygote importing torch and MNIST); the tests of one
submission take a few seconds more. So a :class:`GradingServer` is started once
per job slot and kept: it grades each submission it is sent in a fork of itself
(grader/plugin/serve.py), with fresh test state, and stays for the next one.

Servers are pooled per process, by what they were started with (sandbox mode,
torch threads, timeout cap), so every caller gets them without asking: the
batch's threads, the kit's tests, a Dask worker grading task after task. They
go when the process ends, or at once with :func:`stop_all`.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..layout import DATA_DIR, HIDDEN_DIR, KIT_ROOT, PYPROJECT
from ..sandbox.scratch import remove_tree

# A server's start (torch, collection, the sandbox) beyond which it is taken for lost.
START_TIMEOUT_S = 300.0
# How long past a job's deadline the server may take to say how its fork ended: a sandbox
# started again after the previous job (up to its own start-up limit, 180 s in
# grader/sandbox/host.py) comes before the fork.
ANSWER_GRACE_S = 30.0 + 180.0
POLL_S = 1.0  # how often a job's progress is looked at
OUTPUT_TAIL = 2000  # characters of a failed server's output quoted in an error


def pytest_options() -> list[str]:
    """The options of every pytest that grades: the kit's configuration and plugin only
    (no conftest discovery, so nothing of a submission is imported as configuration;
    no cache folder), plain asserts, quiet classic output."""
    return [
        f"--rootdir={KIT_ROOT}",
        f"--config-file={PYPROJECT}",
        "--noconftest",
        "-p",
        "grader.plugin",
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        "-q",
        "--no-header",
        "-o",
        "console_output_style=classic",
    ]


def pytest_command(extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        str(HIDDEN_DIR),
        *pytest_options(),
        "--show-capture=no",
        "--tb=no",
        *extra,
    ]


def child_env(threads: int, scratch: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": str(threads),
            "MNIST_DATA_DIR": str(DATA_DIR),
            # Everything the child makes with tempfile lands in our scratch folder,
            # which goes with the run, also when the child is killed.
            "TMPDIR": scratch,
        }
    )
    # No pytest options or plugins from the instructor's environment in a grading run.
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(name, None)
    return env


class ServerLost(Exception):
    """The grading process itself failed (not a test): its job is worth grading again."""


class GradingServer:
    """One grading pytest, kept for job after job (see the module's docstring)."""

    def __init__(self, key: tuple[str, int, float | None]):
        sandbox, threads, timeout_cap = self.key = key
        self._tmp = Path(tempfile.mkdtemp(prefix="grader-server-"))
        self.log = self._tmp / "output.log"
        mine, theirs = socket.socketpair()
        options = [
            f"--grader-serve={theirs.fileno()}",
            f"--sandbox={sandbox}",
            f"--grader-threads={threads}",
        ]
        if timeout_cap:
            options.append(f"--grader-timeout-cap={timeout_cap}")
        try:
            with open(self.log, "wb") as out:
                self.proc = subprocess.Popen(
                    pytest_command(options),
                    cwd=self._tmp,
                    env=child_env(threads, str(self._tmp)),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    pass_fds=(theirs.fileno(),),
                    start_new_session=True,
                )
        except BaseException:
            mine.close()
            remove_tree(self._tmp)
            raise
        finally:
            theirs.close()
        self._sock = mine
        self._answers = mine.makefile("rb")
        self._ready = False

    def grade(self, job: dict[str, Any], poll: Callable[[], None] | None = None) -> str:
        """Send one job; how its fork ended (``exit code 0`` when it ran every test).
        ``poll`` is called about once a second while the job runs (progress).

        Raises :class:`ServerLost` when the server ends or does not answer in time."""
        self.wait_until_ready()
        try:
            self._sock.sendall(json.dumps(job).encode() + b"\n")
        except OSError as exc:
            raise ServerLost(self._lost(f"could not be sent the job ({exc.strerror})")) from None
        end = time.monotonic() + float(job["deadline_s"]) + ANSWER_GRACE_S
        while poll is not None and time.monotonic() < end:
            if select.select([self._sock], [], [], POLL_S)[0]:
                poll()  # the last word: where the job ended
                break  # the answer (or the end) is there
            poll()
        return str(self._read(max(end - time.monotonic(), 1.0), "job")["ended"])

    def wait_until_ready(self) -> None:
        """Until the server has collected the tests and started its sandbox."""
        if not self._ready:
            self._read(START_TIMEOUT_S, "start")
            self._ready = True

    def _read(self, timeout_s: float, what: str) -> dict[str, Any]:
        self._sock.settimeout(timeout_s)
        try:
            line = self._answers.readline()
        except TimeoutError:
            raise ServerLost(self._lost(f"did not answer within {timeout_s:.0f} s")) from None
        except OSError as exc:
            raise ServerLost(self._lost(f"could not be read ({exc.strerror})")) from None
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or ("ended" not in answer and what == "job"):
            # EOF, or a line that is not ours (the server writes its output elsewhere).
            raise ServerLost(self._lost(f"ended during its {what}"))
        return answer

    def _lost(self, how: str) -> str:
        self.close()
        code = self.proc.returncode
        said = ""
        if self.log.is_file():
            lines = self.log.read_bytes()[-OUTPUT_TAIL:].decode(errors="replace").splitlines()
            said = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")[:300]
        return (
            f"the grading process {how}"
            + (f" (exit code {code})" if code not in (None, -9) else "")
            + (f": {said}" if said else "")
        )

    def close(self, wait_s: float = 0.0) -> None:
        """End the server (after ``wait_s`` for it to finish by itself) and all it started."""
        self._sock.close()
        self._answers.close()
        if wait_s:
            try:
                self.proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, 9)  # whatever it left running in its session goes too
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        remove_tree(self._tmp)


# The pool: idle servers by key, every server alive, and whether the pool is stopping.
_idle: dict[tuple, list[GradingServer]] = {}
_every: set[GradingServer] = set()
_lock = threading.Lock()
_stopping = threading.Event()
MAX_IDLE = max(2, os.cpu_count() or 1)


class Stopped(BaseException):
    """The pool was stopped from outside (Ctrl-C, SIGTERM): no verdict to record."""


def take(key: tuple[str, int, float | None]) -> GradingServer:
    """An idle server started with ``key``, or a new one."""
    with _lock:
        if _stopping.is_set():
            raise Stopped("grading was stopped")
        while _idle.get(key):
            idle = _idle[key].pop()
            if idle.proc.poll() is None:
                return idle
            _every.discard(idle)  # ended while idle (killed from outside): not a job lost
            idle.close()
    server = GradingServer(key)
    with _lock:
        _every.add(server)
        if _stopping.is_set():
            os.killpg(server.proc.pid, 9)
    return server


def give_back(server: GradingServer) -> None:
    """Keep ``server`` for the next job; the oldest idle one goes past :data:`MAX_IDLE`."""
    with _lock:
        _idle.setdefault(server.key, []).append(server)
        idle = [s for servers in _idle.values() for s in servers]
        extra = idle[: max(0, len(idle) - MAX_IDLE)]
        for s in extra:
            _idle[s.key].remove(s)
            _every.discard(s)
    for s in extra:
        s.close(wait_s=5)


def discard(server: GradingServer) -> None:
    with _lock:
        _every.discard(server)
    server.close()


def stopping() -> bool:
    return _stopping.is_set()


def stop_all() -> None:
    """Kill every server now (and all each started in its session); no new one starts."""
    _stopping.set()
    with _lock:
        servers = list(_every)
    for server in servers:
        try:
            os.killpg(server.proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass


def close_idle() -> None:
    """End the idle servers, letting each finish its session (its sandbox goes with it)."""
    with _lock:
        servers = [s for group in _idle.values() for s in group]
        _idle.clear()
        _every.difference_update(servers)
    for server in servers:
        server.close(wait_s=10)


atexit.register(close_idle)
