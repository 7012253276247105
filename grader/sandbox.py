"""The sandboxed ``submission``: the submission's code runs in a worker process.

The hidden tests keep running in the grader's process and see the same
interface as :class:`grader.submission.DirectSubmission`; every call crosses to
the worker (:mod:`grader.worker`) as data and comes back as plain data
(:mod:`grader.wire`). Objects that are not data stay in the worker behind a
:class:`RemoteObject` handle. Tensors and modules the test passes in are copied
back after the call, so in-place changes (an optimizer step, ``kaiming_init_``)
reach the test as they would in one process.

Isolation, strongest first:

- ``bwrap``: bubblewrap gives the worker no network, a private /tmp, a
  read-only view of only the Python install, the worker code, the data and the
  staged submission (no ``solutions/``, no ``tests/``, no output paths), its own
  PID namespace (it cannot see or signal the grader; everything it started dies
  with it), and it runs as an unprivileged user id. The zygote is that
  namespace's PID 1, which the kernel shields from signals sent inside it: a
  worker that signals every process it can see ends only itself.
- ``process``: a plain child process (used where bubblewrap is missing or
  cannot run); the grader says so once.

Both set resource limits with ``prlimit``: data segment, CPU time, processes,
file size. Memory is capped over all of a sandbox's processes by a cgroup v2
(``memory.max``, ``pids.max``) where the grader can create one; elsewhere each
worker's address space is capped (RLIMIT_AS, which counts shared mappings too)
at the zygote's own size plus the budget. Workers run one at a time; when one
ends, the zygote kills every process it left and empties its /tmp. A worker that
crashes, exits, is killed or runs past the test's timeout fails that test only;
the next request starts a fresh worker.
"""

from __future__ import annotations

import builtins
import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import torch

from . import checks, wire
from . import submission as direct
from .steps import STEPS
from .submission import SandboxUnavailable, SubmissionError, read_source, stage

KIT_ROOT = Path(__file__).resolve().parent.parent
GRADER_DIR = KIT_ROOT / "grader"
DATA_DIR = KIT_ROOT / "data_cache"
STARTUP_TIMEOUT_S = 180
_uids = itertools.count()


@dataclass(frozen=True)
class Limits:
    # The memory budget. Each process's private data (RLIMIT_DATA), start-up included
    # (the zygote holds 1.2 GiB of data once torch and MNIST are loaded), and on top of
    # what the kit itself took at start-up, either a cgroup's memory.max over all the
    # sandbox's processes or each worker's address space (RLIMIT_AS: the zygote's 3.8
    # GiB, mostly torch's libraries, with torch 2.14 cu130 on the CPU, plus this; see
    # grader/worker.py:_cap_address_space). Both count shared anonymous memory.
    memory_bytes: int = 4 * 2**30
    cpu_seconds: int = 1800
    processes: int = 256  # threads count too: torch starts a few per core
    file_bytes: int = 64 * 2**20
    tmp_bytes: int = 256 * 2**20


@cache
def bwrap_problem() -> str | None:
    """None when bubblewrap can run a sandbox here, else why not."""
    if sys.platform != "linux":
        return "bubblewrap needs Linux"
    for tool in ("bwrap", "prlimit", "setpriv"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install bubblewrap util-linux)"
    # The very command a worker gets (binds, namespaces, user switch).
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as tmp:
        empty = Path(tmp)
        os.chmod(empty, 0o755)
        # The grader's own interpreter, as the worker starts it: it must be visible inside.
        command = bwrap_args(empty, empty, Limits(), 40000, {}) + [
            sys.executable,
            "-I",
            "-c",
            "import encodings",
        ]
        probe = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if probe.returncode != 0:
        return f"bwrap cannot create a sandbox here: {probe.stderr.strip()[:200]}"
    return None


def choose_isolation(requested: str) -> str:
    """``require``/``auto``/``bwrap``/``process`` -> the isolation to use (or raise)."""
    if requested == "process":
        return "process"
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    if requested in ("require", "bwrap"):
        raise RuntimeError(f"--sandbox=require, but {problem}")
    return "process"


def _python_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, str(Path(os.path.realpath(sys.executable)).parent.parent)}
    return sorted(r for r in roots if not r.startswith(("/usr/", "/bin", "/lib")))


