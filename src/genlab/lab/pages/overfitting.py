"""§2 in the lab: one polynomial fitted to one dataset (training and validation RMSE), and the capacity curve
over repeated datasets, for any target, noise, n, x distribution, degree, basis, solver and α.

The numbers are the library's: the fit is :func:`genlab.analysis.fitting.fit_polynomial` on
``source.draw(n, seed, "data")`` with ``source.draw(n_val, seed, "validation")`` beside it, as
``genlab fit --n-val`` draws them; the curve is :func:`genlab.analysis.curves.capacity_curve`, as
``genlab curve capacity``. The curve is kept in a small cache, so moving the degree refits one polynomial.
"""

from __future__ import annotations

import numpy as np

from ..common import (SOURCE_FIELDS, Cache, Outcome, budget, checked, fmt, guarded, paragraphs, pm, refused, shell,
                      source_args)
from ..fields import Field, to_query
from ..words import words

KEY = "overfitting"
BASES = ("legendre", "chebyshev", "monomial")
SOLVERS = ("lstsq", "minnorm", "ridge", "lasso")
FIELDS = (
    *SOURCE_FIELDS,
    Field("n", "int", 20, lo=1, hi=10_000, cap="n"),
    Field("n_val", "int", 10, lo=1, hi=10_000, cap="n"),
    Field("degree", "int", 2, lo=0, hi=60, cap="degree", control="slider", step=1),
    Field("max_degree", "int", 30, lo=0, hi=60, cap="degree"),
    Field("basis", "choice", "legendre", choices=BASES, control="dropdown"),
    Field("solver", "choice", "lstsq", choices=SOLVERS, control="dropdown"),
    Field("alpha", "float", 0.0, lo=0.0),
    Field("repeats", "int", 200, lo=1, hi=2_000, cap="repeats"),
    Field("seed", "int", 0, lo=0, cap="seed"),
)
GRAPHS = ("fit", "curve")
CACHE = Cache(16)
#: lasso fits by coordinate descent: slower than the estimates' least squares by about this factor
LASSO_SLOWER = 20.0


def commands(v: dict) -> str:
    """The two shell commands of the view: the fit, and the capacity curve."""
    common = ["--basis", v["basis"], "--solver", v["solver"], *(["--alpha", v["alpha"]] if v["alpha"] else []),
              *source_args(v), "--seed", v["seed"]]
    fit = shell("fit", "--degree", v["degree"], "--n", v["n"], "--n-val", v["n_val"], *common)
    curve = shell("curve", "capacity", "--degrees", f"0-{v['max_degree']}", "--n", v["n"], "--n-val", v["n_val"],
                  "--repeats", v["repeats"], *common)
    return f"{fit}\n{curve}"


def _cross_checks(v: dict, errors: dict, lang: str) -> None:
    if "alpha" not in errors and "solver" not in errors:
        if v["solver"] in ("lstsq", "minnorm") and v["alpha"] != 0:
            errors["alpha"] = words(lang)["alpha_unused"]
        elif v["solver"] == "lasso" and v["alpha"] == 0:
            errors["alpha"] = words(lang)["lasso_alpha"]


def update(raw: dict, lang: str = "en") -> Outcome:
    """The page after an interaction: ``raw`` holds the fields' values as the browser sent them."""
    v, errors, over = checked(FIELDS, raw, lang)
    _cross_checks(v, errors, lang)
    if errors:
        return refused(errors, over, commands(v) if not errors.keys() - over.keys() else None)
    return guarded(lambda: _compute(v, lang), lang)


def _curve(v: dict):
    from ...analysis.curves import capacity_curve

    key = ("curve", v["target"], v["noise"], v["x"], v["n"], v["n_val"], v["max_degree"], v["basis"], v["solver"],
           v["alpha"], v["repeats"], v["seed"])
    return CACHE.memo(key, lambda: capacity_curve(
        v["source"], f"0-{v['max_degree']}", n=v["n"], n_val=v["n_val"], repeats=v["repeats"], basis=v["basis"],
        solver=v["solver"], alpha=v["alpha"], seed=v["seed"]))


def fit_of(v: dict):
    """The view's fit, as ``genlab fit`` makes it."""
    from ...analysis.fitting import fit_polynomial

    source = v["source"]
    data = source.draw(v["n"], v["seed"], "data")
    validation = source.draw(v["n_val"], v["seed"], "validation")
    return fit_polynomial(data, v["degree"], basis=v["basis"], solver=v["solver"], alpha=v["alpha"],
                          validation=validation, source=source, quiet=True)


