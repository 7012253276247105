"""``--cache DIR``: reuse a step's result when nothing that decides it has changed.

A step's result (its entry in the results document) is stored under a key, the
sha256 of everything that decides it:

- the kit code that judges: every ``grader/`` source, the hidden suites' helpers
  and conftest (``tests/hidden/*.py`` that are not test files), ``pyproject.toml``
  (pytest's settings), the kit's ``mnist.py``, the data's checksums, the kit
  version and the versions of Python, torch and NumPy;
- the step's own hidden test file (a fix to another step's tests keeps this one);
- every step file of the submission (a file that is missing counts as missing).
  Which files a step's code reaches cannot be read off its text for sure (a name can
  be computed, a module unpickled, a file read), and a guess would let a student keep a
  step's pass from files that never passed together; so a change to any of a
  student's files regrades all of that student's steps, and a fix to one step's
  hidden tests regrades that step for everyone;
- where the submission came from, the sandbox mode and ``--timeout-cap``.

What is never stored: a step with a timeout (a loaded machine may have caused it), an
error (a sandbox that could not start) or
with a test the grading process did not finish (the grader's failure, not a
verdict). A cache file that cannot be read, or that holds something else than
the entry of its key, is ignored with a note and graded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__
from ..layout import DATA_DIR, GRADER_DIR, HIDDEN_DIR, PYPROJECT, kit_mnist
from ..steps import STEPS
from ..submission.files import read_step_file

FORMAT = 1  # the layout of a cache file; another value is not read
# The runner's reason for a test without an outcome (the grading process stopped).
_NOT_FINISHED = "the grading process"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def kit_hash() -> str:
    """The hash of the kit code that judges every step (see the module's docstring)."""
    digest = hashlib.sha256()
    files = sorted(p for p in GRADER_DIR.rglob("*.py") if "__pycache__" not in p.parts)
    files += sorted(p for p in HIDDEN_DIR.glob("*.py") if not p.name.startswith("test_"))
    files += [PYPROJECT, kit_mnist(), DATA_DIR / "SHA256SUMS"]
    for path in files:
        content = path.read_bytes() if path.is_file() else b"(absent)"
        digest.update(f"{path.name}\0{len(content)}\0".encode() + content)
    versions = [__version__, platform.python_version()]
    versions += [_version(p) for p in ("torch", "numpy", "pytest", "pytest-timeout")]
    digest.update("\0".join(versions).encode())
    return digest.hexdigest()


def hidden_file(step: str) -> Path:
    """The hidden test file of ``step`` (``tests/hidden/test_step07_*.py``)."""
    return HIDDEN_DIR / f"test_{step}.py"


class Cache:
    """The step results kept in one folder, one JSON file per key."""

    def __init__(self, folder: Path, sandbox: str, timeout_cap: float | None) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sandbox, self.timeout_cap = sandbox, timeout_cap
        self.kit = kit_hash()
        self.tests = {
            s: _sha(hidden_file(s).read_bytes()) if hidden_file(s).is_file() else "(absent)"
            for s in STEPS
        }

    def keys(self, submission: Path, origin: str, steps: list[str]) -> dict[str, str]:
        """The key of each of ``steps`` for the submission in folder ``submission``."""
        files: dict[str, bytes | None] = {}
        for step in STEPS:
            content = read_step_file(submission, step)
            files[step] = content if isinstance(content, bytes) else None
        keys = {}
        for step in steps:
            described = {
                "format": FORMAT,
                "kit": self.kit,
                "step": step,
                "hidden_tests": self.tests[step],
                "files": {s: _sha(c) if (c := files[s]) is not None else None for s in STEPS},
                "origin": origin,
                "sandbox": self.sandbox,
                "timeout_cap": self.timeout_cap,
            }
            keys[step] = _sha(json.dumps(described, sort_keys=True).encode())
        return keys

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str, step: str) -> dict | None:
        """The stored result of ``key``, or None (a note on stderr when a file is ignored)."""
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            stored = json.loads(path.read_text())
            entry = stored["result"]
            if stored.get("format") != FORMAT or stored.get("key") != key:
                raise ValueError("it belongs to another key or cache format")
            if stored.get("step") != step:
                raise ValueError(f"it holds step {stored.get('step')!r}, not {step!r}")
            _check_entry(entry)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            print(f"note: ignoring the cache file {path} ({exc}); grading again", file=sys.stderr)
            return None
        return {**entry, "cached": True}

    def put(self, key: str, step: str, entry: dict) -> None:
        """Keep ``entry`` under ``key`` when it is a verdict worth keeping (see the module's
        docstring); written atomically, so a reader never sees half a file."""
        if not storable(entry):
            return
        text = json.dumps({"format": FORMAT, "key": key, "step": step, "result": entry})
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key[:16]}-", suffix=".partial")
        except OSError as exc:  # a full disk costs the cache, never the grading
            print(f"note: the cache {self.folder} cannot be written ({exc})", file=sys.stderr)
            return
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, self._path(key))
        except OSError as exc:
            print(f"note: the cache {self.folder} cannot be written ({exc})", file=sys.stderr)
        finally:
            Path(tmp).unlink(missing_ok=True)  # gone already when the rename succeeded


def storable(entry: dict) -> bool:
    """Whether a step's result is a verdict on the code: no timeout, no error (a sandbox
    that could not start, a set-up that failed), every test finished."""
    return all(
        t["status"] not in ("timeout", "error") and not t["message"].startswith(_NOT_FINISHED)
        for t in entry["tests"]
    )


def _check_entry(entry: Any) -> None:
    """Raise ValueError unless ``entry`` is a step's entry of the results document."""
    if not isinstance(entry, dict) or not isinstance(entry.get("tests"), list):
        raise ValueError("it is not a step's result")
    for test in entry["tests"]:
        for field, kind in (("name", str), ("status", str), ("message", str)):
            if not isinstance(test.get(field), kind):
                raise ValueError(f"a test's {field} is not a {kind.__name__}")
        for field in ("score", "max_score"):
            if not isinstance(test.get(field), float):
                raise ValueError(f"a test's {field} is not a number")
    for field in ("score", "max_score"):
        if not isinstance(entry.get(field), float):
            raise ValueError(f"the step's {field} is not a number")
    if abs(entry["score"] - sum(t["score"] for t in entry["tests"])) > 1e-9:
        raise ValueError("its score is not the sum of its tests")
