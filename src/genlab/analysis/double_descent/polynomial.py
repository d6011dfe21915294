"""Minimum-norm polynomials past the interpolation threshold: the basis decides whether the
second descent beats the classical minimum (:func:`polynomial_model_wise`)."""

from __future__ import annotations

import numpy as np

from ...core.checks import check_int as _check_int
from ...core.errors import GenlabError
from ...core.seeding import check_seed
from ...linalg.bases import vander, window
from ...linalg.minnorm import nested_least_squares
from ._common import curve_arrays, run_sweep
from .results import CurveFamily, DoubleDescentCurve, verdict

__all__ = ["BASES", "HARD_TARGET", "POLY_BASES", "poly_job", "polynomial_model_wise"]

#: The bases of the default sweep.
POLY_BASES = ("legendre", "legendre-normalized", "chebyshev", "monomial")
#: Every basis :func:`polynomial_model_wise` knows.
BASES = ("legendre", "legendre-normalized", "chebyshev", "chebyshev-normalized", "monomial")
HARD_TARGET = "2*x + cos(25*x)"


def _poly_design(x, degree, basis):
    if basis == "legendre-normalized":
        return vander(x, degree, "legendre", normalize=True)
    if basis == "chebyshev-normalized":
        return vander(x, degree, "chebyshev", normalize=True)
    return vander(x, degree, basis)


