"""What crosses between the grader and a submission's worker process, and how.

The two directions are not alike.

grader -> worker (a request): the grader's own values, pickled with
``torch.save`` as they are (tensors keep their device, dtype and
``requires_grad``; torch.nn modules travel whole); the worker trusts its grader.
A one-shot iterator argument (``model.parameters()``) travels as
:class:`OneShot` and reaches the submission as a one-shot generator again;
objects kept in the worker travel as :class:`HandleRef`.

worker -> grader (a reply) is hostile input. Nothing is unpickled; the grader
reads one frame and checks all of it before it builds anything::

    u32 n | header: n bytes of JSON              n <= MAX_HEADER
    u64 n | printed stdout, n bytes of UTF-8     the first MAX_OUTPUT kept, the rest dropped
    u64 n | printed stderr, the same
    u64 n | payload: the raw bytes of every tensor, array and numpy scalar, each one
            starting at a multiple of 64; n must be exactly what the header describes

The header is ``{"status": "ok", "nodes": [...]}`` or ``{"status": "error",
"error": {type, builtin, base, message, where}}``. ``nodes`` is a flat table of
typed nodes, children before their parent, the value last; a node is a JSON list
``[kind, ...]``: ``none``, ``bool``, ``int``, ``float``, ``str``, ``list``,
``tuple``, ``set``, ``frozenset``, ``iter`` (a one-shot iterator), ``dict`` /
``odict`` (pairs of node numbers; keys must be hashable), ``size``
(``torch.Size``), ``tensor`` (dtype, shape, device, requires_grad, non-leaf,
parameter, byte count), ``ndarray`` (dtype, shape, byte count), ``npscalar``
(dtype, byte count), ``dtype``, ``npdtype``, ``device``, ``figure``/``axes``
(:class:`grader.figures.FigureData`), ``handle`` (an object kept in the worker).
Kinds are not keys of the student's data: a dict whose keys look like tags
stays a dict. Every node is used exactly once (a tree, no sharing, no cycles),
so the node count bounds the work; depth, strings, dimensions, element counts
and byte counts are capped (the values below) and every buffer's byte count
must equal its element count times its item size.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import socket
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn, TypeGuard

import numpy as np
import torch

from ..authoring.figures import AxesData, FigureData
from ..authoring.figures import to_plain as figure_to_plain

# Caps on a worker's reply, checked by the grader before it builds anything.
MAX_HEADER = 8 * 2**20  # bytes of JSON describing the value (parsed: up to ~25x in memory)
MAX_NODES = 2**18  # values in one answer (every number in a list is one)
MAX_DEPTH = 100  # nesting of lists, dicts, ...
MAX_STR = 2**20  # characters in one string
MAX_DIMS = 32  # dimensions of one tensor or array
MAX_ELEMENTS = 2**28  # elements of all tensors and arrays of one answer together
MAX_PAYLOAD = 512 * 2**20  # bytes of all tensors and arrays of one answer together
MAX_OUTPUT = 256 * 2**10  # bytes of printed output kept per stream and request
MAX_DRAIN = 2**30  # printed bytes the grader reads past MAX_OUTPUT before it refuses
MAX_MESSAGE = 4000  # characters of an exception's message
MAX_NAME = 100  # characters of a type name
ALIGN = 64

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")

TORCH_DTYPES = {
    str(d).removeprefix("torch."): d
    for d in (
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
    )
}
NUMPY_DTYPES = {
    name: np.dtype(name)
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
}
_DEVICE = re.compile(r"(cpu|cuda)(:\d{1,3})?")
_HANDLE_KINDS = ("module", "callable", "object")


# What the worker's encoder calls to keep an object that is not data: (id, kind, type name).
Keep = Callable[[Any], tuple[int, str, str]]
# What the grader calls to make its proxy for such an object, from those three values.
Handle = Callable[[int, str, str], Any]
# A reply made whole before it is sent: the header's bytes, then the raw buffers.
Reply = tuple[bytes, list[np.ndarray]]


class WireError(Exception):
    """A frame that could not be read: cut short, too large, or not what it claims."""


@dataclasses.dataclass(frozen=True)
class HandleRef:
    """A grader-side reference to an object kept in the worker."""

    id: int


@dataclasses.dataclass(frozen=True)
class OneShot:
    """A one-shot iterator argument (e.g. ``model.parameters()``), read by the grader."""

    items: list


def one_shot(items: Iterable[Any]) -> Iterator[Any]:
    """The generator a :class:`OneShot` argument becomes in the worker."""
    yield from items


def syncable(
    args: Iterable[Any], kwargs: Mapping[str, Any]
) -> list[torch.Tensor | torch.nn.Module]:
    """The tensors and modules among a call's arguments, each once, in a fixed order.

    The grader and the worker walk the same structure (pickling keeps it), so the
    worker's final state of entry ``i`` belongs to the grader's entry ``i``."""
    found: list[torch.Tensor | torch.nn.Module] = []
    seen: set[int] = set()

    def walk(value: object) -> None:
        if isinstance(value, (torch.Tensor, torch.nn.Module)):
            if id(value) not in seen:
                seen.add(id(value))
                found.append(value)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif isinstance(value, OneShot):
            walk(value.items)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(list(args))
    walk(kwargs)
    return found


# --- low level -------------------------------------------------------------------------


def _recv_exactly(sock: socket.socket, n: int) -> bytearray:
    data = bytearray(n)
    with memoryview(data) as view:
        got = 0
        while got < n:
            count = sock.recv_into(view[got:], min(n - got, 1 << 22))
            if not count:
                raise EOFError("the other side closed the connection")
            got += count
    return data


def _drain(sock: socket.socket, n: int) -> None:
    chunk = bytearray(min(n, 1 << 20))
    with memoryview(chunk) as view:
        while n > 0:
            count = sock.recv_into(view[: min(n, len(chunk))])
            if not count:
                raise EOFError("the other side closed the connection")
            n -= count


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


# --- grader -> worker: a request (trusted) ---------------------------------------------


def send(sock: socket.socket, message: object) -> None:
    """Send a request (grader side): the grader's own values, pickled as they are."""
    buffer = io.BytesIO()
    buffer.write(bytes(_U64.size))  # the length, filled in below: one write, one wake-up
    torch.save(message, buffer)
    with buffer.getbuffer() as frame:  # no copy: large arguments cross too
        frame[: _U64.size] = _U64.pack(len(frame) - _U64.size)
        sock.sendall(frame)


