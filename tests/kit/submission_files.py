"""Where the kit's tests find things, small submissions made on the fly, the grade command."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = KIT_ROOT / "solutions"
# An independently written correct submission of every step.
INDEPENDENT = Path(__file__).parent / "submissions" / "independent"
# Correct submissions written in other styles (tests/kit/e2e/test_styles.py).
STYLES = Path(__file__).parent / "styles"


def reference(step: str) -> str:
    """The text of the reference solution of ``step``."""
    return (KIT_ROOT / "solutions" / f"{step}.py").read_text()


def submission_with(root: Path, name: str, files: dict[str, str]) -> Path:
    """A submission directory ``root/name`` holding ``files`` (file name -> text)."""
    folder = root / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


def make_zip(path: Path, files: dict[str, str]) -> Path:
    """A zip at ``path`` holding ``files`` (name in the zip -> text)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def grade_command(*args, timeout: float | None = None) -> subprocess.CompletedProcess:
    """``python -m grader grade ARGS...`` run from the kit's root, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "grader", "grade", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=KIT_ROOT,
        timeout=timeout,
    )


def processes_with(marker: str) -> list[str]:
    """``PID command line`` of each process (not this one) whose command line holds
    ``marker``, read from /proc: ``ps`` cuts long lines to $COLUMNS and can hide it."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and marker in args and int(entry.name) != os.getpid():
            found.append(f"{entry.name} {args}")
    return found


def student_env() -> dict[str, str]:
    """This environment as a student's: no kit paths, no bytecode written, no screen."""
    env = {k: v for k, v in os.environ.items() if k not in ("MNIST_DATA_DIR", "PYTHONPATH")}
    env.update(PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    return env
