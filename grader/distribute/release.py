"""``python -m grader release OUT_DIR [--git]``: the kit as students get it.

The release holds what a student needs and nothing that gives an answer away:

- ``exercises/``: the generated stubs, the visible tests, ``conftest.py``,
  ``mnist.py`` and ``__init__.py``, copied from the kit's ``exercises/`` once
  :func:`grader.stubs.check` says they match ``solutions/`` (else the release
  is refused: regenerate with ``python -m grader stubs`` first);
- ``data_cache/``: the four MNIST files and ``SHA256SUMS`` (checked while copied);
- ``README.md`` for students, ``pyproject.toml`` (what the exercises and the
  visible tests import, and the pytest settings), ``.gitignore``;
- ``.github/workflows/classroom.yml``: GitHub Classroom autograding that grades
  every push with the instructor's private kit and reports the points per step.

No ``solutions/``, no hidden tests, no grader. Every release is checked by
:func:`leak_scan` before it is moved into place; a leak fails the release.

The leak rule. A *solution line* is a line of code inside a ``# BEGIN SOLUTION``
/ ``# END SOLUTION`` region of a ``solutions/step*.py`` file that is

- not blank and not a comment;
- not *public*: it occurs nowhere outside the solution regions in ``solutions/``
  (the stubs, the visible tests and ``mnist.py`` are made of those lines, so
  they are given away anyway: ``return fig``, ``model.eval()`` and the like);
- not *trivial*: it has at least three significant tokens (names, numbers,
  strings and operators; brackets, commas, dots and keywords do not count), so
  ``return x``, ``loss.backward()`` or ``continue`` never count, while
  ``return torch.exp(x)`` does.

Lines are compared as Python token sequences, so changes of spacing or a
trailing comment do not hide a copied line. A released text line equal to a
solution line is a leak; so is a bare solution marker line. Binary files (the
MNIST data) and ``.git/`` are not scanned. The Gradescope bundle reuses the
scan with ``allowed=`` the kit's own grading code (see grader/distribute/gradescope.py).
"""

from __future__ import annotations

import argparse
import ast
import functools
import hashlib
import io
import json
import keyword
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
import tomllib
from collections.abc import Iterable
from pathlib import Path

from .. import __version__
from ..grading.runner import STARTUP_ALLOWANCE_S
from ..layout import KIT_ROOT, SOLUTIONS_DIR
from ..steps import STEPS, marker_name, step_number
from . import stubs

# Third-party modules the released exercises may import, and the distribution of each.
IMPORT_TO_DIST = {
    "torch": "torch",
    "torchvision": "torchvision",
    "numpy": "numpy",
    "matplotlib": "matplotlib",
    "pytest": "pytest",
    "hypothesis": "hypothesis",
    "PIL": "pillow",
    "scipy": "scipy",
}
# Always in the student install: PyTorch and its MNIST companion, and the test runner.
ALWAYS = ("torch", "torchvision", "pytest")
MIN_SIGNIFICANT_TOKENS = 3
_UNCOUNTED_OPS = set("()[]{},:;.") | {"->", "..."}
_STEP_ROW = re.compile(r"^\|\s*(\d\d)\s*\|\s*`(step\d\d_\w+)`\s*\|\s*(.+?)\s*\|\s*$")
MAX_TEXT_BYTES = 4 * 2**20  # larger files are data, not text


class ReleaseError(RuntimeError):
    """The release cannot be made: stubs out of date, a leak, a bad output folder."""


# --------------------------------------------------------------------------- leak scan


