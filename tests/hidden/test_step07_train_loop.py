"""Hidden tests of step 07: train, sgd_step, fit.

``train`` builds its model with step 06's ``create_model``; these tests judge the
loop itself (the accuracy it reaches, its log, its seed), and ``sgd_step`` and
``fit`` get models built here from torch.nn built-in layers, so that a bug in
step 06 costs no points here. (A ``create_model`` without its ReLU still reaches
about 0.91 with the defaults and the seed below, measured on the reference.)
"""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.authoring import checks, kit_models
from grader.authoring.kit_mnist import mnist

pytestmark = pytest.mark.step07
STEP = "step07_train_loop"
TRAIN_SEED = 1
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def state(model):
    return {k: v.detach().to("cpu", torch.float64).clone() for k, v in model.state_dict().items()}


def same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def mlp(n_in, n_hidden, n_out, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))


def check_on_device(model, device, what):
    kinds = {p.device.type for p in model.parameters()}
    if kinds != {torch.device(device).type}:
        checks.fail(
            f"{what}: the model's parameters should be on {device!r}, found them on {sorted(kinds)}"
        )


def check_losses(losses, epochs, what):
    if not isinstance(losses, list) or len(losses) != epochs:
        checks.fail(
            f"{what} should return a list of {epochs} mean losses (one per epoch), got "
            f"{checks.describe(losses)}"
        )
    for i, loss in enumerate(losses):
        # A Python float, or numpy.float64 (a float too, as STEPS.md allows).
        checks.python_float(
            float(loss) if isinstance(loss, float) else loss,
            f"{what}: the loss of epoch {i}",
            low=0.0,
        )
    return [float(loss) for loss in losses]


def printed_losses(out):
    """The last number of each printed line with two or more (the loss of a log line)."""
    return [
        float(NUMBER.findall(line)[-1])
        for line in out.splitlines()
        if len(NUMBER.findall(line)) >= 2
    ]


# --- train ----------------------------------------------------------------------------


@pytest.mark.points(4)
@pytest.mark.training
@pytest.mark.timeout(45)
def test_train_defaults_reach_90_percent(submission, device, capsys, keep_artifact):
    model = submission.step07_train_loop.train(device=device, seed=TRAIN_SEED)
    keep_artifact("the loss train() printed", "curve", printed_losses(capsys.readouterr().out))
    # What the model learned is judged on the kit's own create_model(200), holding the
    # returned weights: the returned model's forward never sees the test set.
    kit = kit_models.mlp(
        kit_models.state_of(model, "the model train() returns"),
        784,
        200,
        10,
        "the model train() returns (create_model(200))",
    )
    X, y = mnist.tensors("test")
    kit.eval()
    with torch.no_grad():
        logits = checks.tensor(
            kit(X), "the trained weights' logits on the test set", shape=(10000, 10)
        )
    keep_artifact("train()'s model on the test set", "classification", (X, y, logits.argmax(1)))
    acc = (logits.argmax(dim=1) == y).double().mean().item()
    if acc < 0.90:
        checks.fail(
            f"train() with its defaults reached {acc:.3f} accuracy on the MNIST test "
            "set; it should reach at least 0.90 (300 Adam steps on random batches of "
            "200: forward, cross-entropy, backward, step, zero the gradients)"
        )


