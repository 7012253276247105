"""Step 03 in other styles: loops, comprehensions, x.exp(), helpers, a first draft
that Python replaces by the last definition, and self-checks against the library that
never run inside the functions."""

import math

import torch
import torch.nn.functional as F


def normalize(a):
    total = a.sum(dim=a.dim() - 1, keepdim=True)
    return a / total


def softmax(x):  # a first draft: the definition below replaces it
    return F.softmax(x, dim=-1)


def _row_max(x):
    return x.max(-1, keepdim=True)[0]


def _stable_exp(x):
    return (x - _row_max(x)).exp()


def softmax(x):  # noqa: F811 - the one Python uses
    rows = [_stable_exp(row[None]) for row in x]
    return torch.cat([r / r.sum() for r in rows])


def logsumexp(x):
    out = []
    for row in x:
        m = row.max()
        out.append(m + torch.log(torch.sum(torch.exp(row - m))))
    return torch.stack(out)[:, None]


log_softmax = lambda x: x - logsumexp(x)  # noqa: E731


if __name__ == "__main__":
    t = torch.randn(3, 4)
    print(softmax(t) - torch.softmax(t, -1), logsumexp(t) - torch.logsumexp(t, -1, True))

_check = torch.tensor([[0.0, math.log(3.0)]])
assert torch.allclose(softmax(_check), torch.softmax(_check, dim=-1))
assert torch.allclose(log_softmax(_check), F.log_softmax(_check, dim=-1))
