"""Visible tests of step 11: run ``pytest exercises -m step11``."""

import numpy as np
import pytest
import torch

from .step11_rnn import RNN, generate_rnn_data, split_series, train_rnn

pytestmark = pytest.mark.step11


def test_generate_rnn_data_is_a_noisy_line():
    features, target = generate_rnn_data(N_examples=500, noise_var=0.1, lag=1, seed=0)
    assert isinstance(features, np.ndarray) and isinstance(target, np.ndarray), (
        f"generate_rnn_data should return numpy arrays, got {type(features)} and {type(target)}"
    )
    assert features.shape == (499,) and target.shape == (499,), (
        f"with N_examples=500 and lag=1, features and target should have 499 values each, got "
        f"{features.shape} and {target.shape}"
    )
    assert np.allclose(target[:-1], features[1:]), (
        "with lag=1, target[i] should be the next value of the series: target[i] == features[i + 1]"
    )
    noise = features - (4 + 3 * np.arange(499))
    assert np.ptp(noise) > 0.1, (
        "features - (4 + 3 t) is the same at every step: the noise should be a new random draw "
        "at every step t (size=N_examples)"
    )
    assert abs(noise.mean()) < 0.1, (
        f"features - (4 + 3 t) should be noise around 0, got mean {noise.mean():.3g}; "
        "t starts at 0 (np.arange(N_examples)) and features = ts[:-lag] starts at ts[0]"
    )
    assert 0.06 < noise.var() < 0.14, (
        f"features - (4 + 3 t) should be noise of variance 0.1, got variance {noise.var():.3g}; "
        "hint: the standard deviation is sqrt(noise_var)"
    )


def test_generate_rnn_data_lag_and_seed():
    features, target = generate_rnn_data(N_examples=20, lag=3, seed=1)
    assert features.shape == (17,), (
        f"with lag=3, features = ts[:-3] has 17 values, got {features.shape}"
    )
    assert np.allclose(target[:-3], features[3:]), "with lag=3, target[i] == features[i + 3]"
    again, _ = generate_rnn_data(N_examples=20, lag=3, seed=1)
    assert np.array_equal(features, again), "the same seed should give the same series"


def test_split_series():
    features, target = np.arange(10.0), np.arange(10.0) + 100
    f_train, t_train, f_test, t_test = split_series(features, target, train_frac=0.7)
    assert list(f_train) == list(range(7)) and list(t_train) == [100 + i for i in range(7)], (
        "the training parts should be the first int(0.7 * 10) = 7 values of each series"
    )
    assert list(f_test) == [7, 8, 9], f"features_test should be the last 3 values, got {f_test}"
    assert list(t_test) == [107, 108, 109], (
        f"target_test should be the last 3 values of target, got {t_test}"
    )


def test_rnn_parameters():
    rnn = RNN(2, 5, 3, torch.tanh)
    shapes = {name: tuple(p.shape) for name, p in rnn.named_parameters()}
    expected = {"w_hh": (5, 5), "w_hx": (5, 2), "w_yh": (3, 5), "b_h": (5, 1), "b_y": (3, 1)}
    assert shapes == expected, f"RNN(2, 5, 3) should have the parameters {expected}, got {shapes}"
    assert rnn.b_h.abs().max() == 0 and rnn.b_y.abs().max() == 0, "the biases should start at zero"
    assert rnn.w_hh.abs().max() <= (6 / 5) ** 0.5, "w_hh should be initialized by kaiming_uniform_"


def test_rnn_forward_matches_torch():
    torch.manual_seed(0)
    rnn = RNN(2, 5, 3, torch.tanh)
    x = torch.randn(6, 2, 1)
    outputs, h_last = rnn(x)
    assert outputs.shape == (6, 3), f"outputs for T=6 and O=3 should be (6, 3), got {outputs.shape}"
    assert h_last.shape == (5, 1), f"h_T should be a column (5, 1), got {h_last.shape}"
    ref = torch.nn.RNN(2, 5)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(rnn.w_hx)
        ref.weight_hh_l0.copy_(rnn.w_hh)
        ref.bias_ih_l0.zero_()
        ref.bias_hh_l0.zero_()
    hs, _ = ref(x[:, :, 0].unsqueeze(1))
    assert torch.allclose(h_last[:, 0], hs[-1, 0], atol=1e-5), (
        "h_T differs from torch.nn.RNN: h_t = act(w_hx @ x_t + w_hh @ h_(t-1) + b_h), h_0 = 0"
    )
    expected = hs[:, 0, :] @ rnn.w_yh.T + rnn.b_y.T
    assert torch.allclose(outputs, expected, atol=1e-5), "outputs[t] should be w_yh @ h_t + b_y"
    assert outputs.requires_grad, "outputs must stay in autograd: use torch.stack, not torch.tensor"


def prediction(rnn, features, target):
    with torch.no_grad():
        outputs, _ = rnn(torch.as_tensor(features, dtype=torch.float32).reshape(-1, 1, 1))
    return {"target (the next value)": target, "RNN prediction": outputs[:, 0]}


def test_train_rnn_lowers_the_loss(save_curves):
    torch.manual_seed(0)
    features, target = generate_rnn_data(N_examples=41, seed=0)
    mean, std = features.mean(), features.std()
    rnn = RNN(1, 8, 1, torch.tanh)
    features, target = (features - mean) / std, (target - mean) / std
    try:
        losses = train_rnn(rnn, features, target, epochs=20)
    except NotImplementedError:
        raise  # a stub: its own one-line message
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise AssertionError(
            f"train_rnn raised {type(err).__name__}: {err}; does the RNN's forward keep its "
            "outputs in autograd (torch.stack)?"
        ) from err
    save_curves("step11_train_rnn_loss", {"mean squared error": losses})
    save_curves(
        "step11_rnn_prediction",
        lambda: prediction(rnn, features, target),
        xlabel="t",
        ylabel="series (normalized)",
    )
    assert len(losses) == 20 and all(isinstance(v, float) for v in losses), (
        "train_rnn should return one Python float per epoch (loss.item())"
    )
    assert losses[-1] < 0.5 * losses[0], (
        f"the loss should fall on a normalized series, went from {losses[0]:.3g} to "
        f"{losses[-1]:.3g}; is the loss still connected to the parameters (no torch.tensor(...))?"
    )
