"""Hidden tests of step 11: generate_rnn_data, split_series, RNN, train_rnn."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.authoring import checks, kit_models

pytestmark = pytest.mark.step11
STEP = "step11_rnn"

ACTS = {"tanh": torch.tanh, "relu": torch.relu}
PARAM_SHAPES = {
    "w_hh": ("H", "H"),
    "w_hx": ("H", "I"),
    "w_yh": ("O", "H"),
    "b_h": ("H", 1),
    "b_y": ("O", 1),
}


def step(submission):
    return getattr(submission, STEP)


# --- generate_rnn_data -------------------------------------------------------------


def series(submission, N, noise_var=0.1, lag=1, seed=0):
    """(features, target) checked as numpy float arrays of length N - lag."""
    out = step(submission).generate_rnn_data(N_examples=N, noise_var=noise_var, lag=lag, seed=seed)
    what = f"generate_rnn_data(N_examples={N}, noise_var={noise_var}, lag={lag})"
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        checks.fail(f"{what} should return a pair (features, target), got {checks.describe(out)}")
    for name, a in zip(("features", "target"), out, strict=True):
        if not isinstance(a, np.ndarray):
            checks.fail(f"{what}: {name} should be a numpy array, got {checks.describe(a)}")
        if a.shape != (N - lag,):
            checks.fail(
                f"{what}: {name} should have shape ({N - lag},) (the series has {N} steps, "
                f"and {lag} are lost to the lag), got {a.shape}"
            )
        if not np.issubdtype(a.dtype, np.floating):
            checks.fail(f"{what}: {name} should hold floats, got dtype {a.dtype}")
        if not np.isfinite(a).all():
            checks.fail(f"{what}: {name} has NaN or infinite values")
    return out


def full_series(features, target, lag):
    """ts rebuilt from features = ts[:-lag] and target = ts[lag:]."""
    return np.concatenate([features, target[-lag:]])


def residuals(submission, N, noise_var, seed=0):
    features, target = series(submission, N, noise_var=noise_var, lag=1, seed=seed)
    return full_series(features, target, 1) - (4 + 3 * np.arange(N))


@pytest.mark.points(1)
def test_generate_types_and_lengths(submission):
    for lag in (1, 3):
        series(submission, 50, lag=lag)


@pytest.mark.points(1)
@pytest.mark.parametrize("noise_var", [0.1, 2.0])
def test_generate_line_plus_noise_of_the_right_variance(submission, noise_var):
    exact = residuals(submission, 40, 0.0)
    if np.abs(exact).max() > 1e-9:
        checks.fail(
            "with noise_var=0 the series should be exactly 4 + 3 t for t = 0, 1, 2, ...; "
            f"it differs by up to {np.abs(exact).max():.3g}"
        )
    N = 4000
    r = residuals(submission, N, noise_var)
    sd = math.sqrt(noise_var)
    if abs(r.mean()) > 5 * sd / math.sqrt(N):
        checks.fail(f"the noise (series minus 4 + 3 t) should have mean 0, got mean {r.mean():.3g}")
    if not 0.85 * noise_var < r.var() < 1.15 * noise_var:
        checks.fail(
            f"the noise (series minus 4 + 3 t) should have variance noise_var = "
            f"{noise_var}, got {r.var():.3g} over {N} steps (hint: the standard "
            "deviation is sqrt(noise_var))"
        )


@pytest.mark.points(2)
def test_generate_noise_is_independent_at_every_step(submission):
    r = residuals(submission, 4000, 1.0)
    if np.ptp(r) < 1e-6:
        checks.fail(
            "the noise (series minus 4 + 3 t) is the same at every step: draw a new noise "
            "value for every t (size=N_examples), not one for the whole series"
        )
    c = r - r.mean()
    lag1 = float((c[1:] * c[:-1]).sum() / (c * c).sum())
    if abs(lag1) > 0.1:
        checks.fail(
            f"the noise at neighbouring steps is correlated (lag-1 autocorrelation "
            f"{lag1:.2f}); every step should get its own independent draw"
        )


@pytest.mark.points(2)
@given(N=st.integers(12, 60), lag=st.integers(1, 6))
def test_generate_lag_aligns_features_and_target(submission, N, lag):
    features, target = series(submission, N, noise_var=0.5, lag=lag, seed=3)
    if not np.allclose(target[:-lag], features[lag:], rtol=0, atol=1e-12):
        checks.fail(
            f"with lag={lag}, target[i] should be the series value {lag} step(s) after "
            f"features[i], i.e. target[i] == features[i + {lag}]: use features = ts[:-lag] "
            "and target = ts[lag:]"
        )
    ts = full_series(features, target, lag)
    trend = 4 + 3 * np.arange(N)
    if np.abs(ts - trend).max() > 6 * math.sqrt(0.5):
        checks.fail(
            f"with lag={lag}, features and target together should be the series "
            "4 + 3 t (plus noise) for t = 0 .. N_examples - 1: features = ts[:-lag], "
            "target = ts[lag:]"
        )


@pytest.mark.points(1)
def test_generate_seed_reproducible(submission):
    a = series(submission, 30, seed=7)
    b = series(submission, 30, seed=7)
    c = series(submission, 30, seed=8)
    if not (np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])):
        checks.fail("generate_rnn_data with the same seed should give the same series twice")
    if np.array_equal(a[0], c[0]):
        checks.fail(
            "generate_rnn_data with different seeds gave the same series; use the seed "
            "for the noise"
        )


# --- split_series --------------------------------------------------------------------


@pytest.mark.points(2)
@given(T=st.integers(4, 80), train_frac=st.sampled_from([0.5, 0.7, 0.75, 0.9, 1 / 3]))
def test_split_series(submission, T, train_frac):
    features = np.arange(T, dtype=float)
    target = 1000.0 + np.arange(T, dtype=float)
    out = step(submission).split_series(features, target, train_frac=train_frac)
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        checks.fail(
            "split_series should return 4 parts (features_train, target_train, "
            f"features_test, target_test), got {checks.describe(out)}"
        )
    n = int(train_frac * T)
    expected = (features[:n], target[:n], features[n:], target[n:])
    names = ("features_train", "target_train", "features_test", "target_test")
    for name, got, want in zip(names, out, expected, strict=True):
        got = np.asarray(got)
        if got.shape != want.shape or not np.array_equal(got, want):
            source = "target" if "target" in name else "features"
            part = (
                f"{source}[n:], the rest of {source}"
                if "test" in name
                else f"{source}[:n], the first n values of {source}"
            )
            checks.fail(
                f"split_series(T={T}, train_frac={train_frac:.3g}): {name} should be "
                f"{part}, with n = int(train_frac * len(features)); got "
                f"{checks.describe(got)} with other values"
            )


# --- RNN -----------------------------------------------------------------------------


def make_rnn(submission, I, H, O, act="tanh"):
    return step(submission).RNN(I, H, O, ACTS[act])


def params_of(rnn, I, H, O):
    """The five parameters by name, checked for names and shapes."""
    sizes = {"I": I, "H": H, "O": O, 1: 1}
    found = dict(rnn.named_parameters())
    if set(found) != set(PARAM_SHAPES):
        checks.fail(
            f"RNN should have exactly the parameters {sorted(PARAM_SHAPES)} (registered "
            f"as nn.Parameter attributes), got {sorted(found)}"
        )
    for name, dims in PARAM_SHAPES.items():
        shape = tuple(sizes[d] for d in dims)
        checks.tensor(found[name], f"RNN({I}, {H}, {O}).{name} ({dims})", shape=shape)
    return found


def reference(params, act, dtype=torch.float64):
    """torch.nn.RNN and the output Linear with the given parameters."""
    w_hx, w_hh, w_yh = (params[k].detach().to("cpu", dtype) for k in ("w_hx", "w_hh", "w_yh"))
    b_h, b_y = (params[k].detach().to("cpu", dtype) for k in ("b_h", "b_y"))
    H, I = w_hx.shape
    O = w_yh.shape[0]
    rnn = torch.nn.RNN(I, H, nonlinearity=act, dtype=dtype)
    out = torch.nn.Linear(H, O, dtype=dtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(w_hx)
        rnn.weight_hh_l0.copy_(w_hh)
        rnn.bias_ih_l0.copy_(b_h[:, 0])
        rnn.bias_hh_l0.zero_()
        out.weight.copy_(w_yh)
        out.bias.copy_(b_y[:, 0])
    return rnn, out


def run_reference(params, act, x, h0=None):
    """outputs (T, O) and h_T (H, 1) of torch.nn.RNN on x (T, I, 1)."""
    rnn, out = reference(params, act)
    seq = x.to(torch.float64)[:, :, 0].unsqueeze(1)  # (T, batch 1, I)
    h0 = None if h0 is None else h0.to(torch.float64)[:, 0].reshape(1, 1, -1)
    hs, h_last = rnn(seq, h0)
    return out(hs[:, 0, :]), h_last.reshape(-1, 1)


def forward(rnn, x, what, T, H, O, **kwargs):
    result = rnn(x, **kwargs)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        checks.fail(f"{what} should return a pair (outputs, h_T), got {checks.describe(result)}")
    outputs = checks.tensor(result[0], f"{what}: outputs", shape=(T, O))
    h_last = checks.tensor(result[1], f"{what}: h_T (the last hidden state)", shape=(H, 1))
    return outputs, h_last


@pytest.mark.points(1)
@pytest.mark.parametrize("sizes", [(1, 8, 1), (3, 5, 2)])
def test_rnn_parameter_names_and_shapes(submission, sizes):
    rnn = make_rnn(submission, *sizes)
    params_of(rnn, *sizes)  # the parameters STEPS.md names (buffers of its own are its own)


@pytest.mark.points(2)
def test_rnn_init(submission):
    I, H, O = 48, 96, 64
    params = params_of(make_rnn(submission, I, H, O), I, H, O)
    for name in ("b_h", "b_y"):
        if params[name].detach().abs().max() != 0:
            checks.fail(f"RNN.{name} should start at zero")
    for name in ("w_hh", "w_hx", "w_yh"):
        w = params[name].detach().to("cpu", torch.float64)
        fan_in = w.shape[1]
        bound = math.sqrt(6 / fan_in)  # kaiming_uniform_ with its defaults: a=0, fan_in, relu gain
        hint = "initialize it with nn.init.kaiming_uniform_ (default arguments)"
        if w.abs().max() > bound * (1 + 1e-6):
            checks.fail(
                f"RNN.{name} has values beyond the kaiming-uniform bound "
                f"sqrt(6 / fan_in) = {bound:.3g}: {hint}"
            )
        if not 0.85 * bound / math.sqrt(3) < w.std() < 1.15 * bound / math.sqrt(3):
            checks.fail(
                f"RNN.{name} has standard deviation {w.std():.3g}; kaiming-uniform with "
                f"fan_in {fan_in} gives about {bound / math.sqrt(3):.3g}: {hint}"
            )


@pytest.mark.points(3)
@settings(max_examples=15)
@given(
    I=st.integers(1, 4),
    H=st.integers(1, 9),
    O=st.integers(1, 3),
    T=st.integers(1, 10),
    act=st.sampled_from(sorted(ACTS)),
)
def test_rnn_forward_matches_torch_rnn(submission, I, H, O, T, act):
    rnn = make_rnn(submission, I, H, O, act)
    params = params_of(rnn, I, H, O)
    x = torch.randn(T, I, 1)
    what = f"RNN({I}, {H}, {O}, torch.{act})(x) for x of shape {(T, I, 1)}"
    outputs, h_last = forward(rnn, x, what, T, H, O)
    expected_out, expected_h = run_reference(params, act, x)
    checks.close(
        outputs, expected_out, f"{what}: outputs (y_t = w_yh h_t + b_y)", rtol=1e-4, atol=1e-5
    )
    checks.close(
        h_last,
        expected_h,
        f"{what}: h_T (h_t = act(w_hx x_t + w_hh h_(t-1) + b_h) from h_0 = 0)",
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.points(1)
def test_rnn_forward_from_given_hidden_state(submission):
    I, H, O, T, k = 2, 6, 2, 7, 3
    for act in sorted(ACTS):
        rnn = make_rnn(submission, I, H, O, act)
        params = params_of(rnn, I, H, O)
        x = torch.randn(T, I, 1)
        h0 = torch.rand(H, 1)
        what = f"RNN(...)(x, hidden_act=h0) with torch.{act}"
        outputs, h_last = forward(rnn, x, what, T, H, O, hidden_act=h0)
        expected_out, expected_h = run_reference(params, act, x, h0)
        checks.close(
            outputs,
            expected_out,
            f"{what}: outputs (start from h0 instead of zeros)",
            rtol=1e-4,
            atol=1e-5,
        )
        checks.close(h_last, expected_h, f"{what}: h_T", rtol=1e-4, atol=1e-5)
        first, h_k = forward(rnn, x[:k], f"{what} on the first {k} steps", k, H, O)
        rest, h_end = forward(
            rnn, x[k:], f"{what} on the remaining steps", T - k, H, O, hidden_act=h_k
        )
        expected_out, expected_h = run_reference(params, act, x)
        checks.close(
            torch.cat([first, rest]),
            expected_out,
            f"running RNN(...) with torch.{act} over x[:{k}], then over x[{k}:] from "
            "hidden_act = the h_T of the first part (it should continue the series)",
            rtol=1e-4,
            atol=1e-5,
        )
        checks.close(
            h_end, expected_h, "h_T after continuing from hidden_act", rtol=1e-4, atol=1e-5
        )


@pytest.mark.points(2)
def test_rnn_gradients_reach_every_parameter(submission):
    I, H, O, T = 2, 5, 3, 6
    rnn = make_rnn(submission, I, H, O, "tanh")
    params = params_of(rnn, I, H, O)
    x = torch.randn(T, I, 1)
    wo, wh = torch.randn(T, O), torch.randn(H, 1)
    forward(rnn, x, "RNN(2, 5, 3, torch.tanh)(x)", T, H, O)  # shapes first, clear messages
    by_name = submission.module_grads(rnn, (x,), weight=(wo, wh))
    names = list(PARAM_SHAPES)
    grads = [by_name.get(n) for n in names]
    if all(g is None for g in grads):
        checks.fail(
            "the outputs of RNN.forward are not connected to its parameters in autograd: "
            "stack the y_t with torch.stack/torch.cat, never rebuild them with "
            "torch.tensor(...)"
        )
    ref_rnn, ref_out = reference(params, "tanh")
    seq = x.double()[:, :, 0].unsqueeze(1)
    hs, h_ref = ref_rnn(seq)
    loss = (ref_out(hs[:, 0, :]) * wo.double()).sum() + (h_ref.reshape(-1, 1) * wh.double()).sum()
    loss.backward()
    expected = {
        "w_hh": ref_rnn.weight_hh_l0.grad,
        "w_hx": ref_rnn.weight_ih_l0.grad,
        "w_yh": ref_out.weight.grad,
        "b_h": ref_rnn.bias_ih_l0.grad[:, None],
        "b_y": ref_out.bias.grad[:, None],
    }
    for name, grad in zip(names, grads, strict=True):
        if grad is None:
            checks.fail(f"no gradient reaches RNN.{name}: use it in forward, inside autograd")
        checks.close(grad, expected[name], f"the gradient of RNN.{name}", rtol=1e-4, atol=1e-5)


# --- train_rnn -----------------------------------------------------------------------


def normalized_series(submission, N=41, seed=11):
    features, target = series(submission, N, noise_var=0.1, lag=1, seed=seed)
    mean, std = features.mean(), features.std()
    return (features - mean) / std, (target - mean) / std


def losses_of(result, epochs):
    if not isinstance(result, (list, tuple)) or len(result) != epochs:
        checks.fail(
            f"train_rnn(..., epochs={epochs}) should return a list of {epochs} losses, one "
            f"per epoch, got {checks.describe(result)}"
        )
    try:
        losses = [float(v) for v in result]
    except (TypeError, ValueError, RuntimeError):
        checks.fail(f"train_rnn should return Python floats (loss.item()), got {result!r:.200}")
    if not all(math.isfinite(v) for v in losses):
        checks.fail(f"train_rnn returned non-finite losses {losses}")
    return losses


@pytest.mark.points(2)
@pytest.mark.training
@pytest.mark.timeout(20)
def test_train_rnn_first_loss_is_teacher_forced_mse(submission):
    features, target = normalized_series(submission)
    rnn = make_rnn(submission, 1, 8, 1, "tanh")
    x = torch.as_tensor(features, dtype=torch.float32).reshape(-1, 1, 1)
    with torch.no_grad():  # shapes first, clear messages
        forward(rnn, x, "RNN(1, 8, 1, torch.tanh)(x)", len(features), 8, 1)
    # The untrained network's error, computed by the kit's RNN holding its weights.
    expected = series_error(kit_rnn(rnn, "tanh"), features, target)
    losses = losses_of(step(submission).train_rnn(rnn, features, target, epochs=3, lr=1e-2), 3)
    if not math.isclose(losses[0], expected, rel_tol=1e-4, abs_tol=1e-6):
        checks.fail(
            f"the first epoch's loss {losses[0]:.5g} is not the mean squared error of the "
            "untrained network's predictions, with teacher forcing (the true series as "
            "input at every step, one forward over the whole series, MSE against target)"
        )


def kit_rnn(rnn, act, sizes=(1, 8, 1)):
    """The kit's RNN holding the student's RNN's parameters (by the names STEPS.md gives)."""
    what = f"RNN{sizes}"
    return kit_models.rnn(kit_models.state_of(rnn, what), sizes, ACTS[act], what).double()


