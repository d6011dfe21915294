"""§4.2 in the lab: ridge α live, the optimal ridge, and the regularizers side by side.

A slider over α moves the ridge fit of a high-degree polynomial and the markers on its cross-validation error
and on its bias², variance and test error over repeated datasets. Beside it, the optimal ridge: the α with the
lowest expected test error over the repeated datasets (the grid's minimum, refined on a finer grid of log α
around it), with the error's s.e. there and the range of α whose error is within one s.e., next to the α that
cross-validation picks on the one dataset. Then ridge, lasso and no penalty side by side, each at its own
best strength, on the same datasets.

The numbers are the library's: the fit is :func:`genlab.analysis.fitting.fit_polynomial` with
``solver="ridge"`` (as ``genlab fit --solver ridge --alpha``), the cross-validation curve
:func:`genlab.analysis.regularize.ridge_cv` (Fig. 14) and the decompositions
:func:`genlab.analysis.biasvar.decompose_polynomial` with ``alphas`` (ridge: ``genlab biasvar --alphas``) or
``solver`` (lasso, min-norm: ``genlab biasvar --solver lasso --alpha``). Every piece is computed once per
dataset setting and cached; a move of the slider refits one polynomial (and, off the grid, adds that α's
point). Early stopping and dropout are the library's only on a network (``genlab regularize --method
side-by-side``, minutes of training): the side-by-side table gives that command.
"""

from __future__ import annotations

import math

import numpy as np

from ..common import (REQUEST_SECONDS, SOURCE_DEFAULTS, SOURCE_FIELDS, Cache, Outcome, budget, checked, fmt,
                      guarded, paragraphs, pm, refused, shell, source_args)
from ..fields import Field, to_query
from ..words import words

KEY = "ridge"
#: The α of the curves: ridge_cv's default grid, 10^-12 to 10^2 in half decades.
GRID = np.logspace(-12, 2, 29)
#: Points of the finer grid of log α around the grid's minimum (one decade, 0.05 decade apart; the ends are the
#: grid's own points, so the interior ones are computed), each α to 4 significant digits (short commands).
FINE = 21
#: The lasso's strengths (its α is per point, scikit-learn's: not the ridge's scale): 10^-4 to 1 in half decades,
#: then the quarter decades beside the best.
LASSO_GRID = np.array([float(f"{a:.4g}") for a in np.logspace(-4, 0, 9)])
FIELDS = (
    *SOURCE_FIELDS,
    Field("n", "int", 30, lo=2, hi=1_000, cap="n"),
    Field("n_val", "int", 1_000, lo=1, hi=10_000, cap="n"),
    Field("degree", "int", 30, lo=0, hi=60, cap="degree"),
    Field("folds", "int", 5, lo=2, hi=20),
    Field("log_alpha", "float", -3.0, lo=-12.0, hi=2.0, control="slider", step=0.5),
    Field("datasets", "int", 1_000, lo=2, hi=5_000, cap="datasets"),
    Field("compare_datasets", "int", 100, lo=0, hi=2_000, cap="datasets"),
    Field("seed", "int", 0, lo=0, cap="seed"),
)
GRAPHS = ("fit", "alpha", "regularizers")
CACHE = Cache(24)


def alpha_of(v: dict) -> float:
    return float(10.0 ** v["log_alpha"])


def _floats(values) -> str:
    return ",".join(repr(float(a)) for a in values)


def _bv_command(v: dict, datasets: int, *how) -> str:
    return shell("biasvar", "--degrees", v["degree"], *how, "--datasets", datasets, "--n", v["n"], *source_args(v),
                 "--seed", v["seed"])


def commands(v: dict, lang: str = "en") -> str:
    src, seed = source_args(v), ["--seed", v["seed"]]
    lines = [shell("fit", "--degree", v["degree"], "--solver", "ridge", "--alpha", alpha_of(v), "--n", v["n"],
                   "--n-val", v["n_val"], *src, *seed),
             _bv_command(v, v["datasets"], "--alphas", _floats(GRID))]
    article = all(v[k] == SOURCE_DEFAULTS[k] for k in SOURCE_DEFAULTS) and v["n"] == 30
    lines.append(shell("regularize", "--method", "ridge-cv", "--degree", v["degree"], "--folds", v["folds"], *seed)
                 if article else words(lang)["no_command"])
    return "\n".join(lines)


