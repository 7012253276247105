"""What a worker sends back is checked by the grader before anything is built.

The first half feeds frames straight to the grader's decoder (grader/sandbox/wire.py): every
allowed kind round-trips as itself, and hostile frames (lying shapes and lengths,
zero-stride claims, huge counts, deep nesting, long strings, bad dtypes, forged
tags, floods of output) are refused or cut without the grader allocating what
they claim. The second half runs a tiny submission through a real sandbox and
checks that the sandboxed call gives what the direct call gives.
"""

import json
import resource
import socket
import struct
import threading
from collections import OrderedDict

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from grader.authoring.figures import FigureData
from grader.authoring.kit_mnist import mnist
from grader.sandbox import wire
from grader.sandbox.bwrap import bwrap_problem
from grader.sandbox.kit_data import KitSlice, by_reference
from grader.sandbox.remote_errors import RemoteError
from grader.sandbox.worker import CappedText
from grader.submission.direct import DirectSubmission
from grader.submission.protocol import SubmissionError
from grader.submission.sandboxed import SandboxedSubmission
from tests.kit.submission_files import reference, submission_with

matplotlib.use("Agg")

# --- frames straight to the decoder ------------------------------------------------------


def _pump(write) -> tuple:
    """Run ``write(sock)`` in a thread (frames exceed a socket's buffer) and decode."""
    ours, theirs = socket.socketpair()
    handles = []

    def sender():
        try:
            write(theirs)
        except OSError:
            pass  # the grader stopped reading: that is what a refusal looks like
        finally:
            theirs.close()

    thread = threading.Thread(target=sender)
    thread.start()
    try:
        return wire.recv_reply(ours, lambda *info: handles.append(info) or ("handle", *info))
    finally:
        ours.close()
        thread.join()


def round_trip(value, keep=None):
    kept = []

    def default_keep(obj):
        kept.append(obj)
        return id(obj), "object", type(obj).__name__

    encoded = wire.to_plain(value, keep or default_keep)
    status, result, out, err = _pump(lambda s: wire.send_reply(s, wire.reply_ok(encoded)))
    assert (status, out, err) == ("ok", "", "")
    return result