def _dirs_for(path: str) -> list[str]:
    """bwrap arguments creating every missing parent of ``path`` world-readable."""
    args, parts = [], Path(path).parts
    for i in range(2, len(parts)):
        args += ["--perms", "0755", "--dir", str(Path(*parts[:i]))]
    return args


def bwrap_args(staged: Path, mpl_cache: Path, limits: Limits, uid: int, env: dict) -> list[str]:
    args = ["bwrap"]
    for system_dir in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc"):
        if os.path.exists(system_dir):
            args += ["--ro-bind", system_dir, system_dir]
    # The private /tmp first: a kit or a virtual environment that lives under /tmp is
    # bound on top of it below (mounted the other way round, the tmpfs would hide it).
    args += [
        "--perms",
        "1777",
        "--size",
        str(limits.tmp_bytes),
        "--tmpfs",
        "/tmp",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    for root in _python_roots():
        args += [*_dirs_for(root), "--ro-bind", root, root]
    args += [
        "--perms",
        "0755",
        "--dir",
        "/kit",
        "--ro-bind",
        str(GRADER_DIR),
        "/kit/grader",
        "--ro-bind",
        str(DATA_DIR),
        "/kit/data_cache",
        "--ro-bind",
        str(mpl_cache),
        "/kit/mplcache",
        "--ro-bind",
        str(staged),
        "/submission",
    ]
    for device in sorted(Path("/dev").glob("nvidia*")):  # CUDA, where the grader has it
        args += ["--dev-bind", str(device), str(device)]
    if Path("/sys").exists():
        args += ["--ro-bind", "/sys", "/sys"]
    # Only /tmp is writable (and emptied after each worker). Without root, bubblewrap
    # makes / and /dev as the grader's user, writable to the worker: read-only here.
    args += ["--remount-ro", "/", "--remount-ro", "/dev"]
    args += [
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--as-pid-1",  # the zygote is PID 1: workers cannot kill it (see grader/worker.py)
        "--die-with-parent",
        "--new-session",
        "--chdir",
        "/tmp",
        "--clearenv",
    ]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if os.geteuid() != 0:
        # Not root: bubblewrap runs unprivileged in a user namespace of its own and drops
        # every capability itself; there is no other user id to switch to.
        return [*args, "--unshare-user", "--disable-userns", "--"]
    args += [
        "--",
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    ]
    return args


BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from grader.worker import main; main(sys.argv[2:])"
)


def _mpl_cache(fallback: Path) -> Path:
    """A matplotlib config dir with its font cache built once (seconds), copied into
    each worker's scratch folder by the zygote.

    Kept in the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``), one per
    matplotlib version, never in /tmp; where that cannot be written, built under
    ``fallback`` (the submission's own temporary folder, removed with it).
    """
    from importlib.metadata import version

    name = f"mplcache-{version('matplotlib')}"
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for parent in (Path(home) / "mnist-exercise-kit", fallback):
        cache = parent / name
        if (cache / ".ready").exists():
            return cache
        try:
            parent.mkdir(parents=True, exist_ok=True)
            building = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=parent))
        except OSError:
            continue
        try:
            subprocess.run(
                [sys.executable, "-c", "import matplotlib.font_manager"],
                env={**os.environ, "MPLCONFIGDIR": str(building)},
                capture_output=True,
            )
            (building / ".ready").write_text("")
            for p in [building, *building.rglob("*")]:
                os.chmod(p, 0o755 if p.is_dir() else 0o644)  # readable by the worker's user
            try:
                os.rename(building, cache)  # atomic: a parallel grader sees all or nothing
            except OSError:
                pass  # another grader finished first: use its copy
        finally:
            shutil.rmtree(building, ignore_errors=True)
        if (cache / ".ready").exists():
            return cache
    raise RuntimeError(f"matplotlib's cache could not be built under {fallback}")


