"""Hidden tests of step 13: initialization, dropout and batch norm, optimizers, validation."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.authoring import checks, kit_models
from grader.authoring.figures import FigureData
from grader.authoring.kit_mnist import mnist
from grader.submission.protocol import SubmissionError

pytestmark = pytest.mark.step13
STEP = "step13_init_and_regularization"
EPS = 1e-5  # nn.BatchNorm1d's default


def step(submission):
    return submission.step13_init_and_regularization


def params_of(model, what):
    """``{name: tensor}`` of a model's parameters (works on any module the test may hold)."""
    try:
        return {name: p.detach() for name, p in model.named_parameters()}
    except AttributeError:
        checks.fail(f"{what} should be an nn.Module, got {checks.describe(model)}")


def check_std(w, expected, what):
    """A large weight matrix drawn from N(0, expected**2)."""
    w = w.detach().double().flatten()
    std, mean = w.std().item(), w.mean().item()
    if abs(std / expected - 1) > 0.05:
        checks.fail(
            f"{what}: the weights have standard deviation {std:.4g}, which is not the "
            f"required one (off by {100 * abs(std / expected - 1):.0f}%)"
        )
    if abs(mean) > 0.05 * expected:
        checks.fail(f"{what}: the weights should have mean 0, got {mean:.3g}")
    tail = (w.abs() > 2 * expected).double().mean().item()
    if not 0.03 < tail < 0.06:  # N(0, s): 4.6% beyond 2s; a uniform law of the same std: 0%
        checks.fail(
            f"{what}: the weights should be normally distributed ({100 * tail:.1f}% lie "
            "beyond 2 standard deviations, about 4.6% expected); use the _normal_ init"
        )


# --- Net ------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_net_parameters(submission):
    net = step(submission).Net(5, 7, 3)
    got = {name: tuple(p.shape) for name, p in params_of(net, "Net(5, 7, 3)").items()}
    expected = {"W_1": (7, 5), "b_1": (7,), "W_2": (3, 7), "b_2": (3,)}
    if got != expected:
        checks.fail(
            f"Net(5, 7, 3) should have exactly the parameters W_1 (7, 5), b_1 (7,), "
            f"W_2 (3, 7), b_2 (3,) (hint: nn.Parameter attributes), got {got}"
        )


@pytest.mark.points(2)
def test_net_xavier_normal_init(submission):
    params = params_of(step(submission).Net(400, 600, 500), "Net(400, 600, 500)")
    for name in ("W_1", "b_1", "W_2", "b_2"):
        if name not in params:
            checks.fail(f"Net has no parameter {name}")
    check_std(
        params["W_1"],
        math.sqrt(2 / (400 + 600)),
        "W_1 of Net(400, 600, 500) (xavier_normal_: std sqrt(2 / (fan_in + fan_out)))",
    )
    check_std(
        params["W_2"],
        math.sqrt(2 / (600 + 500)),
        "W_2 of Net(400, 600, 500) (xavier_normal_: std sqrt(2 / (fan_in + fan_out)))",
    )
    for name in ("b_1", "b_2"):
        if params[name].abs().max().item() != 0:
            checks.fail(f"{name} should start at zero")


@pytest.mark.points(2)
def test_net_forward(submission):
    for activation in (None, "tanh", "relu"):
        check_net_forward(submission, activation)


def check_net_forward(submission, activation):
    layer = {None: None, "tanh": nn.Tanh(), "relu": nn.ReLU()}[activation]
    fn = {None: F.elu, "tanh": torch.tanh, "relu": torch.relu}[activation]
    net = step(submission).Net(6, 9, 4) if layer is None else step(submission).Net(6, 9, 4, layer)
    x = torch.randn(11, 6)
    out = checks.tensor(net(x), "Net(6, 9, 4)(x) for x of shape (11, 6)", shape=(11, 4))
    # The kit's Net holding the parameters STEPS.md names (W_1, b_1, W_2, b_2).
    kit = kit_models.net(kit_models.state_of(net, "Net(6, 9, 4)"), (6, 9, 4), fn, "Net(6, 9, 4)")
    with torch.no_grad():
        expected = kit.double()(x.double())
    name = "the default activation (ELU)" if activation is None else f"activation {activation}"
    checks.close(
        out,
        expected,
        f"Net's forward with {name}: F.linear, activation, F.linear",
        rtol=1e-4,
        atol=1e-5,
    )


