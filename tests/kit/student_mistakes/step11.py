from . import Mistake

STEP = "step11_rnn"
MISTAKES = [
    Mistake(
        STEP,
        "noise-variance-as-std",
        "math.sqrt(noise_var)",
        "noise_var",
        ("sqrt(noise_var)",),
    ),
    Mistake(
        STEP,
        "time-starts-at-one",
        "t = np.arange(N_examples)",
        "t = np.arange(1, N_examples + 1)",
        ("t starts at 0",),
    ),
    Mistake(
        STEP,
        "one-noise-draw-for-all-steps",
        "math.sqrt(noise_var), size=N_examples)",
        "math.sqrt(noise_var))",
        ("new random draw",),
    ),
    Mistake(
        STEP,
        "generator-ignores-the-seed",
        "    rng = np.random.default_rng(seed)\n",
        "    rng = np.random.default_rng()\n",
        ("same seed",),
    ),
    Mistake(
        STEP,
        "features-and-target-swapped",
        "return ts[:-lag], ts[lag:]",
        "return ts[lag:], ts[:-lag]",
        ("next value",),
    ),
    Mistake(
        STEP,
        "split-test-target-from-features",
        "return features[:n], target[:n], features[n:], target[n:]",
        "return features[:n], target[:n], features[n:], features[n:]",
        ("target_test",),
    ),
    Mistake(
        STEP,
        "rnn-flat-bias",
        "self.b_h = nn.Parameter(torch.zeros(N_hidden, 1))",
        "self.b_h = nn.Parameter(torch.zeros(N_hidden))",
        ("b_h",),
    ),
    Mistake(
        STEP,
        "rnn-normal-init",
        "nn.init.kaiming_uniform_(w)",
        "nn.init.normal_(w)",
        ("kaiming_uniform_",),
    ),
    Mistake(
        STEP,
        "rnn-outputs-through-torch-tensor",
        "return torch.stack(outputs), h",
        "return torch.tensor([o.tolist() for o in outputs]), h",
        ("torch.stack",),
    ),
    Mistake(
        STEP,
        "rnn-without-activation",
        "h = self.hidden_activation(self.w_hx @ x_t + self.w_hh @ h + self.b_h)",
        "h = self.w_hx @ x_t + self.w_hh @ h + self.b_h",
        ("h_T differs",),
    ),
    Mistake(
        STEP,
        "train-rnn-loss-tensors",
        "losses.append(loss.item())",
        "losses.append(loss)",
        ("Python float",),
    ),
]
