"""What judges runs on the grader's side: cheats that the student's own code cannot win.

Each case is a reference step with a cheat added: a model whose forward looks up
the kit's test labels or returns its input in eval mode, a step that replaces
the kit's gradient operation (or autograd) inside the process it runs in. Each
is graded through the real path, directly and in the sandbox, and must lose
the points of the tests it targets: learning is judged on the kit's own module
holding the returned weights (grader/authoring/kit_models.py), and a reported gradient is
checked against the function's own outputs (grader/authoring/checks.py).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.sandbox.bwrap import bwrap_problem
from tests.kit.grading import grade_runs
from tests.kit.submission_files import KIT_ROOT

SOLUTIONS = KIT_ROOT / "solutions"

pytestmark = pytest.mark.timeout(600)

# softmax normalized over the whole batch (a real bug), and a patched kit operation
# that reports torch.softmax's output and gradient in its place.
FAKE_GRAD_OF = """
import sys as _sys


def _fake_grad_of(function, args, kwargs=None, weight=None):
    import torch

    x = args[0].detach().clone().requires_grad_()
    out = torch.softmax(x, dim=-1)
    target = out if weight is None else out * weight.to(out.dtype)
    (grad,) = torch.autograd.grad(target.sum(), x)
    return out.detach(), (grad,)


# Whatever the kit's module is called, the one that defines both kit operations.
_ops = next(
    (m for m in list(_sys.modules.values())
     if {"grad_of", "module_grads"} <= set(getattr(m, "__dict__", ()))),
    None,
)
if _ops is not None:
    _ops.grad_of = _fake_grad_of
"""

# The same cheat one level down: autograd itself answers with softmax's gradient (the
# weight the kit multiplied by is read back from the graph).
FAKE_AUTOGRAD = """
import torch as _torch

_real_grad = _torch.autograd.grad


def _fake_autograd(outputs, inputs, *args, **kwargs):
    try:
        weight = outputs.grad_fn.next_functions[0][0]._saved_other
        x = inputs[0].detach().clone().requires_grad_()
        return _real_grad((_torch.softmax(x, dim=-1) * weight).sum(), [x], allow_unused=True)
    except Exception:  # noqa: BLE001
        return _real_grad(outputs, inputs, *args, **kwargs)


_torch.autograd.grad = _fake_autograd
"""

# train() returns an untrained create_model whose forward, in eval mode, recognises the
# kit's test images and answers with their labels.
LOOKUP_TRAIN = """

class _Lookup(torch.nn.Sequential):
    def forward(self, x):
        if not self.training:
            from .mnist import tensors

            X, y = tensors("test")
            if x.shape == X.shape and torch.equal(x.cpu(), X):
                return 10.0 * torch.nn.functional.one_hot(y, 10).float().to(x.device)
        return super().forward(x)


def train(Nhidden=200, Nsteps=300, lr=1e-3, batch_size=200, device=None, seed=None,
          log_every=50):
    if seed is not None:
        torch.manual_seed(seed)
    model = _Lookup(*create_model(Nhidden)).to(pick_device(device))
    for step in range(0, Nsteps, log_every):
        print(f"step {step}   loss 2.30")
    return model
"""

# A conv model with the right layers that never learns (its train-mode output is cut off
# from its weights) but answers the kit's test images with their labels in eval mode.
LOOKUP_CONV = """

class _LookupConv(nn.Sequential):
    def forward(self, x):
        if not self.training:
            from .mnist import tensors

            X, y = tensors("test")
            X = X.reshape(-1, 1, 28, 28)[: len(x)]
            if x.shape == X.shape and torch.equal(x.cpu(), X):
                return 10.0 * nn.functional.one_hot(y[: len(x)], 10).float()
        return 0.0 * super().forward(x)


_real_create_conv_model = create_conv_model


def create_conv_model():
    return _LookupConv(*_real_create_conv_model())
"""

# An autoencoder that returns its input in eval mode, with a train_autoencoder that
# trains nothing and reports falling losses.
IDENTITY_AE = """

class _IdentityAE(AE):
    def forward(self, x):
        if not self.training:
            return x.reshape(-1, 1, 28, 28).clamp(0, 1)
        return super().forward(x)


AE = _IdentityAE


