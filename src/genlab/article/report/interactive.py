"""Interactive figures for the report: panels of curves, a slider that moves some of them, log axes.

An experiment describes a figure as :class:`Panel` objects holding :class:`Trace`
objects; a trace with ``moving=True`` has one ``x``/``y`` per slider step.
:func:`slider_figure` turns that into a plotly figure whose native
``layout.sliders`` restyle the moving traces in the browser (no server, no
frames), and :func:`figure` does the same without a slider (hover and zoom
only). The result goes into :attr:`genlab.article.report.model.Figure.plotly`; the
renderer embeds plotly.js once per page and each figure as JSON
(:func:`to_json`).

Numbers are rounded to :data:`DIGITS` significant digits and non-finite values
become gaps (JSON ``null``), so a figure of a few thousand points stays small.

Example (the §2 degree slider, shortened)::

    fits = [fit(d).predict(grid) for d in degrees]
    left = Panel([Trace("data", x, y, kind="points"),
                  Trace("fit", grid, fits, moving=True)], xlabel="x", ylabel="y", yrange=(0.5, 3.5))
    right = Panel([Trace("validation", degrees, val), *marker("degree", degrees, val)],
                  xlabel="degree", ylabel="RMSE", logy=True)
    fig = slider_figure([left, right], steps=[str(d) for d in degrees], prefix="degree = ",
                        notes=[f"validation RMSE {v:.3g}" for v in val], active=2)

plotly is imported only here, when a figure is built (it is a runtime dependency
but genlab's start-up does not pay for it).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

#: significant digits kept in the page's figure data
DIGITS = 5

#: the colours of the static figures (matplotlib's tab10), so both versions read the same
COLORS = {"blue": "#1f77b4", "orange": "#ff7f0e", "green": "#2ca02c", "red": "#d62728", "purple": "#9467bd",
          "brown": "#8c564b", "pink": "#e377c2", "grey": "#7f7f7f", "olive": "#bcbd22", "cyan": "#17becf"}
PALETTE = list(COLORS.values())


@dataclass
class Trace:
    """One curve, scatter or band of a :class:`Panel`.

    ``kind`` is ``"line"``, ``"points"`` or ``"band"`` (then ``y`` is ``(lower, upper)``).
    With ``moving=True``, ``y`` (and ``x`` unless it is one array) holds one array per
    slider step; bands cannot move.
    """

    name: str
    x: Any
    y: Any
    kind: str = "line"
    moving: bool = False
    color: str | None = None
    dash: str | None = None          # "dash", "dot", "dashdot"
    width: float = 2.0
    size: float = 6.0                # marker size for points
    symbol: str | None = None        # plotly marker symbol, e.g. "x", "circle-open"
    opacity: float = 1.0
    legend: bool = True
    group: str | None = None         # legend group (click hides the group)


@dataclass
class Panel:
    """One set of axes. ``xrange``/``yrange`` are in data units, also on log axes."""

    traces: list[Trace] = field(default_factory=list)
    xlabel: str = ""
    ylabel: str = ""
    logx: bool = False
    logy: bool = False
    xrange: tuple[float, float] | None = None
    yrange: tuple[float, float] | None = None
    title: str = ""


def marker(name: str, x, y, *, color: str | None = None, size: float = 11, symbol: str = "circle",
           legend: bool = False) -> list[Trace]:
    """A point that moves along the curve (x, y) with the slider: step k sits at (x[k], y[k])."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"marker needs two 1-D arrays of one length, got {x.shape} and {y.shape}")
    return [Trace(name, [[v] for v in x], [[v] for v in y], kind="points", moving=True, color=color,
                  size=size, symbol=symbol, legend=legend)]


def vline(name: str, x, y_range: tuple[float, float], *, color: str = "#7f7f7f", dash: str = "dot") -> list[Trace]:
    """A vertical line at x[k] spanning ``y_range``, moving with the slider."""
    lo, hi = y_range
    return [Trace(name, [[v, v] for v in np.asarray(x, dtype=float)], [[lo, hi]] * len(x), moving=True,
                  color=color, dash=dash, width=1, legend=False)]


# -- numbers for the page ---------------------------------------------------------------------------------

def plain(obj):
    """``obj`` with numpy arrays and scalars as JSON-able lists and numbers (rounded to :data:`DIGITS`
    significant digits; NaN, ±inf -> None)."""
    from ...core.io import plain as io_plain

    return io_plain(obj, DIGITS)


def _arrays(v) -> list:
    return plain(np.asarray(v, dtype=float).ravel())


# -- building ---------------------------------------------------------------------------------------------

