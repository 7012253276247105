""" "Without X" holds: the source check and the observed call.

The source check (grader.authoring.checks.uses) reads what Python runs: the last binding of a
name, aliases, lambdas, helpers, the step files it imports, and names looked up by
string. The observed call (submission.torch_calls) records every torch function a
call reaches, whatever the code calls it. Fair code in any style passes both.
"""

from pathlib import Path

import pytest
import torch

from grader.authoring import checks
from grader.sandbox.bwrap import bwrap_problem
from grader.sandbox.limits import Limits
from grader.submission.direct import DirectSubmission
from grader.submission.protocol import SubmissionError
from grader.submission.sandboxed import SandboxedSubmission

SOFTMAX = {"softmax", "log_softmax"}
HEADER = "import torch\nimport torch.nn.functional as F\n"
FAIR_BODY = (
    "    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)\n"
    "    return e / e.sum(dim=-1, keepdim=True)\n"
)

# Each way around "softmax without torch.softmax / F.softmax", and what the check says.
BYPASSES = {
    "module alias": ("_sm = F.softmax\ndef softmax(x):\n    return _sm(x, -1)\n", "softmax"),
    "alias of torch.softmax": (
        "sm = torch.softmax\ndef softmax(x):\n    return sm(x, -1)\n",
        "softmax",
    ),
    "from-import alias": (
        "from torch.nn.functional import softmax as s\ndef softmax(x):\n    return s(x, -1)\n",
        "softmax",
    ),
    "lambda": ("softmax = lambda x: x.softmax(-1)\n", "softmax"),
    "helper": (
        "def _h(x):\n    return torch.nn.Softmax(-1)(x)\ndef softmax(x):\n    return _h(x)\n",
        "softmax",
    ),
    "second definition": (
        f"def softmax(x):\n{FAIR_BODY}\ndef softmax(x):\n    return torch.softmax(x, -1)\n",
        "softmax",
    ),
    "rebound after the def": (f"def softmax(x):\n{FAIR_BODY}softmax = torch.softmax\n", "softmax"),
    "rebound through global": (
        f"def softmax(x):\n{FAIR_BODY}def _setup():\n    global softmax\n"
        "    softmax = F.softmax\n_setup()\n",
        "softmax",
    ),
    "getattr of a sum": (
        'def softmax(x):\n    return getattr(torch, "soft" + "max")(x, -1)\n',
        "softmax",
    ),
    "getattr of a join": (
        'def softmax(x):\n    return getattr(F, "".join(["soft", "max"]))(x, -1)\n',
        "softmax",
    ),
    "getattr computed": (
        'N = "xamtfos"\ndef softmax(x):\n    return getattr(torch, N[::-1])(x, -1)\n',
        "getattr",
    ),
    "vars(torch)": ('def softmax(x):\n    return vars(torch)["softmax"](x, -1)\n', "vars"),
    "torch.__dict__": (
        'def softmax(x):\n    return torch.__dict__["softmax"](x, -1)\n',
        "__dict__",
    ),
    "eval": ('def softmax(x):\n    return eval("torch.soft" + "max")(x, -1)\n', "eval"),
    "exec": (
        'def softmax(x):\n    exec("r = torch.softmax(x, -1)")\n    return locals()["r"]\n',
        "exec",
    ),
    "importlib": (
        "import importlib\ndef softmax(x):\n"
        '    return importlib.import_module("torch").softmax(x, -1)\n',
        "importlib",
    ),
    "__import__": (
        'def softmax(x):\n    return __import__("torch").softmax(x, -1)\n',
        "__import__",
    ),
    "attrgetter": (
        "from operator import attrgetter\n"
        'def softmax(x):\n    return attrgetter("softmax")(F)(x, -1)\n',
        "attrgetter",
    ),
    "getattr passed around": (
        "import functools\ndef softmax(x):\n"
        '    return functools.reduce(getattr, ["nn", "functional", "softmax"], torch)(x, -1)\n',
        "getattr",
    ),
    "inspect.getmembers": (
        "import inspect\ndef softmax(x):\n"
        '    return dict(inspect.getmembers(F))["softmax"](x, -1)\n',
        "getmembers",
    ),
    "private aten op": ("def softmax(x):\n    return torch._softmax(x, -1, False)\n", "softmax"),
    "softmin": ("def softmax(x):\n    return F.softmin(-x, -1)\n", "softmax"),
    "exp of log_softmax": ("def softmax(x):\n    return x.log_softmax(-1).exp()\n", "log_softmax"),
    "import-time patch": (
        "torch.exp = torch.softmax\ndef softmax(x):\n    return torch.exp(x, -1)\n",
        "softmax",
    ),
    "observer switched off": (
        f"from torch.overrides import TorchFunctionMode\ndef softmax(x):\n{FAIR_BODY}",
        "overrides",
    ),
    "dispatch internals": (f"import torch._C\ndef softmax(x):\n{FAIR_BODY}", "_C"),
    # TorchScript runs its calls out of the observer's sight; its source is a string.
    "TorchScript from a string": (
        "_cu = torch.jit.CompilationUnit(\n"
        '    "def sm(x: torch.Tensor) -> torch.Tensor:\\n    return torch.soft" + "max(x, -1)\\n"\n'
        ")\ndef softmax(x):\n    return _cu.sm(x)\n",
        "jit",
    ),
    "TorchScript imported by name": (
        "from torch.jit import load\nimport io\n"
        "def softmax(x):\n    return load(io.BytesIO(b'...'))(x)\n",
        "jit",
    ),
    "attention with V the identity": (
        "def softmax(x):\n    n, k = x.shape\n"
        "    q = torch.ones(n, 1, 1, dtype=x.dtype)\n"
        "    v = torch.eye(k, dtype=x.dtype).expand(n, k, k)\n"
        "    return F.scaled_dot_product_attention(q, x[..., None], v, scale=1.0)[:, 0]\n",
        "softmax",
    ),
    "pkgutil.resolve_name": (
        "from pkgutil import resolve_name\n"
        'def softmax(x):\n    return resolve_name("torch:soft" + "max")(x, -1)\n',
        "pkgutil",
    ),
    "pydoc.locate": (
        'import pydoc\ndef softmax(x):\n    return pydoc.locate("torch.soft" + "max")(x, -1)\n',
        "pydoc",
    ),
    "a format field": (
        "import string\ndef softmax(x):\n"
        '    f, _ = string.Formatter().get_field("0.soft" + "max", (torch,), {})\n'
        "    return f(x, -1)\n",
        "get_field",
    ),
    # the observer records the calling thread only
    "another thread": (
        "from concurrent.futures import ThreadPoolExecutor\n_P = ThreadPoolExecutor(1)\n"
        "def softmax(x):\n    return _P.submit(lambda: torch.exp(x)).result()\n",
        "concurrent",
    ),
    "a thread object": (
        "import threading\ndef softmax(x):\n    out = []\n"
        "    t = threading.Thread(target=lambda: out.append(x.exp()))\n"
        "    t.start()\n    t.join()\n    return out[0]\n",
        "threading",
    ),
    "read off cross_entropy": (
        "def softmax(x):\n    n, k = x.shape\n"
        "    rows, labels = x.repeat_interleave(k, 0), torch.arange(k).repeat(n)\n"
        '    return (-F.cross_entropy(rows, labels, reduction="none")).exp().view(n, k)\n',
        "log_softmax",
    ),
    "gumbel_softmax with its noise taken out": (
        "def softmax(x):\n    torch.manual_seed(0)\n"
        "    g = -torch.empty_like(x).exponential_().log()\n"
        "    torch.manual_seed(0)\n    return F.gumbel_softmax(x - g, tau=1.0)\n",
        "softmax",
    ),
    "Softmax2d over a reshaped input": (
        "def softmax(x):\n    return torch.nn.Softmax2d()(x.T[:, :, None])[:, :, 0].T\n",
        "softmax",
    ),
    "attention weights": (
        "def softmax(x):\n    m = torch.nn.MultiheadAttention(1, 1, bias=False)\n"
        "    return m(x, x, x)[1]\n",
        "softmax",
    ),
}

