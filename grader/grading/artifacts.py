"""Artifacts: numbers a hidden test already has from the student's code, kept for the report.

A hidden test calls ``keep_artifact(name, kind, data)`` with what it obtained: a loss
list, predictions, reconstructions, a figure's :class:`~grader.authoring.figures.FigureData`.
With ``--grader-artifacts`` (the grader's ``--html``) each is checked and capped here, on
the grader's side, turned into plain JSON (lists of numbers, short strings) and written
with the test's line of the results file; without it the fixture does nothing.

Nothing here is ever drawn: :mod:`grader.reports.html_report` draws the stored forms, after
:func:`check_stored` (the same limits) has checked them again. A value that does not fit
(a NaN, a wrong shape, too many points) is dropped with a note: keeping an artifact never
fails a test and never changes a score.

Kinds a test may pass, and what is stored:

- ``curve``: a sequence of numbers, or ``{label: sequence}`` (at most ``MAX_SERIES``) ->
  ``curve`` ``{label: [float, ...]}``, each at most ``MAX_POINTS`` long;
- ``images``: ``(n, 784)`` or ``(n, 28, 28)`` numbers -> ``images`` (see below);
- ``reconstructions``: ``(originals, reconstructions)`` -> ``images``, originals on top;
- ``neighbours``: ``(images, indices (q, k))`` -> ``images``, one row per query;
- ``classification``: ``(images, labels (n,), predicted (n,))`` -> ``matrix`` (the 10x10
  confusion matrix) and ``images`` (misclassified digits captioned "true -> predicted");
- ``figure``: a FigureData -> ``figure`` (titles, gray images, bars, lines, texts, capped).

``images``: ``{"pixels": [[0..255] * 784] * n, "captions": [str] * n, "ncols": int}``,
n at most ``MAX_IMAGES``, scaled from the grid's own minimum and maximum.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

MAX_POINTS = 10_000  # of one curve
MAX_SERIES = 4  # curves in one plot
MAX_IMAGES = 64  # 28x28 digits in one grid
MAX_MATRIX = 32  # rows and columns of a matrix
MAX_TEXT = 200  # characters of any string
MAX_FIGURE_AXES = 16
MAX_FIGURE_IMAGE = 300  # pixels a side of an image in a figure (plot_grid: 6 x 28 wide)
MAX_FIGURE_ITEMS = 100  # bars, lines, texts of one axes
MAX_TEST_BYTES = 1_000_000  # JSON of every artifact of one test
STORED_KINDS = ("curve", "images", "matrix", "figure", "note")


class ArtifactError(ValueError):
    """Why an artifact was not kept (its note says so)."""


def _text(value: Any) -> str:
    text = str.__str__(value) if isinstance(value, str) else ""
    return text[:MAX_TEXT]


def _numbers(value: Any, what: str) -> Any:
    """``value`` as a float64 numpy array, every entry finite."""
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        value = value.detach().to("cpu", torch.float64).numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"{what} are not numbers") from exc
    if array.size > MAX_IMAGES * 784 * 2 + MAX_POINTS:
        raise ArtifactError(f"{what} hold {array.size} numbers, too many to keep")
    if not np.isfinite(array).all():
        raise ArtifactError(f"{what} hold NaN or infinite values")
    return array


def _curve(data: Any) -> dict[str, list[float]]:
    series = data if isinstance(data, dict) else {"": data}
    if not 1 <= len(series) <= MAX_SERIES:
        raise ArtifactError(f"a curve has 1 to {MAX_SERIES} series, got {len(series)}")
    out = {}
    for label, values in series.items():
        array = _numbers(values, "the curve's values").reshape(-1)
        if not 1 <= array.size <= MAX_POINTS:
            raise ArtifactError(f"a curve has 1 to {MAX_POINTS} points, got {array.size}")
        out[_text(label)] = [round(float(v), 6) for v in array]
    return out


def _digits(data: Any, what: str) -> Any:
    array = _numbers(data, what)
    if array.ndim < 1 or array.size % 784 or array.shape[-1] not in (784, 28):
        raise ArtifactError(f"{what} should be 28x28 digits, got shape {tuple(array.shape)}")
    return array.reshape(-1, 784)


def _images(array: Any, captions: list[str] | None = None, ncols: int = 8) -> dict[str, Any]:
    import numpy as np

    array = array[:MAX_IMAGES]
    low, high = float(array.min(initial=0.0)), float(array.max(initial=1.0))
    scaled = np.clip((array - low) / ((high - low) or 1.0) * 255.0, 0, 255).round()
    return {
        "pixels": scaled.astype(np.uint8).tolist(),
        "captions": [_text(c) for c in (captions or [""] * len(array))][: len(array)],
        "ncols": max(1, min(16, ncols)),
    }


def _classification(data: Any) -> list[tuple[str, str, Any]]:
    import numpy as np

    images, labels, predicted = data
    labels = _numbers(labels, "the labels").reshape(-1).astype(np.int64)
    predicted = _numbers(predicted, "the predictions").reshape(-1).astype(np.int64)
    if (
        labels.shape != predicted.shape
        or labels.min() < 0
        or max(labels.max(), predicted.max()) > 9
    ):
        raise ArtifactError("labels and predictions should be as many digits 0-9")
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    wrong = np.nonzero(labels != predicted)[0][:32]
    digits = _digits(_pick(images, wrong), "the images") if len(wrong) else np.zeros((0, 784))
    captions = [f"{labels[i]} -> {predicted[i]}" for i in wrong]
    return [
        (
            "confusion matrix",
            "matrix",
            {"values": confusion.tolist(), "x": "predicted", "y": "true"},
        ),
        ("misclassified (true -> predicted)", "images", _images(digits, captions, 8)),
    ]


def _figure(fig: Any) -> dict[str, Any]:
    """A FigureData (or its plain dict) as capped plain data: 2-D images only."""
    import numpy as np

    def get(obj: Any, name: str, default: Any) -> Any:
        return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)

    axes = []
    for ax in list(get(fig, "axes", []))[:MAX_FIGURE_AXES]:
        images = []
        for image in list(get(ax, "images", []))[:4]:
            array = _numbers(image["array"], "a figure's image")
            if array.ndim != 2 or max(array.shape) > MAX_FIGURE_IMAGE or array.size == 0:
                continue  # colour or huge images: the report shows the rest of the figure
            low, high = float(array.min()), float(array.max())
            scaled = np.clip((array - low) / ((high - low) or 1.0) * 255.0, 0, 255).round()
            images.append(
                {"pixels": scaled.astype(np.uint8).tolist(), "cmap": _text(image["cmap"])}
            )
        bars = [
            {"x": float(_numbers(b["x"], "a bar")), "height": float(_numbers(b["height"], "a bar"))}
            for b in list(get(ax, "bars", []))[:MAX_FIGURE_ITEMS]
        ]
        lines = [
            {
                "x": [round(float(v), 6) for v in _numbers(line["x"], "a line").reshape(-1)],
                "y": [round(float(v), 6) for v in _numbers(line["y"], "a line").reshape(-1)],
                "label": _text(line.get("label", "")),
            }
            for line in list(get(ax, "lines", []))[:8]
        ]
        lines = [line for line in lines if 0 < len(line["x"]) == len(line["y"]) <= MAX_POINTS]
        axes.append(
            {
                "title": _text(get(ax, "title", "")),
                "xlabel": _text(get(ax, "xlabel", "")),
                "ylabel": _text(get(ax, "ylabel", "")),
                "images": images,
                "bars": bars,
                "lines": lines,
                "texts": [_text(t) for t in list(get(ax, "texts", []))[:MAX_FIGURE_ITEMS]],
            }
        )
    return {
        "suptitle": _text(get(fig, "suptitle", "")),
        "texts": [_text(t) for t in list(get(fig, "texts", []))[:MAX_FIGURE_ITEMS]],
        "axes": axes,
    }


def convert(name: str, kind: str, data: Any) -> list[dict[str, Any]]:
    """The stored artifacts for what a test passed; a ``note`` saying why when it does not
    fit (an artifact never fails the test)."""
    name = _text(name)
    try:
        if kind == "curve":
            stored = [(name, "curve", _curve(data))]
        elif kind == "images":
            stored = [(name, "images", _images(_digits(data, "the images")))]
        elif kind == "reconstructions":
            originals, outputs = (_digits(d, "the images")[:8] for d in data)
            if len(originals) != len(outputs):
                raise ArtifactError("as many reconstructions as originals are needed")
            stored = [(name, "images", _images(_stack(originals, outputs), ncols=len(originals)))]
        elif kind == "neighbours":
            images, indices = data
            idx = _numbers(indices, "the indices")[:8].astype("int64")
            if idx.ndim != 2 or idx.size == 0 or idx.min() < 0 or idx.max() >= len(images):
                raise ArtifactError("neighbour indices should be rows of valid image indices")
            idx = idx[:, :8]
            pool = _digits(_pick(images, idx.reshape(-1)), "the images")
            stored = [(name, "images", _images(pool, ncols=idx.shape[1]))]
        elif kind == "classification":
            stored = [(f"{name}: {what}", k, d) for what, k, d in _classification(data)]
        elif kind == "figure":
            stored = [(name, "figure", _figure(data))]
        else:
            raise ArtifactError(f"unknown kind {kind!r}")
        result = [{"name": n, "kind": k, "data": d} for n, k, d in stored]
        for artifact in result:
            check_stored(artifact)
        return result
    except Exception as exc:  # noqa: BLE001 - keeping a picture never fails a test
        return [{"name": name, "kind": "note", "data": f"not shown: {_text(str(exc))}"}]


def _pick(images: Any, rows: Any) -> Any:
    """The ``rows`` of a tensor or array of images (before converting: a test set is large)."""
    import torch

    if isinstance(images, torch.Tensor):
        return images[torch.as_tensor(rows, dtype=torch.long, device=images.device)]
    import numpy as np

    return np.asarray(images)[rows]


def _stack(top: Any, bottom: Any) -> Any:
    import numpy as np

    return np.concatenate([top, bottom])


def _bytes(row: list[Any]) -> bool:
    """Whether a non-empty row holds integers 0..255 only (fast: a class has many)."""
    return set(map(type, row)) == {int} and 0 <= min(row) and max(row) <= 255


def check_stored(artifact: Any) -> None:
    """Raise ValueError unless ``artifact`` is a stored artifact within the limits (run by
    the plugin before writing, and by the results schema and the report before drawing)."""

    def need(cond: bool, what: str) -> None:
        if not cond:
            raise ValueError(f"artifact: {what}")

    def number(v: Any) -> bool:
        return type(v) in (int, float) and math.isfinite(v)

    def texts(v: Any, most: int) -> bool:
        return isinstance(v, list) and len(v) <= most and all(isinstance(t, str) for t in v)

    need(isinstance(artifact, dict), "must be an object")
    need(isinstance(artifact.get("name"), str) and len(artifact["name"]) <= MAX_TEXT, "name")
    kind, data = artifact.get("kind"), artifact.get("data")
    need(kind in STORED_KINDS, f"unknown kind {kind!r}")
    if kind == "note":
        need(isinstance(data, str) and len(data) <= MAX_TEXT + 20, "a note is a short string")
    elif kind == "curve":
        need(isinstance(data, dict) and 1 <= len(data) <= MAX_SERIES, "curve series")
        for label, values in data.items():
            need(isinstance(label, str) and len(label) <= MAX_TEXT, "curve label")
            need(isinstance(values, list) and 1 <= len(values) <= MAX_POINTS, "curve length")
            need(all(number(v) for v in values), "curve values must be finite numbers")
    elif kind == "images":
        need(isinstance(data, dict), "images must be an object")
        pixels = data.get("pixels")
        need(isinstance(pixels, list) and 1 <= len(pixels) <= MAX_IMAGES, "1 to 64 images")
        need(
            all(isinstance(p, list) and len(p) == 784 and _bytes(p) for p in pixels),
            "each image is 784 integers 0-255",
        )
        need(texts(data.get("captions"), len(pixels)), "captions")
        need(type(data.get("ncols")) is int and 1 <= data["ncols"] <= 16, "ncols")
    elif kind == "matrix":
        need(isinstance(data, dict), "a matrix must be an object")
        values = data.get("values")
        need(isinstance(values, list) and 1 <= len(values) <= MAX_MATRIX, "matrix rows")
        width = len(values[0]) if isinstance(values[0], list) else 0
        need(1 <= width <= MAX_MATRIX, "matrix columns")
        need(
            all(
                isinstance(r, list) and len(r) == width and all(number(v) for v in r)
                for r in values
            ),
            "matrix values must be finite numbers in equal rows",
        )
        need(texts([data.get("x"), data.get("y")], 2), "matrix axis names")
    else:
        _check_figure(data, need, number, texts)
        # The other kinds are bounded by their counts; a figure's images add up.
        need(len(json.dumps(artifact)) <= MAX_TEST_BYTES, "too large")


def _check_figure(data: Any, need: Callable, number: Callable, texts: Callable) -> None:
    need(isinstance(data, dict), "a figure must be an object")
    need(isinstance(data.get("suptitle"), str) and len(data["suptitle"]) <= MAX_TEXT, "suptitle")
    need(texts(data.get("texts"), MAX_FIGURE_ITEMS), "figure texts")
    need(isinstance(data.get("axes"), list) and len(data["axes"]) <= MAX_FIGURE_AXES, "axes")
    for ax in data["axes"]:
        need(isinstance(ax, dict), "an axes must be an object")
        for key in ("title", "xlabel", "ylabel"):
            need(isinstance(ax.get(key), str) and len(ax[key]) <= MAX_TEXT, key)
        need(texts(ax.get("texts"), MAX_FIGURE_ITEMS), "axes texts")
        need(isinstance(ax.get("images"), list) and len(ax["images"]) <= 4, "axes images")
        for image in ax["images"]:
            rows: Any = image.get("pixels") if isinstance(image, dict) else None
            need(isinstance(rows, list) and 1 <= len(rows) <= MAX_FIGURE_IMAGE, "image rows")
            need(isinstance(rows[0], list) and 1 <= len(rows[0]) <= MAX_FIGURE_IMAGE, "image")
            need(
                all(isinstance(r, list) and len(r) == len(rows[0]) and _bytes(r) for r in rows),
                "an image is equal rows of integers 0-255",
            )
            need(isinstance(image.get("cmap"), str) and len(image["cmap"]) <= MAX_TEXT, "cmap")
        bars = ax.get("bars")
        need(isinstance(bars, list) and len(bars) <= MAX_FIGURE_ITEMS, "bars")
        need(
            all(
                isinstance(b, dict) and number(b.get("x")) and number(b.get("height")) for b in bars
            ),
            "bars are finite numbers",
        )
        lines = ax.get("lines")
        need(isinstance(lines, list) and len(lines) <= 8, "lines")
        for line in lines:
            need(isinstance(line, dict) and isinstance(line.get("label"), str), "a line")
            need(
                isinstance(line.get("x"), list)
                and isinstance(line.get("y"), list)
                and 0 < len(line["x"]) == len(line["y"]) <= MAX_POINTS
                and all(number(v) for v in line["x"] + line["y"]),
                "a line is as many finite x as y values",
            )
