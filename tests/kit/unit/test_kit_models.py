"""The kit's modules take a student's weights by shape and order.

See grader/authoring/kit_models.py.
"""

import pytest
import torch
from torch import nn

from grader.authoring import kit_models


class Aliased(nn.Module):
    """Correct: the layers in a Sequential and the same modules under a second name."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 9), nn.ReLU(), nn.Linear(9, 4))
        self.first, self.last = self.net[0], self.net[2]

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("copied", [False, True], ids=["direct", "as-from-a-worker"])
def test_a_module_registered_twice_loads(copied):
    model = Aliased()
    state = model.state_dict()
    assert len(state) == 8 and len(list(model.parameters())) == 4
    if copied:  # the wire sends every entry as its own tensor
        state = {k: v.clone() for k, v in state.items()}
    kit = kit_models.mlp(state, 3, 9, 4, "Model(3, 9, 4)")
    x = torch.randn(5, 3)
    torch.testing.assert_close(kit(x), model(x))


def test_an_extra_tensor_that_is_no_copy_is_refused():
    state = dict(Aliased().net.state_dict())
    state["extra"] = torch.randn(9)
    with pytest.raises(pytest.fail.Exception, match="should hold exactly the tensors"):
        kit_models.mlp(state, 3, 9, 4, "Model(3, 9, 4)")
