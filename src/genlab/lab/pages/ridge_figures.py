"""The §4.2 page's figures, built with the report's plotly builders: the ridge fit at the slider's α beside the
fit without penalty (as Fig. 14's slider); against α the cross-validation error and bias², variance and
test error, each with a marker at the slider's α, the optimal α, its one-s.e. range and the cross-validated α
marked; and the regularizers side by side (their error against strength, and bias², variance and error at
each one's best)."""

from __future__ import annotations

import numpy as np

from ..words import words


def fit_figure(fit, rc, lang: str) -> dict:
    from ...article.report.i18n import load_text
    from ...article.report.interactive import COLORS, Panel, Trace, figure_dict
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
    return figure_dict([panel], height=420)


def alpha_figure(cv: dict, cv_alpha: float, bv: dict, alpha: float, cv_at: dict, bv_at: dict, lang: str,
                 opt: dict | None = None) -> dict:
    from ...article.report.i18n import load_text
    from ...article.report.interactive import COLORS, Panel, Trace, figure_dict

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
    if opt is not None:
        right.traces += _optimum_marks(opt, bv, cv_alpha, lang)
    return figure_dict([left, right], height=420)


def _optimum_marks(opt: dict, bv: dict, cv_alpha: float, lang: str) -> list:
    """The optimal α (a line and its point on the error curve), the α within one s.e. of its error (a band) and
    the cross-validated α (a dotted line), over the span of the curves on the right panel."""
    from ...article.report.interactive import COLORS, Trace

    w = words(lang)["plot"]
    values = np.concatenate([np.asarray(bv[k], dtype=float) for k in ("bias2", "variance", "error")])
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return []
    lo, hi = float(values.min()), float(values.max())
    marks = []
    if opt.get("range") is not None:
        a, b = opt["range"]
        marks.append(Trace(w["within_se"], [a, b], ([lo, lo], [hi, hi]), kind="band", color=COLORS["green"]))
    marks += [Trace(w["optimal"], [opt["alpha"]] * 2, [lo, hi], color=COLORS["green"], dash="dash", width=1.5),
              Trace(w["optimal"], [opt["alpha"]], [opt["error"]], kind="points", color=COLORS["green"], size=11,
                    symbol="diamond", legend=False),
              Trace(load_plot(lang)["chosen"], [cv_alpha] * 2, [lo, hi], color=COLORS["grey"], dash="dot", width=1,
                    legend=False)]
    return marks


def load_plot(lang: str) -> dict:
    from ...article.report.i18n import load_text

    return load_text(lang)["report"]["plot"]


def regularizers_figure(side: dict | None, lang: str) -> dict:
    """Left: the measured test error against each regularizer's strength (ridge's α and lasso's are on their own
    scales), the best of each marked. Right: bias², variance and test error of each at its best (bars, ± 1 s.e.
    where it is valid), on the same datasets."""
    import plotly.graph_objects as go

    from ...article.report.interactive import COLORS, Panel, Trace, figure, to_dict

    w, p = words(lang), load_plot(lang)
    if side is None:
        fig = figure([Panel([], xlabel="", ylabel="")], height=200)
        fig.add_annotation(text=w["plot"]["side_off"], showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return to_dict(fig)
    names = w["regularizers"]
    rows = {r["method"]: r for r in side["methods"]}
    positive = lambda v: np.where(np.asarray(v, dtype=float) > 0, np.asarray(v, dtype=float), np.nan)  # noqa: E731
    colors = {"ridge": COLORS["blue"], "lasso": COLORS["orange"], "none": COLORS["grey"]}
    left = Panel([], xlabel=w["plot"]["strength"], ylabel=p["test_error"], logx=True, logy=True)
    for method, curve in (("ridge", side["ridge_curve"]), ("lasso", side["lasso_curve"])):
        left.traces += [Trace(names[method], curve["alpha"], positive(curve["error"]), color=colors[method],
                              group=method),
                        Trace(names[method], [rows[method]["alpha"]], positive([rows[method]["error"]]), kind="points",
                              color=colors[method], size=12, symbol="diamond", legend=False, group=method)]
    fig = figure([left, Panel([], ylabel=words(lang)["squared_error"], logy=True)], height=420)
    shown = [m for m in ("ridge", "lasso", "none") if m in rows and np.isfinite(rows[m]["error"])
             and (m != "none" or rows[m]["error"] < 1e3 * max(rows["ridge"]["error"], rows["lasso"]["error"]))]
    labels = [names[m] for m in shown]
    for key, color in (("bias2", COLORS["blue"]), ("variance", COLORS["orange"]), ("error", COLORS["red"])):
        se = [rows[m].get(f"{key}_se") for m in shown]
        fig.add_trace(go.Bar(name=p[{"error": "test_error"}.get(key, key)], x=labels,
                             y=[rows[m][key] for m in shown], marker_color=color,
                             error_y=dict(type="data", array=[s if s is not None else 0 for s in se],
                                          visible=any(s is not None for s in se))), row=1, col=2)
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category", row=1, col=2)
    return to_dict(fig)
