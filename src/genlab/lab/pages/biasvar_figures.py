"""The §3 page's figures, built with the report's plotly builders (:mod:`genlab.article.report.interactive`):
the four terms against degree, the tails of the per-dataset errors, and the first fits of one degree beside
h̄ (a slider over the datasets, moved in the browser)."""

from __future__ import annotations

import numpy as np

from ..words import words


def _words(lang: str):
    from ...article.report.i18n import load_text

    return load_text(lang)["report"]["plot"], words(lang)["plot"], load_text(lang)["biasvar"]


def terms_figure(view, lang: str) -> dict:
    """bias², variance, noise and the measured error against degree, ±2 s.e. bands where the s.e. is valid,
    the median error dotted, the degrees whose tails are infinite marked (as ``BiasVariance.plot``)."""
    from ...article.report.interactive import COLORS, Panel, Trace, figure_dict
    from ...core.stats import VERDICTS

    p, w, _ = _words(lang)
    x, t = view.degrees.astype(float), view.terms
    med = t["error_median"]
    ok = np.isfinite(med) & (med > 0)
    # relative to the smallest median error: past interpolation the errors reach 1e30, and a floor set by the
    # largest would hide every term of the low degrees
    floor = 1e-6 * max(float(med[ok].min()) if ok.any() else 1.0, 1e-300)
    traces = []
    for name, key, color in ((p["bias2"], "bias2", COLORS["blue"]), (p["variance"], "variance", COLORS["orange"]),
                             (p["noise"], "noise", COLORS["grey"]), (p["test_error"], "error", COLORS["red"])):
        val = t[key]
        se = np.where(view.se_valid, t[f"{key}_se"], np.nan)
        lo = np.maximum(val - 2 * se, floor)
        traces += [Trace(f"{name} ± 2 s.e.", x, (lo, np.maximum(val + 2 * se, lo)), kind="band", color=color,
                         group=name, legend=False),
                   Trace(name, x, np.where(val > floor, val, np.nan), color=color, group=name)]
    traces.append(Trace(w["error_median"], x, med, color=COLORS["red"], dash="dot", width=1))
    verdict = np.array(view.verdict)
    for names, symbol, text in ((VERDICTS[1:4], "square-open", w["inf_var"]), (VERDICTS[4:5], "x-open", w["inf_mean"])):
        hit = np.isin(verdict, names)
        if hit.any():
            traces.append(Trace(text, x[hit], t["error"][hit], kind="points", color="#000000", size=11, symbol=symbol))
    positive = np.concatenate([v[np.isfinite(v) & (v > floor)] for v in (t["bias2"], t["variance"], t["noise"], med)])
    lo = max(floor, 0.3 * float(positive.min())) if positive.size else floor
    finite = t["error"][np.isfinite(t["error"])]
    hi = min(3 * float(finite.max()), 1e4 * float(np.nanmin(med))) if finite.size and np.isfinite(med).any() else None
    panel = Panel(traces, xlabel=p["degree"], ylabel=words(lang)["squared_error"], logy=True,
                  yrange=(lo, hi) if hi and hi > lo else None)
    return figure_dict([panel], height=440)


def tails_figure(view, lang: str) -> dict:
    """Hill's tail index of the per-dataset errors with its 95% interval, the lines α = 2 and α = 1, and the
    theory where it applies (as ``BiasVariance.plot_tails``)."""
    from ...article.report.interactive import COLORS, Panel, Trace, figure_dict

    p, w, _ = _words(lang)
    x = view.degrees.astype(float)
    tl = view.tail
    traces = [Trace(f"{w['index']}, 95%", x, (tl["lo"], tl["hi"]), kind="band", color="#000000", legend=False,
                    group="index"),
              Trace(f"{w['index']} (top {view.k:,} / {view.n_datasets:,})", x, tl["index"], kind="points",
                    color="#000000", size=7, group="index")]
    if view.theory is not None:
        traces += [Trace(w["local"], x, (view.theory["local_lo"], view.theory["local_hi"]), kind="band",
                         color=COLORS["blue"]),
                   Trace(f"{w['theory']}: (n − 1)/(2d)", x, view.theory["index"], color=COLORS["blue"])]
    span = [float(x.min()), float(x.max())]
    traces += [Trace(w["finite_var"], span, [2, 2], color=COLORS["grey"], dash="dash", width=1),
               Trace(w["finite_mean"], span, [1, 1], color=COLORS["grey"], dash="dot", width=1)]
    panel = Panel(traces, xlabel=p["degree"], ylabel=w["index"], logy=True)
    return figure_dict([panel], height=420)


def fits_figure(view, degree: int, lang: str) -> dict:
    """The first fits of ``degree``, one per slider step, over h̄ ± 2 standard deviations and ȳ (Figs. 7-11)."""
    from ...article.report.interactive import COLORS, Panel, Trace, figure, slider_figure, to_dict
    from ...plots.helpers import data_ylim

    p, w, b = _words(lang)
    x = view.x
    truth = Trace(p["truth"], x, view.ybar, color=COLORS["grey"], dash="dash", width=1)
    hits = np.flatnonzero(view.degrees == degree)
    if hits.size == 0:
        fig = figure([Panel([truth], xlabel=p["x"], ylabel=p["y"])], height=420)
        fig.update_layout(title=dict(text=words(lang)["not_shown"].format(degree=degree), x=0.01))
        return to_dict(fig)
    i = int(hits[0])
    hbar, sd = view.hbar[i], view.sd[i]
    k = view.first.shape[0]
    panel = Panel([
        Trace(p["spread"], x, (hbar - 2 * sd, hbar + 2 * sd), kind="band", color=COLORS["red"]),
        truth,
        Trace(p["mean_fit"], x, hbar, color="#8b0000", width=2.5),
        Trace(p["fit"], x, [view.first[j, i] for j in range(k)], moving=True, color=COLORS["blue"]),
    ], xlabel=p["x"], ylabel=p["y"], yrange=data_ylim(view.ybar, hbar),
        title=b["fig7_panel"].format(degree=degree))
    notes = [b["fig7_note"].format(k=j + 1, n_fits=k) for j in range(k)]
    return to_dict(slider_figure([panel], steps=[str(j + 1) for j in range(k)], prefix=p["dataset"] + " ",
                                 notes=notes))