def remove_tree(path: Path) -> None:
    """Remove a folder whatever its content: modes a worker set (000), any depth."""
    if not os.path.lexists(path):
        return

    def unlock(function, failed, _exc_info):
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(failed), 0o700)
            os.chmod(failed, 0o700)

    try:
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=unlock)
        else:
            shutil.rmtree(path, onerror=unlock)
        if os.path.lexists(path):
            shutil.rmtree(path, ignore_errors=True)  # a second pass, now unlocked
    except (OSError, RecursionError):
        pass
    if os.path.lexists(path):  # too deep for Python: the system's tools walk any depth
        subprocess.run(["chmod", "-R", "u+rwx", str(path)], capture_output=True)
        subprocess.run(["rm", "-rf", "--", str(path)], capture_output=True)


@cache
def cgroup_base() -> Path | None:
    """A cgroup v2 folder in which each sandbox can get a cgroup of its own with the
    memory and pids controllers, or None (then RLIMIT_AS caps each worker).

    Usable when the grader's own cgroup (on a cgroup2 mount) offers both controllers
    to children it may create: as root in a cgroup with no processes of its own (the
    root cgroup, a dedicated slice) or in a delegated subtree. Not on cgroup v1 or
    hybrid hosts where the memory controller is on v1.
    """
    if sys.platform != "linux":
        return None
    try:
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
        own = next(
            line[3:]
            for line in Path("/proc/self/cgroup").read_text().splitlines()
            if line.startswith("0::")
        )
    except (OSError, StopIteration):
        return None
    for line in mounts:
        fields = line.split()
        if " - cgroup2 " not in line or len(fields) < 5:
            continue
        root = fields[3]  # the part of the hierarchy this mount shows (not "/" in some containers)
        if root != "/" and not (own + "/").startswith(root.rstrip("/") + "/"):
            continue
        base = Path(fields[4]) / own[len(root.rstrip("/")) :].lstrip("/")
        try:
            if not {"memory", "pids"} <= set((base / "cgroup.controllers").read_text().split()):
                continue
            enabled = set((base / "cgroup.subtree_control").read_text().split())
            if not {"memory", "pids"} <= enabled:
                (base / "cgroup.subtree_control").write_text("+memory +pids")
            probe = base / f"grader-probe-{os.getpid()}"
            probe.mkdir()
            try:
                usable = {"memory", "pids"} <= set(
                    (probe / "cgroup.controllers").read_text().split()
                )
                usable = usable and os.access(probe / "memory.max", os.W_OK)
            finally:
                probe.rmdir()
        except OSError:
            continue
        if usable:
            return base
    return None


class Cgroup:
    """A sandbox's own cgroup v2: a memory cap and a process cap over all its processes."""

    def __init__(self, base: Path, limits: Limits):
        self.path = base / f"grader-sandbox-{os.getpid()}-{next(_uids)}"
        self.path.mkdir()
        self.budget = limits.memory_bytes
        # Start-up (torch, the data) gets the budget plus room for the kit's own 1 GiB.
        self._write("memory.max", str(limits.memory_bytes + 2 * 2**30))
        self._write("memory.swap.max", "0")
        self._write("pids.max", str(limits.processes))
        self.kills_seen = self.oom_kills()

    def _write(self, name: str, value: str) -> None:
        with contextlib.suppress(OSError):
            (self.path / name).write_text(value)

    def enter(self, command: list[str]) -> list[str]:
        """``command``, started inside this cgroup (before it runs anything)."""
        return ["sh", "-c", 'echo 0 > "$0/cgroup.procs" && exec "$@"', str(self.path), *command]

    def ready(self) -> None:
        """The sandbox is ready: from now on the submission gets the budget on top."""
        try:
            current = int((self.path / "memory.current").read_text())
        except (OSError, ValueError):
            return
        self._write("memory.max", str(current + self.budget))

    def oom_kills(self) -> int:
        try:
            for line in (self.path / "memory.events").read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def new_oom_kill(self) -> bool:
        seen, self.kills_seen = self.kills_seen, self.oom_kills()
        return self.kills_seen > seen

    def close(self) -> None:
        """Kill every process in it and remove it; idempotent."""
        import time

        if not self.path.exists():
            return
        self._write("cgroup.kill", "1")  # Linux 5.14+; else one by one, below
        for _ in range(200):
            try:
                pids = (self.path / "cgroup.procs").read_text().split()
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(int(pid), signal.SIGKILL)
            time.sleep(0.01)
        with contextlib.suppress(OSError):
            self.path.rmdir()


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
        self.proc: subprocess.Popen | None = None
        self.control = self.control_file = None
        self.cgroup: Cgroup | None = None
        self.scratch: Path | None = None
        self._closed = False
        mpl = _mpl_cache(work)
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
        return not self._closed and self.proc is not None and self.proc.poll() is None

    def _ask(self, line: str, fds: tuple = ()) -> str:
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


