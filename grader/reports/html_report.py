"""``--html DIR``: a page for the class (``index.html``) and one page per submission.

Every page is one self-contained file: pictures are PNGs drawn here with matplotlib (Agg)
and embedded as ``data:`` URIs, styles inline, no script, and a Content-Security-Policy
that lets the page load nothing but its own images. A student's page shows per step the
score, each test's verdict and message (``hide_hidden``: the names and pass/fail only),
and the pictures drawn from the artifacts the hidden tests kept
(:mod:`grader.grading.artifacts`): numbers only, checked again here before drawing.
Every text from a submission (names, messages, titles) is HTML-escaped, and given to
matplotlib with ``parse_math=False`` (no mathtext parsing of a student's ``$...$``).
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..grading.artifacts import check_stored
from .common import score_text, steps_of

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child, .name { text-align: left; }
.passed { color: #176317; } .failed, .error, .timeout { color: #a31515; }
.full { background: #e7f6e7; } .part { background: #fff6d6; } .none { background: #fbe3e3; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
figcaption { font-size: 0.9em; color: #555; max-width: 40em; }
li { margin: 0.2em 0; } pre { white-space: pre-wrap; margin: 0.2em 0 0.2em 1em; }
"""
# File names Windows keeps for devices, whatever the extension after them.
_WINDOWS_DEVICE = re.compile(r"^(?:con|prn|aux|nul|com\d|lpt\d)(?:\.|$)", re.IGNORECASE)
PAGE_LIMIT = 8_000_000  # characters of pictures on one student page (data URIs)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def _shade(score: float, max_score: float) -> str:
    if max_score and score >= max_score - 1e-9:
        return "full"
    return "part" if score > 0 else "none"


def page_names(document: dict[str, Any]) -> list[str]:
    """One file name per submission, from its name: letters, digits, ``-_.`` only, unique
    also where case does not count (macOS, Windows: "Jane" and "jane" would be one file),
    never a name Windows keeps for a device (``con.html`` is the console there)."""
    names: list[str] = []
    taken = {"index.html"}
    for sub in document["submissions"]:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", sub["name"]).strip("._")[:60] or "submission"
        if _WINDOWS_DEVICE.match(slug):
            slug = f"_{slug}"
        name, n = f"{slug}.html", 2
        while name.casefold() in taken:
            name, n = f"{slug}-{n}.html", n + 1
        names.append(name)
        taken.add(name.casefold())
    return names


def write(document: dict[str, Any], out: Path, hide_hidden: bool = False) -> list[Path]:
    """Write ``out/index.html`` and a page per submission; the pages written."""
    out.mkdir(exist_ok=True)
    names = page_names(document)
    written = []
    for sub, name in zip(document["submissions"], names, strict=True):
        path = out / name
        path.write_text(student_page(sub, hide_hidden))
        written.append(path)
    index = out / "index.html"
    index.write_text(class_page(document, names))
    return [index, *written]


# --- pictures -------------------------------------------------------------------------


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=80, layout="constrained")


