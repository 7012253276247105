"""The zygote: the first process of a sandbox, which forks a fresh worker per step.

Started by :mod:`grader.sandbox.host` with a connected control socket on the file
descriptor given as its argument. It imports torch and matplotlib once, runs no
submission code, and on request forks a worker (:mod:`grader.sandbox.worker`)
for a step; when a worker ends it reaps it, kills every process it left and
empties the scratch folder. Resource caps it sets before any fork hold for
every worker (they cannot be raised again from inside).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import socket
import sys
from pathlib import Path

from .worker import Worker, describe, import_package, serve


def _exit_description(status: int, peak_kib: int = 0) -> str:
    """How a worker ended, in words; ``peak_kib`` is its peak resident memory (rusage)."""
    import signal

    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hint = ""
        if name == "SIGXCPU":
            hint = " (the CPU time limit)"
        elif name in ("SIGKILL", "SIGSEGV", "SIGBUS", "SIGABRT"):
            # Under the memory cap an allocation fails; C code that does not check it
            # crashes, and a cgroup's cap kills with SIGKILL.
            own = max(peak_kib - _baseline_kib, 0) * 1024  # beyond what the zygote held
            if not _memory_budget:
                hint = " (the memory or CPU limit?)"
            elif own >= 0.8 * _memory_budget:
                hint = (
                    f" (probably the memory cap: it used {own // 2**20} MiB of its "
                    f"{_memory_budget // 2**20} MiB)"
                )
            else:
                hint = f" (it used {own // 2**20} MiB of its {_memory_budget // 2**20} MiB)"
        return f"it was killed by {name}{hint}"
    return f"it exited with code {os.WEXITSTATUS(status)}"


# Exit statuses and peak memory (KiB) of children reaped before anyone asked (see _collect).
_ended: dict[int, tuple[int, int]] = {}
# The memory a worker may use beyond the zygote's own (0: no cap set here), and what
# the zygote itself held resident (KiB) when the cap was set.
_memory_budget = 0
_baseline_kib = 0


def _collect() -> None:
    """Reap every child that has ended, workers and orphans alike.

    As PID 1 of the sandbox (or its subreaper, without bubblewrap) the zygote
    inherits whatever a worker left behind (daemons, double forks); unreaped,
    those would count against the process limit.
    """
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _ended[pid] = (status, usage.ru_maxrss)


def _reap(pid: int, killed: bool = False) -> str:
    """Wait briefly for a worker to end (kill it if it does not); how it ended.

    Then nothing the worker started survives it and its scratch folder is fresh
    again (:func:`_sweep`): the next step starts from the same clean state.
    """
    import signal
    import time

    try:
        # About a second in all; short naps first: a killed worker is gone in a millisecond.
        for nap in [0.001 * 2**i for i in range(6)] + [0.05] * 19:
            _collect()
            if pid in _ended:
                status, peak = _ended.pop(pid)
                if killed and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                    return "it was stopped by the grader"
                return _exit_description(status, peak)
            time.sleep(nap)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            _ended.pop(pid, None)
        return "it stopped answering and was stopped"
    finally:
        _sweep()
        _ended.clear()


def _others() -> list[int]:
    """Every process the zygote must end once a worker has: in the sandbox's PID
    namespace all but itself; without one, its descendants (it is their subreaper)."""
    me = os.getpid()
    if me == 1:
        return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != 1]
    found = []
    for task in os.listdir(f"/proc/{me}/task"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in Path(f"/proc/{me}/task/{task}/children").read_text().split()]
    return found


def _kill_the_rest(deadline_s: float = 10.0) -> None:
    """SIGKILL every other process until none is left (orphans, daemons, fork loops)."""
    import signal
    import time

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        _collect()
        others = _others()
        if not others:
            return
        if os.getpid() == 1:
            # From PID 1, kill(-1) reaches every process of the namespace but itself.
            with contextlib.suppress(OSError):
                os.kill(-1, signal.SIGKILL)
        else:
            # Each child killed hands its own children to us (the subreaper): next round.
            for pid in others:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def _wipe(folder: Path) -> None:
    """Empty ``folder`` (keep it), also what a worker made hard to delete (mode 000).

    Walks by changing directory, not by path: no depth of nesting (paths past
    PATH_MAX, more levels than open files or Python's recursion) stops it. Every
    process of the worker has ended, so nothing changes the tree meanwhile.
    """
    os.chdir(folder)
    names: list[str] = []  # the path from ``folder`` down to here
    stuck: set[int] = set()  # folders that would not go (inode numbers)
    try:
        while True:
            down = None
            with contextlib.suppress(OSError), os.scandir(".") as entries:
                for entry in entries:
                    try:
                        if not entry.is_dir(follow_symlinks=False):
                            os.unlink(entry.name)
                        elif entry.inode() not in stuck:
                            os.chmod(entry.name, 0o700)
                            down = entry.name
                            break
                    except OSError:
                        stuck.add(entry.inode())
            if down is not None:
                try:
                    os.chdir(down)
                    names.append(down)
                except OSError:
                    with contextlib.suppress(OSError):
                        stuck.add(os.stat(down, follow_symlinks=False).st_ino)
                continue
            if not names:
                return
            here = os.stat(".").st_ino
            os.chdir("..")
            try:
                os.rmdir(names.pop())
            except OSError:
                stuck.add(here)
    finally:
        os.chdir(folder)


# The worker's scratch folder (/tmp in the sandbox; a private folder without one) and
# the matplotlib cache copied into it: both set by the zygote before any worker runs.
_scratch: Path | None = None
_mpl_source: Path | None = None


def _remove_ipc() -> None:
    """Remove every System V shared memory segment, message queue and semaphore set.

    They outlive the processes that made them, and the sandbox's IPC namespace is the
    zygote's: the next worker, of this submission or (in a grading server) of the next
    one, could read what one left there, or run out of memory for what it filled. Only
    as PID 1 of the sandbox, whose namespaces are its own (else they are the host's).
    """
    import ctypes

    if os.getpid() != 1:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    for kind in ("shm", "msg", "sem"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]:
                ident = int(line.split()[1])
                if kind == "shm":
                    libc.shmctl(ident, ipc_rmid, None)
                elif kind == "msg":
                    libc.msgctl(ident, ipc_rmid, None)
                else:
                    libc.semctl(ident, 0, ipc_rmid)


def _sweep() -> None:
    """After a worker: end every process it left, remove the System V IPC objects it
    made, then give the next one a fresh scratch."""
    _kill_the_rest()
    _collect()
    _remove_ipc()
    if _scratch is not None:
        _fresh_scratch(_scratch)


def _fresh_scratch(scratch: Path) -> None:
    import shutil

    _wipe(scratch)
    if _mpl_source is not None:
        # matplotlib's config folder (MPLCONFIGDIR) with its font cache, writable.
        with contextlib.suppress(OSError):
            shutil.copytree(_mpl_source, scratch / "mpl", dirs_exist_ok=True)


def _shield() -> None:
    """Keep workers (the same user) from reaching into the zygote.

    In the bubblewrap sandbox the zygote is PID 1 of its PID namespace, and the
    kernel delivers to PID 1 only the signals it handles: with every handler at
    its default, a worker's kill(1, ...) or kill(-1, ...) does nothing. Not
    dumpable: a worker cannot ptrace it or write its memory through /proc.
    """
    import ctypes
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python's KeyboardInterrupt handler
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass  # not Linux: the plain-process isolation has no such shield anyway


# The kernel's key management calls (add_key, request_key, keyctl) by architecture, as
# seccomp sees them: (AUDIT_ARCH_*, syscall numbers). i386 is there because a 64-bit
# process can make 32-bit calls too (int 0x80, from machine code a submission maps).
_KEY_CALLS = {
    "x86_64": ((0xC000003E, (248, 249, 250)), (0x40000003, (286, 287, 288))),
    "aarch64": ((0xC00000B7, (217, 218, 219)),),
}


def _forbid_keyrings() -> None:
    """Make the kernel's keyrings unreachable for every worker (seccomp: EPERM).

    A key outlives the process that added it, in keyrings a worker shares with the
    zygote (the next worker, of this or the next submission, could read it) and can
    lock against it; the session keyring is even the grader's own, inherited, with
    whatever it holds (Kerberos tickets...). No kit code needs them. Installed before
    any worker is forked: inherited by each, and no process can remove a filter.
    """
    import ctypes
    import platform
    import struct

    arches = _KEY_CALLS.get(platform.machine())
    if arches is None or not sys.platform.startswith("linux"):
        return
    allow, deny = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    ld_abs, jeq, ret, and_k = 0x20, 0x15, 0x06, 0x54
    code: list[tuple[int, int, int, int]] = []  # (op, jump if true, jump if false, k)
    denials: list[int] = []  # indexes of the jumps to the final "deny"
    for arch, numbers in arches:
        block = len(numbers) + 3  # what follows the arch check, up to its "allow"
        code += [(ld_abs, 0, 0, 4), (jeq, 0, block, arch), (ld_abs, 0, 0, 0)]
        code.append((and_k, 0, 0, 0xBFFFFFFF))  # x32 calls: the number with bit 30 set
        for number in numbers:
            denials.append(len(code))
            code.append((jeq, 0, 0, number))
        code.append((ret, 0, 0, allow))
    code.append((ret, 0, 0, allow))
    code.append((ret, 0, 0, deny))
    for i in denials:
        op, _, jf, k = code[i]
        code[i] = (op, len(code) - 1 - (i + 1), jf, k)
    program = b"".join(struct.pack("HBBI", *c) for c in code)
    buffer = ctypes.create_string_buffer(program)

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: required to install a filter
    fprog = Program(len(code), ctypes.addressof(buffer))
    if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
        raise OSError(ctypes.get_errno(), "the sandbox could not forbid the keyrings")


def _adopt_orphans() -> None:
    """Without bubblewrap: become the subreaper of everything the workers start, and
    end with the grader (a sandbox's processes never outlive it)."""
    import ctypes
    import signal

    if os.getpid() == 1:
        return  # PID 1 of the sandbox: orphans come here already
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _cap_address_space(budget: int, threads: int) -> None:
    """Cap every worker's address space: the zygote's own size now plus ``budget``.

    RLIMIT_AS counts every mapping, shared anonymous ones too (RLIMIT_DATA does not).
    Measured from here because torch maps large libraries: after the warm-up the
    zygote's VmSize is about 3.8 GiB with torch 2.14 (a CUDA build on the CPU), of
    which 1 GiB is resident. Each thread a worker starts reserves a stack (8 MiB) and
    possibly a malloc arena (64 MiB): allowed for, with 256 MiB more. Set before any
    worker exists, inherited by each; a worker cannot raise it (no privileges).
    """
    import resource

    global _memory_budget, _baseline_kib
    status = Path("/proc/self/status").read_text().splitlines()
    size_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    _baseline_kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    cap = size_kib * 1024 + budget + threads * 72 * 2**20 + 256 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    _memory_budget = budget


def _warm_up(package_dir: Path) -> None:
    """Pay once, here, what every forked worker would otherwise pay inside a test's time.

    The first optimizer step imports torch._dynamo (over a second); MNIST is read into
    memory once and shared with the workers, with a second copy, apart from the
    submission's, for the grader's arguments (:mod:`grader.sandbox.kit_data`). Only kit
    code runs: the staged package's ``__init__.py`` and ``mnist.py`` are the kit's own
    (grader/submission/direct.py:stage).
    """
    import torch

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.ReLU())
    for optimizer in (torch.optim.SGD, torch.optim.Adam):
        step = optimizer(model.parameters(), lr=1e-3)
        model(torch.zeros(2, 1, 5, 5)).sum().backward()
        step.step()
        step.zero_grad()
    try:
        import_package(package_dir, "submission")
        mnist = importlib.import_module("submission.mnist")
        from .kit_data import keep_pristine

        for collection in ("train", "test"):
            keep_pristine(collection, mnist.tensors(collection))
    except Exception:  # noqa: BLE001 - missing data: each worker reports it when used
        sys.modules.pop("submission", None)
        sys.modules.pop("submission.mnist", None)


def zygote(
    control: socket.socket,
    package_dir: Path,
    threads: int,
    memory_budget: int = 0,
    scratch: Path | None = None,
    mpl_source: Path | None = None,
) -> None:
    """Fork a fresh worker per request: the imports are paid once, no student code runs here.

    Requests on ``control`` are text lines: ``fork`` with a socket passed along
    (the worker's end), answered with the worker's pid; ``reap PID`` (or
    ``kill PID``, which kills it first), answered with how that worker ended.
    Workers run one at a time: once one has ended, every other process is killed
    and ``scratch`` (the worker's /tmp, HOME and working folder) is emptied and
    given a fresh copy of ``mpl_source`` (matplotlib's cache) as ``mpl``.
    ``memory_budget`` (bytes, 0 for none) caps each worker's address space
    beyond the zygote's own size.
    """
    global _scratch, _mpl_source
    _adopt_orphans()
    _scratch, _mpl_source = scratch, mpl_source
    if scratch is not None:
        os.chdir(scratch)
        _fresh_scratch(scratch)

    import matplotlib.pyplot  # noqa: F401 - paid once here, not per step
    import torch

    from ..authoring import figures, kit_ops  # noqa: F401
    from . import sync, wire  # noqa: F401

    # One thread here: torch's OpenMP pool must not start before a fork (a forked child
    # that finds its parent's pool deadlocks on its first parallel operation). Each
    # worker sets its own thread count after the fork.
    torch.set_num_threads(1)
    _warm_up(package_dir)
    if memory_budget:
        _cap_address_space(memory_budget, threads)
    _shield()
    _forbid_keyrings()
    # From here on, output that bypasses Python (os.write, C code) goes nowhere; the
    # grader kept what the start-up said, in case it failed.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    # Kept for the zygote's life: out of the collector's sight, so that a worker's full
    # collections neither traverse it nor copy the pages they would touch.
    gc.collect()
    gc.freeze()
    control.sendall(b"ready\n")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1024, 1)
        except OSError:
            return
        if not message:
            return
        _collect()
        request = message.decode().split()
        if request[0] == "fork" and fds:
            if _others():  # a worker the grader never ended: the same clean start
                _sweep()
            pid = os.fork()
            if pid == 0:
                control.close()
                if os.getpid() != 1 and os.getppid() != 1:
                    import ctypes

                    ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG: ends with us
                torch.set_num_threads(threads)
                sock = socket.socket(fileno=fds[0])
                try:
                    worker, error = Worker(package_dir), None
                except BaseException as exc:  # noqa: BLE001
                    worker, error = None, describe(exc)
                serve(sock, worker, error)
                os._exit(0)
            os.close(fds[0])
            control.sendall(f"{pid}\n".encode())
        elif request[0] in ("reap", "kill"):
            if request[0] == "kill":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(request[1]), 9)
            answer = _reap(int(request[1]), killed=request[0] == "kill")
            control.sendall((answer + "\n").encode())
        else:
            for fd in fds:
                os.close(fd)
            control.sendall(b"?\n")


def main(argv: list[str]) -> None:
    """``FD PACKAGE_DIR [THREADS] [budget=BYTES] [scratch=DIR] [mpl=DIR]``."""
    fd, package_dir = int(argv[0]), Path(argv[1])
    threads = int(argv[2]) if len(argv) > 2 else 1
    options = dict(arg.split("=", 1) for arg in argv[3:])
    zygote(
        socket.socket(fileno=fd),
        package_dir,
        threads,
        memory_budget=int(options.get("budget", 0)),
        scratch=Path(options["scratch"]) if options.get("scratch") else None,
        mpl_source=Path(options["mpl"]) if options.get("mpl") else None,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
