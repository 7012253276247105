"""Figures as plain data, so tests judge what was drawn, not a live Figure.

``figure_data(fig)`` reads a rendered matplotlib figure (the real Agg
renderer draws it first) into a :class:`FigureData` of titles, images, bars,
lines, texts and legend labels: lists, strings and numpy arrays only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class AxesData:
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    images: list[dict] = field(default_factory=list)  # {"array": ndarray, "cmap": str}
    bars: list[dict] = field(default_factory=list)  # {"x": float, "height": float}
    lines: list[dict] = field(default_factory=list)  # {"x": ndarray, "y": ndarray, "label": str}
    texts: list[str] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)


@dataclass
class FigureData:
    suptitle: str = ""
    axes: list[AxesData] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # fig.text(...): on the figure, not an axes

    @property
    def titles(self) -> list[str]:
        """Every title on the figure: the suptitle, then each axes' title."""
        return [t for t in [self.suptitle, *(a.title for a in self.axes)] if t]

    @property
    def all_text(self) -> str:
        parts = [*self.titles, *self.texts, *(t for a in self.axes for t in a.texts)]
        return " ".join(parts)


def figure_data(fig: Figure) -> FigureData:
    """Read a matplotlib ``Figure`` into plain data, then close it."""
    import matplotlib.pyplot as plt
    from matplotlib.image import AxesImage
    from matplotlib.patches import Rectangle

    fig.canvas.draw()  # a real render: errors in what was drawn show up here
    suptitle = getattr(fig, "_suptitle", None)  # private: Figure's type hints leave it out
    data = FigureData(
        suptitle=suptitle.get_text() if suptitle else "",
        texts=[
            t.get_text()
            for t in fig.texts
            if t
            not in (
                suptitle,
                getattr(fig, "_supxlabel", None),
                getattr(fig, "_supylabel", None),
            )
        ],
    )
    for ax in fig.axes:
        legend = ax.get_legend()
        data.axes.append(
            AxesData(
                title=" ".join(
                    t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t
                ),
                xlabel=ax.get_xlabel(),
                ylabel=ax.get_ylabel(),
                images=[
                    {"array": np.asarray(im.get_array()), "cmap": im.get_cmap().name}
                    for im in ax.get_images()
                    if isinstance(im, AxesImage)
                ],
                bars=[
                    {"x": p.get_x() + p.get_width() / 2, "height": p.get_height()}
                    for container in ax.containers
                    for p in container
                    if isinstance(p, Rectangle)
                ],
                lines=[
                    {
                        "x": np.asarray(line.get_xdata(), dtype=float),
                        "y": np.asarray(line.get_ydata(), dtype=float),
                        "label": line.get_label(),
                    }
                    for line in ax.get_lines()
                ],
                texts=[t.get_text() for t in ax.texts],
                legend=[t.get_text() for t in legend.get_texts()] if legend else [],
            )
        )
    plt.close(fig)
    return data


def to_plain(value: Any) -> Any:
    """Figures become :class:`FigureData`; everything else passes as it is."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # matplotlib is a dependency; this only guards odd installs
        return value
    return figure_data(value) if isinstance(value, Figure) else value
