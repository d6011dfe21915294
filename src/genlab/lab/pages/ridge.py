"""§4.2 in the lab: ridge α live. A slider over α moves the ridge fit of a high-degree polynomial and the
markers on its cross-validation error and on its bias², variance and test error over repeated datasets.

The numbers are the library's: the fit is :func:`genlab.analysis.fitting.fit_polynomial` with
``solver="ridge"`` (as ``genlab fit --solver ridge --alpha``), the cross-validation curve
:func:`genlab.analysis.regularize.ridge_cv` (Fig. 14) and the decomposition against α
:func:`genlab.analysis.biasvar.decompose_polynomial` with ``alphas`` (as ``genlab biasvar --alphas``). The
curves are computed once per dataset setting on :data:`GRID` and cached; a move of the slider refits one
polynomial (and, off the grid, adds that α's point).
"""

from __future__ import annotations

import numpy as np

from ..common import (SOURCE_DEFAULTS, Cache, Outcome, budget, checked, fmt, guarded, paragraphs, pm, refused, shell,
                      source_args)
from ..fields import Field, to_query
from ..words import words

KEY = "ridge"
#: The α of the curves: ridge_cv's default grid, 10^-12 to 10^2 in half decades.
GRID = np.logspace(-12, 2, 29)
FIELDS = (
    Field("target", "text", "2*x**2 + 1"),
    Field("noise", "float", 0.1, lo=0.0),
    Field("x", "text", "uniform(0, 1)", max_chars=200),
    Field("n", "int", 30, lo=2, hi=1_000, cap="n"),
    Field("n_val", "int", 1_000, lo=1, hi=10_000, cap="n"),
    Field("degree", "int", 30, lo=0, hi=60, cap="degree"),
    Field("folds", "int", 5, lo=2, hi=20),
    Field("log_alpha", "float", -3.0, lo=-12.0, hi=2.0, control="slider", step=0.5),
    Field("datasets", "int", 1_000, lo=2, hi=5_000, cap="datasets"),
    Field("seed", "int", 0, lo=0, cap="seed"),
)
GRAPHS = ("fit", "alpha")
CACHE = Cache(24)


def alpha_of(v: dict) -> float:
    return float(10.0 ** v["log_alpha"])


def commands(v: dict, lang: str = "en") -> str:
    src, seed = source_args(v), ["--seed", v["seed"]]
    lines = [shell("fit", "--degree", v["degree"], "--solver", "ridge", "--alpha", alpha_of(v), "--n", v["n"],
                   "--n-val", v["n_val"], *src, *seed),
             shell("biasvar", "--degrees", v["degree"], "--alphas", ",".join(repr(float(a)) for a in GRID),
                   "--datasets", v["datasets"], "--n", v["n"], *src, *seed)]
    article = all(v[k] == SOURCE_DEFAULTS[k] for k in SOURCE_DEFAULTS) and v["n"] == 30
    lines.append(shell("regularize", "--method", "ridge-cv", "--degree", v["degree"], "--folds", v["folds"], *seed)
                 if article else words(lang)["no_command"])
    return "\n".join(lines)


def update(raw: dict, lang: str = "en") -> Outcome:
    v, errors, over = checked(FIELDS, raw, lang)
    if not errors.keys() & {"folds", "n"} and v["folds"] > v["n"]:
        errors["folds"] = words(lang)["folds_n"].format(folds=v["folds"], n=v["n"])
    if errors:
        return refused(errors, over, commands(v, lang) if not errors.keys() - over.keys() else None)
    return guarded(lambda: _compute(v, lang), lang)


def _data_key(v: dict) -> tuple:
    return (v["target"], v["noise"], v["x"], v["n"], v["degree"], v["seed"])


def _cv(v: dict, data, alphas=None):
    from ...analysis.regularize import ridge_cv

    key = ("cv", *_data_key(v), v["folds"], None if alphas is None else tuple(alphas))
    return CACHE.memo(key, lambda: ridge_cv(data, v["degree"], alphas=alphas, folds=v["folds"], source=v["source"],
                                            seed=v["seed"]))