def _scatter(t: Trace, x, y, color) -> list[dict]:
    """The plotly scatter trace(s) of ``t`` as dicts, in plotly's own form (no ``None`` values)."""
    common = dict(name=t.name, opacity=t.opacity, showlegend=t.legend, legendgroup=t.group or t.name)
    if t.kind == "line":
        line = dict(color=color, width=t.width) if t.dash is None else dict(color=color, dash=t.dash, width=t.width)
        out = [dict(x=x, y=y, mode="lines", line=line, **common)]
    elif t.kind == "points":
        out = [dict(x=x, y=y, mode="markers", marker=dict(color=color, size=t.size, symbol=t.symbol or "circle"),
                    **common)]
    elif t.kind == "band":
        lo, hi = y
        out = [dict(x=x, y=hi, mode="lines", line=dict(width=0), hoverinfo="skip", showlegend=False,
                    legendgroup=t.group or t.name, name=t.name),
               dict(x=x, y=lo, mode="lines", line=dict(width=0), fill="tonexty", fillcolor=_rgba(color, 0.2),
                    hoverinfo="skip", **common)]
    else:
        raise ValueError(f"unknown trace kind {t.kind!r}: line, points or band")
    return [dict(tr, type="scatter") for tr in out]


def _rgba(color: str | None, alpha: float) -> str:
    color = color or COLORS["blue"]
    if color.startswith("#") and len(color) == 7:
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},{alpha:.3g})"
    return color


def _axis_range(r, log):
    if r is None:
        return None
    lo, hi = r
    return [math.log10(lo), math.log10(hi)] if log else [lo, hi]


def _axis(label: str, log: bool, r) -> dict:
    axis = dict(title=dict(text=label), type="log" if log else "linear")
    rng = _axis_range(r, log)
    return axis if rng is None else dict(axis, range=rng)


_SPACING = {True: 0.1, False: 0.02}  # between panels: several, one


def _layout(height: int) -> dict:
    return dict(height=height, template="plotly_white", hovermode="closest", margin=dict(l=60, r=20, t=70, b=60),
                legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
                font=dict(family="system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK JP', sans-serif"))


def _traces(panels: Sequence[Panel], n_steps: int | None, active: int):
    """Every panel's traces at step ``active`` as (column, trace dict), and the moving ones as
    (trace index, xs, ys)."""
    if not panels:
        raise ValueError("a figure needs at least one panel")
    out, moving = [], []
    for col, panel in enumerate(panels, start=1):
        for j, t in enumerate(panel.traces):
            color = t.color or PALETTE[j % len(PALETTE)]
            if t.moving:
                if n_steps is None:
                    raise ValueError(f"trace {t.name!r} moves but the figure has no slider")
                if t.kind == "band":
                    raise ValueError(f"trace {t.name!r}: bands cannot move")
                ys = list(t.y)
                per_step = (isinstance(t.x, (list, tuple)) and len(t.x) == n_steps
                            and all(np.ndim(v) == 1 for v in t.x))
                xs = list(t.x) if per_step else [t.x] * n_steps
                if len(ys) != n_steps:
                    raise ValueError(f"trace {t.name!r} has {len(ys)} steps, the slider has {n_steps}")
                xs, ys = [_arrays(v) for v in xs], [_arrays(v) for v in ys]
                moving.append((len(out), xs, ys))
                x, y = xs[active], ys[active]
            else:
                x = _arrays(t.x)
                y = [_arrays(v) for v in t.y] if t.kind == "band" else _arrays(t.y)
            out += [(col, tr) for tr in _scatter(t, x, y, color)]
    return out, moving


def _build(panels: Sequence[Panel], n_steps: int | None, active: int, height: int):
    """The plotly figure with every trace at step ``active``; returns (figure, moving: [(trace index, xs, ys)])."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    traces, moving = _traces(panels, n_steps, active)
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p.title for p in panels] if any(
        p.title for p in panels) else None, horizontal_spacing=_SPACING[len(panels) > 1])
    for col, tr in traces:
        fig.add_trace(go.Scatter(**{k: v for k, v in tr.items() if k != "type"}), row=1, col=col)
    for col, panel in enumerate(panels, start=1):
        fig.update_xaxes(**_axis(panel.xlabel, panel.logx, panel.xrange), row=1, col=col)
        fig.update_yaxes(**_axis(panel.ylabel, panel.logy, panel.yrange), row=1, col=col)
    fig.update_layout(**_layout(height))
    return fig, moving


def figure(panels: Sequence[Panel], *, height: int = 420):
    """A plotly figure of ``panels`` without a slider (hover, zoom, legend toggles)."""
    fig, _ = _build(panels, None, 0, height)
    return fig


@lru_cache(maxsize=None)
def _template_json(name: str) -> str:
    import plotly.io as pio

    return json.dumps(plain(pio.templates[name].to_plotly_json()))


def _template(name: str) -> dict:
    """plotly's template ``name`` as figure JSON has it (a fresh copy: callers may change theirs)."""
    return json.loads(_template_json(name))