# Correct code in other styles: none of it may trip the check.
FAIR = {
    "plain": f"def softmax(x):\n{FAIR_BODY}",
    "x.exp() and amax": (
        "def softmax(x):\n    e = (x - x.amax(-1, keepdim=True)).exp()\n"
        "    return e / e.sum(-1)[:, None]\n"
    ),
    "loops and comprehension": (
        "def softmax(x):\n    out = []\n    for row in x:\n"
        "        e = torch.stack([torch.exp(v - row.max()) for v in row])\n"
        "        out.append(e / e.sum())\n    return torch.stack(out)\n"
    ),
    "helpers and a lambda": (
        "_shift = lambda x: x - x.max(-1, keepdim=True)[0]\n"
        "def _normalize(a):\n    return a / a.sum(-1, keepdim=True)\n"
        "def softmax(x):\n    return _normalize(torch.exp(_shift(x)))\n"
    ),
    "through its own log_softmax": (
        "def logsumexp(x):\n    m = x.max(-1, keepdim=True).values\n"
        "    return m + (x - m).exp().sum(-1, keepdim=True).log()\n"
        "def log_softmax(x):\n    return x - logsumexp(x)\n"
        "def softmax(x):\n    return log_softmax(x).exp()\n"
    ),
    "with torch.logsumexp": (
        "def softmax(x):\n    return torch.exp(x - torch.logsumexp(x, -1, keepdim=True))\n"
    ),
    "a draft replaced by the last definition": (
        f"def softmax(x):\n    return F.softmax(x, -1)\ndef softmax(x):\n{FAIR_BODY}"
    ),
    "self-checks outside the function": (
        f"def softmax(x):\n{FAIR_BODY}"
        "assert torch.allclose(softmax(torch.zeros(1, 2)), torch.softmax(torch.zeros(1, 2), -1))\n"
        'if __name__ == "__main__":\n    print(F.softmax(torch.zeros(2), 0))\n'
    ),
    "names like torch internals": (
        '_C = 10\noverrides = {"dim": -1}\n'
        f"def softmax(x):\n    assert x.shape[-1] <= _C * 100, overrides\n{FAIR_BODY}"
    ),
    "getattr of a constant": (f"def softmax(x):\n    x = getattr(x, 'double')()\n{FAIR_BODY}"),
}


