"""A step file that does not import costs its own step only (grader/submission/placeholders.py).

Step 07 imports step 06's ``create_model``; its ``sgd_step`` and ``fit`` never use it. These
tests import real submissions in this process (DirectSubmission); the sandboxed route is
checked against this one in tests/kit/e2e/test_placeholders.py.
"""

import sys

import pytest

from grader.submission.direct import DirectSubmission
from grader.submission.placeholders import PlaceholderFinder
from grader.submission.protocol import SubmissionError
from tests.kit.submission_files import reference, submission_with

STEP06, STEP07 = "step06_create_model", "step07_train_loop"
BROKEN_06 = {
    "syntax": (
        reference(STEP06).replace("def create_model(N):", "def create_model(N)"),
        "SyntaxError",
    ),
    # create_model is defined before the error: half a module must not survive.
    "raises": (reference(STEP06) + "\nraise RuntimeError('my bad')\n", "RuntimeError: my bad"),
    "exits": (reference(STEP06) + "\nimport sys\nsys.exit(3)\n", "SystemExit: 3"),
    "missing": (None, f"there is no {STEP06}.py"),
}


@pytest.fixture(params=sorted(BROKEN_06))
def broken(request, tmp_path):
    text, reason = BROKEN_06[request.param]
    files = {"mnist.py": reference("mnist"), f"{STEP07}.py": reference(STEP07)}
    if text is not None:
        files[f"{STEP06}.py"] = text
    sub = DirectSubmission(submission_with(tmp_path, "student", files))
    yield sub, reason, request.param
    sub.close()


def test_the_step_that_imports_a_broken_one_still_imports(broken):
    sub, reason, kind = broken
    step07 = getattr(sub, STEP07)  # imports step 06 first: no error here
    import torch

    p = torch.ones(3, requires_grad=True)
    (p * p).sum().backward()
    step07.sgd_step([p], 0.5)  # needs nothing of step 06
    assert torch.equal(p.detach(), torch.zeros(3))
    with pytest.raises(ImportError) as info:
        step07.train(Nsteps=1)
    assert str(info.value).startswith("step 06 does not import (")
    assert reason in str(info.value) and "create_model cannot be used" in str(info.value)
    if kind != "missing":  # the broken step itself still fails to import, saying why
        with pytest.raises(SubmissionError, match=f"{STEP06}.py failed to import: .*{reason}"):
            getattr(sub, STEP06)


def test_a_syntax_error_names_its_line(tmp_path):
    files = {f"{STEP06}.py": BROKEN_06["syntax"][0]}
    sub = DirectSubmission(submission_with(tmp_path, "student", files))
    try:
        with pytest.raises(SubmissionError, match=rf"\({STEP06}.py, line \d+\)"):
            getattr(sub, STEP06)
    finally:
        sub.close()


def test_a_working_step_is_imported_as_it_is(tmp_path):
    files = {n: reference(n.removesuffix(".py")) for n in ("mnist.py", f"{STEP06}.py")}
    sub = DirectSubmission(submission_with(tmp_path, "student", files))
    try:
        assert getattr(sub, STEP06).create_model(5) is not None
    finally:
        sub.close()


def test_close_takes_the_finder_away(tmp_path):
    before = list(sys.meta_path)
    sub = DirectSubmission(submission_with(tmp_path, "student", {"mnist.py": reference("mnist")}))
    assert len(sys.meta_path) == len(before) + 1
    sub.close()
    assert sys.meta_path == before


def test_a_placeholder_answers_probes_as_a_plain_module_does(tmp_path, monkeypatch):
    """inspect and torch look up ``__file__`` or ``__wrapped__`` on whatever they meet: a
    placeholder answers those as a module without them does, with AttributeError."""
    import importlib
    import inspect

    (tmp_path / "probed").mkdir()
    (tmp_path / "probed" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = PlaceholderFinder("probed")
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    try:
        module = importlib.import_module(f"probed.{STEP06}")  # there is no such file
        assert finder.failure(module) is not None
        assert getattr(module, "__file__", None) is None
        assert not hasattr(module.create_model, "__wrapped__")
        assert inspect.unwrap(module.create_model) is module.create_model
        with pytest.raises(ImportError, match="there is no step06_create_model.py"):
            module.create_model(3)
    finally:
        for name in [m for m in sys.modules if m == "probed" or m.startswith("probed.")]:
            del sys.modules[name]