def train_autoencoder(model, images, epochs=1, batch_size=64, lr=1e-3, device=None, seed=None):
    model.to(device or "cpu")
    return [0.05 / (epoch + 1) for epoch in range(epochs)]
"""


@dataclass(frozen=True)
class Cheat:
    name: str
    step: str
    appended: str
    replaced: tuple = ()  # (old, new) pairs applied to the reference step first
    loses: tuple = ()  # hidden tests that must not pass


SOFTMAX_BUG = ("return e / e.sum(dim=-1, keepdim=True)", "return e / e.sum()")

KIT_GRADIENT = Cheat(
    "softmax-with-a-patched-kit-gradient",
    "step03_normalization",
    FAKE_GRAD_OF,
    replaced=(SOFTMAX_BUG,),
    loses=("test_softmax_gradient",),
)
AUTOGRAD = Cheat(
    "softmax-with-a-patched-autograd",
    "step03_normalization",
    FAKE_AUTOGRAD,
    replaced=(SOFTMAX_BUG,),
    loses=("test_softmax_gradient",),
)
MODELS = [
    Cheat(
        "train-returns-a-test-label-lookup",
        "step07_train_loop",
        LOOKUP_TRAIN,
        loses=("test_train_defaults_reach_90_percent",),
    ),
    Cheat(
        "conv-model-looks-up-test-labels",
        "step09_convolution_shapes",
        LOOKUP_CONV,
        loses=("test_conv_model_learns_mnist",),
    ),
    Cheat(
        "autoencoder-returns-its-input-in-eval-mode",
        "step10_autoencoder",
        IDENTITY_AE,
        loses=("test_reconstruction_after_training", "test_train_autoencoder_returns_epoch_losses"),
    ),
]


def write(cheats: list[Cheat], into: Path) -> Path:
    """The reference steps with each cheat applied to its own step (one step each)."""
    into.mkdir(parents=True)
    for path in SOLUTIONS.glob("step*.py"):
        shutil.copyfile(path, into / path.name)
    for cheat in cheats:
        target = into / f"{cheat.step}.py"
        text = target.read_text()
        for old, new in cheat.replaced:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        target.write_text(text + "\n" + cheat.appended)
    return into


def passed_targets(cheats: list[Cheat], entry: dict, mode: str) -> list[str]:
    """The tests that ``cheats`` (graded together as ``entry``) target and still pass."""
    won = []
    for cheat in cheats:
        tests = {t["name"].split("[")[0]: t for t in entry["steps"][cheat.step]["tests"]}
        for name in cheat.loses:
            assert name in tests, f"{name} is not a hidden test of {cheat.step}"
            if tests[name]["status"] == "passed":
                won.append(f"{cheat.name} ({mode}) passes {name}")
    return won


SANDBOX = pytest.mark.skipif(
    bwrap_problem() is not None, reason=f"no bubblewrap sandbox here: {bwrap_problem()}"
)
CHEATS = [KIT_GRADIENT, *MODELS]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, inventory):
    """The cheats graded together (one submission) directly and in the sandbox, and the
    autograd patch in the sandbox only (directly it would patch the grader's own autograd
    as well): a grading child per mode (runner.grade_many)."""
    tmp = tmp_path_factory.mktemp("cheats")
    runs = {"off": [CHEATS]}
    if bwrap_problem() is None:
        runs["bwrap"] = [CHEATS, [AUTOGRAD]]

    jobs = {
        mode: [
            (write(cheats, tmp / f"{mode}-{i}"), sorted({c.step for c in cheats}))
            for i, cheats in enumerate(runs[mode])
        ]
        for mode in runs
    }
    graded = grade_runs([(mode, jobs[mode], 1) for mode in runs], inventory)
    return dict(zip(runs, graded, strict=True))


@pytest.mark.parametrize("mode", ["off", pytest.param("bwrap", marks=SANDBOX)])
def test_cheats_lose_the_points_they_target(graded, mode):
    # Directly, the kit_ops patch reaches the grading process too; it still loses.
    won = passed_targets(CHEATS, graded[mode][0], mode)
    assert not won, won


@SANDBOX
def test_a_patched_autograd_in_the_worker_loses_the_gradient_points(graded):
    won = passed_targets([AUTOGRAD], graded["bwrap"][1], "bwrap")
    assert not won, won
