# An independently written step 03, in a different style from the reference:
# torch.Tensor methods, amax, explicit dims; used to check the hidden tests
# accept any correct answer, not just the reference's.


def normalize(a):
    total = a.sum(dim=a.dim() - 1).unsqueeze(-1)
    return a.div(total)


def _stable_exp(x):
    return (x - x.amax(dim=1, keepdim=True)).exp()


def softmax(x):
    weights = _stable_exp(x)
    return weights / weights.sum(dim=1).unsqueeze(1)


def logsumexp(x):
    peak = x.amax(dim=1, keepdim=True)
    return _stable_exp(x).sum(dim=1, keepdim=True).log().add(peak)


def log_softmax(x):
    return x.sub(logsumexp(x))
