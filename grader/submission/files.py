"""A submission's step files: read without following links, staged as a package.

A submission is a directory of step files. It is staged into a fresh package (its
``stepNN_*.py`` files and the kit's own ``mnist.py``, nothing else: no
``conftest.py``, no ``__init__.py`` of its own), so step modules can import each
other relatively, exactly as in ``solutions/``.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tokenize
from pathlib import Path

from ..layout import kit_mnist
from ..steps import MAX_STEP_FILE, STEPS
from .protocol import SubmissionError


def read_step_file(path: Path, step: str) -> bytes | str:
    """The bytes of ``path/<step>.py``, or why it cannot be graded (see :func:`read_file`)."""
    return read_file(path, f"{step}.py")


def read_file(path: Path, name: str) -> bytes | str:
    """The bytes of the file ``path/name``, or why it cannot be graded.

    Only a regular file is read, opened without following a symbolic link (a link
    could point at any file the grader can read) and no larger than MAX_STEP_FILE.
    """
    try:
        folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        return f"the submission folder {path} cannot be read ({exc.strerror})"
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        return f"{name} is missing from the submission {path}"
    except OSError as exc:
        if os.path.islink(path / name):
            return f"{name} is a symbolic link; only regular files are graded"
        return f"{name} cannot be read ({exc.strerror})"
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return f"{name} is not a regular file; only regular files are graded"
        if info.st_size > MAX_STEP_FILE:
            return f"{name} is {info.st_size} bytes, more than the {MAX_STEP_FILE} allowed"
        return f.read(MAX_STEP_FILE + 1)[:MAX_STEP_FILE]


def step_files(path: Path) -> dict[str, bytes]:
    """The gradable step files of a submission directory, by file name (what
    :func:`read_step_file` refuses is left out)."""
    files = {}
    for step in STEPS:
        content = read_step_file(path, step)
        if isinstance(content, bytes):
            files[f"{step}.py"] = content
    return files


def stage(path: Path, into: Path) -> Path:
    """Copy a submission's step files and the kit's ``mnist.py`` into a new package dir.

    Step files that cannot be graded (see :func:`read_step_file`) are left out; the
    submission's ``missing`` message says why.
    """
    package = prepare_package(into)
    for name, content in step_files(path).items():
        (package / name).write_bytes(content)
    return package


def prepare_package(into: Path) -> Path:
    """A new package dir ``into/submission`` with the kit's files only (no step yet)."""
    package = into / "submission"
    package.mkdir(parents=True)
    shutil.copyfile(kit_mnist(), package / "mnist.py")
    (package / "__init__.py").write_text('"""A staged submission (generated)."""\n')
    return package


def missing(path: Path, step: str) -> str:
    """Why ``step`` of the submission at ``path`` was not staged."""
    reason = read_step_file(path, step)
    return reason if isinstance(reason, str) else f"{step}.py is missing from the submission"


def read_source(path: Path) -> str:
    """A step file's text, decoded as Python decodes it: a UTF-8 BOM, a PEP 263 coding
    cookie (``# -*- coding: latin-1 -*-``), else UTF-8."""
    data = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise SubmissionError(
            f"{path.name} cannot be decoded as Python source ({exc}); Python could not import "
            "it either: save it as UTF-8 (or declare its encoding in a coding cookie)"
        ) from None