def _builtin_exception(name: str):
    """The built-in exception class of that name (never a BaseException-only one such as
    SystemExit or KeyboardInterrupt: raised in the grader, those would stop the run)."""
    exc = getattr(builtins, name, None)
    return exc if isinstance(exc, type) and issubclass(exc, Exception) else None


class RemoteError(Exception):
    """An exception raised by submission code in the worker (type, message, place).

    Its text is the message as the worker read it (``str(exc)`` there), never re-read
    through a built-in class's own ``__str__`` (a KeyError would quote it again)."""

    def __init__(self, message: str = ""):
        Exception.__init__(self, message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@lru_cache(maxsize=256)
def _remote_type(builtin: type, name: str | None = None) -> type:
    """``ValueError`` raised in the worker arrives as one class that is both a ValueError
    and a RemoteError: always the same class, as in one process (hypothesis tells
    failures apart by their type; a new class per call looked like endless new bugs).
    A student's class derived from a built-in arrives under its own name, derived
    from that built-in (``except ValueError`` catches it, as in one process)."""
    return type(
        name or builtin.__name__,
        (RemoteError,) if builtin is Exception else (builtin, RemoteError),
        {"__init__": RemoteError.__init__, "__str__": RemoteError.__str__},
    )


def _remote_exception(info: dict) -> Exception:
    """The grader's exception for one the worker described (checked by grader/wire.py)."""
    name, message = info["type"], info["message"]
    text = message + (f" (at {info['where']})" if info["where"] else "")
    base = _builtin_exception(info["base"])
    if base is not None and name.isidentifier():
        try:
            exc = _remote_type(base, None if info["builtin"] else name)(text)
            str(exc), repr(exc)  # built, and printable
            return exc
        except Exception:  # noqa: BLE001 - a class that cannot be built this way
            pass
    return RemoteError(f"{name}: {text}")


class RemoteObject:
    """A handle on an object kept in a worker: call it, read attributes, call methods."""

    def __init__(
        self, owner: SandboxedSubmission, worker: StepWorker, id: int, kind: str, type: str
    ):
        self._owner, self._worker, self._id = owner, worker, id
        self._kind, self._type = kind, type

    def __call__(self, *args, **kwargs):
        return self._owner._call(
            ("handle", self._id, None), args, kwargs, f"{self._type}(...)", worker=self._worker
        )

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        what = f"{self._type}.{name}"
        return self._owner._request(("getattr", self._id, name), what, worker=self._worker)

    def __repr__(self) -> str:
        return f"<{self._type} in the submission's worker>"


class RemoteStep:
    def __init__(self, owner: SandboxedSubmission, step: str):
        self._owner, self._step = owner, step

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        owner, step = self._owner, self._step

        def call(*args, **kwargs):
            return owner._call(("step", step, name), args, kwargs, f"{step}.{name}", step=step)

        call.__name__ = name
        return call


class SandboxedSubmission:
    """A submission directory served by sandboxed workers (same interface as the direct one).

    One sandbox per submission; in it, one fresh worker process per step, so a
    step's import-time mischief or a crash never reaches another step. A worker
    that crashes or runs past a timeout is replaced by a fresh one.
    """

    def __init__(
        self, path: Path, isolation: str = "bwrap", limits: Limits = Limits(), threads: int = 1
    ):
        self.path = Path(path).resolve()
        self.name = self.path.name
        self.isolation, self.limits, self.threads = isolation, limits, threads
        self._tmp = Path(tempfile.mkdtemp(prefix="grader-sandbox-"))
        try:
            self._staged = self._tmp / "staged"
            self._dir = stage(self.path, self._staged)
            for p in [self._tmp, self._staged, *self._staged.rglob("*")]:
                os.chmod(p, 0o755 if p.is_dir() else 0o644)  # readable by the worker's user
        except BaseException:
            remove_tree(self._tmp)  # a refused submission leaves nothing behind either
            raise
        self._sandbox: Sandbox | None = None
        self._worker: StepWorker | None = None
        self._worker_step: str | None = None
        self._seeded_for: str | None = None
        self._imported: dict[str, SubmissionError | None] = {}
        self._ever_started = False
        self._cannot_start: str | None = None
        self._closed = False

    # -- the interface the hidden tests use ---------------------------------------------

    def has_step(self, step: str) -> bool:
        return (self._dir / f"{step}.py").is_file()

    def source(self, step: str) -> str:
        if not self.has_step(step):
            raise SubmissionError(self._missing(step))
        return read_source(self._dir / f"{step}.py")

    def __getattr__(self, step: str) -> RemoteStep:
        if step not in STEPS:
            raise AttributeError(step)
        if not self.has_step(step):
            raise SubmissionError(self._missing(step))
        if step not in self._imported:
            try:
                self._request(("import", step), f"the import of {step}.py", step=step)
                self._imported[step] = None
            except SandboxUnavailable:
                raise  # this test's loss only; the next one tries the import again
            except SubmissionError as exc:
                self._imported[step] = SubmissionError(f"{step}.py failed to import: {exc}")
            except RemoteError as exc:
                text = str(exc) if type(exc) is RemoteError else f"{type(exc).__name__}: {exc}"
                self._imported[step] = SubmissionError(f"{step}.py failed to import: {text}")
            except BaseException as exc:
                if not direct.is_timeout(exc):
                    raise
                # One timeout per step, not one per test: the import would hang again.
                self._imported[step] = direct.import_timed_out(step, exc)
        if self._imported[step] is not None:
            raise self._imported[step]
        return RemoteStep(self, step)

    def grad_of(self, step: str, name: str, args, kwargs=None, weight=None):
        """As :meth:`grader.submission.DirectSubmission.grad_of`: the gradient comes from the
        worker, where the submission can replace anything; it is checked here against the
        function's own outputs before a test sees it."""
        remote = getattr(self, step)
        output, grads = self._reply_pair(
            self._call(
                ("kit", "grad_of"),
                (("step", step, name), args, kwargs, weight),
                {},
                f"{step}.{name}",
                step=step,
            ),
            f"the gradient of {step}.{name}",
        )
        call = getattr(remote, name)
        checks.gradient_of_outputs(call, args, kwargs, weight, output, grads, f"{step}.{name}")
        return output, grads

    def torch_calls(self, step: str, name: str, args, kwargs=None):
        """``(output, records)``: the call, and the torch functions it reached, recorded in
        the worker (see :meth:`grader.submission.DirectSubmission.torch_calls`)."""
        getattr(self, step)
        return self._call(
            ("step", step, name), args, kwargs or {}, f"{step}.{name}", step=step, op="observe"
        )

    def module_grads(self, module, args, weight=None):
        grads = self._call(
            ("kit", "module_grads"),
            (module, args, weight),
            {},
            "a model's gradients",
            worker=_worker_of(module),
        )
        checks.parameter_gradients_of_outputs(module, args, weight, grads, "the model")
        return grads

    @staticmethod
    def _reply_pair(reply, what: str):
        if not isinstance(reply, tuple) or len(reply) != 2:
            raise SubmissionError(f"{what}: the worker's answer is malformed")
        return reply

    def warm(self) -> None:
        """Start the sandbox now, outside any test's time limit.

        A sandbox that cannot start here will not start for the next test either:
        the first failure is kept and every later request fails at once with it.
        """
        if self._cannot_start is not None:
            raise RuntimeError(self._cannot_start)
        if self._sandbox is None or not self._sandbox.alive():
            if self._sandbox is not None:
                self._sandbox.close()
            self._sandbox = None
            self._worker = None
            try:
                self._sandbox = Sandbox(
                    self._staged, self.isolation, self.limits, self.threads, work=self._tmp
                )
            except RuntimeError as exc:
                if not self._ever_started:
                    self._cannot_start = str(exc)
                raise
            self._ever_started = True
            if self._closed:  # closed (a signal handler) while this one was starting
                self._sandbox.close()
                self._sandbox = None
                raise RuntimeError("the submission was closed")

    def close(self) -> None:
        """End the sandbox and remove every file made for this submission; idempotent,
        and safe to call from a signal handler (the grader's SIGTERM/SIGINT)."""
        self._closed = True
        self._cannot_start = self._cannot_start or "the submission was closed"
        sandbox, self._sandbox, self._worker = self._sandbox, None, None
        if sandbox is not None:
            sandbox.close()  # the PID namespace ends: every process in it is gone
        remove_tree(self._tmp)

    # -- the wire --------------------------------------------------------------------------

    def _missing(self, step: str) -> str:
        return direct.missing(self.path, step)

    def _encode(self, value):
        """The test's arguments as they cross: handles as references, a one-shot iterator
        as a :class:`grader.wire.OneShot` (read here, once, as the call would); every
        other value as it is (containers only rebuilt where something inside changed)."""
        if isinstance(value, RemoteObject):
            return wire.HandleRef(value._id)
        if isinstance(value, torch.Tensor | torch.nn.Module):
            return value
        if isinstance(value, dict):
            pairs = [(k, self._encode(v)) for k, v in value.items()]
            if all(new is old for (_, new), old in zip(pairs, value.values(), strict=True)):
                return value
            return dict(pairs)
        if isinstance(value, list | tuple):
            items = [self._encode(v) for v in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            return tuple(items) if isinstance(value, tuple) else items
        if hasattr(value, "__next__"):  # e.g. model.parameters(): a generator
            return wire.OneShot([self._encode(v) for v in value])
        return value

    def _worker_for(self, step: str | None, worker: StepWorker | None) -> StepWorker:
        if worker is not None:
            if worker.ended is not None or worker is not self._worker:
                raise SubmissionError(
                    "this object belonged to a worker process that has ended "
                    f"({worker.ended or 'a newer step started'})"
                )
            return worker
        if step is None:
            step = self._worker_step
        self.warm()
        if self._worker is None or self._worker.ended is not None or step != self._worker_step:
            if self._worker is not None:
                self._worker.end(kill=True)
            self._worker = None
            try:
                fresh = self._sandbox.fork()
            except (EOFError, OSError, ValueError):
                # The zygote ended between two requests: one fresh sandbox, one more try.
                self._sandbox.close()
                self.warm()
                fresh = self._sandbox.fork()
            self._worker, self._worker_step, self._seeded_for = fresh, step, None
        return self._worker

    def _exchange(self, worker: StepWorker, message):
        wire.send(worker.sock, message)
        return wire.recv_reply(worker.sock, lambda *info: RemoteObject(self, worker, *info))

    def _request(
        self, message, what: str, step: str | None = None, worker: StepWorker | None = None
    ):
        from .pytest_plugin import SEED

        direct.refuse_after_timeout()
        try:
            worker = self._worker_for(step, worker)
        except (EOFError, OSError, ValueError, RuntimeError) as exc:
            raise SandboxUnavailable(
                f"the sandbox could not start a worker for {what}: {exc}"
            ) from None
        try:
            if self._seeded_for != direct.CURRENT_TEST:  # a new test: seed as the direct run does
                self._exchange(worker, ("seed", SEED))
                self._seeded_for = direct.CURRENT_TEST
            reply = self._exchange(worker, message)
        except (EOFError, ConnectionError, OSError) as exc:
            raise SubmissionError(
                f"the submission's process ended during {what}: {worker.end(kill=False)}"
            ) from exc
        except wire.WireError as exc:
            # The rest of its answer is unread: this worker is out of step for good.
            worker.end(kill=True)
            raise SubmissionError(f"the grader refused the answer of {what}: {exc}") from None
        except BaseException as exc:
            # A timeout (or any interruption) mid-request: the worker's state is unknown.
            direct.note_timeout(exc)
            worker.end(kill=True)
            raise
        return self._unpack(reply, what)

    def _unpack(self, reply, what: str):
        status, value, out, err = reply  # checked and capped by grader/wire.py
        if out:
            sys.stdout.write(out)
        if err:
            sys.stderr.write(err)
        if status == "error":
            if (
                value["type"] == "AttributeError"
                and value["builtin"]
                and "has no attribute" in value["message"]
                and not value["where"]
            ):
                raise SubmissionError(f"{what}: {value['message']}")
            raise _remote_exception(value)
        return value

    def _call(
        self,
        target,
        args,
        kwargs,
        what: str,
        step: str | None = None,
        worker: StepWorker | None = None,
        op: str = "call",
    ):
        args, kwargs = self._encode(tuple(args)), self._encode(dict(kwargs))
        objects = _syncable(args, kwargs)
        # Pickling drops .grad; the worker sets these on its copies before the call.
        grads = [_grads(o) for o in objects]
        result = self._request((op, target, args, kwargs, grads), what, step, worker)
        records = None
        if op == "observe":  # ((value, states), records): the records are checked by the grader
            if not isinstance(result, tuple) or len(result) != 2:
                raise SubmissionError(f"{what}: the worker's answer is malformed")
            result, records = result
        if not isinstance(result, tuple) or len(result) != 2:
            raise SubmissionError(f"{what}: the worker's answer is malformed")
        value, states = result
        _apply_states(objects, states)
        return value if op == "call" else (value, records)


def _worker_of(value) -> StepWorker | None:
    return value._worker if isinstance(value, RemoteObject) else None


def _syncable(args, kwargs) -> list:
    return wire.syncable(args, kwargs)


def _grads(obj):
    if isinstance(obj, torch.Tensor):
        return obj.grad
    return {name: p.grad for name, p in obj.named_parameters() if p.grad is not None}


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal values (NaN where NaN): copying them again would only bump ``a``'s version,
    which a graph that saved ``a`` would then refuse, unlike in a direct run."""
    if a.is_floating_point() or a.is_complex():
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return torch.equal(a, b)


def _put(target: torch.Tensor, new) -> None:
    """Make the test's tensor hold what the worker's copy ended with. Same shape, dtype and
    device: the values, in place. Otherwise the worker's copy changed those in place
    (``Module.to(device)``, ``.double()``, ``x.data = ...``): so does the test's."""
    if not isinstance(new, torch.Tensor):
        return
    if new.shape == target.shape and new.dtype == target.dtype and new.device == target.device:
        if not _same(target, new):
            target.copy_(new)
    else:
        target.data = new


def _put_grad(target: torch.Tensor, new) -> None:
    if new is None:
        if target.grad is not None:
            target.grad = None
        return
    if not isinstance(new, torch.Tensor) or new.shape != target.shape:
        return
    new = new.to(target.device, target.dtype)
    grad = target.grad
    if grad is not None and (grad.shape, grad.dtype, grad.device) == (
        new.shape,
        new.dtype,
        new.device,
    ):
        if not _same(grad, new):
            grad.copy_(new)  # in place, as p.grad.zero_() did: the test's own grad tensor
    else:
        target.grad = new


def _put_requires_grad(target: torch.Tensor, flag) -> None:
    if (
        type(flag) is bool
        and flag != target.requires_grad
        and target.is_leaf
        and (target.is_floating_point() or target.is_complex())
    ):
        target.requires_grad_(flag)


def _apply_states(objects: list, states) -> None:
    """Copy the worker's final state of each tensor and module argument into the test's own:
    values, gradients, ``requires_grad``, training flags, and the device and dtype where
    the worker's copy changed them in place. Anything malformed is left alone."""
    if not isinstance(states, list) or len(states) != len(objects):
        return
    with torch.no_grad():
        for obj, state in zip(objects, states, strict=True):
            if not isinstance(state, dict):
                continue
            if isinstance(obj, torch.Tensor):
                _put(obj, state.get("data"))
                _put_grad(obj, state.get("grad"))
                _put_requires_grad(obj, state.get("requires_grad"))
            elif isinstance(obj, torch.nn.Module) and isinstance(state.get("state"), dict):
                own = obj.state_dict(keep_vars=True)
                for name, value in state["state"].items():
                    if isinstance(own.get(name), torch.Tensor):
                        _put(own[name], value)
                training = state.get("training")
                if isinstance(training, list):
                    for module, flag in zip(obj.modules(), training, strict=False):
                        module.training = bool(flag)
                grads = state.get("grads")
                flags = state.get("requires_grad")
                for name, param in obj.named_parameters():
                    if isinstance(grads, dict):
                        _put_grad(param, grads.get(name))
                    if isinstance(flags, dict):
                        _put_requires_grad(param, flags.get(name))