def raw_frame(header, payload: bytes = b"", out: bytes = b"", err: bytes = b"", size=None):
    """A frame as a hostile worker could write it: any header, any lengths."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    frame = struct.pack(">I", len(text)) + text
    for stream in (out, err):
        frame += struct.pack(">Q", len(stream)) + stream
    return frame + struct.pack(">Q", len(payload) if size is None else size) + payload


def decode_raw(frame: bytes):
    return _pump(lambda s: s.sendall(frame))


def refused(frame: bytes, match: str):
    with pytest.raises(wire.WireError, match=match):
        decode_raw(frame)


def tensor_node(dtype="float32", shape=(2,), device="cpu", flags=(False, False, False), nbytes=8):
    return ["tensor", dtype, list(shape), device, *flags, nbytes]


def test_every_allowed_kind_comes_back_as_itself():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [2, 3], label="a")
    ax.set_title("t")
    value = {
        "none": None,
        "bool": True,
        "int": 2**80,
        "float": -0.0,
        "inf": float("inf"),
        "str": "héllo \U0001f600",
        "list": [1, [2.5, "x"]],
        "tuple": (1, (2,)),
        "set": {1, "a", (2, 3)},
        "frozenset": frozenset({4}),
        "odict": OrderedDict([("b", 1), ("a", 2)]),
        (1, "tuple key"): "v",
        7: "int key",
        "size": torch.Size([2, 3]),
        "dtype": torch.bfloat16,
        "device": torch.device("cpu"),
        "npdtype": np.dtype("int16"),
        "figure": fig,
    }
    got = round_trip(value)
    assert got.keys() == value.keys()
    for key in value:
        if key != "figure":
            assert got[key] == value[key] and type(got[key]) is type(value[key]), key
    assert got["float"] == 0.0 and str(got["float"]) == "-0.0"
    assert isinstance(got["figure"], FigureData)
    assert got["figure"].axes[0].title == "t" and got["figure"].axes[0].lines[0]["label"] == "a"
    np.testing.assert_array_equal(got["figure"].axes[0].lines[0]["y"], [2, 3])
    assert np.isnan(round_trip(float("nan")))


TORCH_DTYPES = [
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
    torch.complex64,
    torch.complex128,
]
NUMPY_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"]
NUMPY_DTYPES += ["uint64", "float16", "float32", "float64", "complex64", "complex128"]


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=str)
def test_tensors_keep_values_dtype_and_shape(dtype):
    source = (torch.arange(24, dtype=torch.float64) - 7).reshape(2, 3, 4)
    tensors = [
        source.to(dtype),
        source.to(dtype).transpose(0, 2),  # not contiguous
        source.to(dtype)[:, 0, 0][0],  # 0-dim
        torch.zeros(0, 3, dtype=dtype),  # empty
        source.to(dtype).expand(5, 2, 3, 4),  # a zero stride: sent as its 120 values
    ]
    got = round_trip(tensors)
    assert isinstance(got, list)
    for sent, back in zip(tensors, got, strict=True):
        assert type(back) is torch.Tensor and back.dtype == dtype and back.shape == sent.shape
        assert torch.equal(back, sent) and back.is_contiguous() and not back.requires_grad


def test_tensor_flags_come_back():
    leaf = torch.ones(3, requires_grad=True)
    non_leaf = leaf * 2
    param = torch.nn.Parameter(torch.ones(2))
    conj = torch.tensor([1 + 2j]).conj()
    got_leaf, got_non_leaf, got_param, got_conj = round_trip((leaf, non_leaf, param, conj))
    assert got_leaf.requires_grad and got_leaf.is_leaf
    assert got_non_leaf.requires_grad and got_non_leaf.grad_fn is not None
    assert torch.equal(got_non_leaf.detach(), non_leaf.detach())
    assert isinstance(got_param, torch.nn.Parameter) and got_param.requires_grad
    assert torch.equal(got_conj, torch.tensor([1 - 2j]))


@pytest.mark.parametrize("name", NUMPY_DTYPES)
def test_numpy_values_keep_their_type(name):
    array = (np.arange(6) % 2 if name == "bool" else np.arange(6)).astype(name).reshape(2, 3)
    back_array, back_scalar, back_big_endian = round_trip(
        [array, array.reshape(-1)[1], array.astype(array.dtype.newbyteorder(">"))]
    )
    assert type(back_array) is np.ndarray and back_array.dtype == array.dtype
    np.testing.assert_array_equal(back_array, array)
    assert type(back_scalar) is type(array.reshape(-1)[1]) and back_scalar == array.reshape(-1)[1]
    np.testing.assert_array_equal(back_big_endian, array)


def test_numpy_scalars_are_not_python_numbers():
    got = round_trip([np.int64(3), np.float64(0.5), np.float32(0.25), np.bool_(True)])
    assert [type(v) for v in got] == [np.int64, np.float64, np.float32, np.bool_]


def test_iterators_stay_one_shot_and_objects_stay_handles():
    kept = object()
    got = round_trip({"gen": (i for i in range(3)), "obj": kept})
    assert got["obj"] == ("handle", id(kept), "object", "object")
    assert list(got["gen"]) == [0, 1, 2] and list(got["gen"]) == []


def test_tags_of_the_old_wire_are_plain_keys():
    forged = {
        "__figure__": {"suptitle": "x", "axes": []},
        "__handle__": 1,
        "kind": "module",
        "__ndarray__": None,
        "dtype": "float32",
        "__repr__": "torch.float32",
    }
    got = round_trip(forged)
    assert type(got) is dict and got == forged


def test_worker_side_caps_refuse_before_sending():
    with pytest.raises(wire.WireError, match="nested more than"):
        nest = []
        for _ in range(wire.MAX_DEPTH + 5):
            nest = [nest]
        wire.to_plain(nest, None)
    with pytest.raises(wire.WireError, match="characters"):
        wire.to_plain("x" * (wire.MAX_STR + 1), None)
    with pytest.raises(wire.WireError, match="tensor elements"):
        wire.to_plain(torch.zeros(1, dtype=torch.uint8).expand(wire.MAX_ELEMENTS + 1), None)


# Hostile frames: each is refused (WireError) with a message that says why.


def test_a_zero_stride_claim_cannot_expand():
    """8 bytes claiming 625 million float32 elements (2.5 GB): refused before any read;
    so is any storage smaller than its shape needs."""
    for nbytes in (8, 2_500_000_000):
        node = tensor_node(shape=[625_000_000], nbytes=nbytes)
        refused(raw_frame({"status": "ok", "nodes": [node]}, bytes(64)), "more than")
    node = tensor_node(shape=[1000], nbytes=8)
    refused(raw_frame({"status": "ok", "nodes": [node]}, bytes(64)), "8 bytes for 1000")


def test_a_tensor_comes_back_on_the_device_the_worker_had_it_on():
    """On a CUDA grader a CUDA tensor stays on CUDA; a grader without one refuses it."""
    node = tensor_node(device="cuda:0")
    frame = raw_frame({"status": "ok", "nodes": [node]}, bytes(64))
    if torch.cuda.is_available():
        status, value, _, _ = decode_raw(frame)
        assert value.device == torch.device("cuda:0") and value.shape == (2,)
    else:
        refused(frame, "0 CUDA devices")
    refused(
        raw_frame({"status": "ok", "nodes": [tensor_node(device="cuda:999")]}, bytes(64)), "CUDA"
    )


@pytest.mark.parametrize(
    "node, match",
    [
        (tensor_node(shape=(-1,)), "non-negative"),
        (tensor_node(shape=(2.0,)), "non-negative"),
        (tensor_node(shape=(True, 2)), "non-negative"),
        (tensor_node(shape=[1] * 40, nbytes=4), "shape"),
        (tensor_node(shape=(2,), nbytes=7), "expected 8"),
        (tensor_node(shape=(2**20, 2**20), nbytes=4 * 2**40), "more than"),
        (tensor_node(dtype="object"), "not allowed"),
        (tensor_node(dtype="float8_e4m3fn"), "not allowed"),
        (tensor_node(dtype=["float32"]), "not allowed"),
        (tensor_node(device="meta"), "not allowed"),
        (tensor_node(device="cpu; rm -rf"), "not allowed"),
        (tensor_node(dtype="int64", nbytes=16, flags=(True, False, False)), "cannot require"),
        (tensor_node(flags=(False, True, False)), "non-leaf"),
        (tensor_node(flags=(1, 0, 0)), "booleans"),
        (["ndarray", "object", [2], 16], "not allowed"),
        (["ndarray", "float64", [3], 16], "expected 24"),
        (["npscalar", "int64", 4], "expected 8"),
        (["dtype", "float8_e4m3fn"], "not allowed"),
        (["dtype", ["float32"]], "not allowed"),
        (["str", "x" * (2**20 + 1)], "characters"),
        (["handle", -1, "module", "Net"], "id"),
        (["handle", 1, "anything", "Net"], "kind"),
        (["handle", 1, "module", "N" * 200], "characters"),
        (["pickle", "cos\nsystem\n"], "unknown kind"),
        (["int", 1.5], "not an integer"),
        (["bool", 1], "true or false"),
        (["list", [0]], "not an earlier value"),
        (["figure", [["suptitle", 5]]], "not an earlier value"),
        ("list", "not a typed node"),
    ],
)
def test_a_lying_node_is_refused(node, match):
    refused(raw_frame({"status": "ok", "nodes": [node]}, bytes(64)), match)


@pytest.mark.parametrize(
    "nodes, match",
    [
        ([["int", 1], ["list", [0, 0]]], "used twice"),
        ([["int", 1], ["list", []]], "belongs to nothing"),
        ([["list", [1]], ["int", 1]], "not an earlier value"),
        ([["int", 1], ["dict", [[0, 0]]]], "used twice"),
        ([["list", []], ["int", 1], ["dict", [[0, 1]]]], "cannot be hashed"),
        ([["list", []], ["set", [0]]], "cannot be hashed"),
        ([["int", 1], ["figure", [["axes", 0]]]], "expected a list"),
        ([["int", 1], ["list", [0]], ["figure", [["axes", 1]]]], "not an axes"),
        ([["str", "x"], ["axes", [["nonsense", 0]]]], "unknown or repeated"),
        ([], "no value"),
    ],
)
def test_a_malformed_tree_is_refused(nodes, match):
    refused(raw_frame({"status": "ok", "nodes": nodes}), match)


def test_depth_and_count_are_capped():
    nest = [["list", []]] + [["list", [i]] for i in range(wire.MAX_DEPTH + 1)]
    refused(raw_frame({"status": "ok", "nodes": nest}), "nested more than")
    deep_json = b'{"status": "ok", "nodes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    refused(raw_frame(deep_json), "not JSON")
    many = [["int", 0]] * wire.MAX_NODES + [["list", list(range(wire.MAX_NODES))]]
    refused(raw_frame({"status": "ok", "nodes": many}), "values")


def test_sizes_are_checked_before_reading():
    refused(struct.pack(">I", wire.MAX_HEADER + 1), "described in")
    two = {"status": "ok", "nodes": [tensor_node()]}
    refused(raw_frame(two, bytes(64), size=2**40), "says 64")
    refused(raw_frame(two, bytes(8)), "says 64")
    refused(raw_frame(b"\xff\xfe not json"), "not JSON")
    refused(raw_frame({"status": "maybe"}), "neither ok nor error")
    many = {"status": "ok", "nodes": [tensor_node(shape=(2**26,), nbytes=2**28)] * 3}
    refused(raw_frame(many), "more than")


def test_printed_output_is_cut_on_the_grader_side():
    """200 MiB of output (a worker that patched its own cap): the grader keeps its cap."""
    flood = 200 * 2**20
    header = json.dumps({"status": "ok", "nodes": [["none"]]}).encode()

    def write(sock):
        sock.sendall(struct.pack(">I", len(header)) + header + struct.pack(">Q", flood))
        chunk = b"x" * 2**20
        for _ in range(flood // len(chunk)):
            sock.sendall(chunk)
        sock.sendall(struct.pack(">Q", 3) + "é!".encode() + struct.pack(">Q", 0))

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status, value, out, err = _pump(write)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    assert (status, value, err) == ("ok", None, "é!")
    assert len(out) < wire.MAX_OUTPUT + 200 and out.startswith("xxx")
    assert f"{flood - wire.MAX_OUTPUT} more bytes of output dropped" in out
    assert grown < 64 * 2**20, f"the grader's memory grew by {grown} bytes"
    refused(struct.pack(">I", len(header)) + header + struct.pack(">Q", 2**62), "printed")


def test_an_error_is_described_within_caps():
    info = {"type": "ValueError", "builtin": True, "base": "ValueError", "where": "", "message": ""}
    status, got, _, _ = decode_raw(raw_frame({"status": "error", "error": dict(info)}))
    assert status == "error" and got == info
    long = dict(info, message="m" * 50_000)
    _, got, _, _ = decode_raw(raw_frame({"status": "error", "error": long}))
    assert len(got["message"]) < wire.MAX_MESSAGE + 50
    for bad, match in [
        (dict(info, type="E" * 500), "characters"),
        (dict(info, builtin="yes"), "built-in"),
        (dict(info, message=["x"]), "string"),
        ("ValueError", "not described"),
    ]:
        refused(raw_frame({"status": "error", "error": bad}), match)


def test_capped_text_writes_like_a_stream():
    sink = CappedText(cap=5)
    assert sink.write("abcdefgh") == 8
    assert sink.getvalue().startswith("abcde") and "3 more characters" in sink.getvalue()
    with pytest.raises(TypeError):
        sink.write(b"bytes")


# --- a real sandbox: the same results as a direct run -------------------------------------

STEP03 = "step03_normalization"
EXTRA = '''

import os
import sys

import numpy as np


def sgd_two_loops(params, lr):
    """Correct for a list; for a generator the second loop finds nothing."""
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
        for p in params:
            p.grad.zero_()


def freeze(x):
    x.requires_grad_(False)


def zero_grads(params):
    for p in params:
        p.grad.zero_()


def doubled(x):
    return x * 2


def make_double(model):
    model.double()


def fingerprint(x):
    return tuple(x.shape), x.stride(), x.is_contiguous(), x.dtype, float(x.double().sum())


def scale_in_place(x):
    x.mul_(2)


def write_through(a, b):
    a[5, 0] = 42.0
    return float(b[0, 0])


def poison_the_kit_copy():
    from grader.sandbox import kit_data

    for X, y in kit_data._PRISTINE.values():
        X.zero_()


def numpy_values():
    return np.int64(3), np.float64(0.5), np.arange(3, dtype=np.int32), [1], (2,)


def forged():
    return {"__figure__": {"suptitle": "x", "axes": []}, "__handle__": 1, "kind": "module",
            "__ndarray__": None, "dtype": "float32", "__repr__": "torch.float32"}


class Loop(Exception):
    def __str__(self):
        return str(self)


def recursive_str():
    raise Loop("never read")


class UnicodeDecodeError(Exception):
    pass


def fake_unicode_error():
    raise UnicodeDecodeError("a student's own class")


def real_unicode_error():
    return b"\\xff".decode()


def key_error():
    return {}["missing"]


def flood_os_write():
    for fd in (1, 2):
        os.write(fd, b"x" * 50_000_000)
    return 1


def flood_patched_stdout():
    capped = sys.modules["grader.sandbox.worker"].CappedText
    capped.write = lambda self, text: self.parts.append(text) or len(text)
    sys.stdout.write("y" * (200 * 2**20))
    return 2


def zero_stride():
    """A worker patched to claim 625 million elements in 8 bytes (on the old wire: a
    stride-0 tensor, which torch.load expanded to 2.5 GB in the grader)."""
    wire = sys.modules["grader.sandbox.wire"]
    if hasattr(wire, "Encoded"):
        node = ["tensor", "float32", [625_000_000], "cpu", False, False, False, 2_500_000_000]
        wire.to_plain = lambda value, keep: wire.Encoded([node], [np.zeros(8, np.uint8)])
    else:
        wire.to_plain = lambda value, keep: torch.zeros(2).as_strided((625_000_000,), (0,))
    return 0
'''

needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None, reason=f"{bwrap_problem()}")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same small submission, sandboxed (bubblewrap) and direct."""
    folder = submission_with(
        tmp_path_factory.mktemp("wire"), "sub", {f"{STEP03}.py": reference(STEP03) + EXTRA}
    )
    sandboxed, direct = SandboxedSubmission(folder, "bwrap"), DirectSubmission(folder)
    sandboxed.warm()
    yield sandboxed, direct
    sandboxed.close()
    direct.close()


