"""The sandbox's resource limits, and a cgroup v2 that holds them over all its processes."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_uids = itertools.count()


@dataclass(frozen=True)
class Limits:
    # The memory budget. Each process's private data (RLIMIT_DATA), start-up included
    # (the zygote holds 1.2 GiB of data once torch and MNIST are loaded), and on top of
    # what the kit itself took at start-up, either a cgroup's memory.max over all the
    # sandbox's processes or each worker's address space (RLIMIT_AS: the zygote's 3.8
    # GiB, mostly torch's libraries, with torch 2.14 cu130 on the CPU, plus this; see
    # grader/sandbox/worker.py:_cap_address_space). Both count shared anonymous memory.
    memory_bytes: int = 4 * 2**30
    cpu_seconds: int = 1800
    processes: int = 256  # threads count too: torch starts a few per core
    file_bytes: int = 64 * 2**20
    tmp_bytes: int = 256 * 2**20


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