def recv_request(sock: socket.socket) -> Any:
    """Read a request (worker side); no ``map_location``: tensors keep their device."""
    (length,) = _U64.unpack(_recv_exactly(sock, _U64.size))
    return torch.load(io.BytesIO(_recv_exactly(sock, length)), weights_only=False)


# --- worker side: any value to typed nodes ---------------------------------------------


@dataclasses.dataclass
class Encoded:
    """A value as typed nodes and raw buffers, ready to send (see the module's docstring)."""

    nodes: list[list[Any]]
    buffers: list[np.ndarray]  # contiguous uint8 numpy arrays, in the order of their nodes


_PLAIN = {bool: "bool", int: "int", float: "float", str: "str"}


class _Encoder:
    def __init__(self, keep: Keep):
        self.keep = keep
        self.nodes: list[list[Any]] = []
        self.buffers: list[np.ndarray] = []
        self.elements = self.bytes = 0

    def add(self, node: list[Any]) -> int:
        if len(self.nodes) >= MAX_NODES:
            raise WireError(f"the answer holds more than {MAX_NODES} values")
        self.nodes.append(node)
        return len(self.nodes) - 1

    def buffer(self, numel: int, nbytes: int, make: Callable[[], np.ndarray]) -> int:
        """Count a buffer against the caps first, then make it (``make()``: uint8 array)."""
        self.elements += numel
        self.bytes += _aligned(nbytes)
        if self.elements > MAX_ELEMENTS or self.bytes > MAX_PAYLOAD:
            raise WireError(
                f"the answer holds more than {MAX_ELEMENTS} tensor elements or "
                f"{MAX_PAYLOAD} bytes of tensors"
            )
        data = make()
        assert data.dtype == np.uint8 and data.nbytes == nbytes
        self.buffers.append(data)
        return nbytes

    def children(self, values: Iterable[Any], depth: int) -> list[int]:
        return [self.encode(v, depth + 1) for v in values]

    def string(self, text: str) -> int:
        if len(text) > MAX_STR:
            raise WireError(f"a string of {len(text)} characters (at most {MAX_STR})")
        return self.add(["str", text])

    def encode(self, value: Any, depth: int = 0) -> int:
        if depth > MAX_DEPTH:
            raise WireError(f"the answer is nested more than {MAX_DEPTH} deep")
        kind = _PLAIN.get(type(value))
        if kind is not None:  # the common case first: long lists of plain numbers
            return self.string(value) if kind == "str" else self.add([kind, value])
        value = figure_to_plain(value)
        if value is None:
            return self.add(["none"])
        if type(value) is bool:
            return self.add(["bool", value])
        if isinstance(value, np.generic):  # before int and float: np.float64 is a float
            dtype = value.dtype
            if dtype.name in NUMPY_DTYPES:
                native = dtype.newbyteorder("=")
                raw = self.buffer(
                    1,
                    dtype.itemsize,
                    lambda: np.frombuffer(np.asarray(value, dtype=native).tobytes(), np.uint8),
                )
                return self.add(["npscalar", dtype.name, raw])
            if not isinstance(value, (str, bytes)):
                return self.string(str(value))
        if isinstance(value, int) and not isinstance(value, bool):
            return self.add(["int", int.__int__(value)])
        if isinstance(value, float):
            return self.add(["float", float.__float__(value)])
        if isinstance(value, str):
            return self.string(str.__str__(value))
        if isinstance(value, torch.Tensor):
            return self.tensor(value)
        if isinstance(value, np.ndarray):
            return self.ndarray(value)
        if isinstance(value, FigureData | AxesData):
            kind = "figure" if isinstance(value, FigureData) else "axes"
            fields = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
            pairs = [[name, self.encode(v, depth + 1)] for name, v in fields]
            return self.add([kind, pairs])
        if isinstance(value, torch.dtype):
            name = str(value).removeprefix("torch.")
            return self.add(["dtype", name]) if name in TORCH_DTYPES else self.string(str(value))
        if isinstance(value, torch.device):
            text = str(value)
            return self.add(["device", text]) if _DEVICE.fullmatch(text) else self.string(text)
        if isinstance(value, np.dtype):
            name = value.name
            return self.add(["npdtype", name]) if name in NUMPY_DTYPES else self.string(str(value))
        if isinstance(value, torch.Size):
            return self.add(["size", [int(v) for v in value]])
        if isinstance(value, dict):
            kind = "odict" if isinstance(value, OrderedDict) else "dict"
            pairs = [
                [self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()
            ]
            return self.add([kind, pairs])
        for kind, types in (
            ("list", list),
            ("tuple", tuple),
            ("set", set),
            ("frozenset", frozenset),
        ):
            if isinstance(value, types):
                return self.add([kind, self.children(list(value), depth)])
        if hasattr(value, "__next__") and not isinstance(value, torch.nn.Module):
            items: list[Any] = []  # a generator: read it here (capped: it may never end)
            for item in value:
                if len(items) >= MAX_NODES:
                    raise WireError(f"an iterator with more than {MAX_NODES} items")
                items.append(item)
            return self.add(["iter", self.children(items, depth)])
        object_id, kind, type_name = self.keep(value)
        return self.add(["handle", object_id, kind, type_name[:MAX_NAME]])

    def tensor(self, value: torch.Tensor) -> int:
        data = torch.Tensor._make_subclass(torch.Tensor, value.detach(), False)
        if data.layout != torch.strided:
            data = data.to_dense()
        name = str(data.dtype).removeprefix("torch.")
        if name not in TORCH_DTYPES:
            raise WireError(f"a tensor of dtype {data.dtype} cannot be sent to the grader")
        device = str(data.device)
        if not _DEVICE.fullmatch(device):
            raise WireError(f"a tensor on {device} cannot be sent to the grader")
        numel = data.numel()

        def make() -> np.ndarray:
            flat = data.resolve_conj().resolve_neg().reshape(-1).contiguous().cpu()
            return flat.view(torch.uint8).numpy()

        nbytes = self.buffer(numel, numel * data.element_size(), make)
        requires_grad = bool(value.requires_grad)
        return self.add(
            [
                "tensor",
                name,
                list(data.shape),
                device,
                requires_grad,
                requires_grad and not value.is_leaf,
                isinstance(value, torch.nn.Parameter),
                nbytes,
            ]
        )

    def ndarray(self, value: np.ndarray) -> int:
        if value.dtype.name not in NUMPY_DTYPES:
            return self.string(f"<numpy array of dtype {value.dtype}>")
        native = value.dtype.newbyteorder("=")
        raw = self.buffer(
            value.size,
            value.size * native.itemsize,
            lambda: np.ascontiguousarray(value, dtype=native).reshape(-1).view(np.uint8),
        )
        return self.add(["ndarray", native.name, list(value.shape), raw])


def to_plain(value: Any, keep: Keep) -> Encoded:
    """Encode ``value`` (worker side); objects that are not data go through ``keep``,
    which returns ``(id, kind, type name)`` of the object it keeps."""
    encoder = _Encoder(keep)
    encoder.encode(value)
    return Encoded(encoder.nodes, encoder.buffers)


def _header(header: dict[str, Any]) -> bytes:
    text = json.dumps(header, ensure_ascii=True).encode("ascii")
    if len(text) > MAX_HEADER:
        raise WireError(f"the answer's description takes {len(text)} bytes (at most {MAX_HEADER})")
    return text


def reply_ok(encoded: object) -> Reply:
    """A reply carrying a value, made whole before anything is sent."""
    if not isinstance(encoded, Encoded):
        raise WireError(f"not an encoded value: {type(encoded).__name__}")
    return _header({"status": "ok", "nodes": encoded.nodes}), encoded.buffers


def reply_error(info: dict[str, Any]) -> Reply:
    return _header({"status": "error", "error": info}), []


# Buffers up to this size are copied into the frame: a small answer is one write, which
# wakes the grader once (large ones are sent from their own memory, not copied).
_COALESCE = 2**16


def send_reply(sock: socket.socket, reply: Reply, out: str = "", err: str = "") -> None:
    header, buffers = reply
    frame = bytearray(_U32.pack(len(header)) + header)
    for stream in (out, err):
        data = stream.encode("utf-8", errors="replace")
        frame += _U64.pack(len(data)) + data
    frame += _U64.pack(sum(_aligned(b.nbytes) for b in buffers))
    for b in buffers:
        padding = bytes(_aligned(b.nbytes) - b.nbytes)
        if b.nbytes <= _COALESCE:
            frame += b.data
        else:  # the array's own buffer (a memoryview), not a copy
            sock.sendall(frame)
            sock.sendall(b.data)
            frame = bytearray()
        frame += padding
    if frame:
        sock.sendall(frame)


# --- grader side: check, then build ----------------------------------------------------

_SCALAR_KINDS = {"none", "bool", "int", "float", "str", "npscalar", "dtype", "npdtype", "device"}
_SEQUENCE_KINDS = {"list", "tuple", "set", "frozenset", "iter"}


def _fail(message: str) -> NoReturn:
    raise WireError(message)


def _is_int(value: object) -> TypeGuard[int]:
    return type(value) is int


def _check_str(value: object, what: str, cap: int = MAX_STR) -> str:
    if type(value) is not str:
        _fail(f"{what} should be a string, got {type(value).__name__}")
    if len(value) > cap:
        _fail(f"{what} has {len(value)} characters (at most {cap})")
    return value


def _shape(value: Any, what: str) -> tuple[list[int], int]:
    if type(value) is not list or len(value) > MAX_DIMS:
        _fail(f"{what}: the shape should be a list of at most {MAX_DIMS} sizes")
    numel = 1
    for size in value:
        if not _is_int(size) or size < 0:
            _fail(f"{what}: a size of the shape is {size!r}, not a non-negative integer")
        numel *= size
        if numel > MAX_ELEMENTS:
            _fail(f"{what} claims more than {MAX_ELEMENTS} elements")
    return value, numel


def _tensor_device(text: str) -> torch.device:
    """The grader's device for a tensor the worker had on ``text`` (cpu, cuda, cuda:N)."""
    match = _DEVICE.fullmatch(text)
    if match is None:
        _fail(f"device {text[:40]!r} is not allowed")
    if match[1] == "cpu":
        return torch.device("cpu")
    # The index parsed here: torch.device("cuda:999") wraps around to a negative index.
    index = int(match[2][1:]) if match[2] else 0
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if index >= count:
        _fail(f"a tensor on {text}, but the grader has {count} CUDA devices")
    return torch.device("cuda", index)


class _Plan:
    """The checked header: what to build, and where each buffer lies in the payload."""

    def __init__(self, nodes: Any):
        if type(nodes) is not list or not nodes:
            _fail("the answer holds no value")
        if len(nodes) > MAX_NODES:
            _fail(f"the answer holds {len(nodes)} values (at most {MAX_NODES})")
        self.nodes = nodes
        self.offsets: dict[int, int] = {}  # node -> offset of its buffer
        self.payload = 0
        elements = 0
        used = bytearray(len(nodes))
        depth = [0] * len(nodes)
        hashable = bytearray(len(nodes))

        def child(c: Any, parent: int) -> int:
            if not _is_int(c) or not 0 <= c < parent:
                _fail(f"value {parent} refers to {c!r}, which is not an earlier value")
            if used[c]:
                _fail(f"value {c} is used twice")
            used[c] = 1
            depth[parent] = max(depth[parent], depth[c] + 1)
            if depth[parent] > MAX_DEPTH:
                _fail(f"the answer is nested more than {MAX_DEPTH} deep")
            return c

        for i, node in enumerate(nodes):
            if type(node) is not list or not node or type(node[0]) is not str:
                _fail(f"value {i} is not a typed node")
            kind, args = node[0], node[1:]
            what = f"value {i} ({kind[:20]})"

            def arity(n: int, what: str = what, args: list[Any] = args) -> None:
                if len(args) != n:
                    _fail(f"{what} has {len(args)} fields, expected {n}")

            is_hashable = kind in _SCALAR_KINDS or kind in ("tensor", "handle", "size")
            if kind == "none":
                arity(0)
            elif kind == "bool":
                arity(1)
                if type(args[0]) is not bool:
                    _fail(f"{what} is not true or false")
            elif kind == "int":
                arity(1)
                if not _is_int(args[0]):
                    _fail(f"{what} is not an integer")
            elif kind == "float":
                arity(1)
                if type(args[0]) not in (int, float):
                    _fail(f"{what} is not a number")
            elif kind == "str":
                arity(1)
                _check_str(args[0], what)
            elif kind in _SEQUENCE_KINDS:
                arity(1)
                if type(args[0]) is not list:
                    _fail(f"{what} should list its items")
                items = [child(c, i) for c in args[0]]
                if kind in ("set", "frozenset") and not all(hashable[c] for c in items):
                    _fail(f"{what} holds an item that cannot be hashed")
                is_hashable = kind in ("tuple", "frozenset") and all(hashable[c] for c in items)
            elif kind in ("dict", "odict"):
                arity(1)
                if type(args[0]) is not list:
                    _fail(f"{what} should list its pairs")
                for pair in args[0]:
                    if type(pair) is not list or len(pair) != 2:
                        _fail(f"{what} holds something that is not a (key, value) pair")
                    if not hashable[child(pair[0], i)]:
                        _fail(f"{what} has a key that cannot be hashed")
                    child(pair[1], i)
            elif kind == "size":
                arity(1)
                _shape(args[0], what)
            elif kind in ("tensor", "ndarray", "npscalar"):
                if kind == "tensor":
                    arity(7)
                    dtype_name, shape, device, requires_grad, non_leaf, parameter, nbytes = args
                    dtype = TORCH_DTYPES.get(dtype_name) if type(dtype_name) is str else None
                    if dtype is None:
                        _fail(f"{what}: dtype {str(dtype_name)[:40]!r} is not allowed")
                    itemsize = dtype.itemsize
                    if type(device) is not str or not _DEVICE.fullmatch(device):
                        _fail(f"{what}: device {str(device)[:40]!r} is not allowed")
                    _tensor_device(device)
                    flags = (requires_grad, non_leaf, parameter)
                    if any(type(flag) is not bool for flag in flags):
                        _fail(f"{what}: requires_grad, non-leaf and parameter must be booleans")
                    if requires_grad and not (dtype.is_floating_point or dtype.is_complex):
                        _fail(f"{what}: a {dtype_name} tensor cannot require grad")
                    if non_leaf and not requires_grad:
                        _fail(f"{what}: a non-leaf tensor that does not require grad")
                elif kind == "ndarray":
                    arity(3)
                    dtype_name, shape, nbytes = args
                else:
                    arity(2)
                    (dtype_name, nbytes), shape = args, []
                if kind != "tensor":
                    if type(dtype_name) is not str or dtype_name not in NUMPY_DTYPES:
                        _fail(f"{what}: dtype {str(dtype_name)[:40]!r} is not allowed")
                    itemsize = NUMPY_DTYPES[dtype_name].itemsize
                _, numel = _shape(shape, what)
                elements += numel
                if elements > MAX_ELEMENTS:
                    _fail(f"the answer holds more than {MAX_ELEMENTS} tensor elements")
                if not _is_int(nbytes) or nbytes != numel * itemsize:
                    _fail(
                        f"{what}: {nbytes!r} bytes for {numel} elements of {itemsize} bytes "
                        f"(expected {numel * itemsize})"
                    )
                self.offsets[i] = self.payload
                self.payload += _aligned(nbytes)
                if self.payload > MAX_PAYLOAD:
                    _fail(f"the answer holds more than {MAX_PAYLOAD} bytes of tensors")
            elif kind == "dtype":
                arity(1)
                if type(args[0]) is not str or args[0] not in TORCH_DTYPES:
                    _fail(f"{what}: dtype {str(args[0])[:40]!r} is not allowed")
            elif kind == "npdtype":
                arity(1)
                if type(args[0]) is not str or args[0] not in NUMPY_DTYPES:
                    _fail(f"{what}: dtype {str(args[0])[:40]!r} is not allowed")
            elif kind == "device":
                arity(1)
                match = _DEVICE.fullmatch(args[0]) if type(args[0]) is str else None
                if match is None or (match[2] and int(match[2][1:]) > 127):
                    _fail(f"{what}: device {str(args[0])[:40]!r} is not allowed")
            elif kind in ("figure", "axes"):
                arity(1)
                self._check_fields(i, kind, args[0], child, what)
            elif kind == "handle":
                arity(3)
                object_id, handle_kind, type_name = args
                if not _is_int(object_id) or not 0 <= object_id < 2**64:
                    _fail(f"{what}: the id is not an integer")
                if type(handle_kind) is not str or handle_kind not in _HANDLE_KINDS:
                    _fail(f"{what}: kind {str(handle_kind)[:40]!r} is not allowed")
                _check_str(type_name, what, MAX_NAME)
            else:
                _fail(f"value {i} is of an unknown kind {kind[:40]!r}")
            hashable[i] = is_hashable
        if not all(used[:-1]):
            _fail(f"value {used.index(0)} belongs to nothing")

    def _check_fields(
        self, i: int, kind: str, pairs: Any, child: Callable[[Any, int], int], what: str
    ) -> None:
        fields = {
            f.name: f for f in dataclasses.fields(FigureData if kind == "figure" else AxesData)
        }
        if type(pairs) is not list:
            _fail(f"{what} should list its fields")
        seen = set()
        for pair in pairs:
            if (
                type(pair) is not list
                or len(pair) != 2
                or type(pair[0]) is not str
                or pair[0] not in fields
                or pair[0] in seen
            ):
                _fail(f"{what} holds an unknown or repeated field")
            seen.add(pair[0])
            c = child(pair[1], i)
            expected = "list" if fields[pair[0]].default_factory is list else "str"
            got = self.nodes[c][0]
            if got != expected:
                _fail(f"{what}: field {pair[0]} is a {got}, expected a {expected}")
            if kind == "figure" and pair[0] == "axes":
                if any(self.nodes[a][0] != "axes" for a in self.nodes[c][1]):
                    _fail(f"{what}: its axes hold something that is not an axes")

    def build(self, payload: bytearray, handle: Handle) -> Any:
        values: list[Any] = [None] * len(self.nodes)
        for i, node in enumerate(self.nodes):
            kind, args = node[0], node[1:]
            value: Any
            if kind == "none":
                value = None
            elif kind in ("bool", "int", "str"):
                value = args[0]
            elif kind == "float":
                value = float(args[0])
            elif kind in _SEQUENCE_KINDS:
                items = [values[c] for c in args[0]]
                if kind == "iter":
                    value = one_shot(items)
                else:
                    value = {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[
                        kind
                    ](items)
            elif kind in ("dict", "odict"):
                pairs = ((values[k], values[v]) for k, v in args[0])
                value = OrderedDict(pairs) if kind == "odict" else dict(pairs)
            elif kind == "size":
                value = torch.Size(args[0])
            elif kind == "tensor":
                value = self._tensor(payload, self.offsets[i], *args)
            elif kind == "ndarray":
                dtype_name, shape, nbytes = args
                dtype = NUMPY_DTYPES[dtype_name]
                count = nbytes // dtype.itemsize
                if count == 0:
                    value = np.zeros(shape, dtype)
                else:
                    flat = np.frombuffer(payload, dtype, count=count, offset=self.offsets[i])
                    value = flat.reshape(shape).copy()
            elif kind == "npscalar":
                value = np.frombuffer(payload, NUMPY_DTYPES[args[0]], 1, self.offsets[i])[0]
            elif kind == "dtype":
                value = TORCH_DTYPES[args[0]]
            elif kind == "npdtype":
                value = NUMPY_DTYPES[args[0]]
            elif kind == "device":
                value = torch.device(args[0])
            elif kind in ("figure", "axes"):
                fields = {name: values[c] for name, c in args[0]}
                value = (FigureData if kind == "figure" else AxesData)(**fields)
            else:  # handle
                value = handle(*args)
            values[i] = value
            for c in _children(node):
                values[c] = None  # built into its parent: let go of it
        return values[-1]

    @staticmethod
    def _tensor(
        payload: bytearray,
        offset: int,
        dtype_name: str,
        shape: list[int],
        device: str,
        requires_grad: bool,
        non_leaf: bool,
        parameter: bool,
        nbytes: int,
    ) -> torch.Tensor:
        dtype = TORCH_DTYPES[dtype_name]
        count = nbytes // dtype.itemsize
        if count == 0:
            tensor = torch.zeros(shape, dtype=dtype)
        else:
            flat = torch.frombuffer(payload, dtype=dtype, count=count, offset=offset)
            tensor = flat.reshape(shape).clone()  # its own memory, not the frame's
        tensor = tensor.to(_tensor_device(device))
        if parameter:
            return torch.nn.Parameter(tensor, requires_grad=requires_grad)
        if requires_grad:
            tensor.requires_grad_(True)
            if non_leaf:
                tensor = tensor.clone()  # has a grad_fn, as the worker's had
        return tensor


def _children(node: list[Any]) -> list[int]:
    kind = node[0]
    if kind in _SEQUENCE_KINDS:
        return node[1]
    if kind in ("dict", "odict"):
        return [c for pair in node[1] for c in pair]
    if kind in ("figure", "axes"):
        return [c for _, c in node[1]]
    return []


def _error_info(info: object) -> dict[str, Any]:
    if type(info) is not dict:
        _fail("the error is not described")
    name = _check_str(info.get("type"), "the error's type", MAX_NAME)
    base = _check_str(info.get("base", ""), "the error's base type", MAX_NAME)
    where = _check_str(info.get("where", ""), "the error's place", 300)
    message = _check_str(info.get("message", ""), "the error's message")
    if type(info.get("builtin")) is not bool:
        _fail("the error does not say whether its type is a built-in one")
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + " [... cut by the grader]"
    return {
        "type": name,
        "builtin": info["builtin"],
        "base": base,
        "message": message,
        "where": where,
    }


def _read_output(sock: socket.socket) -> str:
    (length,) = _U64.unpack(_recv_exactly(sock, _U64.size))
    if length > MAX_OUTPUT + MAX_DRAIN:
        _fail(f"the worker claims {length} bytes of printed output")
    kept = _recv_exactly(sock, min(length, MAX_OUTPUT))
    _drain(sock, length - len(kept))
    text = kept.decode("utf-8", errors="replace")
    if length > len(kept):
        text += f"\n[... {length - len(kept)} more bytes of output dropped by the grader]\n"
    return text


def recv_reply(sock: socket.socket, handle: Handle) -> tuple[str, Any, str, str]:
    """Read, check and build one reply (grader side): ``(status, value or error, out, err)``.

    ``handle(id, kind, type_name)`` makes the grader's proxy for an object kept in the
    worker. Raises :class:`WireError` for anything that is not a well-formed reply within
    the caps; the caller then ends the worker (the stream is out of step)."""
    (length,) = _U32.unpack(_recv_exactly(sock, _U32.size))
    if length > MAX_HEADER:
        _fail(f"an answer described in {length} bytes (at most {MAX_HEADER})")
    try:
        header = json.loads(_recv_exactly(sock, length).decode("ascii"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"the answer's description is not JSON ({exc})"[:300]) from None
    if type(header) is not dict or header.get("status") not in ("ok", "error"):
        _fail("the answer says neither ok nor error")
    if header["status"] == "ok":
        plan, error = _Plan(header.get("nodes")), None
    else:
        plan, error = None, _error_info(header.get("error"))
    out, err = _read_output(sock), _read_output(sock)
    (size,) = _U64.unpack(_recv_exactly(sock, _U64.size))
    expected = plan.payload if plan is not None else 0
    if size != expected:
        _fail(f"the answer carries {size} bytes of tensors, its description says {expected}")
    payload = _recv_exactly(sock, size)
    if plan is None:
        return "error", error, out, err
    return "ok", plan.build(payload, handle), out, err
