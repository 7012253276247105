"""How ``pytest exercises`` talks to you: one line per failing check, a summary per step.

``conftest.py`` loads this plugin. When you run the tests of this folder
(``pytest exercises``, ``pytest exercises -m step03``, or ``pytest`` inside it):

- each failing check prints one line as it happens: the step, the function,
  the test's message, and the file and line of your code it points at::

      step 03 softmax: every row of softmax should sum to 1, ...; did you divide
      by the sum over the whole batch? (exercises/step03_normalization.py:36)

- a function you have not written yet, or a step file that does not import
  (a syntax error, say), is named once, in its step's summary line;
- at the end, one line per step (``step 03  normalization  4/6 checks pass``)
  and one line saying what to do next.

A step file that does not import blocks no other step: its names stand in for
the real ones and fail, when used, with "your file does not import", so the
tests of every other step still run.

Want pytest's full report, tracebacks and all? Add ``-v`` or ``--tb=long``:
``pytest exercises -m step03 -v``. To see what your ``print`` calls print, add
``-s``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import inspect
import os
import re
import sys
import time
import traceback
import types
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

STEP_MODULE = re.compile(r"^step(\d\d)_\w+$")  # step03_normalization
TEST_FILE = re.compile(r"^test_step(\d\d)_\w+\.py$")  # test_step03_normalization.py
NOT_WRITTEN = re.compile(r"^step (\d\d): (\S+) is not implemented yet")  # what a stub raises
MAX_MESSAGE = 300  # characters of one failure message; longer ones lose their middle


# --------------------------------------------------------------------------- broken steps


class StepDoesNotImport(ImportError):
    """What a name of a step file that does not import raises when it is used."""

    def __init__(self, step: str, error: str) -> None:
        super().__init__(f"step {step}: your file does not import: {error}")
        self.step = step  # "06"
        self.error = error  # "SyntaxError: invalid syntax (step06_create_model.py, line 12)"


def import_error_text(exc: Exception, filename: str) -> str:
    """``"SyntaxError: invalid syntax (step06_create_model.py, line 12)"``."""
    if isinstance(exc, StepDoesNotImport):
        return str(exc)
    if isinstance(exc, SyntaxError):  # IndentationError too
        name = Path(exc.filename or filename).name
        return f"{type(exc).__name__}: {exc.msg} ({name}, line {exc.lineno})"
    text = first_line(str(exc))
    if isinstance(exc, ImportError) and exc.path:  # the other module's path says little
        text = text.replace(f" ({exc.path})", "")
    lines = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    where = f" ({Path(filename).name}, line {lines[-1].lineno})" if lines else ""
    return f"{type(exc).__name__}: {text}{where}"


def stand_in(step: str, name: str, error: str) -> Callable[..., Any]:
    """A function named ``name`` that raises :class:`StepDoesNotImport` when called."""

    def does_not_import(*args: Any, **kwargs: Any) -> Any:
        raise StepDoesNotImport(step, error)

    does_not_import.__name__ = does_not_import.__qualname__ = name
    return does_not_import


class StepLoader:
    """Runs a step file; if that raises, leaves a module of stand-ins in its place."""

    def __init__(self, loader: Any, step: str) -> None:
        self.loader = loader  # the loader Python would have used
        self.step = step  # "06"
        self.error = ""  # why the step file does not import

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ...
        return getattr(self.loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__.pop("__getattr__", None)  # a reload after a fix starts clean
        try:
            self.loader.exec_module(module)
        except Exception as exc:
            self.error = import_error_text(exc, module.__file__ or "")
            # Whatever ran before the error goes too: a step that does not import
            # fails as a whole, as it does in the grader.
            for name in [n for n in vars(module) if not n.startswith("__")]:
                delattr(module, name)
            module.__getattr__ = self.stand_in_for

    def stand_in_for(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):  # __path__, __wrapped__, ...: not a step's name
            raise AttributeError(name)
        return stand_in(self.step, name, self.error)


class StepFinder(importlib.abc.MetaPathFinder):
    """Finds ``<package>.stepNN_*`` as Python would, and loads it with a StepLoader."""

    def __init__(self, package: str, folder: Path) -> None:
        self.package = package
        self.folder = folder.resolve()

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        parent, _, name = fullname.rpartition(".")
        match = STEP_MODULE.match(name)
        if parent != self.package or not match:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if not (spec.loader and spec.origin and Path(spec.origin).resolve().parent == self.folder):
            return spec
        spec.loader = StepLoader(spec.loader, match.group(1))
        return spec


# --------------------------------------------------------------------------- one line


def first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """Keep the start (what went wrong) and the end (the hint) of a long message."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    return text[: limit - tail - 5] + " ... " + text[-tail:]


