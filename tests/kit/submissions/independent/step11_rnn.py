"""Step 11, written independently from STEPS.md (a different style on purpose)."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def generate_rnn_data(N_examples=1000, noise_var=0.1, lag=1, seed=None):
    if seed is not None:
        np.random.seed(seed)
    steps = np.arange(N_examples, dtype=np.float64)
    ts = 4.0 + 3.0 * steps + np.random.randn(N_examples) * noise_var**0.5
    return ts[: len(ts) - lag], ts[lag:]


def split_series(features, target, train_frac=0.7):
    cut = int(train_frac * len(features))
    parts = []
    for arr in (features, target):
        parts.append((arr[:cut], arr[cut:]))
    (f_tr, f_te), (t_tr, t_te) = parts
    return f_tr, t_tr, f_te, t_te


def _kaiming(*shape):
    w = torch.empty(*shape)
    nn.init.kaiming_uniform_(w)
    return nn.Parameter(w)


class RNN(nn.Module):
    def __init__(self, N_input, N_hidden, N_output, hidden_activation):
        super().__init__()
        self.act = hidden_activation
        self.b_y = nn.Parameter(torch.zeros(N_output, 1))
        self.b_h = nn.Parameter(torch.zeros(N_hidden, 1))
        self.w_yh = _kaiming(N_output, N_hidden)
        self.w_hx = _kaiming(N_hidden, N_input)
        self.w_hh = _kaiming(N_hidden, N_hidden)

    def step(self, x_t, h):
        h = self.act(torch.matmul(self.w_hx, x_t) + torch.matmul(self.w_hh, h) + self.b_h)
        return h, torch.matmul(self.w_yh, h) + self.b_y

    def forward(self, inp_ts, hidden_act=None):
        h = hidden_act if hidden_act is not None else self.b_h.new_zeros(self.b_h.shape)
        ys = []
        for t in range(inp_ts.shape[0]):
            h, y = self.step(inp_ts[t], h)
            ys.append(y.T)
        return torch.cat(ys, dim=0), h


def train_rnn(rnn, features, target, epochs=100, lr=1e-2):
    ref = rnn.w_hh
    inputs = torch.tensor(np.asarray(features), dtype=ref.dtype, device=ref.device)[:, None, None]
    wanted = torch.tensor(np.asarray(target), dtype=ref.dtype, device=ref.device)[:, None]
    opt = torch.optim.Adam(rnn.parameters(), lr)
    history = []
    for _epoch in range(epochs):
        opt.zero_grad()
        preds = rnn(inputs)[0]
        err = F.mse_loss(preds, wanted)
        err.backward()
        opt.step()
        history.append(err.item())
    return history