# --- kaiming_init_ ----------------------------------------------------------------------------


def relu_mlp():
    return nn.Sequential(nn.Linear(500, 800), nn.ReLU(), nn.Linear(800, 400))


@pytest.mark.points(2)
def test_kaiming_init_weights(submission):
    model = relu_mlp()
    result = step(submission).kaiming_init_(model)
    params = params_of(model, "the model after kaiming_init_")
    check_std(
        params["0.weight"],
        math.sqrt(2 / 500),
        "the (800, 500) weight after kaiming_init_ (std sqrt(2 / fan_in), in place)",
    )
    check_std(
        params["2.weight"],
        math.sqrt(2 / 800),
        "the (400, 800) weight after kaiming_init_ (std sqrt(2 / fan_in), in place)",
    )
    returned = params_of(result, "kaiming_init_'s return value (the module itself)")
    for name, p in params.items():
        if name not in returned or not torch.equal(returned[name], p):
            checks.fail("kaiming_init_ should return the module it re-initialized in place")


@pytest.mark.points(1)
def test_kaiming_init_zeroes_biases(submission):
    model = relu_mlp()
    step(submission).kaiming_init_(model)
    params = params_of(model, "the model after kaiming_init_")
    check_std(params["0.weight"], math.sqrt(2 / 500), "the (800, 500) weight after kaiming_init_")
    for name in ("0.bias", "2.bias"):
        if params[name].abs().max().item() != 0:
            checks.fail(f"kaiming_init_ should set every bias to zero; {name} is not zero")


# --- RegularizedNet ---------------------------------------------------------------------------


def linear_layers(state, sizes):
    """(weight, bias) in float64 of the Linear layers with the given (out, in) shapes."""
    found = []
    for out_f, in_f in sizes:
        keys = [
            k for k, v in state.items() if k.endswith("weight") and tuple(v.shape) == (out_f, in_f)
        ]
        bias = keys[0][: -len("weight")] + "bias" if len(keys) == 1 else None
        if bias not in state:
            checks.fail(
                f"RegularizedNet should hold one nn.Linear({in_f}, {out_f}) (weight of "
                f"shape ({out_f}, {in_f}) and a bias), found {len(keys)}"
            )
        found.append((state[keys[0]].double(), state[bias].double()))
    return found


@pytest.mark.points(1)
def test_regularized_net_structure(submission):
    for batchnorm in (True, False):
        check_regularized_net_structure(submission, batchnorm)


def check_regularized_net_structure(submission, batchnorm):
    net = step(submission).RegularizedNet(20, 64, 5, dropout=0.3, batchnorm=batchnorm)
    count = sum(p.numel() for p in params_of(net, "RegularizedNet").values())
    expected = 20 * 64 + 64 + 64 * 5 + 5 + (2 * 64 if batchnorm else 0)
    if count != expected:
        checks.fail(
            f"RegularizedNet(20, 64, 5, batchnorm={batchnorm}) should have "
            f"{expected} parameters (Linear, {'BatchNorm1d, ' if batchnorm else ''}ReLU, "
            f"Dropout, Linear), got {count}"
        )
    has_bn = any(k.endswith("running_mean") for k in net.state_dict())
    if has_bn != batchnorm:
        checks.fail(
            f"RegularizedNet(batchnorm={batchnorm}) should "
            f"{'' if batchnorm else 'not '}hold an nn.BatchNorm1d"
        )
    net.eval()
    checks.tensor(
        net(torch.randn(8, 20)), "RegularizedNet(20, 64, 5)(x) for x of shape (8, 20)", shape=(8, 5)
    )


@pytest.mark.points(2)
def test_regularized_net_eval_mode(submission):
    for batchnorm in (True, False):
        check_regularized_net_eval_mode(submission, batchnorm)


