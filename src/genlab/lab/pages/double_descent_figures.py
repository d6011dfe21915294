"""The §4.1 page's figures, built with the report's plotly builders (:mod:`genlab.article.report.interactive`):
the test error against the knob (p, degree, n or width) with its spread over seeds, the training error and the
interpolation threshold; and beside it why the peak (the coefficient norm and 1/σ_min², or for the network the
variance split into data, seed and their interaction)."""

from __future__ import annotations

import numpy as np


def _positive(v) -> np.ndarray:
    """Values a log axis can draw (others NaN: a gap)."""
    v = np.asarray(v, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _span(*arrays) -> tuple[float, float] | None:
    vals = np.concatenate([_positive(a).ravel() for a in arrays]) if arrays else np.array([])
    vals = vals[np.isfinite(vals)]
    return (float(vals.min()), float(vals.max())) if vals.size else None


def _threshold(name: str, at, arrays) -> list:
    """A dotted vertical line at the interpolation threshold over the span of ``arrays``."""
    from ...article.report.interactive import Trace

    span = _span(*arrays)
    if at is None or span is None or not np.isfinite(at) or at <= 0:
        return []
    lo, hi = span
    return [Trace(name, [at, at], [lo * 0.7, hi * 1.4], color="#555555", dash="dot", width=1.2)]


def _ylim(test_med, train_med=None):
    """The y range: the test error's scale (past the threshold the training error is ~1e-30: not drawn below
    1e-3 of the smallest median test error)."""
    span = _span(test_med)
    if span is None:
        return None
    lo, hi = span
    if train_med is not None:
        t = _span(train_med)
        if t is not None:
            lo = min(lo, max(t[0], lo * 1e-3))
    return (lo * 0.5, hi * 2.0)


def curves_figure(curves: list[dict], knob_label: str, threshold, w: dict, title: str = "") -> dict:
    """Each curve's median test error with its interquartile band (dashed mean where given), its median training
    error dotted, and the threshold; ``curves`` are dicts ``label, x, median, q25, q75[, mean, train, theory]``."""
    from ...article.report.interactive import PALETTE, Panel, Trace, figure_dict

    traces, tests, trains = [], [], []
    several = len(curves) > 1
    for k, c in enumerate(curves):
        color = PALETTE[(3 + k) % len(PALETTE)] if several else "#d62728"
        name = f"{w['test']} — {c['label']}" if several else w["test"]
        x = np.asarray(c["x"], dtype=float)
        traces.append(Trace(f"{name}, {w['iqr']}", x, (_positive(c["q25"]), _positive(c["q75"])), kind="band",
                            color=color, legend=False, group=name))
        traces.append(Trace(name, x, _positive(c["median"]), color=color, group=name))
        tests.append(c["median"])
        if c.get("mean") is not None and not several:  # one curve: its mean dashed beside the median
            traces.append(Trace(w["mean"], x, _positive(c["mean"]), color=color, dash="dash", width=1, group=name))
        if c.get("theory") is not None:
            traces.append(Trace(w["theory"], x, _positive(c["theory"]), color="#000000", dash="dashdot", width=1))
        if c.get("train") is not None and (not several or k == 0):
            traces.append(Trace(w["train"], x, _positive(c["train"]), color="#1f77b4", dash="dot", width=1.5))
            trains.append(c["train"])
    traces += _threshold(w["threshold"], threshold, tests)
    x_all = np.concatenate([np.asarray(c["x"], dtype=float) for c in curves]) if curves else np.array([1.0])
    lim = _ylim(np.concatenate([np.asarray(t, dtype=float) for t in tests]) if tests else [],
                np.concatenate([np.asarray(t, dtype=float) for t in trains]) if trains else None)
    panel = Panel(traces, xlabel=knob_label, ylabel=w["sq_error"], logx=bool(np.all(x_all > 0)), logy=True,
                  yrange=lim, title=title)
    return figure_dict([panel], height=460)


def why_figure(x, series: list[tuple], knob_label: str, threshold, ylabel: str, w: dict, title: str = "",
               logy: bool = True) -> dict:
    """Median quantities against the knob (``series``: (label, values, colour, dash)), threshold marked."""
    from ...article.report.interactive import Panel, Trace, figure_dict

    x = np.asarray(x, dtype=float)
    traces = [Trace(label, x, _positive(vals) if logy else np.asarray(vals, dtype=float), color=color, dash=dash)
              for label, vals, color, dash in series]
    traces += _threshold(w["threshold"], threshold, [vals for _, vals, _, _ in series])
    panel = Panel(traces, xlabel=knob_label, ylabel=ylabel, logx=bool(np.all(x > 0)), logy=logy, title=title)
    return figure_dict([panel], height=460)


def crossed_figure(res, w: dict, title: str = "") -> dict:
    """The network's test error (mean over the fits ± 2 s.e.) and training error against width, threshold
    marked."""
    from ...article.report.interactive import Panel, Trace, figure_dict

    x = np.asarray(res.values, dtype=float)
    err, se = np.asarray(res.error, dtype=float), np.asarray(res.error_se, dtype=float)
    se = np.where(np.isfinite(se), se, 0.0)
    traces = [Trace(f"{w['test_mlp']} ± 2 s.e.", x, (_positive(np.maximum(err - 2 * se, err * 1e-3)),
                                                    _positive(err + 2 * se)), kind="band", color="#d62728",
                    legend=False, group="test"),
              Trace(w["test_mlp"], x, _positive(err), color="#d62728", group="test")]
    if res.train_error is not None:
        traces.append(Trace(w["train_mlp"], x, _positive(res.train_error), color="#1f77b4", dash="dot", width=1.5))
    ens = np.asarray(res.ensemble, dtype=float)[:, -1]
    traces.append(Trace(w["ensemble"].format(k=res.S), x, _positive(ens), color="#7f7f7f", dash="dash", width=1))
    traces += _threshold(w["threshold"], res.threshold, [err])
    panel = Panel(traces, xlabel=w["knob"]["width"], ylabel=w["sq_error_mlp"], logx=True, logy=True,
                  yrange=_ylim(err, res.train_error), title=title)
    return figure_dict([panel], height=460)


def crossed_parts_figure(res, w: dict, title: str = "") -> dict:
    """bias² and the variance split into data, seed and their interaction against width, threshold marked."""
    x = np.asarray(res.values, dtype=float)
    series = [(w["bias2"], res.bias2, "#1f77b4", None), (w["v_data"], res.v_data, "#ff7f0e", "dash"),
              (w["v_init"], res.v_init, "#2ca02c", "dash"), (w["v_interaction"], res.v_interaction, "#9467bd", "dash"),
              (w["v_total"], res.total, "#d62728", None)]
    return why_figure(x, series, w["knob"]["width"], res.threshold, w["sq_error_mlp"], w, title)
