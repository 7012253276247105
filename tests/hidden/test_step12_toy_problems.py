"""Hidden tests of step 12: the two-rings data, the damped sine, full-batch training."""

import numpy as np
import pytest
import torch
from torch import nn

from grader.authoring import checks

pytestmark = pytest.mark.step12
STEP = "step12_toy_problems"


def rings(n, seed):
    """The two-rings data made here (independent of the student's generator): features
    float64 ``(2n, 2)``, targets int64 ``(2n,)``, alternating 0, 1."""
    rng = np.random.default_rng(seed)
    radius = np.where(np.arange(2 * n) % 2 == 0, 0.0, 3.0) + rng.uniform(0, 1, 2 * n)
    angle = rng.uniform(0, 2 * np.pi, 2 * n)
    features = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return features, np.tile([0, 1], n).astype(np.int64)


def classifier(seed):
    """Three sigmoid hidden units and a sigmoid output, from torch.nn built-ins."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid())


def regressor(seed, hidden=32):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1)
    )


def copy_of(model, make, seed):
    """A second model of the same architecture with the same weights."""
    other = make(seed)
    other.load_state_dict({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
    return other


def float32(array) -> torch.Tensor:
    """Data as train_model receives it (STEPS.md, seed 002): a float32 tensor."""
    return torch.tensor(np.asarray(array), dtype=torch.float32)


def reference_run(model, features, target, lr, epochs, criterion, device):
    """Full-batch Adam in plain torch: the result the student's train_model must match."""
    model = model.to(device)
    X = torch.tensor(features, dtype=torch.float32, device=device)
    y = torch.tensor(target, dtype=torch.float32, device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        out = model(X)
        criterion(out, y.view_as(out)).backward()
        optimizer.step()
    return model.cpu()


def trained(result, what):
    """The model train_model returned: a module whose parameters sit on the CPU."""
    if result is None or isinstance(result, (torch.Tensor, np.ndarray)) or not callable(result):
        checks.fail(
            f"{what} should return the trained model (an nn.Module), got {checks.describe(result)}"
        )
    for name, p in result.named_parameters():
        if p.device.type != "cpu":
            checks.fail(
                f"{what} should return the model on the CPU; parameter {name} is on "
                f"{p.device} (hint: return model.cpu())"
            )
    return result


def ring_accuracy(model, features, target):
    with torch.no_grad():
        out = model(torch.tensor(features, dtype=torch.float32))
    checks.tensor(out, "the trained classifier's output", shape=(len(features), 1))
    return ((out[:, 0] > 0.5).long() == torch.as_tensor(target)).double().mean().item()


def binary_data(submission, n, seed):
    result = submission.step12_toy_problems.generate_binary_data(n, seed=seed)
    if not isinstance(result, tuple) or len(result) != 2:
        checks.fail(
            f"generate_binary_data should return a tuple (features, target), got "
            f"{checks.describe(result)}"
        )
    features, target = result
    for value, name, shape in ((features, "features", (2 * n, 2)), (target, "target", (2 * n,))):
        if not isinstance(value, np.ndarray):
            checks.fail(
                f"generate_binary_data's {name} should be a numpy array, got "
                f"{checks.describe(value)}"
            )
        if value.shape != shape:
            checks.fail(
                f"generate_binary_data({n})'s {name} should have shape {shape} "
                f"(N examples of each class), got {value.shape}"
            )
    if not np.isfinite(features).all():
        checks.fail("generate_binary_data's features hold NaN or infinite values")
    return features.astype(np.float64), target


# --- generate_binary_data -----------------------------------------------------------------


@pytest.mark.points(2)
def test_binary_data_shapes(submission):
    for n in (1, 50, 1000):
        features, target = binary_data(submission, n, seed=1)
        if not np.issubdtype(features.dtype, np.floating):
            checks.fail(f"features should be floating point, got dtype {features.dtype}")
        if not set(np.unique(target).tolist()) <= {0, 1}:
            checks.fail("target should hold only the labels 0 and 1")


@pytest.mark.points(1)
def test_binary_data_alternates(submission):
    _, target = binary_data(submission, 100, seed=2)
    if not np.array_equal(np.asarray(target, dtype=np.float64), np.tile([0.0, 1.0], 100)):
        checks.fail(
            "target should alternate 0, 1, 0, 1, ...: row 2i is a class 0 point and "
            "row 2i + 1 a class 1 point"
        )


@pytest.mark.points(2)
def test_binary_data_radii(submission):
    features, target = binary_data(submission, 1000, seed=3)
    radius = np.hypot(features[:, 0], features[:, 1])
    target = np.asarray(target)
    inner, outer = radius[target == 0], radius[target == 1]
    if len(inner) != 1000 or len(outer) != 1000:
        checks.fail("there should be N_examples points of each class")
    if inner.min() < 0 or inner.max() >= 1:
        checks.fail(
            f"class 0 points should have a radius in [0, 1), found radii from "
            f"{inner.min():.3g} to {inner.max():.3g}"
        )
    if outer.min() < 3 or outer.max() >= 4:
        checks.fail(
            f"class 1 points should have a radius in [3, 4), found radii from "
            f"{outer.min():.3g} to {outer.max():.3g}"
        )
    if inner.max() < 0.9 or outer.min() > 3.1 or outer.max() < 3.9:
        checks.fail(
            "the radii should spread over the whole of [0, 1) and [3, 4) "
            "(a uniform random number, plus 3 for class 1)"
        )


@pytest.mark.points(1)
def test_binary_data_uniform_angle(submission):
    features, target = binary_data(submission, 1000, seed=4)
    target = np.asarray(target)
    for label in (0, 1):
        x, y = features[target == label, 0], features[target == label, 1]
        quadrants = np.array(
            [
                ((x > 0) & (y > 0)).mean(),
                ((x < 0) & (y > 0)).mean(),
                ((x < 0) & (y < 0)).mean(),
                ((x > 0) & (y < 0)).mean(),
            ]
        )
        if quadrants.min() < 0.19 or quadrants.max() > 0.31:
            checks.fail(
                f"the class {label} points should spread evenly around the circle "
                f"(angle uniform in [0, 2 pi)); the four quadrants hold fractions "
                f"{np.round(quadrants, 2).tolist()}"
            )


@pytest.mark.points(1)
def test_binary_data_seed(submission):
    a, ta = binary_data(submission, 200, seed=7)
    b, tb = binary_data(submission, 200, seed=7)
    c, _ = binary_data(submission, 200, seed=8)
    if not (np.array_equal(a, b) and np.array_equal(ta, tb)):
        checks.fail("generate_binary_data with the same seed should give the same data")
    if np.array_equal(a, c):
        checks.fail("generate_binary_data with different seeds should give different data")


# --- generate_regression_data ------------------------------------------------------------


def as_float64(value, what):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        checks.fail(f"{what} should be a numpy array, got {checks.describe(value)}")
    return torch.from_numpy(np.asarray(value, dtype=np.float64))


@pytest.mark.points(2)
def test_regression_data(submission):
    for args in ({}, {"L": 3, "stepsize": 0.25}, {"L": 5, "stepsize": 0.01}):
        check_regression_data(submission, args)


def check_regression_data(submission, args):
    result = submission.step12_toy_problems.generate_regression_data(**args)
    if not isinstance(result, tuple) or len(result) != 2:
        checks.fail(
            f"generate_regression_data should return a tuple (x, y), got {checks.describe(result)}"
        )
    L, step = args.get("L", 10), args.get("stepsize", 0.1)
    x_ref = np.arange(-L, L, step)
    y_ref = np.sin(3 * x_ref) * np.exp(-x_ref / 8)
    call = f"generate_regression_data({', '.join(f'{k}={v}' for k, v in args.items())})"
    x = as_float64(result[0], f"{call}'s x")
    y = as_float64(result[1], f"{call}'s y")
    checks.close(
        x, torch.from_numpy(x_ref), f"{call}'s x (np.arange(-L, L, stepsize))", rtol=1e-4, atol=1e-5
    )
    checks.close(
        y, torch.from_numpy(y_ref), f"{call}'s y (sin(3x) * exp(-x / 8))", rtol=1e-4, atol=1e-4
    )


# --- train_model ---------------------------------------------------------------------------


@pytest.mark.points(3)
@pytest.mark.training
@pytest.mark.timeout(30)
def test_train_model_separates_the_rings(submission, device):
    features, target = rings(500, seed=0)
    model = classifier(seed=1)
    result = submission.step12_toy_problems.train_model(
        float32(features),
        float32(target[:, None]),
        model,
        lr=0.1,
        N_epochs=150,
        device=device,
        seed=0,
    )
    acc = ring_accuracy(trained(result, "train_model"), features, target)
    if acc < 0.97:
        checks.fail(
            f"a 3-hidden-unit sigmoid classifier trained by train_model (lr=0.1, 150 "
            f"epochs, BCELoss) reaches only {acc:.3f} accuracy on the two rings "
            f"(at least 0.97 expected): one full-batch Adam step per epoch"
        )


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(30)
def test_train_model_default_criterion_is_bce(submission, device):
    features, target = rings(200, seed=5)
    model = classifier(seed=2)
    expected = reference_run(
        copy_of(model, classifier, 2), features, target[:, None], 0.05, 30, nn.BCELoss(), device
    )
    result = submission.step12_toy_problems.train_model(
        float32(features),
        float32(target[:, None]),
        model,
        lr=0.05,
        N_epochs=30,
        device=device,
        seed=0,
    )
    got = dict(trained(result, "train_model").named_parameters())
    for name, p in expected.named_parameters():
        checks.close(
            got[name],
            p,
            f"parameter {name} after 30 epochs with criterion=None "
            "(which means nn.BCELoss(); one Adam step on the whole data per epoch)",
            rtol=1e-4,
            atol=1e-5,
        )


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(30)
def test_train_model_uses_the_criterion(submission, device):
    x = np.arange(-2, 2, 0.05)
    y = np.sin(3 * x) * np.exp(-x / 8)
    model = regressor(seed=3)
    expected = reference_run(
        copy_of(model, regressor, 3), x[:, None], y[:, None], 0.01, 10, nn.MSELoss(), device
    )
    start = copy_of(model, regressor, 3)
    result = submission.step12_toy_problems.train_model(
        float32(x[:, None]),
        float32(y[:, None]),
        model,
        lr=0.01,
        N_epochs=10,
        criterion=nn.MSELoss(),
        device=device,
        seed=0,
    )
    got = dict(trained(result, "train_model").named_parameters())
    if all(torch.equal(got[n].detach(), p.detach()) for n, p in start.named_parameters()):
        checks.fail("train_model left the parameters unchanged")
    for name, p in expected.named_parameters():
        checks.close(
            got[name],
            p,
            f"parameter {name} after 10 epochs with criterion=nn.MSELoss() "
            "(the given criterion should be the loss)",
            rtol=1e-4,
            atol=1e-5,
        )


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(30)
def test_train_model_fits_the_damped_sine(submission, device):
    x = np.arange(-2, 2, 0.05)
    y = np.sin(3 * x) * np.exp(-x / 8)
    model = regressor(seed=4)
    result = submission.step12_toy_problems.train_model(
        float32(x[:, None]),
        float32(y[:, None]),
        model,
        lr=0.01,
        N_epochs=200,
        criterion=nn.MSELoss(),
        device=device,
        seed=0,
    )
    with torch.no_grad():
        pred = trained(result, "train_model")(torch.tensor(x, dtype=torch.float32)[:, None])
    checks.tensor(pred, "the trained regressor's output", shape=(len(x), 1))
    mse = ((pred.double()[:, 0] - torch.from_numpy(y)) ** 2).mean().item()
    if mse > 0.02:
        checks.fail(
            f"a 1-32-32-1 tanh MLP trained by train_model with nn.MSELoss (lr=0.01, "
            f"200 epochs) fits the damped sine only to MSE {mse:.3g} (below 0.02 "
            f"expected)"
        )


@pytest.mark.points(1)
@pytest.mark.training
@pytest.mark.timeout(30)
def test_train_model_keeps_the_model_float32_on_the_cpu(submission, device):
    # STEPS.md: features and target are float32 tensors; the model comes back on the CPU.
    features, target = rings(100, seed=6)
    result = submission.step12_toy_problems.train_model(
        float32(features),
        float32(target[:, None]),
        classifier(seed=5),
        lr=0.05,
        N_epochs=5,
        device=device,
        seed=0,
    )
    model = trained(result, "train_model")
    for name, p in model.named_parameters():
        if p.dtype != torch.float32:
            checks.fail(
                f"parameter {name} became {p.dtype}; the data are float32 and so "
                "should the model stay"
            )


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(30)
def test_train_model_shuffle(submission, device):
    features, target = rings(500, seed=8)
    runs = []
    for _ in range(2):
        result = submission.step12_toy_problems.train_model(
            float32(features),
            float32(target[:, None]),
            classifier(seed=6),
            lr=0.1,
            N_epochs=150,
            shuffle=True,
            device=device,
            seed=11,
        )
        runs.append(trained(result, "train_model with shuffle=True"))
    acc = ring_accuracy(runs[0], features, target)
    if acc < 0.97:
        checks.fail(
            f"with shuffle=True the rings classifier reaches only {acc:.3f} accuracy "
            f"(at least 0.97 expected): shuffle features and targets with the same "
            f"permutation"
        )
    for (name, p), q in zip(runs[0].named_parameters(), runs[1].parameters(), strict=True):
        checks.close(
            q, p, f"parameter {name} of two shuffled runs with the same seed", rtol=1e-5, atol=1e-6
        )