@functools.lru_cache(maxsize=2**16)
def _line_key(line: str) -> tuple[str, int] | None:
    """``(normalized text, significant tokens)`` of a line; None for blank and comment lines."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text + "\n").readline)
            if t.type
            not in (
                tokenize.COMMENT,
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENDMARKER,
            )
        ]
    except (tokenize.TokenError, SyntaxError):
        tokens = None
    if not tokens:  # not a line of Python (prose, YAML, half a string): compare the words
        words = text.split()
        return " ".join(words), len(re.findall(r"\w+", text))
    significant = sum(
        (t.type == tokenize.NAME and not keyword.iskeyword(t.string))
        or t.type in (tokenize.NUMBER, tokenize.STRING)
        or (t.type == tokenize.OP and t.string not in _UNCOUNTED_OPS)
        for t in tokens
    )
    return " ".join(t.string for t in tokens), significant


def solution_lines(solutions: Path = SOLUTIONS_DIR, allowed: Iterable[Path] = ()) -> dict[str, str]:
    """The secret lines of the solution regions: ``{normalized line: "stepNN_x.py:LINE"}``.

    Lines that also occur outside the regions in ``solutions/``, or anywhere in the
    files under ``allowed``, are public; trivial lines never count (module docstring).
    """
    inside: dict[str, str] = {}
    public: set[str] = set()
    for path in sorted(Path(solutions).glob("*.py")):
        text = path.read_text()
        in_region: set[int] = set()
        for region in stubs.find_regions(text, f"solutions/{path.name}"):
            in_region.update(range(region.begin + 1, region.end))
        for i, line in enumerate(text.splitlines()):
            key = _line_key(line)
            if key is None:
                continue
            if i in in_region and path.name.startswith("step"):
                if key[1] >= MIN_SIGNIFICANT_TOKENS:
                    inside.setdefault(key[0], f"{path.name}:{i + 1}")
            else:
                public.add(key[0])
    for _, text in _text_files(allowed):
        public.update(k[0] for k in map(_line_key, text.splitlines()) if k is not None)
    return {line: where for line, where in inside.items() if line not in public}


def _text_files(roots: Iterable[Path]):
    """``(path, text)`` of every text file under ``roots`` (files or folders); no ``.git``."""
    for root in roots:
        root = Path(root)
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if ".git" in path.relative_to(root).parts or path.is_symlink():
                continue
            if path.stat().st_size > MAX_TEXT_BYTES:
                continue
            raw = path.read_bytes()
            if b"\0" in raw:
                continue
            try:
                yield path, raw.decode("utf-8")
            except UnicodeDecodeError:
                continue


def leak_scan(
    out_dir: Path, solutions: Path = SOLUTIONS_DIR, allowed: Iterable[Path] = ()
) -> list[str]:
    """Every line under ``out_dir`` that gives a solution away (empty: clean).

    ``allowed``: kit files whose lines are public for this scan (the grading code
    that a bundle is meant to carry). See the module docstring for the rule.
    """
    out_dir = Path(out_dir)
    secret = solution_lines(solutions, allowed)
    markers = {stubs.BEGIN, stubs.END}
    leaks = []
    for path, text in _text_files([out_dir]):
        rel = path.relative_to(out_dir).as_posix()
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() in markers:
                leaks.append(f"{rel}:{number}: a solution marker line ({line.strip()!r})")
                continue
            key = _line_key(line)
            if key is not None and key[0] in secret:
                leaks.append(
                    f"{rel}:{number}: the solution line of solutions/{secret[key[0]]}: "
                    f"{line.strip()[:80]!r}"
                )
    return leaks


# --------------------------------------------------------------------------- contents


def _kit_project(kit_root: Path) -> dict:
    return tomllib.loads((kit_root / "pyproject.toml").read_text())["project"]


def _kit_pytest(kit_root: Path) -> dict:
    data = tomllib.loads((kit_root / "pyproject.toml").read_text())
    return data.get("tool", {}).get("pytest", {}).get("ini_options", {})


def _dist_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower()


def third_party_imports(folder: Path) -> set[str]:
    """Top-level names of the non-stdlib modules the Python files of ``folder`` import."""
    names: set[str] = set()
    local = {p.stem for p in folder.glob("*.py")}
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {
        n
        for n in names
        if n not in sys.stdlib_module_names and n not in local and n != "__future__"
    }


def student_dependencies(exercises: Path, kit_root: Path = KIT_ROOT) -> list[str]:
    """The requirements (the kit's own pins) of what ``exercises/`` imports, plus ALWAYS."""
    pins = {_dist_name(r): r for r in _kit_project(kit_root)["dependencies"]}
    wanted = set(ALWAYS)
    for module in third_party_imports(exercises):
        dist = IMPORT_TO_DIST.get(module)
        if dist is None:
            raise ReleaseError(
                f"exercises/ imports {module!r}: add it to IMPORT_TO_DIST in "
                "grader/distribute/release.py and to the kit's dependencies"
            )
        wanted.add(dist)
    missing = sorted(d for d in wanted if d not in pins)
    if missing:
        raise ReleaseError(
            f"exercises/ needs {', '.join(missing)}, which the kit's pyproject.toml does not list"
        )
    order = list(pins)
    return [pins[d] for d in sorted(wanted, key=order.index)]


def _toml_list(items: list[str], indent: str = "    ") -> str:
    return "[\n" + "".join(f"{indent}{json.dumps(item)},\n" for item in items) + "]"


def student_pyproject(exercises: Path, kit_root: Path = KIT_ROOT) -> str:
    project = _kit_project(kit_root)
    markers = [m for m in _kit_pytest(kit_root).get("markers", []) if re.match(r"^step\d\d:", m)]
    have = {m.split(":")[0] for m in markers}
    markers += [
        f"{marker_name(s)}: step {step_number(s):02d}, {s[7:].replace('_', ' ')}"
        for s in STEPS
        if marker_name(s) not in have
    ]
    return f"""\
# The MNIST exercises. `pip install -e .` installs what the exercises and their
# tests need; `pytest exercises` runs the tests (settings below).

[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "mnist-exercises"
version = {json.dumps(project.get("version", __version__))}
description = "PyTorch on MNIST, one step at a time: exercises with their tests."
readme = "README.md"
requires-python = {json.dumps(project.get("requires-python", ">=3.11"))}
dependencies = {_toml_list(student_dependencies(exercises, kit_root))}

[tool.setuptools]
packages = ["exercises"]

[tool.pytest.ini_options]
minversion = "8.0"
addopts = "--strict-markers -ra"
testpaths = ["exercises"]
markers = {_toml_list(markers)}
"""


GITIGNORE = """\
.venv/
venv/
__pycache__/
*.pyc
*.egg-info/
build/
dist/
.pytest_cache/
.hypothesis/
.ipynb_checkpoints/
.DS_Store
# written by the autograding workflow
/kit/
/classroom-*.json
"""


def _step_rows(kit_root: Path) -> list[tuple[str, str, str]]:
    """``(number, module, what it teaches)`` per step, from the kit README's table."""
    found = {}
    readme = kit_root / "README.md"
    if readme.is_file():
        for line in readme.read_text().splitlines():
            match = _STEP_ROW.match(line)
            if match and match.group(2) in STEPS:
                found[match.group(2)] = match.group(3)
    return [(f"{step_number(s):02d}", s, found.get(s, s[7:].replace("_", " "))) for s in STEPS]


def student_readme(kit_root: Path = KIT_ROOT) -> str:
    rows = "\n".join(
        f"| {n} | `exercises/{s}.py` | {what} |" for n, s, what in _step_rows(kit_root)
    )
    return f"""\
# MNIST exercises

Learn PyTorch on MNIST, one small step at a time: thirteen steps lead from a
first tensor to training MLPs, CNNs, an autoencoder and an RNN. Each step is a
file in `exercises/` with functions for you to write, next to a file of tests
that tells you when they work.

## Set up (once)

You need Python 3.11 or newer. In this folder:

```bash
python3 -m venv .venv && source .venv/bin/activate    # Windows: .venv\\Scripts\\activate
pip install -e .
```

That installs PyTorch, torchvision, NumPy, matplotlib and pytest. (On Linux
without an NVIDIA GPU, `pip install -e . --extra-index-url
https://download.pytorch.org/whl/cpu` fetches a much smaller PyTorch.) The
MNIST images, all 70,000 of them, are already in `data_cache/`: nothing is
downloaded while you work, and `exercises/mnist.py` loads them for you.

## Work on a step

Open a step, say `exercises/step03_normalization.py`. Each function to write
has a docstring saying what it takes and returns, and a line
`raise NotImplementedError(...)`: replace that line with your code. Then:

```bash
pytest exercises              # the tests of every step
pytest exercises -m step03    # the tests of step 03 only
```

A function you have not written yet fails with one line, for example
`step 03: softmax is not implemented yet`. Every test starts from the same
random seed, so a failure you see is one you can reproduce.

| step | file | what it teaches |
|---|---|---|
{rows}

Your grade comes from a larger set of tests that the course staff keep, run on
the same functions. So keep every function's name and arguments as they are,
and do not rely on changing the tests: only the step files
(`exercises/stepNN_*.py`) are graded. `exercises/mnist.py` holds the course's
MNIST helpers; the grader uses its own copy of it.

## Hand in

- **GitHub Classroom**: commit and push. Every push is graded by the workflow
  in `.github/workflows/classroom.yml` (leave it as it is); the Actions tab
  shows the points of each step under "Autograding Tests".
- **Gradescope**: upload your step files (`exercises/step01_plotting.py`, ...),
  or a zip of the `exercises/` folder (`zip -r exercises.zip exercises`). Only
  files named like the steps are graded, wherever they sit in the zip.

## What is here

- `exercises/`: the steps, their tests (`test_stepNN_*.py`), `conftest.py`
  (plain messages, fixed seeds) and `mnist.py` (the data helpers).
- `data_cache/`: MNIST in the layout `torchvision.datasets.MNIST(root="data_cache",
  download=False)` reads; `data_cache/SHA256SUMS` holds the checksums
  (`cd data_cache && sha256sum -c SHA256SUMS`).
- `pyproject.toml`: the packages to install and the pytest settings.
"""


# --------------------------------------------------------------------------- workflow

KIT_REPOSITORY_VAR = "KIT_REPOSITORY"
KIT_TOKEN_SECRET = "KIT_TOKEN"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"


def step_budgets(kit_root: Path = KIT_ROOT) -> dict[str, tuple[float, int]]:
    """``{step: (points, seconds)}`` from the hidden suites: the points of each step, and
    a wall-clock budget for grading it (its tests' timeouts plus start-up)."""
    from ..grading.runner import collect_inventory

    if Path(kit_root).resolve() != KIT_ROOT:
        raise ReleaseError("step budgets come from this kit's own hidden suites")
    points = {s: 0.0 for s in STEPS}
    seconds = {s: float(STARTUP_ALLOWANCE_S) for s in STEPS}
    for test in collect_inventory(list(STEPS)):
        points[test["step"]] += test["points"]
        seconds[test["step"]] += test.get("timeout", 60.0)
    return {s: (points[s], int(math.ceil(seconds[s] / 60.0)) * 60) for s in STEPS}


def _fallback_result(step: str, points: float) -> str:
    """The classroom JSON a step reports when the grader wrote none (it could not run)."""
    message = (
        f"the grader did not run for step {step_number(step):02d}: "
        "the log of this step in the Actions tab says why"
    )
    return json.dumps(
        {
            "version": 3,
            "status": "error",
            "message": message,
            "max_score": float(points),
            "tests": [
                {
                    "name": f"{step}: grading",
                    "status": "error",
                    "message": message,
                    "test_code": "",
                    "filename": "",
                    "line_no": 0,
                    "duration": 0,
                    "score": 0.0,
                    "task_id": step_number(step),
                }
            ],
        }
    )


def _step_script(step: str, points: float, seconds: int) -> str:
    number = f"{step_number(step):02d}"
    out = f"classroom-{marker_name(step)}.json"
    return (
        f"rm -f {out}\n"
        f"timeout {seconds} python -m grader grade exercises --steps {number} "
        f"--classroom {out} --quiet || true\n"
        f"if [ ! -s {out} ]; then\n"
        f"  cat > {out} <<'RESULT'\n{_fallback_result(step, points)}\nRESULT\n"
        f"fi\n"
        f'echo "result=$(base64 -w0 {out})" >> "$GITHUB_OUTPUT"\n'
    )


def _expr(text: str) -> str:
    """A GitHub Actions expression: ``${{ text }}``."""
    return "${{ " + text + " }}"


class _Literal(str):
    """A string written as a YAML ``|`` block (a shell script)."""


_PLAIN = re.compile(r"^[A-Za-z_./@][A-Za-z0-9_./@ ,()'\[\]-]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _yaml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS and not text.endswith(" "):
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def to_yaml(value, indent: int = 0) -> str:
    """Block-style YAML of dicts, lists, strings, numbers and booleans (no dependency)."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{_yaml_scalar(key)}:"
            if isinstance(item, _Literal):
                lines.append(f"{head} |")
                lines += [f"{pad}  {ln}" if ln else "" for ln in item.rstrip("\n").split("\n")]
            elif isinstance(item, (dict, list)) and item:
                lines.append(head)
                lines.append(to_yaml(item, indent + 2))
            else:
                lines.append(f"{head} {_yaml_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                body = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {body[indent + 2 :]}")
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    else:
        lines.append(pad + _yaml_scalar(value))
    return "\n".join(lines)


def classroom_workflow(budgets: dict[str, tuple[float, int]]) -> str:
    """``.github/workflows/classroom.yml``: grade each push step by step, report per step."""
    runners = [marker_name(s) for s in STEPS]
    steps: list[dict] = [
        {"name": "Check out the submission", "uses": "actions/checkout@v4"},
        {
            "name": "Check out the grading kit",
            "uses": "actions/checkout@v4",
            "with": {
                "repository": _expr(f"vars.{KIT_REPOSITORY_VAR}"),
                "token": _expr(f"secrets.{KIT_TOKEN_SECRET}"),
                "path": "kit",
                "persist-credentials": False,
            },
        },
        {
            "name": "Set up Python",
            "uses": "actions/setup-python@v5",
            "with": {
                "python-version": "3.12",
                "cache": "pip",
                "cache-dependency-path": "kit/pyproject.toml",
            },
        },
        {"name": "Install the grader", "run": "python -m pip install -e ./kit"},
    ]
    for step in STEPS:
        points, seconds = budgets[step]
        steps.append(
            {
                "name": f"Grade step {step_number(step):02d} ({points:g} points)",
                "id": marker_name(step),
                "if": _expr("!cancelled()"),
                "run": _Literal(_step_script(step, points, seconds)),
            }
        )
    steps.append(
        {
            "name": "Autograding Reporter",
            "if": _expr("!cancelled()"),
            "uses": REPORTER,
            "env": {f"{r.upper()}_RESULTS": _expr(f"steps.{r}.outputs.result") for r in runners},
            "with": {"runners": ",".join(runners)},
        }
    )
    total_minutes = sum(s for _, s in budgets.values()) // 60 + 30
    workflow = {
        "name": "Autograding Tests",
        "on": ["push", "workflow_dispatch", "repository_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {
            "run-autograding-tests": {
                "runs-on": "ubuntu-latest",
                "if": "github.actor != 'github-classroom[bot]'",
                "timeout-minutes": total_minutes,
                "env": {
                    "MPLBACKEND": "Agg",
                    "PIP_EXTRA_INDEX_URL": "https://download.pytorch.org/whl/cpu",
                },
                "steps": steps,
            }
        },
    }
    body = to_yaml(workflow) + "\n"  # `on` is quoted: YAML 1.1 reads a bare on as true
    header = f"""\
# GitHub Classroom autograding, generated by `python -m grader release` (kit {__version__}).
#
# On every push: check out this repository and the course's private grading kit,
# install the kit, grade exercises/ one step at a time with
# `python -m grader grade exercises --steps NN --classroom ...`, and report each
# step's points to GitHub Classroom with its grading reporter (one runner per step,
# its result base64-encoded in STEPNN_RESULTS).
#
# Course staff, once per organisation (or repository): set the variable
# {KIT_REPOSITORY_VAR} to the kit repository (owner/name) and the secret {KIT_TOKEN_SECRET} to a
# fine-grained token that can only read that repository's contents. Create the
# assignment without autograding tests of its own, so Classroom keeps this file.
# Points here give students feedback; students can edit this file and see what the
# kit repository holds, so grade finally with `python -m grader grade` or Gradescope,
# and keep the solutions out of the repository this workflow checks out.
"""
    return header + body


# --------------------------------------------------------------------------- release


def _copy_data(kit_root: Path, out: Path) -> list[str]:
    data = kit_root / "data_cache"
    sums = data / "SHA256SUMS"
    written = []
    (out / "data_cache").mkdir()
    shutil.copyfile(sums, out / "data_cache" / "SHA256SUMS")
    written.append("data_cache/SHA256SUMS")
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        name = name.lstrip("*")
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ReleaseError(f"SHA256SUMS names a path outside data_cache/: {name}")
        target = out / "data_cache" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / name, target)
        if hashlib.sha256(target.read_bytes()).hexdigest() != digest:
            raise ReleaseError(
                f"data_cache/{name} does not match its checksum; run `python -m grader data verify`"
            )
        written.append(f"data_cache/{name}")
    return written


def _git_commit(out: Path) -> None:
    def git(*args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        proc = subprocess.run(["git", *args], cwd=out, env=env, capture_output=True, text=True)
        if proc.returncode:
            raise ReleaseError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")

    git("init", "-q", "-b", "main")
    git("config", "user.name", "MNIST exercise kit")
    git("config", "user.email", "mnist-kit@users.noreply.github.com")
    git("config", "commit.gpgsign", "false")
    git("add", "-A")
    git("commit", "-q", "-m", f"MNIST exercises (kit {__version__})")


def release(
    out_dir: Path,
    git: bool = False,
    kit_root: Path = KIT_ROOT,
    budgets: dict[str, tuple[float, int]] | None = None,
) -> list[str]:
    """Write the student release into ``out_dir`` (new or empty); returns the files written.

    ``git``: make ``out_dir`` a fresh repository with one commit on ``main``.
    ``budgets``: points and seconds per step for the workflow (default: from the
    hidden suites, see :func:`step_budgets`). Raises :class:`ReleaseError`.
    """
    kit_root = Path(kit_root)
    out_dir = Path(out_dir).resolve()
    solutions, exercises = kit_root / "solutions", kit_root / "exercises"
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ReleaseError(f"{out_dir} exists and is not an empty folder")
    if out_dir == kit_root.resolve() or kit_root.resolve() in out_dir.parents:
        raise ReleaseError("release into a folder outside the kit")
    try:
        problems = stubs.check(solutions, exercises)
    except stubs.MarkerError as exc:
        raise ReleaseError(str(exc)) from None
    if problems:
        raise ReleaseError(
            "exercises/ is out of date (run `python -m grader stubs`): " + "; ".join(problems)
        )
    if budgets is None:
        budgets = step_budgets(kit_root)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        written = []
        (staging / "exercises").mkdir()
        for source in sorted(exercises.glob("*.py")):
            shutil.copyfile(source, staging / "exercises" / source.name)
            written.append(f"exercises/{source.name}")
        written += _copy_data(kit_root, staging)
        texts = {
            "README.md": student_readme(kit_root),
            "pyproject.toml": student_pyproject(staging / "exercises", kit_root),
            ".gitignore": GITIGNORE,
            ".github/workflows/classroom.yml": classroom_workflow(budgets),
        }
        for name, text in texts.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_text(text)
            written.append(name)
        leaks = leak_scan(staging, solutions)
        if leaks:
            raise ReleaseError("the release would give solutions away:\n  " + "\n  ".join(leaks))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp made it private
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if git:
        _git_commit(out_dir)
    return sorted(written)


# --------------------------------------------------------------------------- command line


def add_arguments(subparsers) -> argparse.ArgumentParser:
    """Add ``release OUT_DIR [--git]`` to a subparsers object."""
    parser = subparsers.add_parser(
        "release", help="write the student release (stubs, visible tests, data, CI) to a folder"
    )
    parser.add_argument(
        "out_dir", type=Path, metavar="OUT_DIR", help="a new (or empty) folder for the release"
    )
    parser.add_argument(
        "--git", action="store_true", help="make OUT_DIR a fresh git repository with one commit"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        written = release(args.out_dir, git=args.git)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote the student release to {args.out_dir}: {len(written)} files, leak scan clean"
        + (", one git commit" if args.git else "")
    )
    return 0