@pytest.mark.parametrize("name", sorted(BYPASSES))
def test_source_check_catches_each_bypass(name):
    body, expected = BYPASSES[name]
    found = checks.uses(HEADER + body, "softmax", SOFTMAX)
    assert expected in found, f"{name}: found {found}"
    with pytest.raises(pytest.fail.Exception, match="softmax must be written without"):
        checks.without(HEADER + body, "softmax", SOFTMAX, "build it from torch.exp")


@pytest.mark.parametrize("name", sorted(FAIR))
def test_source_check_passes_fair_styles(name):
    assert checks.uses(HEADER + FAIR[name], "softmax", SOFTMAX) == []


STEP03 = "step03_normalization"
STEP05 = "step05_cross_entropy"
CE = {"cross_entropy", "nll_loss", "log_softmax"}
OWN_STEP03 = (
    HEADER + "def logsumexp(x):\n    m = x.max(-1, keepdim=True).values\n"
    "    return m + (x - m).exp().sum(-1, keepdim=True).log()\n"
    "def log_softmax(x):\n    return x - logsumexp(x)\n"
)


@pytest.mark.parametrize(
    "step05, step03, expected",
    [
        # fair: the student's own step 03, by name, alias or module
        (
            "from .step03_normalization import log_softmax\ndef cross_entropy(x, y):\n"
            "    return -log_softmax(x)[torch.arange(len(y)), y].mean()\n",
            OWN_STEP03,
            [],
        ),
        (
            "from .step03_normalization import log_softmax as lsm\ndef cross_entropy(x, y):\n"
            "    return -lsm(x)[torch.arange(len(y)), y].mean()\n",
            OWN_STEP03,
            [],
        ),
        (
            "from . import step03_normalization as s3\ndef cross_entropy(x, y):\n"
            "    return -s3.log_softmax(x)[torch.arange(len(y)), y].mean()\n",
            OWN_STEP03,
            [],
        ),
        (
            "from .step03_normalization import logsumexp\ndef cross_entropy(x, y):\n"
            "    return (logsumexp(x)[:, 0] - x[torch.arange(len(y)), y]).mean()\n",
            OWN_STEP03,
            [],
        ),
        # bypasses: the library behind a step 03 name
        (
            "from .step03_normalization import log_softmax\ndef cross_entropy(x, y):\n"
            "    return -log_softmax(x)[torch.arange(len(y)), y].mean()\n",
            HEADER + "log_softmax = F.log_softmax\n",
            ["log_softmax"],
        ),
        (
            "from . import step03_normalization as s3\ndef cross_entropy(x, y):\n"
            "    return s3._ce(x, y)\n",
            HEADER + "def _ce(x, y):\n    return F.cross_entropy(x, y)\n",
            ["cross_entropy"],
        ),
        (
            "from .step03_normalization import *\ndef cross_entropy(x, y):\n"
            "    return nll_loss(x, y)\n",
            HEADER + "from torch.nn.functional import nll_loss\n",
            ["nll_loss"],
        ),
    ],
    ids=[
        "own log_softmax",
        "own log_softmax aliased",
        "own step module",
        "own logsumexp",
        "library behind a step 03 name",
        "library in a step 03 helper",
        "star import of a library name",
    ],
)
def test_source_check_follows_other_step_files(step05, step03, expected):
    sources = {STEP05: HEADER + step05, STEP03: step03}
    assert checks.uses(sources, "cross_entropy", CE, step=STEP05) == expected


