"""What crosses between the grader and a submission's worker process, and how.

Frames are a 4-byte length and a ``torch.save`` payload. The two directions
are not alike:

- grader -> worker: the grader's own values (tensors, numbers, torch.nn
  built-in modules and functions, references to worker objects), pickled as
  they are; the worker trusts its grader.
- worker -> grader: only plain data, read with ``torch.load(weights_only=True)``,
  which builds nothing but tensors, built-in numbers, strings, None, lists,
  tuples and dicts. A float or tensor subclass that redefines comparison,
  or a payload that would run code when loaded, cannot arrive as such: it is
  refused, or arrives as a plain value.

Objects that are not plain data (a model, an optimizer) stay in the worker;
the grader gets a ``{"__handle__": id}`` it can call through. Figures arrive as
the dict form of :class:`grader.figures.FigureData`, numpy arrays as tensors
tagged ``__ndarray__``.
"""

from __future__ import annotations

import dataclasses
import io
import struct

import numpy as np
import torch

MAX_FRAME = 512 * 2**20  # a worker's answer larger than this is refused
_HEADER = struct.Struct(">I")


class WireError(Exception):
    """A frame that could not be read: cut short, too large, or not plain data."""


@dataclasses.dataclass(frozen=True)
class HandleRef:
    """A grader-side reference to an object kept in the worker."""

    id: int


def send(sock, message) -> None:
    buffer = io.BytesIO()
    torch.save(message, buffer)
    with buffer.getbuffer() as payload:  # no copy: MNIST-sized arguments cross often
        sock.sendall(_HEADER.pack(len(payload)))
        sock.sendall(payload)


def _recv_exactly(sock, n: int) -> bytearray:
    data = bytearray(n)
    with memoryview(data) as view:
        got = 0
        while got < n:
            count = sock.recv_into(view[got:], min(n - got, 1 << 22))
            if not count:
                raise EOFError("the other side closed the connection")
            got += count
    return data


def recv(sock, trusted: bool):
    """Read one frame; ``trusted=False`` (the grader reading a worker) allows plain data only."""
    (length,) = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
    if length > MAX_FRAME:
        raise WireError(f"an answer of {length} bytes is larger than the {MAX_FRAME} allowed")
    payload = io.BytesIO(_recv_exactly(sock, length))
    try:
        return torch.load(payload, weights_only=not trusted, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any refusal of the unpickler
        raise WireError(
            f"the answer is not plain data ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None


# --- worker side: any value to plain data ------------------------------------------


def to_plain(value, keep):
    """Plain data for ``value``; objects that are not data go through ``keep`` (-> handle dict)."""
    from .figures import FigureData
    from .figures import to_plain as figure_to_plain

    value = figure_to_plain(value)
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, bool):
        return bool.__bool__(value) if type(value) is bool else bool(int.__int__(value))
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, torch.Tensor):
        return torch.Tensor._make_subclass(torch.Tensor, value.detach().to("cpu"), False).clone()
    if isinstance(value, np.generic):
        return value.item() if value.dtype.kind in "biuf" else str(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            return {"__ndarray__": None, "dtype": str(value.dtype), "repr": repr(value)[:200]}
        return {"__ndarray__": torch.from_numpy(np.ascontiguousarray(value).copy())}
    if isinstance(value, FigureData):
        return {"__figure__": to_plain(dataclasses.asdict(value), keep)}
    if isinstance(value, torch.dtype | torch.device):
        return {"__repr__": str(value)}
    if isinstance(value, dict):
        return {to_plain(k, keep): to_plain(v, keep) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [to_plain(v, keep) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if hasattr(value, "__next__") and not isinstance(value, torch.nn.Module):
        return [to_plain(v, keep) for v in value]  # generators such as model.parameters()
    return keep(value)


# --- grader side: plain data back to the values tests use -----------------------------


def from_plain(value, handle):
    """Undo the tags of :func:`to_plain`; ``handle(dict)`` makes a grader-side proxy."""
    from .figures import AxesData, FigureData

    if isinstance(value, dict):
        if "__ndarray__" in value:
            array = value["__ndarray__"]
            if array is None:
                return f"<numpy array of dtype {value.get('dtype')}>"
            return array.numpy()
        if "__handle__" in value:
            return handle(value)
        if "__figure__" in value:
            fig = from_plain(value["__figure__"], handle)
            return FigureData(
                suptitle=fig.get("suptitle", ""),
                axes=[AxesData(**ax) for ax in fig.get("axes", [])],
            )
        if "__repr__" in value:
            return value["__repr__"]
        return {k: from_plain(v, handle) for k, v in value.items()}
    if isinstance(value, list):
        return [from_plain(v, handle) for v in value]
    if isinstance(value, tuple):
        return tuple(from_plain(v, handle) for v in value)
    return value
