"""The kit's own modules for the architectures STEPS.md fixes, and a loader for them.

Where the contract fixes an architecture (step 06's ``create_model`` and
``Model``, the model step 07's ``train`` returns, step 09's
``create_conv_model``, step 10's ``AE``, step 11's ``RNN``, step 13's ``Net``),
what a model has learned is judged here, on the grader's side: the student's
``state_dict()`` (plain tensors, whichever process built them) is loaded into
the kit's module of that architecture, and the kit's module is evaluated. The
student's own ``forward`` never decides an accuracy or a reconstruction error,
so a forward that recognises the kit's test images cannot buy points.

Tensors are matched by shape and order, never by key: STEPS.md leaves the
names of submodules free. Where two tensors have the same shape, the order in
which they were registered decides. Where STEPS.md names the parameters
(``RNN``, ``Net``) those names are used.

This module imports only torch: :class:`Recorder` and the kit modules also
travel to a sandboxed worker as arguments (an ``import grader.kit_models``
there must work).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

Activation = Callable[[torch.Tensor], torch.Tensor]


def _fail(message: str) -> NoReturn:
    from . import checks  # grader side only (pytest)

    checks.fail(message)


# --- the kit's modules -------------------------------------------------------------------


class MLP(nn.Module):
    """``Linear(n_in, nh)``, ReLU, ``Linear(nh, n_out)``: step 06's create_model and Model."""

    def __init__(self, n_in: int, nh: int, n_out: int):
        super().__init__()
        self.hidden = nn.Linear(n_in, nh)
        self.out = nn.Linear(nh, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))