def both(pair, name, args):
    """Call ``name`` in both modes, each on its own fresh copy of the arguments."""
    return [getattr(getattr(sub, STEP03), name)(*args()) for sub in pair]


@needs_bwrap
def test_a_generator_argument_stays_one_shot(pair):
    def args():
        model = torch.nn.Linear(3, 2)
        model(torch.ones(4, 3)).sum().backward()
        models.append(model)
        return model.parameters(), 0.1

    models = []
    both(pair, "sgd_two_loops", args)
    for model, mode in zip(models, ("sandboxed", "direct"), strict=True):
        kept = [p.grad.abs().max().item() for p in model.parameters()]
        assert all(k > 0 for k in kept), f"{mode}: the second loop over a generator ran"


@needs_bwrap
def test_requires_grad_and_in_place_dtype_come_back(pair):
    tensors = []

    def args():
        tensors.append(torch.ones(3, requires_grad=True))
        return (tensors[-1],)

    both(pair, "freeze", args)
    assert [t.requires_grad for t in tensors] == [False, False]

    out = both(pair, "doubled", lambda: (torch.ones(2, requires_grad=True),))
    assert [(o.requires_grad, o.grad_fn is not None) for o in out] == [(True, True)] * 2

    models = []

    def model_args():
        models.append(torch.nn.Linear(2, 2))
        return (models[-1],)

    both(pair, "make_double", model_args)
    assert [m.weight.dtype for m in models] == [torch.float64] * 2

    held = []  # the test's own .grad tensors, zeroed in place as in one process

    def grad_args():
        x = torch.ones(3, requires_grad=True)
        (x * 2).sum().backward()
        held.append(x.grad)
        return ([x],)

    both(pair, "zero_grads", grad_args)
    assert [g.abs().max().item() for g in held] == [0.0, 0.0]