def check_regularized_net_eval_mode(submission, batchnorm):
    net = step(submission).RegularizedNet(20, 64, 5, dropout=0.5, batchnorm=batchnorm)
    net.eval()
    x = torch.randn(16, 20)
    out = checks.tensor(net(x), "RegularizedNet's output in eval mode", shape=(16, 5))
    if not torch.equal(out, net(x)):
        checks.fail("in eval mode RegularizedNet should be deterministic (dropout off)")
    checks.close(
        net(x[:3]),
        out[:3],
        "in eval mode, the output for 3 examples alone versus in a "
        "batch of 16 (batch norm must use its running averages in eval mode)",
        atol=1e-5,
    )
    (w1, b1), (w2, b2) = linear_layers(net.state_dict(), [(64, 20), (5, 64)])
    z = F.linear(x.double(), w1, b1)
    if batchnorm:  # a fresh BatchNorm1d: running mean 0, variance 1, weight 1, bias 0
        z = z / math.sqrt(1 + EPS)
    checks.close(
        out,
        F.linear(torch.relu(z), w2, b2),
        "a fresh RegularizedNet's eval output (Linear, BatchNorm1d, ReLU, Dropout, Linear)",
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.points(1)
def test_regularized_net_batchnorm_in_train_mode(submission):
    net = step(submission).RegularizedNet(20, 64, 5, dropout=0.0, batchnorm=True)
    net.train()
    x = torch.randn(32, 20) * 3 + 1
    out = checks.tensor(net(x), "RegularizedNet's output in train mode", shape=(32, 5))
    (w1, b1), (w2, b2) = linear_layers(net.state_dict(), [(64, 20), (5, 64)])
    z = F.linear(x.double(), w1, b1)
    z = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + EPS)
    checks.close(
        out,
        F.linear(torch.relu(z), w2, b2),
        "RegularizedNet(dropout=0.0)'s train-mode output (batch norm normalizes each unit "
        "over the batch, before the ReLU)",
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.points(2)
def test_regularized_net_dropout_in_train_mode(submission):
    for p in (0.2, 0.5):
        check_dropout_in_train_mode(submission, p)


def check_dropout_in_train_mode(submission, p):
    net = step(submission).RegularizedNet(20, 64, 5, dropout=p, batchnorm=False)
    x = torch.randn(1, 20)
    repeats = 4000
    net.train()
    samples = checks.tensor(
        net(x.repeat(repeats, 1)), "RegularizedNet's output in train mode", shape=(repeats, 5)
    ).double()
    if torch.equal(samples[0], samples[1]):
        checks.fail("in train mode RegularizedNet should be random (dropout)")
    (w1, b1), (w2, b2) = linear_layers(net.state_dict(), [(64, 20), (5, 64)])
    h = torch.relu(F.linear(x.double(), w1, b1))[0]
    mean = F.linear(h, w2, b2)
    var = (w2**2 * h**2).sum(1) * p / (1 - p)  # each unit kept with probability 1 - p, scaled
    if (samples.mean(0) - mean).abs().max() > 5 * (var / repeats).sqrt().max() + 1e-5:
        checks.fail(
            f"with dropout={p} the train-mode output should equal the eval output on "
            "average (dropout scales the kept units by 1 / (1 - p)): use nn.Dropout"
        )
    ratio = (samples.var(0).sum() / var.sum()).item()
    if abs(ratio - 1) > 0.15:
        checks.fail(
            f"with dropout={p} the train-mode output varies {ratio:.2f} times as much as "
            "units dropped with probability p would make it: use nn.Dropout(dropout)"
        )


# --- make_optimizer ----------------------------------------------------------------------------


def quadratic_params():
    return [
        torch.tensor([1.0, -2.0, 0.5], requires_grad=True),
        torch.tensor([[3.0, -1.0], [0.25, 2.0]], requires_grad=True),
    ]


def check_optimizer(submission, kwargs, reference, ignore=()):
    """The optimizer make_optimizer(**kwargs) builds has the hyper-parameters of ``reference``."""
    params = quadratic_params()
    call = "make_optimizer(params, " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
    opt = step(submission).make_optimizer(params, **kwargs)
    try:
        groups = opt.param_groups
    except AttributeError:
        checks.fail(f"{call} should return a torch.optim optimizer, got {checks.describe(opt)}")
    if not isinstance(groups, list) or len(groups) != 1 or not isinstance(groups[0], dict):
        checks.fail(f"{call} should return an optimizer with one parameter group over params")
    group = groups[0]
    got_params = group.get("params", [])
    if len(got_params) != 2 or not all(
        torch.equal(a.detach(), b.detach()) for a, b in zip(got_params, params, strict=True)
    ):
        checks.fail(f"{call} should optimize exactly the tensors in params")
    expected = dict(reference(quadratic_params()).param_groups[0])
    expected.pop("params")
    kind = kwargs.get("kind", "sgd")
    marks = {"betas": "Adam", "alpha": "RMSprop", "dampening": "SGD"}
    if any((key in expected) != (key in group) for key in marks):
        wanted = next(name for key, name in marks.items() if key in expected)
        checks.fail(f"{call} should build a torch.optim.{wanted} optimizer for kind={kind!r}")
    wrong = [
        key for key, value in expected.items() if key not in ignore and group.get(key) != value
    ]
    if wrong:
        got = ", ".join(f"{key}={group.get(key)!r}" for key in wrong)
        checks.fail(f"{call} builds an optimizer with the wrong setting(s): {got}")


@pytest.mark.points(1)
def test_make_optimizer_sgd(submission):
    check_optimizer(
        submission,
        {"kind": "sgd", "lr": 0.05, "momentum": 0.9},
        lambda p: torch.optim.SGD(p, lr=0.05),
    )
    check_optimizer(
        submission,
        {"kind": "sgd", "lr": 0.2, "weight_decay": 0.1},
        lambda p: torch.optim.SGD(p, lr=0.2, weight_decay=0.1),
    )
    check_optimizer(submission, {}, lambda p: torch.optim.SGD(p, lr=0.01))


@pytest.mark.points(1)
def test_make_optimizer_momentum(submission):
    check_optimizer(
        submission,
        {"kind": "momentum", "lr": 0.05, "momentum": 0.5, "weight_decay": 0.01},
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5, weight_decay=0.01),
    )
    check_optimizer(
        submission, {"kind": "momentum"}, lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)
    )


