# GENERATED FILE: written by `python -m grader stubs` from solutions/step11_rnn.py.
# Do not edit it in exercises/: edit solutions/step11_rnn.py and regenerate.
"""Step 11: a recurrent network, written by hand, that learns a time series.

An MLP sees one input and forgets it. A recurrent network reads a sequence
``x_1, x_2, ..., x_T`` one step at a time and keeps a *hidden state* ``h_t``:
a vector that summarizes everything it has read so far. At every step the
same weights mix the new input with the old summary,

    h_t = act(w_hx x_t + w_hh h_{t-1} + b_h),        y_t = w_yh h_t + b_y,

starting from ``h_0 = 0``. Because the weights are shared across time, the
network has the same number of parameters for a series of 10 steps or of
10 000, and whatever it learns about "how one step follows the last" applies
everywhere in the series. ``y_t`` is the prediction made after seeing
``x_1 .. x_t``; here it predicts the next value of the series.

The data is a noisy straight line: ``4 + 3 t`` plus independent Gaussian noise
(a fresh draw at every step t). With ``lag = 1`` the input at step t is the
value at t and the target is the value at t + 1, so the network must learn
"add about 3". The raw values grow to several thousand; fed in as they are,
``tanh`` saturates at +-1 (its gradient is ~0 there) and the squared errors
are millions, so Adam's steps are meaningless. Normalizing first (subtract the
training mean, divide by the training std; use the *training* statistics for
the test part too) puts inputs and targets near [-2, 2], where the activations
respond and the loss is of order one.

Training uses *teacher forcing*: at every step the network gets the true
``x_t`` from the data, not its own previous prediction. Its own predictions
are wrong early in training, and feeding them back would make errors
compound over the series (one bad prediction spoils the next input, and so
on); with the true inputs every step gets a sound input and a clean error
signal, so training is stable and fast. One forward pass over the whole
series gives all T predictions; their mean squared error against the targets
is the loss, and backpropagation through time carries its gradient back
through every step to the shared weights.
"""

import math

import numpy as np
import torch
from torch import nn


def generate_rnn_data(N_examples=1000, noise_var=0.1, lag=1, seed=None):
    """A noisy line ``ts[t] = 4 + 3 t + noise_t`` for ``t = 0 .. N_examples - 1``.

    Args:
        N_examples: length of the series ``ts``.
        noise_var: variance of the Gaussian noise, drawn independently at every t.
        lag: how many steps ahead the target is.
        seed: when given, the same seed gives the same series.
    Returns:
        numpy float arrays ``(features, target)``, each of length ``N_examples - lag``:
        ``features = ts[:-lag]``, ``target = ts[lag:]``.
    Hint: ``rng = np.random.default_rng(seed)``; ``rng.normal(0, sqrt(noise_var),
    size=N_examples)`` draws one noise value per step (not one for the whole series).
    """
    # TODO (step 11): implement generate_rnn_data.
    raise NotImplementedError("step 11: generate_rnn_data is not implemented yet")


def split_series(features, target, train_frac=0.7):
    """Split a series in time: the first part trains, the rest tests.

    Args:
        features, target: arrays (or tensors) of the same length ``T``.
        train_frac: fraction of the steps used for training.
    Returns:
        ``(features_train, target_train, features_test, target_test)``; with
        ``n = int(train_frac * len(features))`` the training parts are the first ``n``
        steps and the test parts the remaining ``T - n`` steps of each series.
    Hint: no shuffling: a series is split at one point in time, ``[:n]`` and ``[n:]``.
    """
    # TODO (step 11): implement split_series.
    raise NotImplementedError("step 11: split_series is not implemented yet")


class RNN(nn.Module):
    """A one-layer recurrent network with hand-made parameters.

    Args:
        N_input (I), N_hidden (H), N_output (O): sizes.
        hidden_activation: the function ``act`` applied to the hidden state, e.g.
            ``torch.tanh`` or ``torch.relu``.
    Parameters (``nn.Parameter``, registered under these names):
        ``w_hh (H, H)``, ``w_hx (H, I)``, ``w_yh (O, H)``: ``nn.init.kaiming_uniform_``;
        ``b_h (H, 1)``, ``b_y (O, 1)``: zeros.
    Hint: create each with ``nn.Parameter(torch.empty(...))`` and initialize it in place.
    """

    def __init__(self, N_input, N_hidden, N_output, hidden_activation):
        super().__init__()
        # TODO (step 11): implement RNN.__init__.
        raise NotImplementedError("step 11: RNN.__init__ is not implemented yet")

    def forward(self, inp_ts, hidden_act=None):
        """Run the network over a whole series.

        Args:
            inp_ts: ``(T, I, 1)``: ``inp_ts[t]`` is the column ``x_t``.
            hidden_act: the hidden state ``(H, 1)`` to start from; None means zeros.
        Returns:
            ``(outputs (T, O), h_T (H, 1))``: ``outputs[t]`` is ``y_t`` as a row, and the
            last hidden state. Both stay connected to the parameters in autograd.
        Hint: loop over t; ``@`` multiplies matrices; collect the ``y_t`` in a list and
        ``torch.stack`` them (never ``torch.tensor(...)``, which copies the numbers and
        cuts the graph). Make ``h_0`` with ``dtype`` and ``device`` of ``self.w_hh``.
        """
        # TODO (step 11): implement RNN.forward.
        raise NotImplementedError("step 11: RNN.forward is not implemented yet")


def train_rnn(rnn, features, target, epochs=100, lr=1e-2):
    """Train ``rnn`` (1 input, 1 output) to predict ``target`` from ``features``.

    Args:
        rnn: an ``RNN(1, H, 1, act)``.
        features, target: 1-D numpy arrays (or tensors) of length ``T``, normalized.
        epochs: number of passes; each is one forward over the whole series, one
            backward and one Adam step.
        lr: Adam's learning rate.
    Returns:
        list of ``epochs`` Python floats: the mean squared error of each epoch.
    Hint: teacher forcing: the input is the true series, shaped ``(T, 1, 1)`` as
    float32 (``torch.as_tensor(features, dtype=torch.float32).reshape(-1, 1, 1)``);
    compare ``outputs`` with the target shaped ``(T, 1)``. Call ``backward`` on the loss
    tensor itself; record ``loss.item()``.
    """
    # TODO (step 11): implement train_rnn.
    raise NotImplementedError("step 11: train_rnn is not implemented yet")
