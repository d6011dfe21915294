"""The fast engine: every degree of a polynomial family (or every ridge strength) in one pass."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ...core.checks import check_nonnegative
from ...data.sources import SyntheticSource
from ...core.errors import GenlabError
from ...linalg.bases import check_basis, check_degree
from ...core.limits import biasvar_bytes, check_memory
from .blocks import Block, N_FIRST, SHRINK, block_size, blocks_of, check_common, draw_block, draw_test_noise, run_blocks
from .results import BiasVariance, finish

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
        from ...linalg.nested import nested_lstsq
        from ...linalg.solvers import ridge_paths, solve

        b, P, M = x.shape[0], self.tb.degree + 1, self.degrees.size
        if self.mode == "nested":
            with np.errstate(all="ignore"):
                C, _ = nested_lstsq(self.tb(x), y, engine=self.engine)
            return C if np.array_equal(self.degrees, np.arange(P)) else C[:, :, self.degrees]
        V = self.tb.design(x)                                      # (b, n, P) in the solver's basis
        Rt = self.tb.R                                             # coefficients -> coordinates
        if self.mode == "ridge":                                   # every dataset and alpha at once
            with np.errstate(all="ignore"):
                return np.einsum("pq,bqk->bpk", Rt, ridge_paths(V, y, self.alphas))
        C = np.zeros((b, P, M))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for i in range(b):
                for j, (d, a) in enumerate(zip(self.degrees, self.alphas)):
                    coef, _ = solve(V[i, :, : d + 1], y[i], self.solver, a)
                    C[i, : d + 1, j] = Rt[: d + 1, : d + 1] @ coef
        return C

    def __call__(self, k: int) -> Block:
        size, m = self.sizes[k], self.sbar.size
        x, y = draw_block(self.source, self.n, self.seed, k, size)
        if self.mode == "nested" and self.engine == "numba":
            return self._compiled(k, x, y)
        C = self._fit(x, y)                                          # (b, P, M)
        eps = draw_test_noise(self.source, m, self.seed, k, size)
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
        return Block(size, mean, m2, cov, dist, error, noise, C[:N_FIRST] if k == 0 else None)

    def _compiled(self, k: int, x, y) -> Block:
        """The same block in compiled kernels: fits, distances and errors per dataset in one loop, then the
        block's mean and scatter; numbers equal to the LAPACK path's up to rounding."""
        from ...linalg import kernels

        size, m, tb = x.shape[0], self.sbar.size, self.tb
        eps = draw_test_noise(self.source, m, self.seed, k, size)
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
        return Block(size, mean, m2, cov, dist, error, noise, first)


def decompose_polynomial(source: SyntheticSource | None = None, degrees=range(0, 30), *, n: int = 30,
                         n_datasets: int = 10_000, n_test: int = 200, x_test=None, basis: str = "legendre",
                         solver: str | None = None, alpha: float = 0.0, alphas=None, scale=None,
                         seed: int = 0, jobs: int = 1, progress=None, engine: str = "numba") -> BiasVariance:
    """Bias-variance decomposition of polynomial fits of many degrees (or ridge strengths) in one pass.

    Long because it is one straight pipeline — check the inputs, estimate the memory, build the
    test basis and ȳ's coordinates, run the blocks, reduce them — whose steps are used nowhere else.

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
    from ..curves import parse_degrees
    from ...linalg.nested import TestBasis
    from ...linalg.solvers import check_solver

    source = source if source is not None else SyntheticSource()
    n, n_datasets, n_test, seed = check_common(source, n, n_datasets, n_test, seed)
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
    n_models = len(degrees) * (1 if alphas is None else alphas.size)
    check_memory(biasvar_bytes(n_datasets=n_datasets, block=block_size(n_datasets), n=n, n_test=n_test if x_test is None else np.size(x_test),
                               n_params=max(degrees) + 1, n_models=n_models, jobs=jobs or 1),
                 "this decomposition", SHRINK)
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
    bs, sizes = blocks_of(n_datasets)
    job = _PolyBlockJob(source, n, seed, sizes, tb, mode, dg, al, solver or "lstsq", g, sbar, r, engine)
    compiled = mode == "nested" and engine == "numba"
    if compiled and (jobs or 1) > 1:
        # threads of this process: the kernels release the GIL, and so do numpy's draws and products; no
        # worker start-up, nothing pickled. One BLAS thread each, so that jobs threads use jobs cores.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            blocks = run_blocks(job, len(sizes), jobs, progress, threads=True)
    else:
        blocks = run_blocks(job, len(sizes), jobs, progress)

    def to_points(mean, cov):
        hbar = (tb.phi_test @ mean).T                                # (M, m)
        if cov is None:
            return hbar, None
        return hbar, np.einsum("tk,dkl,tl->dt", tb.phi_test, cov, tb.phi_test)

    if alphas is None:
        labels, knob, values = [f"degree {d}" for d in degrees], "degree", dg
    else:
        labels, knob, values = [f"alpha {a:g}" for a in alphas], "alpha", alphas
    # the tail theory (tails.py) is that of least squares, noisy y and x with a density on an interval
    least_squares = mode == "nested" or (mode == "solver" and solver in ("lstsq", "minnorm") and alpha == 0)
    theory = least_squares and source.x_dist.kind == "uniform" and source.noise > 0
    return finish(blocks, weight=1.0, g=g, r=r, to_points=to_points, labels=labels, knob=knob, values=values,
                   x_test=x_test, ybar=sbar, n=n, threads=(jobs or 1) if compiled else 1, theory=theory,
                   config={"engine": f"fast-{mode}", "source": source.describe(), "n": n, "n_datasets": n_datasets,
                           "n_test": m, "basis": basis, "scale": scaled, "solver": solver or "exact least squares",
                           "alpha": alpha if alphas is None else None, "degrees": degrees, "seed": seed, "block": bs})