def update(raw: dict, lang: str = "en") -> Outcome:
    v, errors, over = checked(FIELDS, raw, lang)
    if not errors.keys() & {"folds", "n"} and v["folds"] > v["n"]:
        errors["folds"] = words(lang)["folds_n"].format(folds=v["folds"], n=v["n"])
    if not errors and v["compare_datasets"]:
        seconds = compare_seconds(v)
        if seconds > REQUEST_SECONDS:
            errors["compare_datasets"] = words(lang)["too_slow"].format(
                seconds=seconds, limit=REQUEST_SECONDS, command="; ".join(side_commands(v, None)))
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


def _terms(r) -> dict:
    return {"alpha": np.asarray(r.values, dtype=float), "se_valid": np.asarray(r.se_valid),
            **{k: np.asarray(getattr(r, k), dtype=float) for k in ("bias2", "bias2_se", "variance", "variance_se",
                                                                    "error", "error_se")}}


def _bv(v: dict, alphas, datasets: int | None = None) -> dict:
    """The decomposition of ridge at ``alphas`` (one call: one SVD per dataset serves them all), cached."""
    from ...analysis.biasvar import decompose_polynomial

    datasets = v["datasets"] if datasets is None else datasets
    return CACHE.memo(("bv", *_data_key(v), datasets, tuple(float(a) for a in alphas)), lambda: _terms(
        decompose_polynomial(v["source"], [v["degree"]], alphas=alphas, n=v["n"], n_datasets=datasets,
                             seed=v["seed"])))


def _solver(v: dict, solver: str | None, alpha: float, datasets: int) -> dict:
    """The decomposition of one fit per dataset with ``solver`` (None: exact least squares), cached."""
    from ...analysis.biasvar import decompose_polynomial

    def run():
        r = decompose_polynomial(v["source"], [v["degree"]], solver=solver, alpha=alpha, n=v["n"],
                                 n_datasets=datasets, seed=v["seed"])
        return dict(_terms(r), alpha=np.array([alpha]))

    return CACHE.memo(("solver", *_data_key(v), datasets, solver, float(alpha)), run)


def _at(curve: dict, alpha: float, fallback) -> dict:
    """The curve's values at ``alpha`` (a grid point), or ``fallback()``'s (computed at ``alpha`` alone)."""
    hit = np.flatnonzero(np.isclose(curve["alpha"], alpha, rtol=1e-12, atol=0))
    src, i = (curve, int(hit[0])) if hit.size else (fallback(), 0)
    return {k: (bool(val[i]) if k == "se_valid" else float(val[i])) for k, val in src.items()}


# -- the optimal ridge: the lowest expected test error, refined, with its uncertainty ----------------------------

def fine_grid(i: int) -> list[float]:
    """The finer grid of α around :data:`GRID`'s point ``i``: the interior points of FINE on log α between
    its neighbours (one side only at the grid's ends), each to 4 significant digits."""
    lo, hi = math.log10(GRID[max(i - 1, 0)]), math.log10(GRID[min(i + 1, GRID.size - 1)])
    return sorted({float(f"{10.0 ** e:.4g}") for e in np.linspace(lo, hi, FINE)[1:-1]})


def within_se(alpha, error, best: int, threshold: float) -> tuple[float, float, bool, bool]:
    """The range of α around ``alpha[best]`` whose ``error`` stays at most ``threshold``: walked outwards from
    the best point over the (sorted) α, each end where the curve crosses the threshold (linear in log α
    between the last point within and the first beyond), or the curve's end, then marked open."""
    la = np.log10(alpha)

    def end(step: int) -> tuple[float, bool]:
        j = best
        while 0 <= j + step < len(alpha) and error[j + step] <= threshold:
            j += step
        k = j + step
        if not 0 <= k < len(alpha):
            return float(alpha[j]), True
        if not math.isfinite(error[k]):
            return float(alpha[j]), False
        t = (threshold - error[j]) / (error[k] - error[j])
        return float(10.0 ** (la[j] + t * (la[k] - la[j]))), False

    (lo, lo_open), (hi, hi_open) = end(-1), end(1)
    return lo, hi, lo_open, hi_open


