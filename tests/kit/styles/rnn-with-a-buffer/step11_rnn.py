"""Step 11 in another style: biases registered first, a buffer for h_0, nn.MSELoss."""

import numpy as np
import torch
from torch import nn


def generate_rnn_data(N_examples=1000, noise_var=0.1, lag=1, seed=None):
    rng = np.random.RandomState(seed)
    ts = 4.0 + 3.0 * np.arange(N_examples) + rng.randn(N_examples) * np.sqrt(noise_var)
    return ts[:-lag], ts[lag:]


def split_series(features, target, train_frac=0.7):
    cut = int(train_frac * len(features))
    return features[:cut], target[:cut], features[cut:], target[cut:]


class RNN(nn.Module):
    def __init__(self, N_input, N_hidden, N_output, hidden_activation):
        super().__init__()
        self.b_y = nn.Parameter(torch.zeros(N_output, 1))
        self.b_h = nn.Parameter(torch.zeros(N_hidden, 1))
        self.w_yh = nn.Parameter(nn.init.kaiming_uniform_(torch.empty(N_output, N_hidden)))
        self.w_hx = nn.Parameter(nn.init.kaiming_uniform_(torch.empty(N_hidden, N_input)))
        self.w_hh = nn.Parameter(nn.init.kaiming_uniform_(torch.empty(N_hidden, N_hidden)))
        self.register_buffer("h0", torch.zeros(N_hidden, 1))
        self.act = hidden_activation

    def forward(self, inp_ts, hidden_act=None):
        h = self.h0 if hidden_act is None else hidden_act
        ys = []
        for t in range(inp_ts.shape[0]):
            h = self.act(self.w_hx @ inp_ts[t] + self.w_hh @ h + self.b_h)
            ys.append((self.w_yh @ h + self.b_y).squeeze(1))
        return torch.stack(ys, dim=0), h


def train_rnn(rnn, features, target, epochs=100, lr=1e-2):
    x = torch.tensor(np.asarray(features), dtype=torch.float32).view(-1, 1, 1)
    y = torch.tensor(np.asarray(target), dtype=torch.float32).view(-1, 1)
    opt = torch.optim.Adam(rnn.parameters(), lr=lr)
    criterion = nn.MSELoss()
    history = []
    for _ in range(epochs):
        opt.zero_grad()
        predictions, _ = rnn(x)
        loss = criterion(predictions, y)
        loss.backward()
        opt.step()
        history.append(float(loss))
    return history