def _bv(v: dict, alphas) -> dict:
    from ...analysis.biasvar import decompose_polynomial

    def run():
        r = decompose_polynomial(v["source"], [v["degree"]], alphas=alphas, n=v["n"], n_datasets=v["datasets"],
                                 seed=v["seed"])
        return {"alpha": np.asarray(r.values, dtype=float), "se_valid": np.asarray(r.se_valid),
                **{k: np.asarray(getattr(r, k), dtype=float) for k in ("bias2", "bias2_se", "variance",
                                                                        "variance_se", "error", "error_se")}}

    return CACHE.memo(("bv", *_data_key(v), v["datasets"], tuple(float(a) for a in alphas)), run)


def _at(curve: dict, alpha: float, fallback) -> dict:
    """The curve's values at ``alpha`` (a grid point), or ``fallback()``'s (computed at ``alpha`` alone)."""
    hit = np.flatnonzero(np.isclose(curve["alpha"], alpha, rtol=1e-12, atol=0))
    src, i = (curve, int(hit[0])) if hit.size else (fallback(), 0)
    return {k: (bool(val[i]) if k == "se_valid" else float(val[i])) for k, val in src.items()}


def _compute(v: dict, lang: str) -> Outcome:
    from ...analysis.fitting import fit_polynomial
    from ...core.limits import biasvar_seconds

    # one SVD per dataset serves every α: the estimate of one model per dataset
    budget(biasvar_seconds(n_datasets=v["datasets"], n=v["n"], n_params=v["degree"] + 1, n_models=1,
                           engine="solver") * 2.0, commands(v, lang), lang)
    source, alpha = v["source"], alpha_of(v)
    data = source.draw(v["n"], v["seed"], "data")
    validation = source.draw(v["n_val"], v["seed"], "validation")
    rc = _cv(v, data)
    fit = fit_polynomial(data, v["degree"], basis="legendre", solver="ridge", alpha=alpha, validation=validation,
                         source=source, quiet=True)
    s = rc.summary()
    cv = {"alpha": rc.alphas, "cv_mse": s["cv_mse"].to_numpy(), "cv_se": s["cv_mse_se"].to_numpy()}
    cv_at = _at(cv, alpha, lambda: {k: np.atleast_1d(val) for k, val in zip(
        ("cv_mse", "cv_se"), _cv(v, data, [alpha]).summary()[["cv_mse", "cv_mse_se"]].to_numpy()[0])})
    bv = _bv(v, GRID)
    bv_at = _at(bv, alpha, lambda: _bv(v, [alpha]))
    w = words(lang)
    raw = {"alpha": alpha, "cv_alpha": rc.best_alpha, "cv_mse": cv_at["cv_mse"], "train_rmse": fit.train_rmse,
           "val_rmse": fit.val_rmse, "bias2": bv_at["bias2"], "variance": bv_at["variance"], "error": bv_at["error"],
           "error_se": bv_at["error_se"] if bv_at["se_valid"] else None, "grid": GRID.tolist(),
           "cv_curve": cv["cv_mse"].tolist(), "error_curve": bv["error"].tolist()}
    n = w["n"]
    numbers = [(n["fit_alpha"], fmt(alpha, 3)), (n["cv_alpha"], fmt(rc.best_alpha, 3)),
               (n["cv_mse"], pm(cv_at["cv_mse"], cv_at["cv_se"])), (n["train_rmse"], fmt(fit.train_rmse)),
               (n["val_rmse"], fmt(fit.val_rmse))] + [
        (f"{n[k]} ({w['fields']['datasets']}: {v['datasets']:,})", pm(bv_at[k], bv_at[f"{k}_se"], bv_at["se_valid"], w))
        for k in ("bias2", "variance", "error")]
    from .ridge_figures import alpha_figure, fit_figure

    return Outcome(figures=[fit_figure(fit, rc, lang), alpha_figure(cv, rc.best_alpha, bv, alpha, cv_at, bv_at, lang)],
                   numbers=numbers, raw=raw, command=commands(v, lang), query=to_query(FIELDS, v))


def layout_text(lang: str) -> list[str]:
    return paragraphs(lang, "regularization", ("intro",))[:1] + paragraphs(lang, "biasvar", ("ridge_title",))
