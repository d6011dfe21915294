"""Bias-variance decomposition measured by Monte Carlo against a known source.

For squared loss and any model (the article's §3):

    E_{D,x,y}[(h_D(x) - y)^2] = E_x[(h̄(x) - ȳ(x))^2]      bias²
                               + E_{x,D}[(h_D(x) - h̄(x))^2]  variance
                               + E_{x,y}[(ȳ(x) - y)^2]       noise

genlab measures all four terms separately — the expected test error directly,
with fresh noisy labels at the test points — each with its Monte-Carlo standard
error, so the identity is a check, not an assumption. Bias is measured against
ȳ(x) = E[y | x], never against noisy y.

Datasets come in fixed *blocks* (each with its own random stream), statistics
are computed per block and merged in block order: the numbers depend on the
seed only, not on the number of workers or on how blocks are batched.

Two engines fill the same result:

* :func:`decompose_polynomial` — every degree of a polynomial family in one
  pass (one small QR per dataset, moments in coefficient space);
* :func:`decompose` — any scikit-learn estimator, cloned per dataset.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np

from .checks import check_nonnegative
from .data import ClassificationSource, SyntheticSource, check_n
from .errors import GenlabError
from .features import check_basis, check_degree
from .seeding import check_seed, rng as make_rng
from .stats import summarize

N_FIRST = 100  # fits kept for the "first 100 datasets" figures
LOSSES = ("squared", "zero_one", "cross_entropy")


def block_size(n_datasets: int) -> int:
    """Datasets per block: at least 20 blocks (for batch-means errors), at most 500 per block."""
    return max(1, min(500, n_datasets // 20))


def _draw_block(source, n: int, seed: int, k: int, size: int):
    """Block k of datasets: x of shape (size, n), y of shape (size, n)."""
    g = make_rng(seed, "biasvar-datasets", k)
    x = source.x_dist.sample((size, n), g)
    if isinstance(source, ClassificationSource):
        return x, source.sample_labels(x, g)
    y = source.mean(x) + g.normal(0.0, source.noise, (size, n))
    return x, y


def _test_noise(source: SyntheticSource, m: int, seed: int, k: int, size: int):
    """Fresh noise at the test points for each dataset of block k (for the measured error)."""
    return make_rng(seed, "biasvar-test-noise", k).normal(0.0, source.noise, (size, m))


# -- per-block statistics -----------------------------------------------------

@dataclass
class _Block:
    """Statistics of one block of datasets, in some coordinates of the predictions."""

    count: int
    mean: np.ndarray          # (K, M): mean coordinates per model
    m2: np.ndarray            # (K, M): sum of squared deviations from the block mean
    cov: np.ndarray           # (M, K, K) full scatter (for per-x variance and bias s.e.)
    dist: np.ndarray          # (b, M): mean_x (h_b - ȳ)^2 per dataset
    error: np.ndarray         # (b, M): mean_x (h_b - y)^2 with fresh y per dataset
    noise: np.ndarray         # (b,):   mean_x (y - ȳ)^2 per dataset
    first: np.ndarray | None  # (k, K, M) coordinates of the block's first datasets


def _merge(blocks: list[_Block]):
    """Chan et al.'s pairwise merge of means and scatters, in block order."""
    n, mean, m2, cov = 0, None, None, None
    for b in blocks:
        if n == 0:
            n, mean, m2, cov = b.count, b.mean.copy(), b.m2.copy(), b.cov.copy()
            continue
        tot = n + b.count
        delta = b.mean - mean
        mean = mean + delta * (b.count / tot)
        m2 = m2 + b.m2 + delta ** 2 * (n * b.count / tot)
        dT = delta.T  # (M, K)
        cov = cov + b.cov + np.einsum("mk,ml->mkl", dT, dT) * (n * b.count / tot)
        n = tot
    return n, mean, m2, cov


# -- the result -----------------------------------------------------------------