@pytest.mark.points(1)
@pytest.mark.training
@pytest.mark.timeout(20)
@pytest.mark.parametrize("log_every", [5, 7])
def test_train_prints_step_and_loss(submission, device, capsys, log_every):
    steps = 21
    capsys.readouterr()
    submission.step07_train_loop.train(
        Nhidden=16, Nsteps=steps, device=device, seed=0, log_every=log_every
    )
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if len(NUMBER.findall(line)) >= 2]
    n = steps // log_every
    if len(lines) not in (n, n + 1):
        checks.fail(
            f"train(Nsteps={steps}, log_every={log_every}) should print the step and the "
            f"loss every {log_every} steps ({n} or {n + 1} lines with both numbers), "
            f"printed {len(lines)} such line(s)"
        )
    numbers = [NUMBER.findall(line) for line in lines]
    gaps = {float(b[0]) - float(a[0]) for a, b in zip(numbers, numbers[1:], strict=False)}
    if gaps - {float(log_every)}:
        checks.fail(
            f"each log line should start with the step number, {log_every} steps apart; "
            f"the first numbers of the lines were {[nums[0] for nums in numbers]}"
        )
    losses = [float(nums[-1]) for nums in numbers]
    if not all(0.0 < loss < 10.0 for loss in losses):
        checks.fail(
            f"the last number of each log line should be the loss (a cross-entropy near "
            f"2.3 at the start, then lower), got {losses}"
        )


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(20)
def test_train_seed_and_device(submission, device, capsys):
    train = submission.step07_train_loop.train
    first = train(Nhidden=16, Nsteps=10, device=device, seed=5, log_every=100)
    check_on_device(first, device, f"train(device={device!r})")
    again = train(Nhidden=16, Nsteps=10, device=device, seed=5, log_every=100)
    other = train(Nhidden=16, Nsteps=10, device=device, seed=6, log_every=100)
    capsys.readouterr()
    if not same_state(state(first), state(again)):
        checks.fail(
            "train(seed=5) twice gave two different models; call torch.manual_seed(seed) "
            "at the start, before create_model and the batches"
        )
    if same_state(state(first), state(other)):
        checks.fail(
            "train(seed=5) and train(seed=6) gave the same model: use the seed you are given"
        )


# --- sgd_step -------------------------------------------------------------------------


def leaves_with_grads(seed=0):
    g = torch.Generator().manual_seed(seed)
    params = [
        torch.randn(4, 3, generator=g, dtype=torch.float64, requires_grad=True),
        torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True),
    ]
    x = torch.randn(5, 4, generator=g, dtype=torch.float64)
    loss = torch.tanh(x @ params[0] + params[1]).pow(2).sum()
    loss.backward()
    return params


@pytest.mark.points(2)
@pytest.mark.parametrize("lr", [0.1, 0.5])
def test_sgd_step_updates_in_place(submission, lr):
    params = leaves_with_grads()
    before = [p.detach().clone() for p in params]
    grads = [p.grad.clone() for p in params]
    submission.step07_train_loop.sgd_step(params, lr)  # what it returns is not in the contract
    for i, p in enumerate(params):
        if not (p.is_leaf and p.requires_grad and p.grad_fn is None):
            checks.fail(
                "after sgd_step every parameter should still be a leaf tensor that "
                "requires grad; do the update inside `with torch.no_grad():` with -="
            )
        checks.close(
            p,
            before[i] - lr * grads[i],
            f"parameter {i} after sgd_step(params, {lr}) (p - lr * p.grad, in place)",
        )


@pytest.mark.points(3)
def test_sgd_step_zeroes_the_gradients(submission):
    params = leaves_with_grads(seed=1)
    submission.step07_train_loop.sgd_step(params, 0.1)
    for i, p in enumerate(params):
        if p.grad is not None and p.grad.abs().max().item() != 0:
            checks.fail(
                f"after sgd_step the gradient of parameter {i} is not zero: backward() "
                "adds to .grad, so zero it (p.grad.zero_()) after the update, or the next "
                "step would use the sum of all gradients so far"
            )


@pytest.mark.points(2)
def test_sgd_step_on_model_parameters(submission):
    model = mlp(6, 5, 3)
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    F.cross_entropy(model(x), y).backward()
    expected = {name: (p - 0.2 * p.grad).detach().clone() for name, p in model.named_parameters()}
    submission.step07_train_loop.sgd_step(model.parameters(), 0.2)
    for name, p in model.named_parameters():
        checks.close(
            p,
            expected[name],
            f"{name} after sgd_step(model.parameters(), 0.2) (a generator: loop over it only once)",
        )
        if p.grad is not None and p.grad.abs().max().item() != 0:
            checks.fail(
                f"after sgd_step(model.parameters(), lr) the gradient of {name} is not "
                "zero (a generator can be looped over only once: update and zero in "
                "the same loop)"
            )


