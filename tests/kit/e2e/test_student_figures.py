"""The visible tests save what the student's code drew or learned in ``exercises/figures/``:
a PNG for every drawing and training function once it works, none while it is a stub;
the folder stays out of the release, the stubs and git (solutions/conftest.py)."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.image import imread

from grader.distribute import release, stubs
from grader.grading import runner
from tests.kit.submission_files import KIT_ROOT, student_env

# Each figure and the function whose work it shows.
FIGURES = {
    "step01_plot": "plot",
    "step01_plot_probs": "plot_probs",
    "step01_plot_grid": "plot_grid",
    "step02_plot_exp": "plot_exp",
    "step07_train_loss": "train (its printed losses)",
    "step07_fit_loss": "fit",
    "step10_train_autoencoder_loss": "train_autoencoder",
    "step10_reconstructions": "train_autoencoder (the trained AE on ten digits)",
    "step11_train_rnn_loss": "train_rnn",
    "step11_rnn_prediction": "train_rnn (the trained RNN against the series)",
    "step12_train_model_rings": "train_model",
    "step13_train_with_validation_loss": "train_with_validation",
    "step13_plot_history": "plot_history",
}


def _student_copy(released, work, answered):
    """A copy of the release whose files of the steps in ``answered`` hold the reference."""
    out, _ = released
    shutil.copytree(out, work, ignore=shutil.ignore_patterns(".git", "data_cache"))
    (work / "data_cache").symlink_to(out / "data_cache")
    for step in answered:
        shutil.copyfile(KIT_ROOT / "solutions" / f"{step}.py", work / "exercises" / f"{step}.py")
    return work


def _pytest_exercises(work):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider"],
        cwd=work,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    figures = work / "exercises" / "figures"
    written = {p.stem for p in figures.glob("*.png")} if figures.is_dir() else set()
    return proc, written


@pytest.fixture(scope="module")
def answered_run(released, tmp_path_factory):
    """``pytest exercises`` once on a release holding every reference answer."""
    answers = [p.stem for p in (KIT_ROOT / "solutions").glob("step*.py")]
    work = _student_copy(released, tmp_path_factory.mktemp("figures") / "student", answers)
    proc, written = _pytest_exercises(work)
    return work, proc, written


@pytest.mark.timeout(600)
def test_every_drawing_and_training_function_leaves_a_png(answered_run):
    work, proc, written = answered_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    missing = {f"{name}.png ({FIGURES[name]})" for name in FIGURES if name not in written}
    assert not missing, f"no figure in exercises/figures/ for: {sorted(missing)}"
    assert written == set(FIGURES), f"figures nobody listed: {sorted(written - set(FIGURES))}"
    for name in FIGURES:
        image = imread(work / "exercises" / "figures" / f"{name}.png")  # decodes the PNG
        height, width = image.shape[:2]
        assert 100 <= width <= 1200 and 100 <= height <= 1200, f"{name}.png is {width}x{height}"
        assert np.ptp(image[..., :3]) > 0.2, f"{name}.png is blank"


@pytest.mark.timeout(600)
def test_a_function_not_implemented_leaves_no_figure(released, tmp_path):
    # Step 01 answered, step 07 too; step 07's train calls step 06's create_model, still a
    # stub, so train fails and leaves no figure while fit (given a model) leaves its own.
    work = _student_copy(released, tmp_path / "student", ["step01_plotting", "step07_train_loop"])
    proc, written = _pytest_exercises(work)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert written == {"step01_plot", "step01_plot_probs", "step01_plot_grid", "step07_fit_loss"}


def test_figures_stay_out_of_git_the_release_and_the_stubs(released, budgets, tmp_path):
    out, written = released
    assert not [w for w in written if "figures" in w]
    for path in ("exercises/figures/step01_plot.png", "figures/step01_plot.png"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=out, env=env)
        assert ignored.returncode == 0, f"the release's .gitignore should ignore {path}"
    kit = tmp_path / "kit"
    for folder in ("solutions", "exercises"):
        shutil.copytree(
            KIT_ROOT / folder, kit / folder, ignore=shutil.ignore_patterns("__pycache__", "figures")
        )
        (kit / folder / "figures").mkdir()
        (kit / folder / "figures" / "step01_plot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    shutil.copyfile(KIT_ROOT / "pyproject.toml", kit / "pyproject.toml")
    (kit / "data_cache").symlink_to(KIT_ROOT / "data_cache")
    assert stubs.check(kit / "solutions", kit / "exercises") == []
    stubs.write(kit / "solutions", kit / "exercises")
    assert (kit / "exercises" / "figures" / "step01_plot.png").exists(), "stubs deleted figures/"
    files = release.release(tmp_path / "out", kit_root=kit, budgets=budgets)
    assert not [f for f in files if "figures" in f]
    assert not (tmp_path / "out" / "exercises" / "figures").exists()


def test_the_hidden_suites_never_write_figures():
    # The grader's pytest reads no conftest.py, so the fixtures that save figures do not
    # exist there, and no hidden test asks for them.
    assert "--noconftest" in runner.pytest_options()
    for test in (KIT_ROOT / "tests" / "hidden").rglob("*.py"):
        text = test.read_text()
        for fixture in ("save_figure", "save_curves", "save_digits", "figures/"):
            assert fixture not in text, f"{test.name} uses {fixture}"