def predicted(kit, features):
    """The kit's RNN's one-step predictions over the series (teacher forced), shape (T,)."""
    with torch.no_grad():
        return kit(torch.as_tensor(features, dtype=torch.float64).reshape(-1, 1, 1))[0][:, 0]


def series_error(kit, features, target):
    """Teacher-forced MSE of the kit's RNN over the series, computed on the grader's side."""
    x = torch.as_tensor(features, dtype=torch.float64).reshape(-1, 1, 1)
    with torch.no_grad():
        outputs, _ = kit(x)
    return ((outputs[:, 0] - torch.as_tensor(target, dtype=torch.float64)) ** 2).mean().item()


@pytest.mark.points(3)
@pytest.mark.training
@pytest.mark.timeout(20)
def test_train_rnn_learns(submission, keep_artifact):
    features, target = normalized_series(submission)
    rnn = make_rnn(submission, 1, 8, 1, "tanh")
    before = {k: v.detach().clone() for k, v in rnn.state_dict().items()}
    start = series_error(kit_rnn(rnn, "tanh"), features, target)
    epochs = 25
    losses = step(submission).train_rnn(rnn, features, target, epochs=epochs, lr=1e-2)
    keep_artifact("train_rnn(): the loss of each epoch", "curve", losses_of(losses, epochs))
    after = rnn.state_dict()
    unchanged = [k for k in PARAM_SHAPES if torch.equal(before[k], after[k].detach().to("cpu"))]
    if unchanged:
        checks.fail(
            f"train_rnn left the parameter(s) {', '.join(unchanged)} unchanged: the loss "
            "must stay connected to the network in autograd (call backward on the loss "
            "itself, never on a torch.tensor(...) rebuilt from its value), then step Adam"
        )
    # Judged on the trained weights (the kit's RNN), not on the losses train_rnn reports.
    end = series_error(kit_rnn(rnn, "tanh"), features, target)
    keep_artifact(
        "the trained RNN",
        "curve",
        {"series": target, "prediction": predicted(kit_rnn(rnn, "tanh"), features)},
    )
    if not end < 0.5 * start:
        checks.fail(
            f"train_rnn should lower the loss on a normalized series in {epochs} epochs "
            f"with lr=1e-2; the trained network's error went from {start:.3g} to "
            f"{end:.3g}"
        )