@pytest.mark.points(1)
def test_make_optimizer_adam(submission):
    check_optimizer(
        submission,
        {"kind": "adam", "lr": 0.003, "weight_decay": 0.001},
        lambda p: torch.optim.Adam(p, lr=0.003, weight_decay=0.001),
    )


@pytest.mark.points(1)
def test_make_optimizer_rmsprop(submission):
    # Whether "rmsprop" gets the momentum argument is left open: STEPS.md does not say.
    check_optimizer(
        submission,
        {"kind": "rmsprop", "lr": 0.002, "weight_decay": 0.01},
        lambda p: torch.optim.RMSprop(p, lr=0.002, weight_decay=0.01),
        ignore=("momentum",),
    )


@pytest.mark.points(2)
def test_make_optimizer_rejects_unknown_kinds(submission):
    for kind in ("adagrad", "nesterov", "Adam "):
        check_rejects(submission, kind)


def check_rejects(submission, kind):
    try:
        opt = step(submission).make_optimizer(quadratic_params(), kind=kind)
    except ValueError as exc:
        message = str(exc)
        missing = [k for k in ("sgd", "momentum", "adam", "rmsprop") if k not in message.lower()]
        if missing:
            checks.fail(
                f"the ValueError for kind={kind!r} should name the four choices; its "
                f"message lacks {', '.join(missing)}"
            )
        return
    except SubmissionError:
        raise  # the step is missing or does not import: say so, not "raised SubmissionError"
    except Exception as exc:  # noqa: BLE001 - any other exception is the wrong one
        checks.fail(
            f"make_optimizer(params, kind={kind!r}) should raise ValueError, raised "
            f"{type(exc).__name__}"
        )
    checks.fail(
        f"make_optimizer(params, kind={kind!r}) should raise ValueError naming the "
        f"choices, but returned {checks.describe(opt)}"
    )


# --- train_with_validation -----------------------------------------------------------------------