class ConvNet(nn.Module):
    """Step 09's create_conv_model: three conv/ReLU/max-pool blocks, flatten, Linear(128, 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(128, 10),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.reshape(-1, 1, 28, 28))


class AE(nn.Module):
    """Step 10's AE: ``Linear(N_input, H)`` + ReLU encodes, ``Linear(H, N_input)`` + sigmoid."""

    def __init__(self, N_input: int = 784, N_hidden_nodes: int = 50):
        super().__init__()
        self.encoder = nn.Linear(N_input, N_hidden_nodes)
        self.decoder = nn.Linear(N_hidden_nodes, N_input)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.encoder(x.reshape(x.shape[0], -1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(self.encode(x))).reshape(-1, 1, 28, 28)


class RNN(nn.Module):
    """Step 11's RNN: ``h_t = act(w_hx x_t + w_hh h_{t-1} + b_h)``, ``y_t = w_yh h_t + b_y``."""

    def __init__(self, N_input: int, N_hidden: int, N_output: int, hidden_activation: Activation):
        super().__init__()
        self.w_hh = nn.Parameter(torch.zeros(N_hidden, N_hidden))
        self.w_hx = nn.Parameter(torch.zeros(N_hidden, N_input))
        self.w_yh = nn.Parameter(torch.zeros(N_output, N_hidden))
        self.b_h = nn.Parameter(torch.zeros(N_hidden, 1))
        self.b_y = nn.Parameter(torch.zeros(N_output, 1))
        self.act = hidden_activation

    def forward(
        self, inp_ts: torch.Tensor, hidden_act: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = hidden_act
        if h is None:
            h = self.w_hh.new_zeros(self.w_hh.shape[0], 1)
        outputs = []
        for x_t in inp_ts.to(self.w_hh.dtype):
            h = self.act(self.w_hx @ x_t + self.w_hh @ h + self.b_h)
            outputs.append((self.w_yh @ h + self.b_y)[:, 0])
        return torch.stack(outputs), h


class Net(nn.Module):
    """Step 13's Net: ``F.linear``, activation (None: ELU), ``F.linear``."""

    def __init__(
        self,
        num_features: int,
        num_hidden: int,
        num_output: int,
        activation: Activation | None = None,
    ):
        super().__init__()
        self.W_1 = nn.Parameter(torch.zeros(num_hidden, num_features))
        self.b_1 = nn.Parameter(torch.zeros(num_hidden))
        self.W_2 = nn.Parameter(torch.zeros(num_output, num_hidden))
        self.b_2 = nn.Parameter(torch.zeros(num_output))
        self.activation = F.elu if activation is None else activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(self.activation(F.linear(x, self.W_1, self.b_1)), self.W_2, self.b_2)


class Recorder(nn.Module):
    """A classifier that records what a training loop shows it in train mode.

    Column 0 of every input row holds the example's index (exact in float32);
    the logits come from a Linear layer on the other columns. In train mode each
    forward appends the indices it saw to ``order`` and its batch size to
    ``batches``; in eval mode it records nothing. The records are buffers, so
    they come back from a sandboxed worker with the module's state.
    """

    # Buffers (registered below): declared here so that they read as tensors, not modules.
    order: torch.Tensor
    batches: torch.Tensor
    counts: torch.Tensor

    def __init__(self, n_features: int, n_classes: int, capacity: int):
        super().__init__()
        self.linear = nn.Linear(n_features - 1, n_classes)
        self.register_buffer("order", torch.full((capacity,), -1, dtype=torch.int64))
        self.register_buffer("batches", torch.zeros(capacity, dtype=torch.int64))
        self.register_buffer("counts", torch.zeros(3, dtype=torch.int64))  # seen, batches, lost

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            with torch.no_grad():
                ids = x[:, 0].detach().round().to(torch.int64).to(self.order.device)
                seen, batches = int(self.counts[0]), int(self.counts[1])
                if seen + len(ids) <= len(self.order) and batches < len(self.batches):
                    self.order[seen : seen + len(ids)] = ids
                    self.batches[batches] = len(ids)
                    self.counts[0] += len(ids)
                    self.counts[1] += 1
                else:
                    self.counts[2] += 1
        return self.linear(x[:, 1:])


# --- the loader ----------------------------------------------------------------------------


def _shapes(items: list[tuple[str, torch.Tensor]]) -> list[tuple]:
    return [tuple(v.shape) for _, v in items]


def state_tensors(state: Any, what: str) -> list[tuple[str, torch.Tensor]]:
    """The ``(key, tensor)`` pairs of a returned ``state_dict``, checked, on the CPU."""
    if not isinstance(state, dict):
        _fail(f"{what}.state_dict() should return a dict of tensors, got {type(state).__name__}")
    items = []
    for key, value in state.items():
        if type(value) is not torch.Tensor and not isinstance(value, nn.Parameter):
            _fail(
                f"{what}.state_dict() should hold only tensors; {str(key)[:60]!r} is "
                f"{type(value).__name__}"
            )
        items.append((str(key), value.detach().to("cpu")))
    return items


_Kit = TypeVar("_Kit", bound=nn.Module)


def load_by_shape(kit: _Kit, state: Any, what: str, architecture: str) -> _Kit:
    """Load ``state`` into ``kit``: each kit tensor takes the first unused one of its shape.

    Every tensor of ``state`` must be used and every kit tensor filled;
    otherwise the test fails saying what was expected and what came.
    """
    theirs = state_tensors(state, what)
    ours = list(kit.state_dict().items())
    used: set[int] = set()
    loaded = {}
    for key, target in ours:
        match = next(
            (
                i
                for i, (_, value) in enumerate(theirs)
                if i not in used and value.shape == target.shape
            ),
            None,
        )
        if match is None:
            break
        used.add(match)
        loaded[key] = theirs[match][1]
    # A module registered twice (``self.first = self.net[0]``) appears twice in a state_dict;
    # an unused tensor that is an exact copy of a loaded one adds nothing and is dropped.
    copies = {
        i
        for i, (_, value) in enumerate(theirs)
        if i not in used
        and any(
            theirs[j][1].shape == value.shape
            and theirs[j][1].dtype == value.dtype
            and torch.equal(theirs[j][1], value)
            for j in used
        )
    }
    if len(loaded) != len(ours) or len(used) + len(copies) != len(theirs):
        _fail(
            f"{what} should hold exactly the tensors of {architecture}: shapes "
            f"{_shapes(ours)}; its state_dict holds shapes {_shapes(theirs)[:12]}"
            + (" ..." if len(theirs) > 12 else "")
        )
    return _load(kit, loaded, what)


def load_by_name(kit: _Kit, state: Any, what: str, architecture: str) -> _Kit:
    """Load the tensors STEPS.md names (the kit's own keys) from ``state`` into ``kit``."""
    theirs = dict(state_tensors(state, what))
    loaded = {}
    for key, target in kit.state_dict().items():
        value = theirs.get(key)
        if value is None or value.shape != target.shape:
            got = "nothing" if value is None else f"shape {tuple(value.shape)}"
            _fail(
                f"{what} should have the parameter {key} of shape {tuple(target.shape)} "
                f"({architecture}); its state_dict has {got} under that name"
            )
        loaded[key] = value
    return _load(kit, loaded, what)


def _load(kit: _Kit, loaded: dict[str, torch.Tensor], what: str) -> _Kit:
    for key, value in loaded.items():
        if value.is_complex():
            _fail(f"{what}: the tensor for {key} has dtype {value.dtype}, not a real number")
    with torch.no_grad():
        for key, target in kit.state_dict().items():
            target.copy_(loaded[key].to(target.dtype))
    return kit


def mlp(state: Any, n_in: int, nh: int, n_out: int, what: str) -> MLP:
    """The kit's ``Linear(n_in, nh)``, ReLU, ``Linear(nh, n_out)`` holding ``state``."""
    architecture = f"Linear({n_in}, {nh}), ReLU, Linear({nh}, {n_out})"
    return load_by_shape(MLP(n_in, nh, n_out), state, what, architecture)


def conv_net(state: Any, what: str) -> ConvNet:
    architecture = (
        "Conv2d(1, 16, 3), Conv2d(16, 64, 3), Conv2d(64, 128, 3) and Linear(128, 10) "
        "(ReLU, MaxPool2d(2) and Flatten hold no tensors)"
    )
    return load_by_shape(ConvNet(), state, what, architecture)


def autoencoder(state: Any, what: str, n_input: int = 784, n_hidden: int = 50) -> AE:
    architecture = (
        f"Linear({n_input}, {n_hidden}) + ReLU (the encoder) and "
        f"Linear({n_hidden}, {n_input}) + sigmoid (the decoder)"
    )
    return load_by_shape(AE(n_input, n_hidden), state, what, architecture)


def rnn(state: Any, sizes: tuple[int, int, int], activation: Activation, what: str) -> RNN:
    return load_by_name(
        RNN(*sizes, activation),
        state,
        what,
        "w_hh (H, H), w_hx (H, I), w_yh (O, H), b_h (H, 1), b_y (O, 1)",
    )


def net(state: Any, sizes: tuple[int, int, int], activation: Activation | None, what: str) -> Net:
    return load_by_name(
        Net(*sizes, activation), state, what, "W_1 (H, F), b_1 (H,), W_2 (O, H), b_2 (O,)"
    )


def state_of(model: Any, what: str) -> dict:
    """``model.state_dict()`` of a student's model (local or in a worker), as a dict."""
    try:
        method = model.state_dict
    except AttributeError:
        _fail(f"{what} should be an nn.Module (it has no state_dict()), got {type(model).__name__}")
    return method()


# --- the kit's own training loop, run on the grader's side ---------------------------------


def train_classifier(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 1,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> list[float]:
    """A plain Adam + cross-entropy loop (the kit's, not the student's); returns epoch losses."""
    torch.manual_seed(seed)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(model(X[idx].to(device)), y[idx].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
    model.to("cpu")
    return losses