@needs_bwrap
def test_numpy_values_and_containers_keep_their_types(pair):
    sandboxed, direct = both(pair, "numpy_values", tuple)
    assert [type(v) for v in sandboxed] == [type(v) for v in direct]
    assert sandboxed[2].dtype == np.int32 and sandboxed[:2] == direct[:2]


@needs_bwrap
def test_a_dict_with_tag_keys_stays_a_dict(pair):
    sandboxed, direct = both(pair, "forged", tuple)
    assert type(sandboxed) is dict and sandboxed == direct


@needs_bwrap
def test_exceptions_arrive_with_their_names_and_the_worker_survives(pair):
    sandboxed, direct = pair
    pid = None
    for name in ("recursive_str", "fake_unicode_error", "real_unicode_error", "key_error"):
        with pytest.raises(Exception) as in_sandbox:
            getattr(sandboxed.step03_normalization, name)()
        with pytest.raises(Exception) as in_direct:
            getattr(direct.step03_normalization, name)()
        got, expected = in_sandbox.value, in_direct.value
        assert isinstance(got, RemoteError) and not isinstance(got, SubmissionError), name
        assert type(got).__name__ == type(expected).__name__, name
        assert pid in (None, sandboxed._worker.pid), f"{name} ended the worker"
        pid = sandboxed._worker.pid
        if name != "recursive_str":
            assert str(got).startswith(str(expected)) and "(at step03" in str(got), name
    assert "could not be read: RecursionError" in str(_raised(sandboxed, "recursive_str"))
    fake = _raised(sandboxed, "fake_unicode_error")
    assert not isinstance(fake, UnicodeDecodeError)
    assert isinstance(_raised(sandboxed, "real_unicode_error"), UnicodeDecodeError)
    assert isinstance(_raised(sandboxed, "key_error"), KeyError)


