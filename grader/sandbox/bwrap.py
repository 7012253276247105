"""Bubblewrap: whether it can run here, and the command line that builds a sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from ..layout import DATA_DIR, GRADER_DIR
from .limits import Limits


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
        "--as-pid-1",  # the zygote is PID 1: workers cannot kill it (see grader/sandbox/worker.py)
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