def failure_message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """The test's own message: its first line, without pytest's ``assert ... where``."""
    exc = excinfo.value
    text = first_line(str(exc))
    if isinstance(exc, AssertionError):
        if text and not text.startswith("assert "):
            return text  # the message the test wrote
        # A bare ``assert``: show the statement, and what pytest saw if it says more.
        try:
            statement = " ".join(str(excinfo.traceback[-1].statement).split())
        except Exception:  # no source to show
            statement = text or "assert"
        seen = re.fullmatch(r"assert (tensor\()?(False|True)\)?", text)
        return statement if seen or not text or text == statement else f"{statement} ({text})"
    if isinstance(exc, pytest.fail.Exception):  # pytest.fail, pytest.raises: DID NOT RAISE
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class Failure:
    kind: str  # "failed", "not written" (a stub), "does not import" (a broken step)
    line: str = ""  # the one line printed for a "failed"
    name: str = ""  # "softmax": the stub not written yet
    broken_step: str = ""  # "06": the step that does not import
    error: str = ""  # why it does not import: "SyntaxError: ..."


# --------------------------------------------------------------------------- the plugin


@dataclass
class StepTally:
    module: str  # "step03_normalization"
    selected: int = 0
    passed: int = 0
    failing: int = 0  # checks that failed, for any reason
    not_run: int = 0  # skipped, or after -x stopped the run
    failed: int = 0  # failures that printed their own line
    not_written: list[str] = field(default_factory=list)
    needs: dict[str, str] = field(default_factory=dict)  # steps that do not import: why
    test_file_error: str = ""

    @property
    def title(self) -> str:
        return self.module.split("_", 1)[1].replace("_", " ") if "_" in self.module else ""