def mnist_split(n_train=600, n_valid=400):
    X, y = mnist.tensors("test")
    return X[:n_train], y[:n_train], X[n_train : n_train + n_valid], y[n_train : n_train + n_valid]


def bn_dropout_net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(784, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10)
    )


def history_of(result, epochs):
    if not isinstance(result, dict):
        checks.fail(f"train_with_validation should return a dict, got {checks.describe(result)}")
    for key in ("train_loss", "train_acc", "valid_acc"):
        if key not in result:
            checks.fail(f"the history should have the key {key!r}; it has {sorted(result)}")
    history = {}
    for key in ("train_loss", "train_acc", "valid_acc"):
        values = result[key]
        if not isinstance(values, (list, tuple)) or len(values) != epochs:
            checks.fail(
                f"history[{key!r}] should be a list with one entry per epoch ({epochs}), "
                f"got {checks.describe(values)}"
            )
        numbers = []
        for v in values:
            if not isinstance(v, float):  # a Python float (numpy.float64 is one too)
                checks.fail(
                    f"history[{key!r}] should hold one Python float per epoch (hint: "
                    f".item()), got {checks.describe(v)}"
                )
            if not math.isfinite(v):
                checks.fail(f"history[{key!r}] holds a NaN or infinite value")
            numbers.append(float(v))
        history[key] = numbers
    for key in ("train_acc", "valid_acc"):
        if not all(0 <= v <= 1 for v in history[key]):
            checks.fail(f"history[{key!r}] should hold accuracies between 0 and 1")
    return history


def eval_accuracy(net, X, y):
    net.eval()
    with torch.no_grad():
        return (net(X).argmax(1) == y).double().mean().item()


@pytest.mark.points(1)
@pytest.mark.training
@pytest.mark.timeout(20)
def test_train_with_validation_history(submission):
    x_train, y_train, x_valid, y_valid = mnist_split()
    net = bn_dropout_net(seed=0)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    history = history_of(
        step(submission).train_with_validation(
            net, x_train, y_train, x_valid, y_valid, optimizer, 5
        ),
        5,
    )
    if not history["train_loss"][-1] < history["train_loss"][0]:
        checks.fail("the mean training loss should fall over 5 epochs of Adam (lr=0.01)")
    valid_acc = eval_accuracy(net, x_valid, y_valid)  # measured here, on the trained network
    if valid_acc < 0.75:
        checks.fail(
            f"after 5 epochs on 600 MNIST digits the validation accuracy is only "
            f"{valid_acc:.3f} (0.75 expected)"
        )


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(20)
def test_train_with_validation_measures_in_eval_mode(submission):
    x_train, y_train, x_valid, y_valid = mnist_split()
    net = bn_dropout_net(seed=1)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    history = history_of(
        step(submission).train_with_validation(
            net, x_train, y_train, x_valid, y_valid, optimizer, 2
        ),
        2,
    )
    for key, X, y, name in (
        ("valid_acc", x_valid, y_valid, "validation"),
        ("train_acc", x_train, y_train, "training"),
    ):
        acc = eval_accuracy(net, X, y)
        if abs(history[key][-1] - acc) > 1e-6:
            checks.fail(
                f"history[{key!r}][-1] ({history[key][-1]:.4f}) should be the accuracy of "
                f"the trained network on the whole {name} set in eval mode ({acc:.4f}); "
                "measure with net.eval() (dropout off), after the epoch's training"
            )


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(20)
def test_train_with_validation_trains_in_train_mode(submission):
    x_train, y_train, x_valid, y_valid = mnist_split()
    net = bn_dropout_net(seed=2)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    history_of(
        step(submission).train_with_validation(
            net, x_train, y_train, x_valid, y_valid, optimizer, 3, batch_size=150
        ),
        3,
    )
    state = net.state_dict()
    tracked = int(state["1.num_batches_tracked"])
    if state["1.running_mean"].abs().max().item() == 0 or tracked == 0:
        checks.fail(
            "the batch norm layer never saw a batch in train mode: call net.train() "
            "before the training minibatches"
        )
    if tracked != 3 * 4:
        checks.fail(
            f"3 epochs over 600 examples in batches of 150 are 12 training steps in train "
            f"mode, but batch norm counted {tracked} train-mode batches: use batch_size, "
            "and measure the accuracies in eval mode"
        )