def _raised(sub, name):
    try:
        getattr(sub.step03_normalization, name)()
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError(f"{name} raised nothing")


@needs_bwrap
def test_floods_of_output_stay_capped(pair, capsys):
    sandboxed, _ = pair
    assert sandboxed.step03_normalization.flood_os_write() == 1
    printed = capsys.readouterr()
    assert len(printed.out) + len(printed.err) < 600_000  # at most 256 KiB kept per stream
    assert sandboxed.step03_normalization.flood_patched_stdout() == 2
    printed = capsys.readouterr()
    assert len(printed.out) < 300_000, len(printed.out)
    assert "more bytes of output dropped by the grader" in printed.out


@needs_bwrap
def test_a_zero_stride_answer_is_refused(pair):
    sandboxed, _ = pair
    try:  # its own answer is the first the patched wire sends
        result = sandboxed.step03_normalization.zero_stride()
    except SubmissionError as exc:
        assert "refused" in str(exc) and "elements" in str(exc), str(exc)
    else:
        pytest.fail(f"the grader accepted {result.shape} elements from 8 bytes")
    # The refused worker was ended; a fresh one answers.
    assert sandboxed.step03_normalization.softmax(torch.zeros(1, 2)).shape == (1, 2)


@needs_bwrap
def test_large_arguments_come_back_only_when_the_call_changed_them(pair):
    sandboxed = getattr(pair[0], STEP03)
    big = torch.ones(300_000)  # over a MiB: compared in the worker; a change still comes back
    version = big._version
    sandboxed.fingerprint(big)
    assert big._version == version, "an unchanged argument was written back"
    sandboxed.scale_in_place(big)
    assert big._version != version and bool((big == 2).all())