class StudentFeedback:
    """The pytest plugin. ``brief``: the one-line report; else pytest's own plus the summary."""

    def __init__(self, config: pytest.Config, folder: Path, package: str) -> None:
        self.config = config
        self.folder = folder.resolve()
        self.package = package
        self.ours = all(self._inside(arg) for arg in config.args)
        asked_for_detail = (
            config.option.verbose > 0
            or config.option.tbstyle != "auto"
            or any(a.startswith("--tb") for a in config.invocation_params.args)
            or config.option.fulltrace
            or config.option.showlocals
            or config.option.collectonly
        )
        self.brief = self.ours and not asked_for_detail
        self.finder = StepFinder(package, self.folder)
        self.failures: dict[str, list[Failure]] = {}  # nodeid -> its failures
        self.passed: set[str] = set()
        self.items: list[pytest.Item] = []
        self.test_file_errors: dict[str, str] = {}  # step -> one line
        self.started = time.time()
        if self.ours:
            sys.meta_path.insert(0, self.finder)
            # A test file that does not import is one line, not the end of the session.
            config.option.continue_on_collection_errors = True
        if self.brief:
            config.option.verbose = -2  # no header, no progress letters, no counts
            config.option.no_summary = True  # no FAILURES, no short test summary

    def _inside(self, arg: str) -> bool:
        path = Path(self.config.invocation_params.dir, arg.split("::")[0]).resolve()
        return path == self.folder or self.folder in path.parents

    def pytest_unconfigure(self) -> None:
        if self.finder in sys.meta_path:
            sys.meta_path.remove(self.finder)

    # ----------------------------------------------------------------- what happened

    def _step_of(self, path: Path) -> str | None:
        match = TEST_FILE.match(path.name)
        return match.group(1) if match and path.resolve().parent == self.folder else None

    def _module_name(self, step: str) -> str:
        found = sorted(self.folder.glob(f"step{step}_*.py"))
        return found[0].stem if found else f"step{step}"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        step = self._step_of(item.path)
        if report.failed and call.excinfo is not None and step is not None:
            failure = self._failure(item, call.excinfo, step)
            self.failures.setdefault(item.nodeid, []).append(failure)
            if failure.kind == "not written":  # a stub: its message says it all
                report.longrepr = f"{call.excinfo.value} (see {self._module_name(step)}.py)"
        return report

    def _failure(
        self, item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException], step: str
    ) -> Failure:
        exc = excinfo.value
        not_written = NOT_WRITTEN.match(str(exc)) if isinstance(exc, NotImplementedError) else None
        if not_written:
            name = not_written.group(2)
            if not_written.group(1) != step:
                name += f" (step {not_written.group(1)})"
            return Failure("not written", name=name)
        if isinstance(exc, StepDoesNotImport):
            return Failure("does not import", broken_step=exc.step, error=exc.error)
        module = sys.modules.get(f"{self.package}.{self._module_name(step)}")
        name, defined_at = self._function_under_test(item, module)
        where = self._student_line(excinfo) or defined_at or self._test_line(item, excinfo)
        path, line = where
        location = f"{os.path.relpath(path, self.config.invocation_params.dir)}:{line}"
        text = shorten(failure_message(excinfo))
        return Failure("failed", line=f"step {step} {name}: {text} ({location})")

    def _function_under_test(
        self, item: pytest.Item, module: types.ModuleType | None
    ) -> tuple[str, tuple[Path, int] | None]:
        """The longest public name of the step that the test's name starts with, and
        where it is defined; else the test's name in words."""
        test = getattr(item, "originalname", item.name).removeprefix("test_").lower()
        names = [
            name
            for name, obj in (vars(module).items() if module else ())
            if not name.startswith("_")
            and callable(obj)
            and getattr(obj, "__module__", None) == module.__name__
            and (test == name.lower() or test.startswith(name.lower() + "_"))
        ]
        if not names:
            return test.replace("_", " "), None
        name = max(names, key=len)
        try:
            obj = getattr(module, name)
            return name, (Path(inspect.getsourcefile(obj) or ""), inspect.getsourcelines(obj)[1])
        except (OSError, TypeError):
            return name, None

    def _student_line(
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> tuple[Path, int] | None:
        """The last line of a step file in the traceback: your code. A test that turns
        your error into its own message keeps yours as the cause: look there too."""
        exc: BaseException | None = excinfo.value
        while exc is not None:
            for frame in reversed(traceback.extract_tb(exc.__traceback__)):
                path = Path(frame.filename)
                if STEP_MODULE.match(path.stem) and path.resolve().parent == self.folder:
                    return path, frame.lineno or 0
            exc = exc.__cause__
        return None

    def _test_line(
        self, item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> tuple[Path, int]:
        for entry in reversed(excinfo.traceback):
            if Path(entry.path) == item.path:
                return item.path, entry.lineno + 1
        return item.path, (item.location[1] or 0) + 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        path = Path(self.config.rootpath, report.nodeid.split("::")[0])
        step = self._step_of(path)
        if not report.failed or step is None or not self.ours:
            return
        errors = [line[1:].strip() for line in str(report.longrepr).splitlines()]
        errors = [e for e in errors if re.match(r"^\w+(Error|Exception)\b", e)]
        why = errors[-1] if errors else first_line(str(report.longrepr))
        missing = re.match(r"ImportError: cannot import name '(\w+)' from '[\w.]*\.(step\w+)'", why)
        if missing:  # the test file asks for a function the step file no longer has
            name, module = missing.groups()
            why = f"{module}.py has no {name}: keep the names of the functions as given"
        else:
            why = f"{path.name} does not import: {why}"
        self.test_file_errors[step] = shorten(why)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.passed:
            self.passed.add(report.nodeid)
        if self.brief and report.failed:
            for failure in self.failures.get(report.nodeid, []):
                if failure.kind == "failed" and failure.line:
                    self._write(failure.line, red=True)
                    failure.line = ""  # printed

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        if not self.brief:
            return None
        if report.when != "call" and report.passed:
            return "", "", ""
        category = "error" if report.failed and report.when != "call" else report.outcome
        return category, "", ""  # no letter, no word: nothing printed per test

    # ----------------------------------------------------------------- the summary

    def _write(self, line: str, **markup: bool) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(line, **markup)

    def tallies(self) -> dict[str, StepTally]:
        """Per step, in order: how many checks were selected, passed, and why some failed."""
        steps: dict[str, StepTally] = {}

        def tally(step: str) -> StepTally:
            return steps.setdefault(step, StepTally(self._module_name(step)))

        for item in self.items:
            step = self._step_of(item.path)
            if step is None:
                continue
            t = tally(step)
            t.selected += 1
            failures = self.failures.get(item.nodeid, [])
            if failures:
                t.failing += 1
            elif item.nodeid in self.passed:
                t.passed += 1
            else:
                t.not_run += 1
            for f in failures:
                if f.kind == "not written" and f.name not in t.not_written:
                    t.not_written.append(f.name)
                if f.kind == "does not import":
                    t.needs[f.broken_step] = f.error
                if f.kind == "failed":
                    t.failed += 1
        for step, error in self.test_file_errors.items():
            tally(step).test_file_error = error
        return dict(sorted(steps.items()))

    def summary_lines(self) -> list[str]:
        steps = self.tallies()
        width = max((len(t.title) for t in steps.values()), default=0)
        lines = []
        for step, t in steps.items():
            reasons = []
            if t.test_file_error:
                reasons.append(t.test_file_error)
            if step in t.needs:
                reasons.append(f"your file does not import: {t.needs[step]}")
            reasons += [f"needs step {s}, which does not import" for s in t.needs if s != step]
            if t.not_written:
                reasons.append("not written yet: " + ", ".join(t.not_written))
            if t.not_run:
                reasons.append(f"{t.not_run} not run")
            line = f"step {step}  {t.title:<{width}}  "
            line += f"{t.passed}/{t.selected} checks pass" if t.selected else "no checks ran"
            lines.append(line + (": " + "; ".join(reasons) if reasons else ""))
        lines.append(self.closing_line(steps))
        figures = self.folder / "figures"
        drawn = [p for p in figures.glob("*.png") if p.stat().st_mtime >= self.started - 1]
        if drawn:
            where = os.path.relpath(figures, self.config.invocation_params.dir)
            lines.append(f"your code drew {len(drawn)} figures: open the PNG files in {where}/")
        return lines

    def closing_line(self, steps: dict[str, StepTally]) -> str:
        total = sum(t.selected for t in steps.values())
        if not steps:
            return "no checks ran: did -m or -k select nothing?"
        todo = [s for s, t in steps.items() if t.failing or t.test_file_error]
        if not todo:
            ran = sum(t.passed for t in steps.values())
            if ran < total:
                return f"{ran} of {total} checks ran, and pass"
            return f"all {total} checks pass: well done!"
        step, t = todo[0], steps[todo[0]]
        file = os.path.relpath(self.folder / f"{t.module}.py", self.config.invocation_params.dir)
        if t.passed == 0 and t.not_written and not (t.failed or t.needs or t.test_file_error):
            return (
                f"start with step {step}: open {file}, write {', '.join(t.not_written)}, "
                f"then run {self._pytest_command()} -m step{step}"
            )
        more = ", add -v for pytest's full report" if self.brief else ""
        return (
            f"work on step {step} next ({file}): "
            f"{self._pytest_command()} -m step{step} runs its checks alone{more}"
        )

    def _pytest_command(self) -> str:
        """``pytest exercises``, or ``pytest`` when run from inside the folder."""
        where = os.path.relpath(self.folder, self.config.invocation_params.dir)
        return "pytest" if where == "." else f"pytest {where}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.ours or self.config.option.collectonly:
            return
        if not self.brief:
            terminalreporter.write_sep("=", "steps")
        for line in self.summary_lines():
            terminalreporter.write_line(line)