def optimum(v: dict, datasets: int) -> dict:
    """The optimal ridge over ``datasets`` datasets: the α of the lowest measured test error on :data:`GRID` and
    its :func:`fine_grid`, the decomposition there (computed at that α alone, as its command does), and the
    range of α within one s.e. of its error. Cached with the curves."""
    coarse = _bv(v, GRID, datasets)
    err = np.where(np.isfinite(coarse["error"]), coarse["error"], np.inf)
    i = int(np.argmin(err))
    fine_alphas = fine_grid(i)
    fine = _bv(v, fine_alphas, datasets)
    alpha = np.concatenate([coarse["alpha"], fine["alpha"]])
    error = np.concatenate([coarse["error"], fine["error"]])
    order = np.argsort(alpha, kind="stable")
    alpha, error = alpha[order], error[order]
    finite = np.where(np.isfinite(error), error, np.inf)
    best = int(np.argmin(finite))
    a_star = float(alpha[best])
    at = _at(_bv(v, [a_star], datasets), a_star, None)
    valid = at["se_valid"] and math.isfinite(at["error_se"])
    lo = hi = None
    lo_open = hi_open = False
    if valid:
        lo, hi, lo_open, hi_open = within_se(alpha, finite, best, at["error"] + at["error_se"])
    return {"alpha": a_star, "bias2": at["bias2"], "variance": at["variance"], "error": at["error"],
            "error_se": at["error_se"] if valid else None, "range": None if lo is None else [lo, hi],
            "range_open": [lo_open, hi_open], "grid_alpha": float(GRID[i]), "grid_error": float(coarse["error"][i]),
            "fine_alphas": fine_alphas, "fine_error": fine["error"].tolist(), "datasets": datasets,
            "curve_alpha": alpha.tolist(), "curve_error": error.tolist(),
            "command": _bv_command(v, datasets, "--alphas", _floats([a_star])),
            "fine_command": _bv_command(v, datasets, "--alphas", _floats(fine_alphas))}


# -- the regularizers side by side ---------------------------------------------------------------------------------

def compare_seconds(v: dict) -> float:
    """Seconds of the side-by-side, estimated: lasso by coordinate descent (about 1.2 ms a fit at n = 30, degree
    30, longer as n·(degree + 1) grows and, at small α, by about 1 + 10⁻³/α, as measured), ridge's curves and
    the no-penalty fit as the library estimates a solver."""
    from ...core.limits import biasvar_seconds

    N, n, P = v["compare_datasets"], v["n"], v["degree"] + 1
    if not N:
        return 0.0
    factors = [1 + 1e-3 / a for a in LASSO_GRID]
    lasso = N * 1.2e-3 * max(1.0, n * P / 930) * (sum(factors) + 2 * max(factors[:3]))
    rest = biasvar_seconds(n_datasets=N, n=n, n_params=P, n_models=1, engine="solver") * 4.0
    return lasso + rest


def _none_how(v: dict) -> tuple:
    """No penalty: exact least squares up to degree n − 1, past it the minimum-norm solution."""
    return (None, ()) if v["degree"] <= v["n"] - 1 else ("minnorm", ("--solver", "minnorm"))


def side_commands(v: dict, chosen: dict | None) -> list[str]:
    """The shell commands of the side-by-side: no penalty, ridge and lasso at their strengths (``chosen``), or, before
    they are known, the searches (ridge's grid, one lasso per α)."""
    N = v["compare_datasets"]
    none = _bv_command(v, N, *_none_how(v)[1])
    if chosen is None:
        return [none, _bv_command(v, N, "--alphas", _floats(GRID)),
                _bv_command(v, N, "--solver", "lasso", "--alpha", "A") + "   # A in " + _floats(LASSO_GRID)]
    return [none, _bv_command(v, N, "--alphas", _floats([chosen["ridge"]])),
            _bv_command(v, N, "--solver", "lasso", "--alpha", chosen["lasso"])]