@needs_bwrap
def test_a_worker_that_writes_into_the_kit_copy_changes_only_its_own(pair):
    sandboxed, direct = (getattr(sub, STEP03) for sub in pair)
    part = mnist.tensors("test")[0][:1000]
    assert isinstance(by_reference((part,))[0], KitSlice), "run before the tests that change X"
    sandboxed.poison_the_kit_copy()
    pair[0]._worker.end(kill=True)  # the next request gets a fresh worker
    assert sandboxed.fingerprint(part) == direct.fingerprint(part)


@needs_bwrap
def test_the_kits_own_work_in_the_worker_is_not_among_the_recorded_torch_calls(pair):
    # Recording (step 03's "written without" rules, step 08's call counts) sees the call
    # only, as in a direct run: not the worker's copies, comparisons and state sync.
    X = mnist.tensors("test")[0]
    assert isinstance(by_reference((X,))[0], KitSlice), "run before the tests that change X"
    sandboxed, direct = (sub.torch_calls(STEP03, "fingerprint", (X[:2000],)) for sub in pair)
    assert sandboxed[0] == direct[0]
    assert sorted(sandboxed[1]) == sorted(direct[1])


# The tests below change the kit's MNIST in place (and put the values back): from then on
# it crosses by value in this process, so the tests that need references come first.