def poly_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One dataset of :func:`polynomial_model_wise`: minimum-norm fits of every degree in every basis."""
    from ...data.sources import SyntheticSource

    src = SyntheticSource(config["target"], config["noise"], config["x"])
    g = np.random.Generator(np.random.PCG64(seed))
    ds = src.sample(int(config["n"]), g)
    x_test = src.x_dist.quantiles(int(config["n_test"]))
    ybar = src.mean(x_test)
    degrees = [int(d) for d in config["degrees"]]
    top = degrees[-1]
    out = {}
    for basis in config["bases"]:
        A = _poly_design(window(ds.x, config["window"]), top, basis)
        A_t = _poly_design(window(x_test, config["window"]), top, basis)
        res = {k: [] for k in ("test_mse", "train_mse", "coef_norm", "sigma_min")}
        for fit in nested_least_squares(A, ds.y, [d + 1 for d in degrees]):
            p = fit.p
            res["train_mse"].append(float(np.mean((A[:, :p] @ fit.coef - ds.y) ** 2)))
            # expected error against fresh noisy labels: mean (h − ȳ)² over the test grid + σ²
            res["test_mse"].append(float(np.mean((A_t[:, :p] @ fit.coef - ybar) ** 2)) + src.noise_var)
            res["coef_norm"].append(float(np.linalg.norm(fit.coef)))
            res["sigma_min"].append(fit.sigma_min)
        out.update({f"{basis}/{k}": v for k, v in res.items()})
    return {"series": out}


def _check_poly(source, n, degrees, bases, seeds, n_test):
    """The checked options of :func:`polynomial_model_wise`: source, n, degrees, bases, seeds, n_test."""
    from ...data.sources import SyntheticSource, check_n
    from ...linalg.bases import check_degree

    source = SyntheticSource(HARD_TARGET, 0.1) if source is None else source
    if not isinstance(source, SyntheticSource):
        raise GenlabError("polynomial_model_wise needs a SyntheticSource (a target expression and a noise level)")
    if not isinstance(source.target, str):
        raise GenlabError("give the source's target as an expression string so that workers can rebuild it")
    n = check_n(n)
    degrees = sorted({check_degree(d) for d in degrees})
    if not degrees:
        raise GenlabError("degrees is empty; give at least one degree")
    bases = list(bases)
    for b in bases:
        if b not in BASES:
            raise GenlabError(f"unknown basis {b!r}; choose from {', '.join(BASES)}")
    if not bases:
        raise GenlabError("bases is empty; give at least one basis")
    return source, n, degrees, bases, _check_int(seeds, "seeds"), _check_int(n_test, "n_test")


def _caption(source, n, seeds, bases, below) -> str:
    return (f"Minimum-norm polynomial fits of y = {source.target} (σ = {source.noise:g}, n = {n}) against the "
            f"degree; median test error over {seeds} datasets. Past the threshold (degree {n - 1}) the basis "
            "decides which interpolant has the smallest coefficients: "
            + (f"the second descent goes below the classical minimum with {', '.join(below)}"
               if below else "in no basis here does the second descent go below the classical minimum")
            + (f", not with {', '.join(b for b in bases if b not in below)}." if below and len(below) < len(bases)
               else "."))


def polynomial_model_wise(source=None, *, n: int = 15, degrees=range(0, 61), bases=POLY_BASES,
                          seeds: int = 20, n_test: int = 500, store=None, jobs: int | None = 1, dask=None,
                          progress: bool = False, seed: int = 0) -> CurveFamily:
    """Minimum-norm polynomial fits past the interpolation threshold, per basis.

    Every basis spans the same functions at each degree, so below the
    threshold (degree + 1 <= n) the fits are identical; past it, the
    minimum-norm interpolant minimizes the *coefficients'* norm, and the basis
    decides which interpolant that is. Unnormalized Legendre polynomials
    shrink with degree (‖P_k‖² = 2/(2k+1)), so a small coefficient norm
    penalizes high degrees more: a smoothness prior. Orthonormal Legendre and
    Chebyshev weight all degrees alike and interpolate with wiggles;
    monomials are nearly collinear at high degree.

    Parameters
    ----------
    source : SyntheticSource, default: ``SyntheticSource("2*x + cos(25*x)", 0.1)``
        Its target must be an expression (it travels to the workers as text).
        ``ARTICLE_SOURCE`` gives the article's 2x² + 1.
    n : int, default=15
    degrees : iterable of int, default=range(0, 61)
    bases : sequence of str
        From ``"legendre"``, ``"legendre-normalized"``, ``"chebyshev"``,
        ``"chebyshev-normalized"``, ``"monomial"``; every basis is evaluated on
        the source's support mapped to [-1, 1] (monomials too, so the bases
        differ only in their functions, not in the input scale).
    seeds : int
        Datasets, one job each.
    n_test : int
        Test inputs at the quantiles of the x distribution; the test error is
        the expected squared error against fresh noisy labels, mean (h − ȳ)² + σ².

    Returns
    -------
    CurveFamily
        One :class:`DoubleDescentCurve` per basis (knob ``"degree"``,
        threshold n − 1) and a verdict per basis such as "second descent
        reaches 0.8x the classical minimum"; ``caption`` says which bases
        go below.
    """
    source, n, degrees, bases, seeds, n_test = _check_poly(source, n, degrees, bases, seeds, n_test)
    xd = source.x_dist
    window_ = xd.support or (xd.a - 3 * xd.b, xd.a + 3 * xd.b)
    base = {"target": source.target, "noise": source.noise, "x": str(xd), "n": n, "degrees": degrees,
            "bases": bases, "n_test": n_test, "window": list(window_)}
    configs = [{**base, "repeat": s} for s in range(seeds)]
    result = run_sweep(poly_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                       label=f"minimum-norm polynomials (n = {n})")
    curves = {b: DoubleDescentCurve(knob="degree", values=np.array(degrees), threshold=float(n - 1),
                                    **curve_arrays(result, f"{b}/"), label=b,
                                    config={**base, "basis": b, "seeds": seeds, "seed": check_seed(seed)})
              for b in bases}
    below = [b for b, c in curves.items() if c.minimum["ratio"] is not None and c.minimum["ratio"] < 1]
    return CurveFamily(curves, {b: verdict(c) for b, c in curves.items()},
                       caption=_caption(source, n, seeds, bases, below), title=f"Polynomial double descent, n = {n}",
                       config={**base, "seeds": seeds, "seed": check_seed(seed)})