@dataclass
class BiasVariance:
    """A measured decomposition, one entry per model (e.g. per degree).

    Attributes with shape (n_models,): ``bias2``, ``variance``, ``noise``,
    ``error`` (measured directly) and their standard errors ``*_se``;
    ``error_median``, ``error_trimmed`` (10%) and ``heavy_tail`` from the
    per-dataset errors. Per-x curves with shape (n_models, n_test): ``hbar``,
    ``var_x``; ``first_fits`` (n_first, n_models, n_test) are the predictions of
    the first datasets.
    """

    labels: list[str]
    knob: str
    values: np.ndarray
    x_test: np.ndarray
    ybar: np.ndarray
    n_datasets: int
    n: int
    bias2: np.ndarray
    bias2_se: np.ndarray
    variance: np.ndarray
    variance_se: np.ndarray
    noise: np.ndarray
    noise_se: np.ndarray
    error: np.ndarray
    error_se: np.ndarray
    error_median: np.ndarray
    error_trimmed: np.ndarray
    heavy_tail: np.ndarray
    drift_z: np.ndarray
    hbar: np.ndarray
    var_x: np.ndarray
    first_fits: np.ndarray
    per_dataset_error: np.ndarray = field(repr=False)   # (n_datasets, n_models)
    per_dataset_dist: np.ndarray = field(repr=False)    # mean_x (h_D - ȳ)², same shape
    config: dict = field(default_factory=dict)
    mode: str = "source"
    loss: str = "squared"
    net_variance: np.ndarray | None = None   # 0-1 loss: variance with Domingos' sign rule
    sum_terms: np.ndarray | None = None      # what the decomposition says the error is, when not the plain sum

    @property
    def total(self) -> np.ndarray:
        """The decomposition's prediction of the error (bias² + variance + noise for squared
        loss; Domingos' c1·noise + bias + net variance for 0-1; noise + bias + variance for log loss)."""
        return self.bias2 + self.variance + self.noise if self.sum_terms is None else self.sum_terms

    @property
    def identity_z(self) -> np.ndarray:
        """(bias² + variance + noise − error) in units of its standard error."""
        se = np.sqrt(self.bias2_se ** 2 + self.variance_se ** 2 + self.noise_se ** 2 + self.error_se ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(se > 0, (self.total - self.error) / se, 0.0)

    @property
    def converged(self) -> np.ndarray:
        """False where the mean cannot be trusted: heavy tails, a large relative
        standard error, or estimates that drift between the first and second half."""
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(self.variance > 0, self.variance_se / self.variance, 0.0)
        return ~self.heavy_tail & (rel < 0.1) & (self.drift_z < 4)

    def summary(self):
        """One row per model with every term, its standard error and the diagnostics."""
        import pandas as pd

        bias = "bias2" if self.loss == "squared" else "bias"
        known = self.mode == "source"
        if not known:  # noise is not separable without a known source: say what the term holds
            bias = "bias2_plus_noise" if self.loss == "squared" else "bias_incl_noise"
        cols = {
            self.knob: self.values, "label": self.labels,
            bias: self.bias2, f"{bias}_se": self.bias2_se,
            "variance": self.variance, "variance_se": self.variance_se,
        }
        if self.net_variance is not None:
            cols["net_variance"] = self.net_variance
        if known:
            cols.update({"noise": self.noise, "noise_se": self.noise_se})
        cols.update({
            "error": self.error, "error_se": self.error_se,
            "decomposition": self.total, "identity_z": self.identity_z,
            "error_median": self.error_median, "error_trimmed": self.error_trimmed,
            "heavy_tail": self.heavy_tail, "drift_z": self.drift_z, "converged": self.converged,
        })
        return pd.DataFrame(cols)

    to_frame = summary

    def to_dict(self) -> dict:
        return {"mode": self.mode, "loss": self.loss, "n_datasets": self.n_datasets, "n": self.n,
                "knob": self.knob, "config": self.config,
                "models": self.summary().to_dict(orient="records")}

    def index(self, value) -> int:
        hits = np.flatnonzero(np.asarray(self.values) == value)
        if hits.size == 0:
            raise GenlabError(f"no model with {self.knob} = {value}")
        return int(hits[0])

    def plot(self, ax=None, *, title=None, log=True):
        """bias², variance, noise and the measured error against the knob, with ±2 s.e. bands."""
        from .plots import axes

        ax = axes(ax, (6.4, 4.2))
        x = np.asarray(self.values, dtype=float)
        floor = 1e-6 * max(float(np.nanmax(self.error_median)), 1e-12)
        known = self.mode == "source"
        bias_name = ("bias²" if self.loss == "squared" else "bias") + ("" if known else " + noise")
        curves = [(bias_name, self.bias2, self.bias2_se, "tab:blue"),
                  ("variance", self.variance, self.variance_se, "tab:orange")]
        if known:
            curves.append(("noise", self.noise, self.noise_se, "tab:gray"))
        curves.append(("test error (measured)", self.error, self.error_se, "tab:red"))
        for name, val, se, color in curves:
            # bias² is bias-corrected and can dip below 0 by its error: on a log axis draw it at a floor
            shown = np.where(val > floor, val, np.nan) if log else val
            lo = np.maximum(val - 2 * se, floor) if log else val - 2 * se
            ax.plot(x, shown, color=color, marker="o", ms=3, label=name)
            ax.fill_between(x, lo, np.maximum(val + 2 * se, lo), color=color, alpha=0.2, lw=0)
        ax.plot(x, self.error_median, color="tab:red", ls=":", lw=1, label="test error (median)")
        bad = ~self.converged
        if bad.any():
            ax.scatter(x[bad], self.error[bad], s=60, facecolors="none", edgecolors="k", zorder=4,
                       label="not converged")
        if log:
            ax.set_yscale("log")
            ax.set_ylim(bottom=floor)
        ax.set_xlabel(self.knob)
        ax.set_ylabel({"squared": "squared error", "zero_one": "0-1 error", "cross_entropy": "log loss (nats)"}
                      [self.loss])
        ax.legend(fontsize="small")
        if title:
            ax.set_title(title)
        return ax

    def plot_fits(self, value, ax=None, *, n_fits: int = 100, ylim=(0.5, 3.5), title=None):
        """The first fits (faint), their mean h̄ over all datasets (dark) and ȳ (dashed)."""
        from .plots import axes, finish_xy

        ax = axes(ax)
        i = self.index(value)
        order = np.argsort(self.x_test)
        xs = self.x_test[order]
        for f in self.first_fits[:n_fits, i]:
            ax.plot(xs, f[order], color="tab:red", alpha=0.12, lw=0.8)
        ax.plot(xs, self.ybar[order], color="0.3", ls="--", lw=1.2, label="ȳ(x)")
        ax.plot(xs, self.hbar[i][order], color="darkred", lw=2.2,
                label=f"h̄(x), mean of {self.n_datasets:,} fits")
        ax.plot([], [], color="tab:red", alpha=0.4, label=f"first {min(n_fits, len(self.first_fits))} fits")
        if not self.converged[i]:
            ax.text(0.03, 0.97, "h̄ not converged (heavy tails)", transform=ax.transAxes, va="top",
                    color="darkred", bbox=dict(boxstyle="round", fc="white", ec="darkred"))
        return finish_xy(ax, ylim=ylim, title=title)


def _summarize_models(err: np.ndarray, threads: int = 1) -> dict:
    """stats.summarize over datasets, for each model (column) of ``err`` (n_datasets, M); with threads > 1
    the columns are shared out over threads (sorting releases the GIL), with the same numbers."""
    if threads <= 1 or err.shape[1] < 2:
        return summarize(err)
    from concurrent.futures import ThreadPoolExecutor

    parts = np.array_split(np.arange(err.shape[1]), min(threads, err.shape[1]))
    with ThreadPoolExecutor(len(parts)) as pool:
        done = list(pool.map(lambda cols: summarize(err[:, cols]), parts))
    return {k: np.concatenate([d[k] for d in done], axis=-1) for k in done[0]}


def _finish(blocks: list[_Block], *, weight: float, g: np.ndarray, r: np.ndarray, to_points,
            labels, knob, values, x_test, ybar, n, config, mode="source", threads: int = 1) -> BiasVariance:
    """Reduce per-block statistics into a :class:`BiasVariance`.

    ``weight`` turns a sum of squared coordinates into a mean over test points;
    ``g`` (K, M) are ȳ's coordinates and ``r`` (M,) the part of mean_x ȳ² they miss;
    ``to_points(mean, cov_or_m2)`` gives (hbar, var_x) at the test points; ``threads`` may share out the
    per-dataset error summaries.
    """
    N, mean, m2, cov = _merge(blocks)
    K = len(blocks)
    variance = weight * m2.sum(axis=0) / (N - 1)
    # batch means over blocks for the variance's standard error, and its drift
    vb = np.array([weight * b.m2.sum(axis=0) / max(b.count - 1, 1) for b in blocks])  # (K, M)
    wts = np.array([b.count for b in blocks], dtype=float)
    variance_se = np.sqrt(np.sum(wts[:, None] ** 2 * (vb - variance) ** 2, axis=0) / (N ** 2) * K / max(K - 1, 1))
    half = K // 2
    if half >= 2:
        v1, v2 = vb[:half].mean(axis=0), vb[half:].mean(axis=0)
        s1 = vb[:half].std(axis=0, ddof=1) / np.sqrt(half)
        s2 = vb[half:].std(axis=0, ddof=1) / np.sqrt(K - half)
        with np.errstate(divide="ignore", invalid="ignore"):
            drift = np.where(s1 + s2 > 0, np.abs(v1 - v2) / np.sqrt(s1 ** 2 + s2 ** 2), 0.0)
    else:
        drift = np.zeros_like(variance)
    # bias²: unbiased for ||E h - ȳ||² (subtract variance / N), delta-method s.e.
    delta = mean - g
    bias2 = weight * (delta ** 2).sum(axis=0) + r - variance / N
    Sigma = cov / (N - 1)  # (M, K, K)
    quad = np.einsum("km,mkl,lm->m", delta, Sigma, delta)
    tr2 = np.einsum("mkl,mlk->m", Sigma, Sigma)
    bias2_se = weight * np.sqrt(np.maximum(4 * quad / N + 2 * tr2 / N ** 2, 0.0))
    err = np.concatenate([b.error for b in blocks])
    noise = np.concatenate([b.noise for b in blocks])
    es = _summarize_models(err, threads)
    hbar, var_x = to_points(mean, Sigma)
    first = np.concatenate([b.first for b in blocks if b.first is not None])[:N_FIRST]
    return BiasVariance(
        labels=list(labels), knob=knob, values=np.asarray(values), x_test=x_test, ybar=ybar,
        n_datasets=N, n=n, bias2=bias2, bias2_se=bias2_se, variance=variance, variance_se=variance_se,
        noise=np.full(len(labels), noise.mean()), noise_se=np.full(len(labels), noise.std(ddof=1) / np.sqrt(N)),
        error=es["mean"], error_se=es["se"], error_median=es["median"], error_trimmed=es["trimmed"],
        heavy_tail=es["heavy_tail"], drift_z=drift, hbar=hbar, var_x=var_x,
        first_fits=np.stack([to_points(f, None)[0] for f in first]) if len(first) else np.empty((0,) + hbar.shape),
        per_dataset_error=err, per_dataset_dist=np.concatenate([b.dist for b in blocks]), config=config, mode=mode)


def _check_common(source, n, n_datasets, n_test, seed):
    if not isinstance(source, (SyntheticSource, ClassificationSource)):
        raise GenlabError("a decomposition against a known source needs a SyntheticSource; "
                          "for a dataset use decompose_data")
    n = check_n(n)
    if isinstance(n_datasets, bool) or not isinstance(n_datasets, (int, np.integer)) or n_datasets < 2:
        raise GenlabError(f"the decomposition needs at least 2 datasets, got {n_datasets!r}")
    if isinstance(n_test, bool) or not isinstance(n_test, (int, np.integer)) or n_test < 1:
        raise GenlabError(f"the test grid needs at least 1 point, got {n_test!r}")
    return n, int(n_datasets), int(n_test), check_seed(seed)


def _run_blocks(fn, n_blocks: int, jobs: int, progress=None, threads: bool = False):
    """Run ``fn(k)`` for every block, in parallel over processes (or threads) when ``jobs > 1``; results in
    block order."""
    if threads and jobs and jobs > 1 and n_blocks > 1:
        from concurrent.futures import ThreadPoolExecutor

        out = []
        pool = ThreadPoolExecutor(jobs)
        try:
            for res in pool.map(fn, range(n_blocks)):
                out.append(res)
                if progress:
                    progress(1)
        finally:  # on an error or Ctrl-C, blocks not started are dropped rather than waited for
            pool.shutdown(wait=True, cancel_futures=True)
        return out
    if jobs is None or jobs == 1 or n_blocks == 1:
        out = []
        for k in range(n_blocks):
            out.append(fn(k))
            if progress:
                progress(1)
        return out
    from joblib import Parallel, delayed

    out = []
    for res in Parallel(n_jobs=jobs, return_as="generator")(delayed(fn)(k) for k in range(n_blocks)):
        out.append(res)
        if progress:
            progress(1)
    return out


# -- the fast engine: polynomial families ----------------------------------------

@dataclass
class _PolyBlockJob:
    """One block of the polynomial engine: fits in test-orthonormal coordinates, then moments.

    ``mode`` is "nested" (exact least squares of every degree from one QR),
    "solver" (one solve per degree with a genlab solver) or "ridge" (one SVD,
    then every alpha, for a single degree).
    """

    source: SyntheticSource
    n: int
    seed: int
    sizes: list[int]
    tb: object            # fast.TestBasis of the solver's basis and scaling
    mode: str
    degrees: np.ndarray   # (M,) degree of each model
    alphas: np.ndarray    # (M,) alpha of each model (ridge, solver modes)
    solver: str
    g: np.ndarray         # (P, M) ȳ's coordinates within each model's span
    sbar: np.ndarray      # (m,) ȳ at the test points
    r: np.ndarray         # (M,) part of mean ȳ² outside each model's span
    engine: str = "numba"   # nested least squares: compiled kernels, or "lapack" (one LAPACK QR per dataset)

    def _fit(self, x, y) -> np.ndarray:
        from .fast import nested_lstsq
        from .linear import ridge_path, solve

        b, P, M = x.shape[0], self.tb.degree + 1, self.degrees.size
        if self.mode == "nested":
            with np.errstate(all="ignore"):
                C, _ = nested_lstsq(self.tb(x), y, engine=self.engine)
            return C if np.array_equal(self.degrees, np.arange(P)) else C[:, :, self.degrees]
        V = self.tb.design(x)                                      # (b, n, P) in the solver's basis
        Rt = self.tb.R                                             # coefficients -> coordinates
        C = np.zeros((b, P, M))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for i in range(b):
                if self.mode == "ridge":
                    C[i] = Rt @ ridge_path(V[i], y[i], self.alphas)[0]
                    continue
                for j, (d, a) in enumerate(zip(self.degrees, self.alphas)):
                    coef, _ = solve(V[i, :, : d + 1], y[i], self.solver, a)
                    C[i, : d + 1, j] = Rt[: d + 1, : d + 1] @ coef
        return C

    def __call__(self, k: int) -> _Block:
        size, m = self.sizes[k], self.sbar.size
        x, y = _draw_block(self.source, self.n, self.seed, k, size)
        if self.mode == "nested" and self.engine == "numba":
            return self._compiled(k, x, y)
        C = self._fit(x, y)                                          # (b, P, M)
        eps = _test_noise(self.source, m, self.seed, k, size)
        e = eps @ self.tb.phi_test / m                               # (b, P)
        s = eps @ self.sbar / m                                      # (b,)
        Dv = C - self.g[None]                                        # (b, P, M)
        dist = np.einsum("bjd,bjd->bd", Dv, Dv) + self.r[None, :]
        # mean_x (h - ȳ) eps = (C - g)·e - (the part of ȳ·eps outside the span)
        rho = s[:, None] - e @ self.g
        cross = np.einsum("bjd,bj->bd", Dv, e) - rho
        noise = np.einsum("bt,bt->b", eps, eps) / m
        error = dist - 2 * cross + noise[:, None]
        mean = C.mean(axis=0)
        dev = C - mean
        cov = np.zeros((C.shape[2],) + C.shape[1:2] * 2)             # (M, P, P)
        for i, d in enumerate(self.degrees):                         # a degree-d fit spans d + 1 coordinates
            block = np.ascontiguousarray(dev[:, : d + 1, i])
            cov[i, : d + 1, : d + 1] = block.T @ block
        m2 = np.diagonal(cov, axis1=1, axis2=2).T.copy()             # (P, M)
        return _Block(size, mean, m2, cov, dist, error, noise, C[:N_FIRST] if k == 0 else None)

    def _compiled(self, k: int, x, y) -> _Block:
        """The same block in compiled kernels: fits, distances and errors per dataset in one loop, then the
        block's mean and scatter; numbers equal to the LAPACK path's up to rounding."""
        from . import kernels

        size, m, tb = x.shape[0], self.sbar.size, self.tb
        eps = _test_noise(self.source, m, self.seed, k, size)
        e = eps @ tb.phi_test / m                                    # (b, P) coordinates of the test noise
        rho = (eps @ self.sbar / m)[:, None] - e @ self.g             # (b, M)
        noise = np.einsum("bt,bt->b", eps, eps) / m
        u, y = (np.ascontiguousarray(v, dtype=np.float64) for v in (tb._window(x), y))
        F, dist, error = kernels.block_fits(u, y, tb._a, tb._b, tb._phi0, self.degrees, self.g, self.r, e, rho,
                                            noise)
        mean, cov = kernels.block_scatter(F, size, self.degrees)
        m2 = np.diagonal(cov, axis1=1, axis2=2).T.copy()             # (P, M)
        # F is (chunk, model, coordinate, lane): dataset i is lane i % LANES of chunk i // LANES
        first = F.transpose(0, 3, 2, 1).reshape(-1, *F.shape[2:0:-1])[:min(size, N_FIRST)].copy() if k == 0 else None
        return _Block(size, mean, m2, cov, dist, error, noise, first)


def _blocks_of(n_datasets: int) -> tuple[int, list[int]]:
    bs = block_size(n_datasets)
    return bs, [bs] * (n_datasets // bs) + ([n_datasets % bs] if n_datasets % bs else [])


def decompose_polynomial(source: SyntheticSource | None = None, degrees=range(0, 30), *, n: int = 30,
                         n_datasets: int = 10_000, n_test: int = 200, x_test=None, basis: str = "legendre",
                         solver: str | None = None, alpha: float = 0.0, alphas=None, scale=None,
                         seed: int = 0, jobs: int = 1, progress=None, engine: str = "numba") -> BiasVariance:
    """Bias-variance decomposition of polynomial fits of many degrees (or ridge strengths) in one pass.

    Parameters
    ----------
    source : SyntheticSource, default: the article's
    degrees : iterable of int or str
        Degrees to decompose.
    n : int
        Training points per dataset.
    n_datasets : int
        Datasets drawn from the source (the article uses 100,000).
    n_test : int
        Test points, at the quantiles of the x distribution (ignored if ``x_test`` is given).
    x_test : array-like, optional
        Explicit test inputs (e.g. the training grid of a fixed design).
    basis : {"legendre", "chebyshev", "monomial"}
    solver : None or {"lstsq", "minnorm", "ridge", "lasso"}
        ``None``: exact least squares of every degree from one QR per dataset
        (degrees up to ``n - 1``; the basis does not matter). Otherwise each
        degree is fitted as :class:`~genlab.PolynomialRegression` would, with
        ``alpha``; needed past ``n - 1`` (``"minnorm"`` or the article's
        ``"lstsq"`` cut-off).
    alphas : iterable of float, optional
        Ridge strengths for a single degree: the models are the alphas.
    scale : bool or None
        As in :class:`~genlab.PolynomialRegression` (None: all but monomial).
    jobs : int
        Workers over blocks; the result does not depend on it. Exact least squares runs them as threads
        of this process (its compiled kernels release the GIL), the other solvers as processes.
    engine : {"numba", "lapack"}
        Exact least squares only: compiled kernels that factor the datasets side by side (the default),
        or one LAPACK QR per dataset in a Python loop, kept as the reference they are tested against.

    Returns
    -------
    BiasVariance
    """
    from .curves import parse_degrees
    from .fast import TestBasis
    from .linear import check_solver

    source = source if source is not None else SyntheticSource()
    n, n_datasets, n_test, seed = _check_common(source, n, n_datasets, n_test, seed)
    if engine not in ("numba", "lapack"):
        raise GenlabError(f"engine must be 'numba' or 'lapack', got {engine!r}")
    degrees = parse_degrees(degrees) if isinstance(degrees, str) else sorted({check_degree(d) for d in degrees})
    if not degrees:
        raise GenlabError("give at least one degree")
    check_basis(basis)
    if alphas is not None:
        alphas = np.asarray(sorted({float(a) for a in alphas}))
        if len(degrees) != 1:
            raise GenlabError("a sweep over alphas takes a single degree")
        if alphas.size == 0 or np.any(alphas < 0) or not np.all(np.isfinite(alphas)):
            raise GenlabError("alphas must be numbers >= 0")
        mode, solver = "ridge", "ridge"
    elif solver is None:
        mode = "nested"
        if check_nonnegative(alpha, "alpha") != 0:
            raise GenlabError(f"alpha = {alpha:g} is a penalty, and exact least squares (no solver) has none; "
                              "choose solver 'ridge' or 'lasso', or leave alpha at 0")
        if max(degrees) > n - 1:
            raise GenlabError(f"degree {max(degrees)} has more parameters than n = {n} points: least squares is "
                              "not unique there; choose a solver (minnorm, or the article's lstsq cut-off)")
    else:
        mode = "solver"
        check_solver(solver, alpha)
    x_test = source.x_dist.quantiles(n_test) if x_test is None else np.asarray(x_test, dtype=np.float64).ravel()
    if x_test.size == 0:
        raise GenlabError("the test grid is empty; give at least one test point")
    P = max(degrees) + 1
    if x_test.size < P:
        raise GenlabError(f"the test grid needs at least {P} points for degree {P - 1}, got {x_test.size}")
    scaled = (basis != "monomial") if scale is None else bool(scale)
    domain = source.x_dist.support or (float(x_test.min()), float(x_test.max()))
    # exact least squares does not depend on the basis: its coordinates are built from Legendre on the
    # window, well conditioned whatever basis was asked for (an unscaled monomial one is not)
    tb = TestBasis(x_test, P - 1, "legendre", domain) if mode == "nested" else \
        TestBasis(x_test, P - 1, basis, domain if scaled else None)
    sbar = source.mean(x_test)
    m = x_test.size
    g_full = tb.phi_test.T @ sbar / m
    dg = np.asarray(degrees if alphas is None else degrees * alphas.size)
    al = np.full(dg.size, float(alpha)) if alphas is None else alphas
    mask = np.arange(P)[:, None] <= dg[None, :]
    g = g_full[:, None] * mask
    r = np.maximum(np.mean(sbar ** 2) - (g ** 2).sum(axis=0), 0.0)
    bs, sizes = _blocks_of(n_datasets)
    job = _PolyBlockJob(source, n, seed, sizes, tb, mode, dg, al, solver or "lstsq", g, sbar, r, engine)
    compiled = mode == "nested" and engine == "numba"
    if compiled and (jobs or 1) > 1:
        # threads of this process: the kernels release the GIL, and so do numpy's draws and products; no
        # worker start-up, nothing pickled. One BLAS thread each, so that jobs threads use jobs cores.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            blocks = _run_blocks(job, len(sizes), jobs, progress, threads=True)
    else:
        blocks = _run_blocks(job, len(sizes), jobs, progress)

    def to_points(mean, cov):
        hbar = (tb.phi_test @ mean).T                                # (M, m)
        if cov is None:
            return hbar, None
        return hbar, np.einsum("tk,dkl,tl->dt", tb.phi_test, cov, tb.phi_test)

    if alphas is None:
        labels, knob, values = [f"degree {d}" for d in degrees], "degree", dg
    else:
        labels, knob, values = [f"alpha {a:g}" for a in alphas], "alpha", alphas
    return _finish(blocks, weight=1.0, g=g, r=r, to_points=to_points, labels=labels, knob=knob, values=values,
                   x_test=x_test, ybar=sbar, n=n, threads=(jobs or 1) if compiled else 1,
                   config={"engine": f"fast-{mode}", "source": source.describe(), "n": n, "n_datasets": n_datasets,
                           "n_test": m, "basis": basis, "scale": scaled, "solver": solver or "exact least squares",
                           "alpha": alpha if alphas is None else None, "degrees": degrees, "seed": seed, "block": bs})


# -- the general engine: any estimator -------------------------------------------

@dataclass
class _EstimatorBlockJob:
    source: SyntheticSource
    n: int
    seed: int
    sizes: list[int]
    estimators: list
    x_test: np.ndarray
    sbar: np.ndarray

    def __call__(self, k: int) -> _Block:
        from sklearn.base import clone

        size, m = self.sizes[k], self.x_test.size
        x, y = _draw_block(self.source, self.n, self.seed, k, size)
        eps = _test_noise(self.source, m, self.seed, k, size)
        H = np.empty((size, m, len(self.estimators)))
        Xt = self.x_test[:, None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for b in range(size):
                for i, est in enumerate(self.estimators):
                    H[b, :, i] = clone(est).fit(x[b][:, None], y[b]).predict(Xt)
        dev = H - self.sbar[None, :, None]
        dist = np.mean(dev ** 2, axis=1)
        error = np.mean((dev - eps[:, :, None]) ** 2, axis=1)
        noise = np.mean(eps ** 2, axis=1)
        mean = H.mean(axis=0)                                        # (m, M)
        dev = H - mean
        m2 = np.einsum("btm,btm->tm", dev, dev)
        devT = np.ascontiguousarray(dev.transpose(2, 1, 0))          # (M, m, b)
        cov = devT @ devT.transpose(0, 2, 1)                         # (M, m, m)
        return _Block(size, mean, m2, cov, dist, error, noise, H[:N_FIRST] if k == 0 else None)


@dataclass
class _ClassBlock:
    count: int
    tally: np.ndarray         # (m, M, K): 0-1: how many fits predicted class k; log loss: sum of log q_k
    loss: np.ndarray          # (b, M): expected loss of each fit over y ~ P(y|x), averaged over x
    first: np.ndarray | None  # (k, m, M): labels (0-1) or P(y = 1) / max probability (log loss)
    clipped: int = 0


LOG_EPS = 1e-15  # probabilities are clipped here before the log


@dataclass
class _ClassifierBlockJob:
    source: ClassificationSource
    n: int
    seed: int
    sizes: list[int]
    estimators: list
    x_test: np.ndarray
    p_test: np.ndarray  # (m, K)
    loss: str

    def __call__(self, k: int) -> _ClassBlock:
        from sklearn.base import clone

        size, m = self.sizes[k], self.x_test.size
        K, M = self.p_test.shape[1], len(self.estimators)
        x, y = _draw_block(self.source, self.n, self.seed, k, size)
        Xt = self.x_test[:, None]
        tally = np.zeros((m, M, K))
        loss = np.empty((size, M))
        first = np.empty((min(size, N_FIRST), m, M)) if k == 0 else None
        clipped = 0
        rows = np.arange(m)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for b in range(size):
                for i, est in enumerate(self.estimators):
                    fitted = clone(est).fit(x[b][:, None], y[b])
                    if self.loss == "zero_one":
                        h = np.asarray(fitted.predict(Xt)).astype(int)
                        np.add.at(tally, (rows, i, h), 1.0)
                        loss[b, i] = np.mean(1.0 - self.p_test[rows, h])
                        pred = h
                    else:
                        q = np.zeros((m, K))
                        q[:, np.asarray(fitted.classes_, dtype=int)] = fitted.predict_proba(Xt)
                        clipped += int(np.count_nonzero(q < LOG_EPS))
                        logq = np.log(np.maximum(q, LOG_EPS))
                        tally[:, i, :] += logq
                        loss[b, i] = np.mean(-(self.p_test * logq).sum(axis=1))
                        pred = q[:, 1] if K == 2 else q.max(axis=1)
                    if first is not None and b < first.shape[0]:
                        first[b, :, i] = pred
        return _ClassBlock(size, tally, loss, first, clipped)


def _class_terms(tally, N, p, loss):
    """Per-x and averaged terms from the summed tally of N datasets (see decompose)."""
    K = p.shape[1]
    ystar = np.argmax(p, axis=1)                                         # (m,)
    noise_x = np.where(loss == "zero_one", 1.0 - p.max(axis=1), 0.0)
    if loss == "zero_one":
        P = tally / N                                                    # (m, M, K) P_D(h = k)
        ym = np.argmax(P, axis=2)                                        # (m, M) main prediction (mode)
        p_ym = np.take_along_axis(P, ym[..., None], 2)[..., 0]
        p_star = P[np.arange(P.shape[0]), :, ystar]                      # (m, M) P_D(h = y*)
        B = (ym != ystar[:, None]).astype(float)
        V = 1.0 - p_ym
        other = np.where(np.arange(K)[None, :] == ystar[:, None], 0.0, p)  # p_k for k != y*
        denom = 1.0 - p.max(axis=1)
        cond = np.divide(other, denom[:, None], out=np.zeros_like(other), where=denom[:, None] > 0)
        c1 = p_star - np.einsum("tmk,tk->tm", P, cond)
        with np.errstate(divide="ignore", invalid="ignore"):
            c2 = np.where(B == 0, 1.0, -np.where(V > 0, p_star / V, 0.0))
        N_x = noise_x[:, None]
        return {"bias": B.mean(0), "variance": V.mean(0), "net_variance": (c2 * V).mean(0),
                "noise": np.full(B.shape[1], noise_x.mean()), "total": (c1 * N_x + B + c2 * V).mean(0),
                "main": ym.T.astype(float), "var_x": V.T, "truth": ystar.astype(float)}
    mean_log = tally / N                                                 # E_D log q_k
    logZ = np.logaddexp.reduce(mean_log, axis=2)                         # (m, M)
    log_qbar = mean_log - logZ[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)                      # (m, K)
    H = -plogp.sum(axis=1)                                               # entropy: the noise
    kl = (plogp[:, None, :] - p[:, None, :] * log_qbar).sum(axis=2)      # KL(p || q̄): bias
    var = -logZ                                                          # E_D KL(q̄ || q_D): variance
    qbar = np.exp(log_qbar)
    main = qbar[..., 1] if K == 2 else qbar.max(axis=2)
    return {"bias": kl.mean(0), "variance": var.mean(0), "net_variance": None,
            "noise": np.full(kl.shape[1], H.mean()), "total": H.mean() + kl.mean(0) + var.mean(0),
            "main": main.T, "var_x": var.T, "truth": p[:, 1] if K == 2 else p.max(axis=1)}


def _finish_classification(blocks, *, p, loss, labels, knob, values, x_test, n, config) -> BiasVariance:
    tally = sum(b.tally for b in blocks)
    N = sum(b.count for b in blocks)
    terms = _class_terms(tally, N, p, loss)
    # delete-a-block jackknife for the standard errors of the plug-in terms
    keys = ("bias", "variance", "total")
    reps = {k: [] for k in keys}
    if len(blocks) > 1:
        for b in blocks:
            t = _class_terms(tally - b.tally, N - b.count, p, loss)
            for k in keys:
                reps[k].append(t[k])
    K = len(blocks)

    def jk(k):
        if K < 2:
            return np.full_like(terms[k], np.nan)
        r = np.array(reps[k])
        return np.sqrt((K - 1) / K * ((r - r.mean(0)) ** 2).sum(0))

    err = np.concatenate([b.loss for b in blocks])
    es = summarize(err)
    first = np.concatenate([b.first for b in blocks if b.first is not None])[:N_FIRST]
    clipped = sum(b.clipped for b in blocks)
    if clipped:
        config = {**config, "probabilities_clipped": clipped, "clip": LOG_EPS}
    M = len(labels)
    return BiasVariance(
        labels=list(labels), knob=knob, values=np.asarray(values), x_test=x_test, ybar=terms["truth"],
        n_datasets=N, n=n, bias2=terms["bias"], bias2_se=jk("bias"), variance=terms["variance"],
        variance_se=jk("variance"), noise=terms["noise"], noise_se=np.zeros(M), error=es["mean"],
        error_se=es["se"], error_median=es["median"], error_trimmed=es["trimmed"], heavy_tail=es["heavy_tail"],
        drift_z=np.zeros(M), hbar=terms["main"], var_x=terms["var_x"], first_fits=first.transpose(0, 2, 1),
        per_dataset_error=err, per_dataset_dist=err, config=config, loss=loss,
        net_variance=terms["net_variance"], sum_terms=terms["total"])


# -- the general engine's blocks as store jobs -------------------------------------------

def decompose_block_job(config: dict, seed) -> dict:
    """One block of datasets of :func:`decompose`, as a job of the sweep executor.

    The config names everything the block needs — the source and the
    estimators as exact JSON (:meth:`SyntheticSource.to_config`,
    :func:`genlab.estimators.to_spec`), ``n``, ``n_test``, the loss, the
    decomposition's seed, the block index and its size — so a store can resume
    a decomposition and a Dask cluster can run one. The datasets are drawn from
    ``(config["seed"], block)`` as in the in-process path (the job's own stream
    is not used), so the two paths see the same datasets.
    """
    from .data import source_from_config
    from .estimators import from_spec

    source = source_from_config(config["source"])
    ests = [from_spec(spec) for spec in config["estimators"]]
    x_test = source.x_dist.quantiles(config["n_test"])
    k, sizes = config["block"], {config["block"]: config["size"]}
    if config["loss"] == "squared":
        b = _EstimatorBlockJob(source, config["n"], config["seed"], sizes, ests, x_test, source.mean(x_test))(k)
        arrays = dict(mean=b.mean, m2=b.m2, cov=b.cov, dist=b.dist, error=b.error, noise=b.noise)
        metrics = {"count": b.count}
    else:
        c = _ClassifierBlockJob(source, config["n"], config["seed"], sizes, ests, x_test, source.proba(x_test),
                                config["loss"])(k)
        arrays, metrics, b = dict(tally=c.tally, loss=c.loss), {"count": c.count, "clipped": c.clipped}, c
    if b.first is not None:
        arrays["first"] = b.first
    return {"metrics": metrics, "arrays": arrays}


def _block_configs(source, ests, *, n, n_test, loss, seed, sizes):
    """The blocks' job configs, or the reason they cannot be written as JSON."""
    from .estimators import NotDescribable, to_spec

    src = source.to_config()
    if src is None:
        return None, "the source's target is a Python callable, not an expression"
    try:
        specs = [to_spec(e) for e in ests]
    except NotDescribable as exc:
        return None, str(exc)
    return [{"engine": "general", "source": src, "estimators": specs, "n": n, "n_test": n_test, "loss": loss,
             "seed": seed, "block": k, "size": size} for k, size in enumerate(sizes)], None


def _run_general(job, configs, why, *, store, dask, seed, jobs, progress, classify: bool):
    """The blocks of the general engine: through the sweep executor and store when the
    configs can be written as JSON, else in this process (and joblib's workers)."""
    if configs is None:
        if store is not None or dask is not None:
            raise GenlabError(f"this decomposition cannot run through a store or Dask: {why}; "
                              "use an expression and estimators importable from a module, or drop store/dask")
        return _run_blocks(job, len(job.sizes), jobs, progress)
    from .execute import sweep

    res = sweep(decompose_block_job, configs, store=store, seed=seed, jobs=jobs, dask=dask,
                progress=progress)
    blocks = []
    for rec in res.records:
        a, m = rec["arrays"], rec["metrics"]
        if classify:
            blocks.append(_ClassBlock(int(m["count"]), a["tally"], a["loss"], a.get("first"), int(m["clipped"])))
        else:
            blocks.append(_Block(int(m["count"]), a["mean"], a["m2"], a["cov"], a["dist"], a["error"], a["noise"],
                                 a.get("first")))
    return blocks


def _label(est) -> str:
    params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    if "degree" in params:
        return f"degree {params['degree']}"
    return type(est).__name__


def decompose(estimators, source: SyntheticSource | ClassificationSource | None = None, *, n: int = 30, n_datasets: int = 1000,
              n_test: int = 200, loss: str = "squared", seed: int = 0, jobs: int = 1, labels=None,
              knob: str = "model", values=None, progress=None, store=None, dask=None) -> BiasVariance:
    """Bias-variance decomposition of any scikit-learn estimator(s), each cloned per dataset.

    Parameters
    ----------
    estimators : estimator or list of estimators
        Unfitted; each is cloned and fitted on every dataset (one input feature).
    source : SyntheticSource, default: the article's
    n, n_datasets, n_test, seed
        As in :func:`decompose_polynomial`; the same seed draws the same datasets,
        so the two engines can be compared dataset by dataset.
    loss : {"squared", "zero_one", "cross_entropy"}
        Squared loss for a :class:`SyntheticSource`. For a
        :class:`ClassificationSource`: ``"zero_one"`` decomposes as Domingos
        (2000) — main prediction = the mode over datasets, bias = [mode ≠ optimal
        class], variance = P(h ≠ mode), net variance with the sign rule, noise =
        1 − max P(y | x), error = c1·noise + bias + net variance exactly;
        ``"cross_entropy"`` as Heskes (1998) — main prediction = the normalized
        geometric mean q̄, bias = KL(p ‖ q̄), variance = E_D KL(q̄ ‖ q_D), noise =
        the entropy of P(y | x). Standard errors by a delete-a-block jackknife.
    jobs : int
        Worker processes over blocks of datasets; the result does not depend on it.
    store : str or Path, optional
        A results store (:mod:`genlab.store`): each block of datasets is one
        job, so an interrupted decomposition resumes where it stopped and a
        finished one is read back instead of refitted. Default: a temporary one.
    dask : str, optional
        Run the blocks on Dask (``"local"`` or a scheduler address), as
        :func:`genlab.execute.run_sweep`.

    The blocks run through the sweep executor whenever the source is an
    expression and the estimators can be rebuilt from JSON (scikit-learn
    estimators, pipelines, genlab's, your own classes in an importable
    module); otherwise (a lambda target, a class defined in ``__main__``) they
    run in this process, and ``store``/``dask`` are refused.

    Returns
    -------
    BiasVariance
    """
    source = source if source is not None else SyntheticSource()
    n, n_datasets, n_test, seed = _check_common(source, n, n_datasets, n_test, seed)
    classify = isinstance(source, ClassificationSource)
    if loss not in LOSSES:
        raise GenlabError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if classify and loss == "squared":
        raise GenlabError("squared loss needs a regression source; for class labels use zero_one or cross_entropy")
    if not classify and loss != "squared":
        raise GenlabError(f"{loss} loss needs class labels, but the target is continuous; "
                          "use a ClassificationSource or squared loss")
    ests = list(estimators) if isinstance(estimators, (list, tuple)) else [estimators]
    needs = ("fit", "predict_proba" if loss == "cross_entropy" else "predict", "get_params")
    for est in ests:
        for method in needs:
            if not callable(getattr(est, method, None)):
                raise GenlabError(f"{type(est).__name__} has no {method}(); give a scikit-learn "
                                  f"{'classifier' if classify else 'regressor'}")
    from sklearn.base import is_classifier, is_regressor

    for est in ests:
        if classify and not is_classifier(est):
            raise GenlabError(f"{type(est).__name__} is not a classifier; {loss} loss needs class predictions")
        if not classify and not is_regressor(est):
            raise GenlabError(f"{type(est).__name__} is not a regressor; squared loss needs numeric predictions")
    x_test = source.x_dist.quantiles(n_test)
    labels = list(labels) if labels is not None else [_label(e) for e in ests]
    values = np.asarray(values) if values is not None else np.arange(len(ests))
    bs, sizes = _blocks_of(n_datasets)
    if classify:
        p = source.proba(x_test)
        job = _ClassifierBlockJob(source, n, seed, sizes, ests, x_test, p, loss)
        configs, why = _block_configs(source, ests, n=n, n_test=n_test, loss=loss, seed=seed, sizes=sizes)
        blocks = _run_general(job, configs, why, store=store, dask=dask, seed=seed, jobs=jobs, progress=progress,
                              classify=True)
        return _finish_classification(
            blocks, p=p, loss=loss, labels=labels, knob=knob, values=values, x_test=x_test, n=n,
            config={"engine": "general", "source": source.describe(), "n": n, "n_datasets": n_datasets,
                    "n_test": n_test, "seed": seed, "block": bs, "models": labels, "loss": loss})
    sbar = source.mean(x_test)
    job = _EstimatorBlockJob(source, n, seed, sizes, ests, x_test, sbar)
    configs, why = _block_configs(source, ests, n=n, n_test=n_test, loss=loss, seed=seed, sizes=sizes)
    blocks = _run_general(job, configs, why, store=store, dask=dask, seed=seed, jobs=jobs, progress=progress,
                          classify=False)

    def to_points(mean, cov):
        return mean.T, (None if cov is None else np.diagonal(cov, axis1=1, axis2=2))

    return _finish(blocks, weight=1.0 / n_test, g=sbar[:, None], r=np.zeros(len(ests)), to_points=to_points,
                   labels=labels, knob=knob, values=values, x_test=x_test, ybar=sbar, n=n,
                   config={"engine": "general", "source": source.describe(), "n": n, "n_datasets": n_datasets,
                           "n_test": n_test, "seed": seed, "block": bs, "models": labels})


# -- real data: no known source ------------------------------------------------------

DATA_METHODS = ("disjoint", "bootstrap")


@dataclass
class _RoundJob:
    X_pool: np.ndarray
    y_pool: np.ndarray
    X_test: np.ndarray
    estimators: list
    indices: list  # training indices of each round

    def __call__(self, r: int) -> np.ndarray:
        from sklearn.base import clone

        idx = self.indices[r]
        out = np.empty((self.X_test.shape[0], len(self.estimators)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, est in enumerate(self.estimators):
                out[:, i] = clone(est).fit(self.X_pool[idx], self.y_pool[idx]).predict(self.X_test)
        return out


def _data_plan(n_total: int, *, method: str, n_train, rounds: int, test_fraction: float, seed: int):
    """The held-out test rows, the pool and each round's training rows (indices into the pool)."""
    g = make_rng(seed, "biasvar-data")
    perm = g.permutation(n_total)
    n_test = int(round(n_total * test_fraction))
    test, pool = perm[:n_test], perm[n_test:]
    if n_test < 1 or pool.size < 2:
        raise GenlabError(f"{n_total} points are too few to hold out {test_fraction:g} and still train; "
                          "change test_fraction or use more data")
    if method == "disjoint":
        n_train = n_train or max(1, pool.size // 10)
        k = min(pool.size // n_train, check_n(rounds, "rounds"))
        if k < 2:
            raise GenlabError(f"the pool of {pool.size} points holds fewer than 2 disjoint training sets of "
                              f"{n_train}; lower n_train")
        shuffled = g.permutation(pool.size)
        indices = [shuffled[i * n_train:(i + 1) * n_train] for i in range(k)]
    else:
        n_train = n_train or pool.size
        k = check_n(rounds, "rounds")
        if k < 2:
            raise GenlabError("the bootstrap needs at least 2 rounds")
        indices = [g.integers(0, pool.size, n_train) for _ in range(k)]
    return test, pool, indices


def _round_configs(data, ests, *, method, n_train, rounds, test_fraction, seed, k):
    """The rounds' job configs, or the reason they cannot be written as JSON."""
    from .estimators import NotDescribable, to_spec

    if data.origin is None:
        return None, "the data was made in memory (load it with load_dataset or load_csv)"
    try:
        specs = [to_spec(e) for e in ests]
    except NotDescribable as exc:
        return None, str(exc)
    plan = {"data": data.origin, "fingerprint": data.fingerprint(), "estimators": specs, "method": method,
            "n_train": n_train, "rounds": rounds, "test_fraction": test_fraction, "seed": seed}
    return [{**plan, "round": r} for r in range(k)], None


@functools.lru_cache(maxsize=4)
def _round_setup(plan_json: str):
    """A worker's data and split for one decomposition (cached: its rounds arrive one by one)."""
    import json

    from .data import dataset_from_origin

    plan = json.loads(plan_json)
    data = dataset_from_origin(plan["data"])
    if data.fingerprint() != plan["fingerprint"]:
        raise GenlabError(f"the data at {plan['data']} changed since the decomposition started "
                          "(its fingerprint differs); use another store to start again")
    test, pool, indices = _data_plan(data.n, method=plan["method"], n_train=plan["n_train"],
                                     rounds=plan["rounds"], test_fraction=plan["test_fraction"], seed=plan["seed"])
    return data.X[pool], data.y[pool], data.X[test], indices


def decompose_round_job(config: dict, seed) -> dict:
    """One round of :func:`decompose_data` (fit every estimator on one training set) as a sweep job.

    The config names the data by where it can be loaded (:attr:`Dataset.origin`)
    and its fingerprint, so a worker on another machine of a Dask cluster
    refits on the same numbers or fails with a clear message.
    """
    import json

    from .estimators import from_spec

    plan = {k: v for k, v in config.items() if k != "round"}
    X_pool, y_pool, X_test, indices = _round_setup(json.dumps(plan, sort_keys=True))
    job = _RoundJob(X_pool, y_pool, X_test, [from_spec(e) for e in config["estimators"]], indices)
    return {"arrays": {"predictions": job(config["round"])}}


def decompose_data(estimators, data, *, method: str = "disjoint", n_train: int | None = None,
                   rounds: int = 200, test_fraction: float = 0.25, loss: str = "squared", seed: int = 0,
                   jobs: int = 1, labels=None, knob: str = "model", values=None, progress=None, store=None,
                   dask=None) -> BiasVariance:
    """Bias and variance from one dataset, where no source is known.

    A test set is held out once; the models are trained on ``"disjoint"``
    subsets of the rest (independent draws from the data's distribution, as
    many as fit) or on ``"bootstrap"`` resamples of it. Without the true
    ȳ(x), the noise cannot be separated: the result reports *bias² + noise*
    (squared loss) or *bias with noise included* (0-1 loss, Domingos with the
    observed label as the target), and says so in ``config["notes"]``.
    Bootstrap samples overlap, so their variance is that of resampling this
    dataset — not the variance over fresh datasets, which it underestimates.

    Parameters
    ----------
    estimators : estimator or list of estimators
    data : Dataset
    method : {"disjoint", "bootstrap"}
    n_train : int, optional
        Training points per round (default: a tenth of the pool for disjoint
        subsets, the whole pool for the bootstrap).
    rounds : int
        Bootstrap rounds (disjoint: as many subsets as fit, at most this many).
    test_fraction : float
        Share of the data held out for testing.
    loss : {"squared", "zero_one"}
    jobs, store, dask, progress
        As in :func:`decompose`: each round is a job of the sweep executor and
        its store (resumable; Dask-capable) when the data was loaded with
        :func:`~genlab.data.load_dataset` or :func:`~genlab.data.load_csv` (so a
        worker can load it again) and the estimators can be rebuilt from JSON;
        otherwise the rounds run in this process.

    Returns
    -------
    BiasVariance
    """
    from .data import Dataset

    if not isinstance(data, Dataset):
        raise GenlabError("decompose_data needs a Dataset (load_dataset, load_csv, or a source's draw)")
    if method not in DATA_METHODS:
        raise GenlabError(f"unknown method {method!r}; choose disjoint or bootstrap")
    if loss not in ("squared", "zero_one"):
        raise GenlabError(f"loss {loss!r} is not available on real data; use squared or zero_one")
    if loss == "zero_one" and data.task != "classification":
        raise GenlabError("zero_one loss needs class labels, but the target is continuous; use squared")
    if not 0 < test_fraction < 1:
        raise GenlabError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    seed = check_seed(seed)
    ests = list(estimators) if isinstance(estimators, (list, tuple)) else [estimators]
    for est in ests:
        if not callable(getattr(est, "fit", None)) or not callable(getattr(est, "predict", None)):
            raise GenlabError(f"{type(est).__name__} has no fit/predict; give a scikit-learn estimator")
    test, pool, indices = _data_plan(data.n, method=method, n_train=n_train, rounds=rounds,
                                     test_fraction=test_fraction, seed=seed)
    k, n_train, n_test = len(indices), len(indices[0]), len(test)
    configs, why = _round_configs(data, ests, method=method, n_train=n_train, rounds=rounds,
                                  test_fraction=test_fraction, seed=seed, k=k)
    if configs is None:
        if store is not None or dask is not None:
            raise GenlabError(f"this decomposition cannot run through a store or Dask: {why}")
        job = _RoundJob(data.X[pool], data.y[pool], data.X[test], ests, indices)
        H = np.stack(_run_blocks(job, k, jobs))                        # (R, m, M)
    else:
        from .execute import sweep

        res = sweep(decompose_round_job, configs, store=store, seed=seed, jobs=jobs, dask=dask,
                    progress=progress)
        H = np.stack(res.arrays("predictions"))
    y_t = data.y[test].astype(float)
    R = k
    labels = list(labels) if labels is not None else [_label(e) for e in ests]
    values = np.asarray(values) if values is not None else np.arange(len(ests))
    notes = ["no source is known: noise cannot be separated from bias (it is included in the bias term)"]
    if method == "bootstrap":
        notes.append("bootstrap samples overlap: this variance is that of resampling one dataset, "
                     "not of fresh datasets, and usually underestimates it")

    def terms(Hs):
        if loss == "squared":
            hbar = Hs.mean(axis=0)
            var_x = Hs.var(axis=0, ddof=1)
            var = var_x.mean(axis=0)
            bn = ((hbar - y_t[:, None]) ** 2).mean(axis=0) - var / Hs.shape[0]
            return bn, var, bn + var, hbar, var_x
        classes = np.unique(np.concatenate([Hs.ravel(), y_t])).astype(int)
        P = np.stack([(Hs == c).mean(axis=0) for c in classes], axis=-1)  # (m, M, C)
        ym = classes[np.argmax(P, axis=-1)]
        p_ym = P.max(axis=-1)
        p_y = np.take_along_axis(P, np.searchsorted(classes, y_t.astype(int))[:, None, None]
                                 .repeat(P.shape[1], 1), 2)[..., 0]
        B = (ym != y_t[:, None]).astype(float)
        V = 1 - p_ym
        with np.errstate(divide="ignore", invalid="ignore"):
            c2 = np.where(B == 0, 1.0, -np.where(V > 0, p_y / V, 0.0))
        return B.mean(0), V.mean(0), (B + c2 * V).mean(0), ym.T.astype(float), V

    bn, var, total, hbar, var_x = terms(H)
    if loss == "squared":
        per_round = ((H - y_t[None, :, None]) ** 2).mean(axis=1)       # (R, M)
    else:
        per_round = (H != y_t[None, :, None]).mean(axis=1)
    if R <= 2:
        loo = None
    elif loss == "squared":  # leave-one-round-out terms in closed form, (R, M) each
        S1, S2 = H.sum(axis=0), (H ** 2).sum(axis=0)
        m1 = (S1[None] - H) / (R - 1)
        v = (((S2[None] - H ** 2) - (R - 1) * m1 ** 2) / (R - 2)).mean(axis=1)
        loo = (((m1 - y_t[None, :, None]) ** 2).mean(axis=1) - v / (R - 1), v)
    else:
        reps = [terms(np.delete(H, r, axis=0)) for r in range(R)]
        loo = (np.array([t[0] for t in reps]), np.array([t[1] for t in reps]))

    def jk(i):
        if loo is None:
            return np.full(len(ests), np.nan)
        r = loo[i]
        return np.sqrt((R - 1) / R * ((r - r.mean(0)) ** 2).sum(0))

    es = summarize(per_round)
    M = len(ests)
    return BiasVariance(
        labels=labels, knob=knob, values=values, x_test=np.arange(n_test, dtype=float), ybar=y_t,
        n_datasets=R, n=int(n_train), bias2=bn, bias2_se=jk(0), variance=var, variance_se=jk(1),
        noise=np.zeros(M), noise_se=np.zeros(M), error=es["mean"], error_se=es["se"],
        error_median=es["median"], error_trimmed=es["trimmed"], heavy_tail=es["heavy_tail"],
        drift_z=np.zeros(M), hbar=(hbar.T if loss == "squared" else hbar), var_x=var_x.T,
        first_fits=H[:N_FIRST].transpose(0, 2, 1), per_dataset_error=per_round, per_dataset_dist=per_round,
        config={"engine": "real data", "data": data.name, "method": method, "rounds": R, "n_train": int(n_train),
                "n_test": n_test, "seed": seed, "models": labels, "notes": notes},
        mode=f"{method}-splits" if method == "disjoint" else "bootstrap", loss=loss, sum_terms=total)