@needs_bwrap
def test_views_of_one_mnist_tensor_share_a_storage_in_the_worker_too(pair):
    X = mnist.tensors("train")[0]
    first, second = X[:10], X[5:15]
    assert all(isinstance(r, KitSlice) for r in by_reference((first, second)))
    saved = X[5, 0].item()
    try:
        assert getattr(pair[0], STEP03).write_through(first, second) == 42.0
        assert X[5, 0].item() == 42.0  # and the change came back
    finally:
        X[5, 0] = saved


@needs_bwrap
def test_mnist_crosses_by_reference_and_in_place_changes_still_come_back(pair):
    sandboxed, direct = (getattr(sub, STEP03) for sub in pair)
    X = mnist.tensors("test")[0]
    part = X[2000:4000]
    (ref,) = by_reference((part,))
    assert ref == KitSlice("test", 0, 2000 * 784, (2000, 784), (784, 1))
    # The worker's argument, made from its own copy: the same values, shape and strides.
    assert sandboxed.fingerprint(part) == direct.fingerprint(part)
    assert sandboxed.fingerprint(X) == direct.fingerprint(X)
    assert sandboxed.fingerprint(X[:, 3:5]) == direct.fingerprint(X[:, 3:5])  # not contiguous
    version, saved = X._version, X[:3].clone()
    try:
        sandboxed.scale_in_place(X[:3])
        assert X._version != version, "the change in the worker did not come back"
        torch.testing.assert_close(X[:3], saved * 2)
        # Changed since it was loaded: it crosses by value from now on, changes and all.
        assert not isinstance(by_reference((X[:3],))[0], KitSlice)
        assert sandboxed.fingerprint(X[:4]) == direct.fingerprint(X[:4])
    finally:
        X[:3] = saved