def _uri(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _embedded(fig: Any, caption: str, more: str = "") -> str:
    """``fig`` as a ``<figure>`` with its PNG inline; ``more``: HTML after the caption."""
    return (
        f'<figure><img src="{_uri(fig)}" alt="{_e(caption)}">'
        f"<figcaption>{_e(caption)}{more}</figcaption></figure>"
    )


def _curve(data: dict[str, list[float]]) -> Any:
    from matplotlib.ticker import MaxNLocator

    fig = _figure(5, 3)
    ax = fig.add_subplot()
    for label, values in data.items():
        ax.plot(range(len(values)), values, marker="." if len(values) < 40 else None, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs, steps: whole numbers
    if any(data):
        ax.legend()
    return fig


def _canvas(pixels: list[list[int]], ncols: int) -> Any:
    import numpy as np

    digits = np.asarray(pixels, dtype=np.uint8).reshape(-1, 28, 28)
    rows = -(-len(digits) // ncols)
    canvas = np.full((rows * 28, ncols * 28), 0, dtype=np.uint8)
    for i, digit in enumerate(digits):
        canvas[
            (i // ncols) * 28 : (i // ncols + 1) * 28, (i % ncols) * 28 : (i % ncols + 1) * 28
        ] = digit
    return canvas, rows


def _images(data: dict[str, Any]) -> Any:
    ncols = min(data["ncols"], len(data["pixels"]))
    canvas, rows = _canvas(data["pixels"], ncols)
    fig = _figure(max(2.0, 0.9 * ncols), 0.9 * rows)
    ax = fig.add_subplot()
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=255)
    for i, caption in enumerate(data["captions"]):
        if caption:
            x, y = (i % ncols) * 28 + 14, (i // ncols) * 28 + 1  # on the digit, at its top
            ax.text(
                x, y, caption, ha="center", va="top", fontsize=7, color="yellow", parse_math=False
            )
    ax.set_xticks([])
    ax.set_yticks([])
    for i in range(1, ncols):
        ax.axvline(i * 28 - 0.5, color="#446", linewidth=0.5)
    for i in range(1, rows):
        ax.axhline(i * 28 - 0.5, color="#446", linewidth=0.5)
    return fig


def _matrix(data: dict[str, Any]) -> Any:
    import numpy as np

    values = np.asarray(data["values"], dtype=float)
    fig = _figure(4.5, 4)
    ax = fig.add_subplot()
    ax.imshow(values, cmap="Blues")
    rows, cols = values.shape
    for r in range(rows):
        for c in range(cols):
            color = "white" if values[r, c] > values.max() / 2 else "black"
            ax.text(c, r, f"{values[r, c]:g}", ha="center", va="center", fontsize=6, color=color)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xlabel(data["x"], parse_math=False)
    ax.set_ylabel(data["y"], parse_math=False)
    return fig


# Step 01's figures are drawn again here from their data, not rendered into a PNG by the
# student's matplotlib inside the sandbox: a figure already crosses the wire as FigureData
# (titles, image arrays, bars, lines), checked there, and that is what the tests judged.
# PNG bytes made by the submission's process would be a file from the hostile side handed
# to every browser and Gradescope page that shows the report; numbers are not.
def _redrawn(data: dict[str, Any]) -> Any:
    """A student's figure drawn again from what it held: images, bars, lines, titles."""
    from matplotlib import colormaps

    axes = data["axes"] or [{}]
    ncols = min(3, len(axes))
    nrows = -(-len(axes) // ncols)
    wide = 1.0  # one wide image (plot_grid's canvas) gets a wide figure
    if len(axes) == 1 and axes[0].get("images"):
        rows = axes[0]["images"][0]["pixels"]
        wide = min(3.0, max(1.0, len(rows[0]) / len(rows)))
    fig = _figure(3.2 * ncols * wide, 3.0 * nrows)
    if data["suptitle"]:
        fig.suptitle(data["suptitle"], parse_math=False)
    for i, spec in enumerate(axes):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for image in spec.get("images", []):
            cmap = image["cmap"] if image["cmap"] in colormaps else "gray"
            ax.imshow(image["pixels"], cmap=cmap, vmin=0, vmax=255)
        if spec.get("bars"):
            ax.bar([b["x"] for b in spec["bars"]], [b["height"] for b in spec["bars"]])
        for line in spec.get("lines", []):
            ax.plot(line["x"], line["y"])
        ax.set_title(spec.get("title", ""), parse_math=False, fontsize=9)
        ax.set_xlabel(spec.get("xlabel", ""), parse_math=False)
        ax.set_ylabel(spec.get("ylabel", ""), parse_math=False)
    return fig


DRAW: dict[str, Callable[[Any], Any]] = {
    "curve": _curve,
    "images": _images,
    "matrix": _matrix,
    "figure": _redrawn,
}


def picture(artifact: Any) -> str:
    """One artifact as HTML: a ``<figure>`` with an embedded PNG, or a line saying why not."""
    try:
        check_stored(artifact)
    except ValueError as exc:
        return f"<p>(a picture was left out: {_e(exc)})</p>"
    name, kind = artifact["name"], artifact["kind"]
    if kind == "note":
        return f"<p>{_e(name)}: {_e(artifact['data'])}</p>"
    more = ""
    if kind == "figure":
        data = artifact["data"]
        words = [*data["texts"], *(t for ax in data["axes"] for t in ax["texts"])]
        more = f"; text on it: {_e(' '.join(words)[:300])}" if words else ""
    try:
        return _embedded(DRAW[kind](artifact["data"]), name, more)
    except Exception as exc:  # noqa: BLE001 - one picture lost, never the report
        return f"<p>{_e(name)}: could not be drawn ({_e(type(exc).__name__)})</p>"


def pictures_html(kept: list[Any], budget: int) -> tuple[str, int]:
    """The artifacts ``kept`` as HTML, at most ``budget`` characters of it (a picture
    beyond is left out, saying so); the HTML and the budget left."""
    parts = []
    for artifact in kept:
        drawn = picture(artifact)
        if len(drawn) > budget:
            name = artifact.get("name", "") if isinstance(artifact, dict) else ""
            drawn = f"<p>{_e(name)}: left out (the page is full)</p>"
        budget -= len(drawn)
        parts.append(drawn)
    return "".join(parts), budget


# --- the pages ------------------------------------------------------------------------


def student_page(sub: dict[str, Any], hide_hidden: bool = False) -> str:
    """A submission's feedback page (everything in it escaped, pictures embedded)."""
    steps = steps_of(sub)
    rows = "".join(
        f'<tr class="{_shade(sub["steps"][s]["score"], sub["steps"][s]["max_score"])}">'
        f'<td><a href="#{_e(s)}">{_e(s)}</a></td>'
        f"<td>{score_text(sub['steps'][s]['score'])}/{score_text(sub['steps'][s]['max_score'])}</td>"
        f"<td>{sum(t['status'] == 'passed' for t in sub['steps'][s]['tests'])} of "
        f"{len(sub['steps'][s]['tests'])}</td></tr>"
        for s in steps
    )
    parts = [
        f"<h1>Feedback: {_e(sub['name'])}</h1>",
        f"<p><strong>{score_text(sub['score'])}/{score_text(sub['max_score'])} points</strong>"
        f" in {len(steps)} step(s).</p>",
        f"<table><tr><th>step</th><th>points</th><th>tests passed</th></tr>{rows}</table>",
    ]
    budget = PAGE_LIMIT
    for step in steps:
        entry = sub["steps"][step]
        parts.append(
            f'<section id="{_e(step)}"><h2>{_e(step)}: {score_text(entry["score"])}/'
            f"{score_text(entry['max_score'])} points</h2><ul>"
        )
        for test in entry["tests"]:
            status = test["status"]
            line = f'<li class="{_e(status)}">{_e(test["name"])}: {_e(status)}'
            if not hide_hidden:
                line += f" ({score_text(test['score'])}/{score_text(test['max_score'])})"
                if test["message"]:
                    line += f"<pre>{_e(test['message'])}</pre>"
            parts.append(line + "</li>")
        parts.append("</ul>")
        shown, budget = pictures_html(
            [a for t in entry["tests"] for a in t.get("artifacts", [])], budget
        )
        parts.append(shown + "</section>")
    return _page(f"Feedback: {sub['name']}", "\n".join(parts))


def costly_tests(document: dict[str, Any], most: int = 15) -> list[tuple[str, str, float, int]]:
    """``(step, test, points lost by the class, submissions that lost them)``, most first."""
    lost: dict[tuple[str, str], list[float]] = {}
    for sub in document["submissions"]:
        for step, entry in sub["steps"].items():
            for test in entry["tests"]:
                missing = test["max_score"] - test["score"]
                if missing > 0:
                    lost.setdefault((step, test["name"]), []).append(missing)
    ranked = sorted(lost.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    return [(step, name, sum(v), len(v)) for (step, name), v in ranked[:most]]


def _class_plots(document: dict[str, Any], steps: list[str]) -> list[str]:
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    subs = document["submissions"]
    plots = []
    fig = _figure(max(4.0, 0.6 * len(steps)), 3)
    ax = fig.add_subplot()
    means = [
        100
        * np.mean(
            [
                s["steps"][step]["score"] / (s["steps"][step]["max_score"] or 1)
                for s in subs
                if step in s["steps"]
            ]
        )
        for step in steps
    ]
    ax.bar([step[4:6] for step in steps], means, color="#4a7bb7")
    ax.set_ylim(0, 100)
    ax.set_xlabel("step")
    ax.set_ylabel("mean score (% of the step's points)")
    plots.append(_embedded(fig, "mean score per step"))
    fig = _figure(4.5, 3)
    ax = fig.add_subplot()
    ax.hist([s["score"] for s in subs], bins=min(20, max(5, len(subs))), color="#4a7bb7")
    ax.set_xlabel("total points")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    plots.append(_embedded(fig, "distribution of totals"))
    costly = costly_tests(document, 10)
    if costly:
        fig = _figure(6, 0.3 * len(costly) + 1)
        ax = fig.add_subplot()
        ax.barh(
            [f"{step[:6]} {name}"[:50] for step, name, _, _ in costly][::-1],
            [lost for *_, lost, _ in costly][::-1],
            color="#b74a4a",
        )
        ax.set_xlabel("points lost by the class")
        plots.append(_embedded(fig, "tests that cost the most points"))
    return plots


def class_page(document: dict[str, Any], names: list[str]) -> str:
    """The class: a table of every step's score, plots of steps and totals, costly tests."""
    subs = document["submissions"]
    steps = [s for s in steps_of({"steps": {k: 0 for sub in subs for k in sub["steps"]}})]
    head = "".join(f"<th>{_e(s[:6])}</th>" for s in steps)
    rows = []
    for sub, name in zip(subs, names, strict=True):
        cells = "".join(
            f'<td class="{_shade(sub["steps"][s]["score"], sub["steps"][s]["max_score"])}">'
            f"{score_text(sub['steps'][s]['score'])}/{score_text(sub['steps'][s]['max_score'])}</td>"
            if s in sub["steps"]
            else "<td>-</td>"
            for s in steps
        )
        rows.append(
            f'<tr><td><a href="{_e(name)}">{_e(sub["name"])}</a></td>{cells}'
            f"<td>{score_text(sub['score'])}/{score_text(sub['max_score'])}</td></tr>"
        )
    costly = "".join(
        f'<tr><td>{_e(step)}</td><td class="name">{_e(test)}</td>'
        f"<td>{score_text(lost)}</td><td>{n}</td></tr>"
        for step, test, lost, n in costly_tests(document)
    )
    parts = [
        "<h1>Grading report</h1>",
        f"<p>{len(subs)} submission(s); kit {_e(document['kit_version'])}.</p>",
        f"<table><tr><th>submission</th>{head}<th>total</th></tr>{''.join(rows)}</table>",
        *(_class_plots(document, steps) if subs and steps else []),
    ]
    if costly:
        parts.append(
            "<h2>Tests that cost the most points</h2><table><tr><th>step</th><th>test</th>"
            f"<th>points lost</th><th>submissions</th></tr>{costly}</table>"
        )
    return _page("Grading report", "\n".join(parts))