def figure_dict(panels: Sequence[Panel], *, height: int = 420) -> dict:
    """``to_dict(figure(panels, height=height))``, built without plotly's figure objects: the same figure
    data (tests/test_interactive.py compares them) in about 10 ms instead of about 0.1 s (bench/lab.py),
    for the lab's requests. Use :func:`figure` to change the figure further with plotly's API."""
    traces, _ = _traces(panels, None, 0)
    cols = len(panels)
    spacing = _SPACING[cols > 1]
    width = (1.0 - spacing * (cols - 1)) / cols
    layout = _layout(height)
    template = layout.pop("template")
    titles = []
    for col, panel in enumerate(panels, start=1):
        left = (col - 1) * (width + spacing)
        suffix = "" if col == 1 else str(col)
        layout[f"xaxis{suffix}"] = dict(anchor=f"y{suffix}", domain=[left, left + width],
                                        **_axis(panel.xlabel, panel.logx, panel.xrange))
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", domain=[0.0, 1.0],
                                        **_axis(panel.ylabel, panel.logy, panel.yrange))
        if panel.title:
            titles.append(dict(font=dict(size=16), showarrow=False, text=panel.title, x=left + width / 2,
                               xanchor="center", xref="paper", y=1.0, yanchor="bottom", yref="paper"))
    if titles:
        layout["annotations"] = titles
    # x and y are plain already (_traces): plain() is applied to the rest only, the same numbers in half the time
    data = [dict(plain({k: v for k, v in tr.items() if k not in ("x", "y")}), x=tr["x"], y=tr["y"],
                 xaxis=f"x{'' if col == 1 else col}", yaxis=f"y{'' if col == 1 else col}") for col, tr in traces]
    return {"data": data, "layout": dict(plain(layout), template=_template(template))}


def slider_figure(panels: Sequence[Panel], *, steps: Sequence[str], prefix: str, notes: Sequence[str] | None = None,
                  active: int = 0, height: int = 470):
    """A plotly figure of ``panels`` with one slider of ``steps`` (their labels).

    Moving traces take their step-``k`` data when the slider is at ``k``; ``notes[k]``
    (the values at that step, say) becomes the figure's title line. ``active`` is the
    step shown first.
    """
    steps = [str(s) for s in steps]
    if not steps:
        raise ValueError("a slider needs at least one step")
    if not 0 <= active < len(steps):
        raise ValueError(f"active step {active} is outside 0..{len(steps) - 1}")
    if notes is not None and len(notes) != len(steps):
        raise ValueError(f"{len(notes)} notes for {len(steps)} steps")
    fig, moving = _build(panels, len(steps), active, height)
    if not moving:
        raise ValueError("a slider figure needs at least one moving trace")
    idx = [i for i, _, _ in moving]
    slider_steps = []
    for s, label in enumerate(steps):
        data = {"x": [xs[s] for _, xs, _ in moving], "y": [ys[s] for _, _, ys in moving]}
        layout = {"title.text": notes[s]} if notes is not None else {}
        slider_steps.append(dict(method="update", label=label, args=[data, layout, idx]))
    fig.update_layout(sliders=[dict(active=active, steps=slider_steps, pad=dict(t=55, b=5),
                                    currentvalue=dict(prefix=prefix, font=dict(size=14)))],
                      margin=dict(b=40))
    titled = any(p.title for p in panels)  # subplot titles sit just above the axes: lift the legend over them
    if notes is not None:
        fig.update_layout(title=dict(text=notes[active], font=dict(size=14), x=0.01, xanchor="left", y=0.99,
                                     yanchor="top"), margin=dict(t=125 if titled else 95))
    fig.update_layout(legend=dict(y=1.1 if titled else 1.04))
    if titled:
        fig.update_layout(height=height + 30)
    return fig


def to_dict(fig) -> dict:
    """A plotly figure (or a figure dict) as a JSON-able ``{"data": [...], "layout": {...}}``."""
    if hasattr(fig, "to_plotly_json"):
        raw = fig.to_plotly_json()
        raw = {"data": raw.get("data", []), "layout": raw.get("layout", {})}
    elif isinstance(fig, dict):
        raw = {"data": fig.get("data", []), "layout": fig.get("layout", {})}
    else:
        raise TypeError(f"an interactive figure is a plotly Figure or a dict, got {type(fig).__name__}")
    return plain(raw)


def to_json(fig) -> str:
    """The figure as JSON that is safe inside an HTML ``<script>`` (no ``</script>``, no NaN)."""
    text = json.dumps(to_dict(fig), ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                      default=_default)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
               .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _default(o):
    if isinstance(o, np.ndarray):
        return plain(o)
    if isinstance(o, (np.integer, np.floating, np.bool_)):
        return plain(o)
    if isinstance(o, dict) and "bdata" in o:
        return o
    raise TypeError(f"not JSON-able in a figure: {type(o).__name__}")


def plotly_js() -> str:
    """plotly.js, minified, from the installed plotly package (embedded once per page)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()
