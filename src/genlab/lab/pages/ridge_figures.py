"""The §4.2 page's figures, built with the report's plotly builders: the ridge fit at the slider's α beside the
fit without penalty (as Fig. 14's slider), and against α the cross-validation error and bias², variance and
test error, each with a marker at the slider's α."""

from __future__ import annotations

import numpy as np

from ..words import words


def fit_figure(fit, rc, lang: str) -> dict:
    from ...article.report.i18n import load_text
    from ...article.report.interactive import COLORS, Panel, Trace, figure, to_dict
    from ...plots.helpers import data_ylim

    p = load_text(lang)["report"]["plot"]
    lo, hi = rc.domain
    grid = np.linspace(lo, hi, 400)
    data = fit.train
    with np.errstate(all="ignore"):
        free, pred = rc.predict(grid, rc.coef_unregularized), fit.predict(grid)
    degree = words(lang)["fields"]["degree"]
    panel = Panel([
        Trace(p["truth"], grid, fit.source.mean(grid), color=COLORS["grey"], dash="dash", width=1),
        Trace(f"{degree} {rc.degree}, α = 0", grid, free, color=COLORS["grey"], width=0.8, opacity=0.6),
        Trace(p["train_points"], data.x[:2000], data.y[:2000], kind="points", color=COLORS["blue"], size=7),
        Trace(f"{degree} {rc.degree}, α = {fit.params['alpha']:.2g}", grid, pred, color=COLORS["red"], width=2.5),
    ], xlabel=p["x"], ylabel=p["y"], yrange=data_ylim(data.y))
    return to_dict(figure([panel], height=420))


def alpha_figure(cv: dict, cv_alpha: float, bv: dict, alpha: float, cv_at: dict, bv_at: dict, lang: str) -> dict:
    from ...article.report.i18n import load_text
    from ...article.report.interactive import COLORS, Panel, Trace, figure, to_dict

    p, w = load_text(lang)["report"]["plot"], words(lang)["plot"]
    a, m, se = cv["alpha"], cv["cv_mse"], cv["cv_se"]
    positive = lambda v: np.where(np.asarray(v) > 0, v, np.nan)  # noqa: E731 - log axes draw no zero
    left = Panel([
        Trace(p["cv_mse"], a, (np.maximum(m - se, m * 1e-3), m + se), kind="band", color=COLORS["orange"],
              legend=False, group="cv"),
        Trace(p["cv_mse"], a, m, color=COLORS["orange"], group="cv"),
        Trace(p["chosen"], [cv_alpha] * 2, [float(np.min(m)) * 0.5, float(np.max(m)) * 2], color=COLORS["grey"],
              dash="dot", width=1),
        Trace(w["current"], [alpha], [cv_at["cv_mse"]], kind="points", color=COLORS["orange"], size=12,
              legend=False),
    ], xlabel=p["alpha"], ylabel="", logx=True, logy=True)
    curves = [(p["bias2"], "bias2", COLORS["blue"]), (p["variance"], "variance", COLORS["orange"]),
              (p["test_error"], "error", COLORS["red"])]
    right = Panel([Trace(name, bv["alpha"], positive(bv[k]), color=c, group=name) for name, k, c in curves]
                  + [Trace(name, [alpha], positive([bv_at[k]]), kind="points", color=c, size=12, legend=False,
                           group=name) for name, k, c in curves],
                  xlabel=p["alpha"], ylabel="", logx=True, logy=True)
    return to_dict(figure([left, right], height=420))