def _lasso(v: dict, N: int) -> dict:
    """Lasso on :data:`LASSO_GRID`, then the quarter decades beside the best: each α one decomposition."""
    def err(a):
        e = _solver(v, "lasso", a, N)["error"][0]
        return e if math.isfinite(e) else math.inf

    tried = {float(a): err(a) for a in LASSO_GRID}
    best = min(tried, key=tried.get)
    for a in (best * 10 ** -0.25, best * 10 ** 0.25):
        a = float(f"{a:.4g}")
        if LASSO_GRID[0] <= a <= LASSO_GRID[-1]:
            tried[a] = err(a)
    alphas = sorted(tried)
    best = min(alphas, key=tried.get)
    return {"alpha": best, "alphas": alphas, "error": [float(_solver(v, "lasso", a, N)["error"][0]) for a in alphas]}


def side_by_side(v: dict) -> dict | None:
    """No penalty, ridge and lasso on the same ``compare_datasets`` datasets, each at the strength of its lowest
    measured test error; None when the side-by-side is left out (0 datasets)."""
    N = v["compare_datasets"]
    if not N:
        return None

    def run():
        ridge = optimum(v, N)
        lasso = _lasso(v, N)
        solver, _ = _none_how(v)
        cmds = side_commands(v, {"ridge": ridge["alpha"], "lasso": lasso["alpha"]})
        rows = []
        for method, strength, terms, cmd in (
                ("none", None, _solver(v, solver, 0.0, N), cmds[0]),
                ("ridge", ridge["alpha"], _bv(v, [ridge["alpha"]], N), cmds[1]),
                ("lasso", lasso["alpha"], _solver(v, "lasso", lasso["alpha"], N), cmds[2])):
            t = _at(terms, terms["alpha"][0], None)
            valid = t["se_valid"] and math.isfinite(t["error_se"])
            rows.append({"method": method, "alpha": strength, "bias2": t["bias2"], "variance": t["variance"],
                         "error": t["error"], "error_se": t["error_se"] if valid else None,
                         "bias2_se": t["bias2_se"] if valid else None,
                         "variance_se": t["variance_se"] if valid else None, "command": cmd})
        return {"datasets": N, "methods": rows,
                "ridge_curve": {"alpha": ridge["curve_alpha"], "error": ridge["curve_error"]},
                "lasso_curve": {"alpha": lasso["alphas"], "error": lasso["error"]},
                "ridge_range": ridge["range"], "mlp_command": shell("regularize", "--method", "side-by-side",
                                                                    "--quick")}

    return CACHE.memo(("side", *_data_key(v), N), run)


def _table(side: dict | None, lang: str) -> dict | None:
    if side is None:
        return None
    w = words(lang)
    c, names = w["table"], w["regularizers"]
    grids = {"ridge": GRID, "lasso": LASSO_GRID}
    rows = [[names[r["method"]],
             "—" if r["alpha"] is None else fmt(r["alpha"], 3) + _edge(r["alpha"], grids[r["method"]], w),
             fmt(r["bias2"]), fmt(r["variance"]), pm(r["error"], r["error_se"], r["error_se"] is not None, w),
             r["command"]]
            for r in side["methods"]]
    rows.append([names["mlp"], "—", "—", "—", "—", side["mlp_command"]])
    return {"columns": [c["regularizer"], c["strength"], c["bias2"], c["variance"],
                        c["error"] + f" ({side['datasets']:,} {w['fields']['datasets']})", c["command"]],
            "rows": rows}


# -- the page ---------------------------------------------------------------------------------------------------

