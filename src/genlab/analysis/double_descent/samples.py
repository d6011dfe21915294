"""Sample-wise double descent of minimum-norm linear regression on a bundled dataset, and why
the peak: the test error beside the smallest non-zero singular value and the coefficient norm.

* :func:`linear_sample_wise` — the test error as the training set grows past the rank d;
* :func:`singular_value_analysis` — how the error follows 1/σ_min² and ‖β‖.

The jobs (:func:`linear_job`) also run the ablations of
:func:`~genlab.analysis.double_descent.schaeffer_ablations`, which share their shuffles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.checks import check_int as _check_int
from ...core.errors import GenlabError
from ...core.results import Result
from ...core.seeding import check_seed
from ...linalg.minnorm import pinv_mask, svd_solve
from ...linalg.solvers import minnorm
from ...plots.helpers import axes
from ._common import check_data, check_sizes, curve_arrays, dataset, run_sweep, sq_err, targets
from .results import KNOBS, DoubleDescentCurve

__all__ = ["ABLATIONS", "SingularValueAnalysis", "linear_job", "linear_sample_wise", "singular_value_analysis"]

#: The baseline and Schaeffer et al.'s three ablations, in the order of the curves.
ABLATIONS = ("baseline", "no_small_singular_values", "test_projected_top_k", "no_residual")


def linear_setup(name):
    """Inputs standardized and targets centred on the whole dataset (a fixed preprocessing);
    the best linear model on all of it, β*, for the no-residual ablation."""
    ds = dataset(name)
    X = ds.X - ds.X.mean(axis=0)
    sd = ds.X.std(axis=0)
    X = X / np.where(sd > 0, sd, 1.0)
    if ds.task == "classification":
        Y = targets(ds, ds.y)
        Y = Y - Y.mean(axis=0)
    else:
        Y = ((ds.y - ds.y.mean()) / (ds.y.std() or 1.0))[:, None]
    beta_star, _ = minnorm(X, Y)
    return ds, X, Y, beta_star


def _variant(v, svd, keep, y, yc, X_te, Y_te, beta_star, cutoff, top_k):
    """One variant's coefficients, training targets, test inputs and targets, and σ_min."""
    U, s, Vt = svd
    r = int(keep.sum())
    smin = float(s[r - 1]) if r else 0.0
    if v == "no_small_singular_values":
        mask = keep & (s >= cutoff * s[0])
        return svd_solve(U, s, Vt, y, mask), y, X_te, Y_te, float(s[mask][-1]) if mask.any() else 0.0
    if v == "test_projected_top_k":
        kk = min(top_k, r)
        return svd_solve(U, s, Vt, y, keep), y, (X_te @ Vt[:kk].T) @ Vt[:kk], Y_te, smin
    if v == "no_residual":
        return svd_solve(U, s, Vt, yc, keep), yc, X_te, X_te @ beta_star, smin
    return svd_solve(U, s, Vt, y, keep), y, X_te, Y_te, smin


def linear_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One seed of the sample-wise linear sweep: nested training sets of every size, the
    minimum-norm fit and (with ``ablations``) Schaeffer et al.'s three ablations."""
    ds, X, Y, beta_star = linear_setup(config["data"])
    g = np.random.Generator(np.random.PCG64(seed))
    perm = g.permutation(ds.n)
    n_test = int(config["n_test"])
    te, pool = perm[:n_test], perm[n_test:]
    X_te, Y_te = X[te], Y[te]
    Yc = X @ beta_star   # targets the best linear model explains exactly (no residual)
    variants = ABLATIONS if config.get("ablations") else ABLATIONS[:1]
    out = {f"{v}/{k}": [] for v in variants for k in ("test_mse", "train_mse", "coef_norm", "sigma_min")}
    cutoff, top_k = float(config["cutoff"]), int(config["top_k"])
    for N in config["ns"]:
        idx = pool[:int(N)]  # nested: a larger training set contains the smaller ones
        A, y, yc = X[idx], Y[idx], Yc[idx]
        svd = np.linalg.svd(A, full_matrices=False)
        keep = pinv_mask(svd[1], A.shape)
        for v in variants:
            beta, tgt_tr, x_te, y_te, sv = _variant(v, svd, keep, y, yc, X_te, Y_te, beta_star, cutoff, top_k)
            out[f"{v}/test_mse"].append(sq_err(x_te @ beta, y_te))
            out[f"{v}/train_mse"].append(sq_err(A @ beta, tgt_tr))
            out[f"{v}/coef_norm"].append(float(np.linalg.norm(beta)))
            out[f"{v}/sigma_min"].append(sv)
    return {"series": out}