def _compute(v: dict, lang: str) -> Outcome:
    from ...core.limits import capacity_seconds

    seconds = capacity_seconds(n=v["n"] + v["n_val"], degree=v["max_degree"], repeats=v["repeats"],
                               n_degrees=v["max_degree"] + 1)
    budget(seconds * (LASSO_SLOWER if v["solver"] == "lasso" else 1.0), commands(v), lang)
    fit = fit_of(v)
    curve = _curve(v)
    w = words(lang)
    s = curve.summary().set_index("degree")
    d = v["degree"]
    raw = {"train_rmse": fit.train_rmse, "val_rmse": fit.val_rmse, "n_params": fit.n_params,
           "condition_number": float(fit.diagnostics["condition_number"]), "best_degree": curve.best_degree,
           "degrees": curve.degrees.tolist(), "train_median": s["train_median"].tolist(),
           "val_median": s["val_median"].tolist(), "val_mean": s["val_mean"].tolist()}
    numbers = [(w["n"]["train_rmse"], fmt(fit.train_rmse)), (w["n"]["val_rmse"], fmt(fit.val_rmse)),
               (w["n"]["n_params"], str(fit.n_params)),
               (w["n"]["condition_number"], fmt(fit.diagnostics["condition_number"], 3)),
               (w["n"]["best_degree"], str(curve.best_degree))]
    if d in s.index:
        numbers += [(w["n"]["val_median"], fmt(s.loc[d, "val_median"])),
                    (w["n"]["val_mean"], pm(s.loc[d, "val_mean"], s.loc[d, "val_se"]))]
    else:
        numbers.append((w["n"]["val_median"], w["not_shown"].format(degree=d)))
    return Outcome(figures=[fit_figure(fit, v, lang), curve_figure(curve, d, lang)], numbers=numbers, raw=raw,
                   command=commands(v), query=to_query(FIELDS, v))


def fit_figure(fit, v: dict, lang: str) -> dict:
    """The data, ȳ and the fitted polynomial (the report's builders: :mod:`genlab.article.report.interactive`)."""
    from ...article.report.i18n import load_text
    from ...article.report.interactive import COLORS, Panel, Trace, figure_dict
    from ...plots.helpers import data_ylim

    p = load_text(lang)["report"]["plot"]
    source, train, val = fit.source, fit.train, fit.validation
    lo, hi = source.x_dist.support or (min(train.x.min(), val.x.min()), max(train.x.max(), val.x.max()))
    grid = np.linspace(lo, hi, 400)
    with np.errstate(all="ignore"):
        pred = fit.predict(grid)
    panel = Panel([
        Trace(p["truth"], grid, source.mean(grid), color=COLORS["grey"], dash="dash", width=1),
        Trace(p["train_points"], train.x[:2000], train.y[:2000], kind="points", color=COLORS["blue"], size=7),
        Trace(p["val_points"], val.x[:2000], val.y[:2000], kind="points", color=COLORS["green"], size=7,
              symbol="x"),
        Trace(f"{p['fit']}: {words(lang)['fields']['degree']} {v['degree']}", grid, pred, color=COLORS["red"],
              width=2.5),
    ], xlabel=p["x"], ylabel=p["y"], yrange=data_ylim(train.y, val.y))
    return figure_dict([panel], height=420)


def curve_figure(curve, degree: int, lang: str) -> dict:
    """Median training and validation RMSE against degree with interquartile bands and means (log scale),
    the selected degree marked."""
    from ...article.report.i18n import load_text
    from ...article.report.interactive import COLORS, Panel, Trace, figure_dict
    from ...core.stats import summarize

    p, w = load_text(lang)["report"]["plot"], words(lang)["plot"]
    x = curve.degrees
    traces = []
    for name, arr, color in ((p["training"], curve.train_rmse, COLORS["blue"]),
                             (p["validation"], curve.val_rmse, COLORS["orange"])):
        s = summarize(arr)
        traces += [Trace(f"{name}, {w['band']}", x, (s["q25"], s["q75"]), kind="band", color=color, group=name,
                         legend=False),
                   Trace(f"{name} ({w['median']})", x, s["median"], color=color, group=name),
                   Trace(f"{name} ({w['mean']})", x, s["mean"], color=color, dash="dash", width=1, group=name)]
        if degree in x:
            i = int(np.flatnonzero(x == degree)[0])
            traces.append(Trace(w["selected"], [degree], [s["median"][i]], kind="points", color=color, size=12,
                                legend=False))
    med = np.median(curve.val_rmse, axis=0)
    ok = np.isfinite(med) & (med > 0)
    ref = float(med[ok].min()) if ok.any() else 1.0
    top = float(np.nanmax(np.where(np.isfinite(curve.val_rmse), curve.val_rmse, np.nan), initial=ref))
    panel = Panel(traces, xlabel=p["degree"], ylabel=p["rmse"], logy=True,
                  yrange=(1e-2 * ref, min(max(top, 10 * ref), 1e5 * ref)))
    return figure_dict([panel], height=420)


def layout_text(lang: str) -> list[str]:
    """The report's words beside the figures: the section's paragraphs and Fig. 5's title and hint."""
    return paragraphs(lang, "overfitting", ("intro",)) + paragraphs(lang, "overfitting", ("fig5_title",))