def _compute(v: dict, lang: str) -> Outcome:
    from ...analysis.fitting import fit_polynomial
    from ...core.limits import biasvar_seconds

    # one SVD per dataset serves every α: the estimate of one model per dataset, for the grid, the finer grid,
    # the optimum and the cross-validated α's points
    budget(biasvar_seconds(n_datasets=v["datasets"], n=v["n"], n_params=v["degree"] + 1, n_models=1,
                           engine="solver") * 4.0 + compare_seconds(v), commands(v, lang), lang)
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
    opt = optimum(v, v["datasets"])
    at_cv = _at(bv, rc.best_alpha, lambda: _bv(v, [rc.best_alpha]))  # ridge_cv's grid is GRID: a grid point
    side = side_by_side(v)
    w = words(lang)
    raw = {"alpha": alpha, "cv_alpha": rc.best_alpha, "cv_mse": cv_at["cv_mse"], "train_rmse": fit.train_rmse,
           "val_rmse": fit.val_rmse, "bias2": bv_at["bias2"], "variance": bv_at["variance"], "error": bv_at["error"],
           "error_se": bv_at["error_se"] if bv_at["se_valid"] else None, "grid": GRID.tolist(),
           "cv_curve": cv["cv_mse"].tolist(), "error_curve": bv["error"].tolist(), "optimum": opt,
           "at_cv": {"alpha": rc.best_alpha, "bias2": at_cv["bias2"], "variance": at_cv["variance"],
                     "error": at_cv["error"], "error_se": at_cv["error_se"] if at_cv["se_valid"] else None,
                     "command": commands(v, lang).splitlines()[1]},
           "side_by_side": side}
    n = w["n"]
    datasets = f"{w['fields']['datasets']}: {v['datasets']:,}"
    numbers = [(n["fit_alpha"], fmt(alpha, 3)), (n["cv_alpha"], fmt(rc.best_alpha, 3)),
               (n["cv_mse"], pm(cv_at["cv_mse"], cv_at["cv_se"])), (n["train_rmse"], fmt(fit.train_rmse)),
               (n["val_rmse"], fmt(fit.val_rmse))] + [
        (f"{n[k]} ({datasets})", pm(bv_at[k], bv_at[f"{k}_se"], bv_at["se_valid"], w))
        for k in ("bias2", "variance", "error")] + [
        (n["opt_alpha"], fmt(opt["alpha"], 3) + _edge(opt["alpha"], GRID, w)),
        (n["opt_range"], alpha_range(opt, w)),
        (f"{n['opt_error']} ({datasets})", pm(opt["error"], opt["error_se"], opt["error_se"] is not None, w)),
        (f"{n['cv_error']} ({datasets})", pm(at_cv["error"], at_cv["error_se"], at_cv["se_valid"], w))]
    from .ridge_figures import alpha_figure, fit_figure, regularizers_figure

    return Outcome(figures=[fit_figure(fit, rc, lang),
                            alpha_figure(cv, rc.best_alpha, bv, alpha, cv_at, bv_at, lang, opt=opt),
                            # the side-by-side does not move with the slider: its figure is drawn once
                            CACHE.memo(("side-figure", *_data_key(v), v["compare_datasets"], lang),
                                       lambda: regularizers_figure(side, lang))],
                   numbers=numbers, table=_table(side, lang), raw=raw, command=commands(v, lang),
                   query=to_query(FIELDS, v))


def _edge(alpha: float, grid, w: dict) -> str:
    """`` (the grid's end)`` where a best strength is an end of the grid it was searched on (it may lie beyond)."""
    return f" ({w['n']['grid_end']})" if alpha <= grid[0] or alpha >= grid[-1] else ""


def alpha_range(opt: dict, w: dict) -> str:
    """The range of α within one s.e. of the optimum's error, as the page shows it."""
    if opt["range"] is None:
        return w["n"]["no_se"]
    (lo, hi), (lo_open, hi_open) = opt["range"], opt["range_open"]
    end = f" ({w['n']['grid_end']})"
    return f"{fmt(lo, 3)}{end if lo_open else ''} – {fmt(hi, 3)}{end if hi_open else ''}"


def layout_text(lang: str) -> list[str]:
    return (paragraphs(lang, "regularization", ("intro",))[:1] + paragraphs(lang, "biasvar", ("ridge_title",))
            + [words(lang)["ridge_note"]])