# --- fit --------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_fit_returns_the_mean_loss_of_each_epoch(submission, device):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(20, 5))
    X, y = torch.randn(96, 20), torch.randint(0, 5, (96,))
    with torch.no_grad():
        expected = F.cross_entropy(model(X), y).item()
    # lr=0 leaves the model as it is, so every epoch's mean loss is the loss on all of X.
    losses = check_losses(
        submission.step07_train_loop.fit(
            model, X, y, epochs=3, batch_size=32, lr=0.0, device=device, seed=0
        ),
        3,
        "fit(model, X, y, epochs=3)",
    )
    checks.close(
        torch.tensor(losses),
        torch.full((3,), expected),
        "fit's losses with lr=0 (each should be the mean cross-entropy over all "
        "examples of the epoch)",
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(20)
def test_fit_losses_go_down(submission, device, keep_artifact):
    X, y = mnist.tensors("train")
    X, y = X[:1024], y[:1024]
    model = mlp(784, 32, 10)
    with torch.no_grad():
        start = F.cross_entropy(model(X), y).item()
    losses = check_losses(
        submission.step07_train_loop.fit(
            model, X, y, epochs=3, batch_size=64, lr=1e-3, device=device, seed=0
        ),
        3,
        "fit(model, X, y, epochs=3)",
    )
    keep_artifact("fit(): the mean loss of each epoch", "curve", losses)
    if not (losses[2] < losses[1] < losses[0] < start):
        checks.fail(
            f"fit's mean losses per epoch should go down on 1024 MNIST images (from "
            f"{start:.3f} before training), got {[round(v, 3) for v in losses]}"
        )
    model.to("cpu")
    with torch.no_grad():
        after = F.cross_entropy(model(X), y).item()
    if not after < 0.8 * start:
        checks.fail(
            "after fit the model given to it should be trained (fit trains the model "
            "in place); its loss barely changed"
        )


@pytest.mark.points(2)
def test_fit_reshuffles_every_epoch(submission, device):
    # Two examples, one per batch: the final weights depend on the order of the 8 steps.
    # Reshuffled every epoch, 10 seeds give several different orders; shuffled once (or
    # never) there are at most two.
    X, y = torch.tensor([[1.0, -2.0, 0.5], [-1.0, 0.5, 2.0]]), torch.tensor([0, 1])
    torch.manual_seed(0)
    initial = nn.Linear(3, 2).state_dict()
    outcomes = []
    for seed in range(10):
        model = nn.Linear(3, 2)
        model.load_state_dict(initial)
        submission.step07_train_loop.fit(
            model, X, y, epochs=4, batch_size=1, lr=0.1, device=device, seed=seed
        )
        weights = model.state_dict().values()
        outcomes.append(torch.cat([v.detach().cpu().flatten() for v in weights]))
    distinct = []
    for w in outcomes:
        if not any(torch.allclose(w, d, atol=1e-6) for d in distinct):
            distinct.append(w)
    if len(distinct) < 3:
        checks.fail(
            "fit should visit the examples in a new random order every epoch (a new "
            "torch.randperm per epoch); with different seeds it always took the same "
            "order, or one order repeated in every epoch"
        )


@pytest.mark.points(2)
def test_fit_seed_and_device(submission, device):
    X, y = torch.randn(64, 10), torch.randint(0, 4, (64,))
    runs = []
    for seed in (7, 7, 8):
        model = mlp(10, 8, 4)
        losses = check_losses(
            submission.step07_train_loop.fit(
                model, X, y, epochs=2, batch_size=16, lr=1e-2, device=device, seed=seed
            ),
            2,
            "fit(model, X, y, epochs=2)",
        )
        check_on_device(model, device, f"fit(model, ..., device={device!r})")
        runs.append((losses, state(model)))
    if runs[0][0] != runs[1][0] or not same_state(runs[0][1], runs[1][1]):
        checks.fail(
            "fit with the same seed twice gave different results; call "
            "torch.manual_seed(seed) at the start"
        )
    if same_state(runs[0][1], runs[2][1]):
        checks.fail("fit with seeds 7 and 8 gave the same model: use the seed for the shuffling")