def _check_cutoff(cutoff) -> float:
    try:
        cutoff = float(cutoff)
    except (TypeError, ValueError):
        raise GenlabError(f"cutoff must be a number in (0, 1), got {cutoff!r}") from None
    if not 0 < cutoff < 1:
        raise GenlabError(f"cutoff must be a number in (0, 1), got {cutoff!r}")
    return cutoff


def _check_ns(ns, d, pool) -> list[int]:
    """Training sizes (default 1..3d and 8 log-spaced up to the pool), all within the pool."""
    if ns is None:
        ns = sorted(set(range(1, min(3 * d, pool) + 1))
                    | {int(v) for v in np.round(np.geomspace(min(3 * d, pool), pool, 8))})
    ns = check_sizes(ns, "ns")
    if ns[-1] > pool:
        raise GenlabError(f"training sizes up to {ns[-1]} do not fit in the {pool} points left after n_test; "
                          "lower ns or n_test")
    return ns


def linear_run(data, *, ns, seeds, n_test, cutoff, top_k, ablations, store, jobs, dask, progress, seed):
    """Run the sample-wise sweep (with or without the ablations).

    Returns
    -------
    curves : dict of DoubleDescentCurve
        One per variant of :data:`ABLATIONS` run.
    base : dict
        The config shared by the jobs.
    d : int
        The rank of the inputs (the threshold).
    """
    ds = check_data(data)
    _, X, _, _ = linear_setup(data)
    d = int(np.linalg.matrix_rank(X))
    n_test = _check_int(n_test, "n_test")
    seeds = _check_int(seeds, "seeds")
    pool = ds.n - n_test
    if pool < 2:
        raise GenlabError(f"dataset {data!r} has {ds.n} points; n_test = {n_test} leaves none to train on")
    ns = _check_ns(ns, d, pool)
    cutoff = _check_cutoff(cutoff)
    top_k = max(1, d // 2) if top_k is None else _check_int(top_k, "top_k")
    base = {"data": data, "ns": ns, "n_test": n_test, "cutoff": cutoff, "top_k": top_k, "ablations": ablations}
    configs = [{**base, "repeat": s} for s in range(seeds)]
    result = run_sweep(linear_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                       label=f"sample-wise linear regression on {data}")
    curves = {v: DoubleDescentCurve(knob="n", values=np.array(ns), threshold=float(d),
                                    **curve_arrays(result, f"{v}/"), label=v.replace("_", " "),
                                    config={**base, "variant": v, "rank": d, "seeds": seeds, "seed": check_seed(seed)})
              for v in (ABLATIONS if ablations else ABLATIONS[:1])}
    return curves, base, d


def linear_sample_wise(data: str = "diabetes", *, ns=None, seeds: int = 50, n_test: int = 100, store=None,
                       jobs: int | None = 1, dask=None, progress: bool = False, seed: int = 0) -> DoubleDescentCurve:
    """Sample-wise double descent: minimum-norm linear regression on d inputs as the
    training set grows (nested subsets of one shuffle per seed); near n = d more data hurts.

    Inputs are standardized and targets centred on the whole dataset (one fixed
    preprocessing, no intercept); the threshold is the rank d of the inputs.

    Returns
    -------
    DoubleDescentCurve
        Knob ``"n"``, threshold d.
    """
    curves, _, _ = linear_run(data, ns=ns, seeds=seeds, n_test=n_test, cutoff=0.1, top_k=None, ablations=False,
                              store=store, jobs=jobs, dask=dask, progress=progress, seed=seed)
    return curves["baseline"]


@dataclass
class SingularValueAnalysis(Result):
    """How the test error follows the smallest non-zero singular value and the coefficient norm.

    ``rank_corr_sigma`` and ``rank_corr_norm`` are Spearman correlations, over
    every (seed, point), of the test error with 1/σ_min² and with ‖β‖.
    """

    curve: DoubleDescentCurve
    rank_corr_sigma: float
    rank_corr_norm: float

    def summary(self):
        """One row per point: the medians of the test error, σ_min, 1/σ_min² and ‖β‖."""
        import pandas as pd

        c = self.curve
        return pd.DataFrame({c.knob: c.values, "test_mse_median": c.median("test_mse"),
                             "sigma_min_median": c.median("sigma_min"),
                             "inv_sigma_min_sq_median": np.median(1.0 / np.maximum(c.sigma_min, 1e-150) ** 2, axis=0),
                             "coef_norm_median": c.median("coef_norm")})

    @property
    def at_peak(self) -> dict:
        """σ_min and ‖β‖ at the error's peak beside their values at the classical minimum."""
        c = self.curve
        pk, mn = c.find_peak(), c.minimum
        row = lambda at: {"at": at, "sigma_min": float(c.median("sigma_min")[list(c.values).index(at)]),  # noqa: E731
                          "coef_norm": float(c.median("coef_norm")[list(c.values).index(at)])}
        return {"peak": row(pk["at"]), "classical_minimum": row(mn["classical"]["at"]) if mn["classical"] else None}

    def to_dict(self) -> dict:
        return {"knob": self.curve.knob, "threshold": self.curve.threshold,
                "rank_corr_test_vs_inv_sigma_min_sq": self.rank_corr_sigma,
                "rank_corr_test_vs_coef_norm": self.rank_corr_norm, "at_peak": self.at_peak,
                "points": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, title=None):
        """Median test error, 1/σ_min² and ‖β‖ against the knob (each on log axes), threshold marked."""
        ax = axes(ax, (6.4, 4.2))
        f = self.summary()
        c = self.curve
        x = np.asarray(c.values, dtype=float)
        ax.plot(x, f["test_mse_median"], color="tab:red", marker="o", ms=2.5, label="test error (median)")
        ax.set_yscale("log")
        ax2 = ax.twinx()
        ax2.plot(x, f["inv_sigma_min_sq_median"], color="tab:purple", ls="--", label="1 / σ_min² (median)")
        ax2.plot(x, f["coef_norm_median"], color="tab:green", ls="-.", label="‖β‖ (median)")
        ax2.set_yscale("log")
        if c.threshold is not None:
            ax.axvline(c.threshold, color="0.4", ls=":", lw=1)
        if np.all(x > 0):
            ax.set_xscale("log")
        ax.set_xlabel(KNOBS.get(c.knob, c.knob))
        ax.set_ylabel("test squared error")
        ax2.set_ylabel("1/σ_min², ‖β‖")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize="small")
        if title:
            ax.set_title(title)
        return ax


def singular_value_analysis(curve_or_data="diabetes", **kwargs) -> SingularValueAnalysis:
    """Why the peak: the test error beside 1/σ_min² and ‖β‖.

    Parameters
    ----------
    curve_or_data : DoubleDescentCurve or str, default="diabetes"
        A curve already measured (any knob), or a bundled dataset on which
        :func:`linear_sample_wise` is run with ``kwargs``.

    Returns
    -------
    SingularValueAnalysis
    """
    from scipy.stats import spearmanr

    if isinstance(curve_or_data, DoubleDescentCurve):
        if kwargs:
            raise GenlabError(f"options {', '.join(kwargs)} apply only when a dataset is given, not a curve")
        curve = curve_or_data
    else:
        curve = linear_sample_wise(curve_or_data, **kwargs)
    t = curve.test_mse.ravel()
    inv = 1.0 / np.maximum(curve.sigma_min.ravel(), 1e-150) ** 2
    rs = float(spearmanr(t, inv).statistic)
    rn = float(spearmanr(t, curve.coef_norm.ravel()).statistic)
    return SingularValueAnalysis(curve, rs, rn)
