"""What the report says, independent of how it is drawn.

Experiments return :class:`Section` objects: text, figures (matplotlib figures
plus the data behind them, and optionally an interactive plotly version) and
measured numbers with their uncertainty. The HTML renderer only reads these
objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Number:
    """A measured quantity, with its uncertainty and the article's value when it has one."""

    key: str
    label: str
    value: float
    se: float | None = None           # Monte-Carlo standard error
    interval: tuple[float, float] | None = None  # e.g. 5th-95th percentile over datasets
    interval_label: str = ""
    article: float | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class Figure:
    """One figure: a matplotlib figure (``fig``), its caption and the table behind it.

    ``plotly`` is the interactive version the page shows instead of the static
    image: a plotly figure, or a ``{"data": [...], "layout": {...}}`` dict, usually
    built with :mod:`genlab.article.report.interactive` (sliders via ``layout.sliders``).
    The static PNG/SVG are still written and linked. ``hint`` tells the reader
    what to move and what to watch.
    """

    key: str
    title: str
    caption: str
    fig: Any = None                  # matplotlib.figure.Figure
    data: Any = None                 # pandas.DataFrame written as CSV
    files: dict[str, str] = field(default_factory=dict)  # format -> path relative to the report
    plotly: Any = None               # plotly.graph_objects.Figure or its dict; None: static only
    hint: str = ""                   # shown above the interactive figure
    rendered: dict[str, bytes] = field(default_factory=dict, repr=False)  # format -> bytes, once drawn

    def render(self, formats=("png", "svg")) -> None:
        """Draw ``fig`` into PNG and SVG bytes now and close it (what :func:`write_report` writes)."""
        if self.fig is None:
            return
        import matplotlib.pyplot as plt

        from ...core.io import figure_bytes

        try:
            self.rendered = {fmt: figure_bytes(self.fig, fmt) for fmt in formats}
        finally:
            plt.close(self.fig)
            self.fig = None


@dataclass
class Section:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    numbers: list[Number] = field(default_factory=list)
    results: dict = field(default_factory=dict)  # everything machine-readable


@dataclass
class Report:
    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    lang: str = "en"                 # language of the page's own words (see genlab.article.report.i18n)

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "meta": self.meta,
            "sections": {
                s.key: {
                    "title": s.title,
                    "numbers": {n.key: n.to_dict() for n in s.numbers},
                    "figures": {f.key: {"title": f.title, "caption": f.caption, "files": f.files,
                                        "interactive": f.plotly is not None}
                                for f in s.figures},
                    "results": s.results,
                }
                for s in self.sections
            },
        }