@pytest.mark.points(1)
@pytest.mark.training
@pytest.mark.timeout(20)
def test_train_with_validation_uses_the_optimizer(submission):
    x_train, y_train, x_valid, y_valid = mnist_split()
    net = bn_dropout_net(seed=3)
    before = {k: v.clone() for k, v in net.state_dict().items() if k.endswith("weight")}
    optimizer = torch.optim.SGD(net.parameters(), lr=0.0)
    history_of(
        step(submission).train_with_validation(
            net, x_train, y_train, x_valid, y_valid, optimizer, 1
        ),
        1,
    )
    state = net.state_dict()
    if state["1.running_mean"].abs().max().item() == 0:
        checks.fail("train_with_validation did not run the network in train mode")
    if any(not torch.equal(state[k], v) for k, v in before.items()):
        checks.fail(
            "with an optimizer of learning rate 0 the weights should not change: "
            "train_with_validation should step the optimizer it is given"
        )


def recorded_split(n_train=250, n_valid=120, features=6, classes=3, seed=0):
    """Inputs whose column 0 is the example's index (see kit_models.Recorder)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_valid, features, generator=g)
    y = torch.randint(0, classes, (n_train + n_valid,), generator=g)
    x[:n_train, 0] = torch.arange(n_train, dtype=torch.float32)
    x[n_train:, 0] = -1.0
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


@pytest.mark.points(2)
@pytest.mark.timeout(20)
def test_train_with_validation_visits_every_example_once_per_epoch(submission):
    # STEPS.md: every epoch visits every training example once, in a fresh random order,
    # in batches of batch_size (the last may be smaller), in train mode. A grader-side
    # model records the indices it is shown in train mode (the lr of 0 keeps it fixed).
    n, epochs, batch_size = 250, 3, 100
    x_train, y_train, x_valid, y_valid = recorded_split(n)
    torch.manual_seed(0)
    net = kit_models.Recorder(6, 3, capacity=4000).eval()  # it must put the net in train mode
    optimizer = torch.optim.SGD(net.parameters(), lr=0.0)
    history_of(
        step(submission).train_with_validation(
            net, x_train, y_train, x_valid, y_valid, optimizer, epochs, batch_size=batch_size
        ),
        epochs,
    )
    seen, batches, lost = (int(c) for c in net.counts)
    if seen == 0:
        checks.fail(
            "train_with_validation never ran the network in train mode: call "
            "net.train() before each epoch's minibatches"
        )
    if lost or seen != epochs * n:
        checks.fail(
            f"{epochs} epochs over {n} examples should show the network {epochs * n} "
            f"examples in train mode (each once per epoch), it was shown "
            f"{seen if not lost else 'more than that'}; measure the accuracies in eval "
            "mode"
        )
    sizes = net.batches[:batches].tolist()
    if sizes != [100, 100, 50] * epochs:
        checks.fail(
            f"with {n} examples and batch_size={batch_size} every epoch should be the "
            f"batches [100, 100, 50], got {sizes[:12]}"
        )
    order = net.order[:seen].reshape(epochs, n)
    for e in range(epochs):
        if sorted(order[e].tolist()) != list(range(n)):
            checks.fail(f"epoch {e + 1} did not visit every training example exactly once")
    if any(torch.equal(order[a], order[b]) for a in range(epochs) for b in range(a)):
        checks.fail(
            "two epochs visited the examples in the same order: draw a new random "
            "order (torch.randperm) every epoch"
        )
    if any(torch.equal(order[e], torch.arange(n)) for e in range(epochs)):
        checks.fail("an epoch visited the examples in their stored order: shuffle them")


@pytest.mark.points(2)
@pytest.mark.timeout(20)
def test_train_with_validation_loss_and_accuracies(submission):
    # With lr=0 the network never changes, so every number of the history is known:
    # train_loss is the mean of the epoch's minibatch losses (or the mean per example);
    # the accuracies are those of the network on the whole sets in eval mode.
    n, epochs = 250, 2
    x_train, y_train, x_valid, y_valid = recorded_split(n, seed=1)
    torch.manual_seed(1)
    net = kit_models.Recorder(6, 3, capacity=4000)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.0)
    history = history_of(
        step(submission).train_with_validation(
            net, x_train, y_train, x_valid, y_valid, optimizer, epochs, batch_size=100
        ),
        epochs,
    )
    seen, batches, _ = (int(c) for c in net.counts)
    with torch.no_grad():
        losses = F.cross_entropy(net.linear(x_train[:, 1:]), y_train, reduction="none").double()
    per_example = losses.mean().item()
    ends = net.batches[:batches].cumsum(0).tolist()
    order = net.order[:seen].tolist()
    batch_means = [losses[order[a:b]].mean().item() for a, b in zip([0, *ends], ends, strict=False)]
    sizes = net.batches[:batches].tolist()
    for e in range(epochs):
        got = history["train_loss"][e]
        # The batches of epoch e: those whose examples sum to n, one epoch after another.
        first = next((i for i in range(len(sizes) + 1) if sum(sizes[:i]) >= e * n), 0)
        last = next((i for i in range(len(sizes) + 1) if sum(sizes[:i]) >= (e + 1) * n), 0)
        means = batch_means[first:last]
        candidates = [per_example] + ([sum(means) / len(means)] if means else [])
        if not any(math.isclose(got, c, rel_tol=1e-4, abs_tol=1e-6) for c in candidates):
            checks.fail(
                f"history['train_loss'][{e}] is {got:.5g}; it should be the epoch's mean "
                f"cross-entropy (the mean of its minibatch losses, or the mean per "
                f"example, {per_example:.5g} here)"
            )
    for key, X, y, name in (
        ("train_acc", x_train, y_train, "training"),
        ("valid_acc", x_valid, y_valid, "validation"),
    ):
        acc = eval_accuracy(net, X, y)
        if any(abs(v - acc) > 1e-6 for v in history[key]):
            checks.fail(
                f"history[{key!r}] should be the accuracy on the whole {name} set, "
                f"measured in eval mode after each epoch ({acc:.4f} for this network), "
                f"got {[round(v, 4) for v in history[key]]}"
            )


# --- plot_history ------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_plot_history(submission):
    history = {
        "train_loss": [1.5, 0.9, 0.6, 0.5, 0.45],
        "train_acc": [0.5, 0.7, 0.8, 0.85, 0.88],
        "valid_acc": [0.45, 0.6, 0.7, 0.72, 0.74],
    }
    fig = step(submission).plot_history(history)
    if not isinstance(fig, FigureData):
        checks.fail(f"plot_history should return a matplotlib Figure, got {checks.describe(fig)}")
    if len(fig.axes) != 1:
        checks.fail(f"plot_history should draw on one axes, found {len(fig.axes)}")
    ax = fig.axes[0]
    labels = []
    for key, name in (("train_acc", "training"), ("valid_acc", "validation")):
        lines = [
            line
            for line in ax.lines
            if len(line["y"]) == 5
            and torch.allclose(
                torch.tensor(line["y"]), torch.tensor(history[key], dtype=torch.float64)
            )
        ]
        if not lines:
            checks.fail(f"plot_history should draw the {name} accuracy history[{key!r}] as a line")
        x = torch.tensor(lines[0]["x"])
        if not (x[1:] > x[:-1]).all():
            checks.fail(f"the {name} accuracy should be drawn against the epoch (increasing x)")
        labels.append(legend_entry(ax, lines[0]))
    if None in labels or labels[0] == labels[1]:
        checks.fail(
            "plot_history should show a legend that tells the two curves apart "
            "(label=... on each line and ax.legend(), or ax.legend([...]) with a label "
            "per line)"
        )


def legend_entry(ax, line):
    """The legend text that names ``line``: its own label, or the label legend() gave it."""
    if line["label"] in ax.legend:
        return line["label"]
    # legend(["a", "b"]) labels the axes' artists in the order they were drawn.
    index = next(i for i, other in enumerate(ax.lines) if other is line)
    return ax.legend[index] if index < len(ax.legend) else None
