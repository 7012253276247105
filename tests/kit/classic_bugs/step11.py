from . import Bug

STEP = "step11_rnn"
BUGS = [
    Bug(
        STEP,
        "one-noise-draw-for-the-whole-series",
        "noise = rng.normal(0.0, math.sqrt(noise_var), size=N_examples)",
        "noise = rng.normal(0.0, math.sqrt(noise_var))",
    ),
    Bug(
        STEP,
        "test-split-reuses-the-training-target",
        "return features[:n], target[:n], features[n:], target[n:]",
        "return features[:n], target[:n], features[n:], target[:n]",
    ),
    Bug(
        STEP,
        "loss-rebuilt-with-torch-tensor-cuts-the-graph",
        "        loss.backward()\n",
        "        loss = torch.tensor(loss.item(), requires_grad=True)\n        loss.backward()\n",
    ),
    Bug(
        STEP,
        "hidden-state-detached-between-steps",
        "h = self.hidden_activation(self.w_hx @ x_t + self.w_hh @ h + self.b_h)",
        "h = self.hidden_activation(self.w_hx @ x_t + self.w_hh @ h.detach() + self.b_h)",
    ),
]