def test_the_step_file_is_decoded_like_python_reads_it(tmp_path):
    text = f"# Größe ½\nimport torch\ndef softmax(x):\n{FAIR_BODY}"
    (tmp_path / "bom").mkdir()
    (tmp_path / "bom" / f"{STEP03}.py").write_bytes(text.encode("utf-8-sig"))
    (tmp_path / "latin").mkdir()
    cookie = "# -*- coding: latin-1 -*-\n" + text
    (tmp_path / "latin" / f"{STEP03}.py").write_bytes(cookie.encode("latin-1"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / f"{STEP03}.py").write_bytes(text.encode("latin-1"))  # no cookie
    for name, expected in (("bom", text), ("latin", cookie)):
        sub = DirectSubmission(tmp_path / name)
        try:
            assert sub.source(STEP03) == expected
            assert checks.uses(sub.source(STEP03), "softmax", SOFTMAX) == []
        finally:
            sub.close()
    sub = DirectSubmission(tmp_path / "bad")
    try:
        with pytest.raises(SubmissionError, match="cannot be decoded as Python source"):
            sub.source(STEP03)
    finally:
        sub.close()


# --- the observed call -------------------------------------------------------------------


def _submission(tmp_path, source: str) -> Path:
    folder = tmp_path / "sub"
    folder.mkdir(exist_ok=True)
    (folder / f"{STEP03}.py").write_text(source)
    return folder


def _open(kind: str, folder: Path):
    if kind == "direct":
        return DirectSubmission(folder)
    if bwrap_problem() is not None:
        pytest.skip(f"no bubblewrap sandbox here: {bwrap_problem()}")
    return SandboxedSubmission(folder, "bwrap", Limits())


@pytest.mark.parametrize("kind", ["direct", "bwrap"])
def test_torch_calls_records_what_the_call_reaches(tmp_path, kind):
    # Hidden from the source check only by a string it cannot fold: the call shows it.
    source = HEADER + (
        "N = 'xamtfos'\n"
        "def softmax(x):\n    return getattr(F, N[::-1])(x, -1)\n"
        f"def plain(x):\n{FAIR_BODY}"
        "@torch.no_grad()\ndef quiet(x):\n    return plain(x)\n"
    )
    sub = _open(kind, _submission(tmp_path, source))
    try:
        x = torch.randn(3, 4)
        out, raw = sub.torch_calls(STEP03, "softmax", (x,))
        torch.testing.assert_close(out, torch.softmax(x, -1))
        records = checks.torch_records(raw, "softmax")
        assert checks.observed(records, SOFTMAX) == ["torch.nn.functional.softmax"]
        out, raw = sub.torch_calls(STEP03, "plain", (x,))
        records = checks.torch_records(raw, "plain")
        assert checks.observed(records, SOFTMAX) == []
        assert {"torch.exp", "torch.Tensor.max"} <= {name for name, _, _ in records}
        assert all(grad for _, grad, _ in records)
        _, raw = sub.torch_calls(STEP03, "quiet", (x,))
        quiet = checks.torch_records(raw, "quiet")
        assert [grad for name, grad, _ in quiet if name == "torch.exp"] == [False]
    finally:
        sub.close()


def test_observed_call_catches_kernels_that_compute_it_inside():
    # softmax as attention with V the identity; logsumexp as the last column of logcumsumexp
    from grader.authoring.observe import TorchCalls

    x = torch.randn(3, 4)
    with TorchCalls() as calls:
        q, v = torch.ones(3, 1, 1), torch.eye(4).expand(3, 4, 4)
        out = torch.nn.functional.scaled_dot_product_attention(q, x[..., None], v, scale=1.0)
        lse = torch.logcumsumexp(x, -1)[..., -1:]
    torch.testing.assert_close(out[:, 0], torch.softmax(x, -1))
    torch.testing.assert_close(lse, torch.logsumexp(x, -1, keepdim=True))
    records = calls.records()
    assert checks.observed(records, SOFTMAX) == ["torch.nn.functional.scaled_dot_product_attention"]
    assert checks.observed(records, {"logsumexp"}) == ["torch.logcumsumexp"]


def test_records_from_a_worker_are_checked():
    for raw in (
        "x",
        [("a", True)],
        [("a", 1, 1)],
        [(1, True, 1)],
        [("a" * 300, True, 1)],
        [("a", True, 0)],
        [("a", True, 1)] * 5000,
    ):
        with pytest.raises(pytest.fail.Exception, match="malformed"):
            checks.torch_records(raw, "f")
    assert checks.torch_records([["torch.exp", False, 2]], "f") == [("torch.exp", False, 2)]
