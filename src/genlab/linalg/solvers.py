"""Solvers for linear-in-parameters models ``y ~ A @ coef``.

Every solver returns the coefficients and a :class:`SolveInfo` with the
singular values of the design and the rank it used, so a caller can report
conditioning without factorizing twice.

Conventions for ``alpha`` follow scikit-learn: ridge minimizes
``||y - A c||^2 + alpha ||c[1:]||^2`` (the constant column, column 0, is not
penalized, as scikit-learn's ``Ridge`` leaves the intercept alone); lasso
minimizes ``||y - A c||^2 / (2 n) + alpha ||c[1:]||_1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.checks import check_nonnegative
from ..core.errors import GenlabError

SOLVERS = ("lstsq", "minnorm", "ridge", "lasso")
EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class SolveInfo:
    singular_values: np.ndarray  # of the matrix the solver factorized, descending
    rank: int                    # singular values kept by the solver
    n_params: int

    @property
    def condition_number(self) -> float:
        s = self.singular_values
        if s.size == 0 or s[-1] <= 0:
            return float("inf")
        return float(s[0] / s[-1])


def check_solver(solver: str, alpha: float) -> tuple[str, float]:
    if solver not in SOLVERS:
        raise GenlabError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    alpha = check_nonnegative(alpha, "alpha")
    if solver == "lasso" and alpha == 0:
        raise GenlabError("lasso needs alpha > 0 (with alpha = 0 use solver='lstsq')")
    return solver, alpha


def _column_scale(A: np.ndarray) -> np.ndarray:
    scale = np.sqrt(np.einsum("ij,ij->j", A, A))
    scale[scale == 0] = 1.0
    return scale


def lstsq_cutoff(A, y, rcond: float | None = None):
    """Least squares as ``np.polyfit`` does it: columns scaled to unit norm,
    singular values below ``rcond * s_max`` dropped (default ``n * eps``).

    The cut-off is what keeps a degree-30 monomial fit on 30 points finite
    (and gives the article's RMSE of about 0.05 rather than 0).
    """
    n = A.shape[0]
    rcond = n * EPS if rcond is None else rcond
    scale = _column_scale(A)
    c, _, rank, s = np.linalg.lstsq(A / scale, y, rcond=rcond)
    return (c.T / scale).T, SolveInfo(s, int(rank), A.shape[1])


def minnorm(A, y):
    """The minimum-norm least-squares solution (pseudo-inverse), cut only at
    machine precision (``eps * max(n, p)``). Past ``p >= n`` it interpolates."""
    c, _, rank, s = np.linalg.lstsq(A, y, rcond=None)
    return c, SolveInfo(s, int(rank), A.shape[1])


def ridge_path(A, y, alphas) -> tuple[np.ndarray, SolveInfo]:
    """Ridge for every alpha from one SVD (constant column 0 unpenalized).

    Parameters
    ----------
    A : ndarray of shape (n, P)
    y : ndarray of shape (n,) or (n, T)
    alphas : array-like of shape (k,)

    Returns
    -------
    coef : ndarray of shape (P, k), or (P, k, T) for several targets
    info : SolveInfo of the centered non-constant columns
    """
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    Y = y.reshape(len(y), -1)
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    y_mean = Y.mean(axis=0)
    if A.shape[1] == 1:
        coef = np.broadcast_to(y_mean, (1, alphas.size, Y.shape[1])).copy()
        info = SolveInfo(np.array([np.sqrt(A.shape[0])]), 1, 1)
    else:
        B = A[:, 1:]
        b_mean = B.mean(axis=0)
        U, s, Vt = np.linalg.svd(B - b_mean, full_matrices=False)
        keep = s > EPS * max(B.shape) * (s[0] if s.size else 0.0)
        d = np.where(keep[:, None], s[:, None] / (s[:, None] ** 2 + alphas[None, :]), 0.0)   # (r, k)
        w = np.einsum("pr,rk,rt->pkt", Vt.T, d, U.T @ (Y - y_mean))                        # (P-1, k, T)
        coef = np.concatenate([(y_mean - np.einsum("p,pkt->kt", b_mean, w))[None], w])
        info = SolveInfo(s, int(keep.sum()) + 1, A.shape[1])
    return (coef[..., 0] if y.ndim == 1 else coef), info


def ridge_paths(A, y, alphas) -> np.ndarray:
    """:func:`ridge_path` of many datasets at once: ``A`` (b, n, P), ``y`` (b, n) -> coef (b, P, k).

    One stacked SVD (numpy runs the same LAPACK routine on each matrix of the stack: the singular values equal
    :func:`ridge_path`'s bit for bit) and array products over the stack, without a Python loop. The
    coefficients equal a loop of :func:`ridge_path` up to rounding (tests/test_solvers_batched.py); on the
    bias-variance engine's designs (1,000 datasets, degree 30, n = 30) it is 1.6-1.9x faster
    (bench/ridge_paths.py).
    """
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if A.ndim != 3 or y.shape != A.shape[:2]:
        raise ValueError(f"ridge_paths takes A of shape (b, n, P) and y of shape (b, n), got {A.shape} and {y.shape}")
    y_mean = y.mean(axis=1)                                                        # (b,)
    if A.shape[2] == 1:
        return np.broadcast_to(y_mean[:, None, None], (A.shape[0], 1, alphas.size)).copy()
    B = A[:, :, 1:]
    b_mean = B.mean(axis=1)                                                        # (b, P-1)
    U, s, Vt = np.linalg.svd(B - b_mean[:, None, :], full_matrices=False)          # (b, n, r), (b, r), (b, r, P-1)
    keep = s > EPS * max(B.shape[1:]) * (s[:, :1] if s.shape[1] else 0.0)
    d = np.where(keep[:, :, None], s[:, :, None] / (s[:, :, None] ** 2 + alphas), 0.0)    # (b, r, k)
    c = np.einsum("bnr,bn->br", U, y - y_mean[:, None])                            # (b, r)
    w = np.einsum("brp,brk->bpk", Vt, d * c[:, :, None])                           # (b, P-1, k)
    return np.concatenate([(y_mean[:, None] - np.einsum("bp,bpk->bk", b_mean, w))[:, None], w], axis=1)


def ridge(A, y, alpha: float):
    """Ridge with an unpenalized constant column 0 (one target or several)."""
    coef, info = ridge_path(A, y, [alpha])
    return coef[:, 0], info


def lasso(A, y, alpha: float, *, max_iter: int = 20_000, tol: float = 1e-6):
    """Lasso (scikit-learn's coordinate descent) with an unpenalized constant column 0."""
    from sklearn.linear_model import Lasso

    A = np.asarray(A, dtype=np.float64)
    s_all = np.linalg.svd(A / _column_scale(A), compute_uv=False)
    if A.shape[1] == 1:
        return np.array([np.mean(y)]), SolveInfo(s_all, 1, 1)
    model = Lasso(alpha=alpha, fit_intercept=True, max_iter=max_iter, tol=tol)
    model.fit(A[:, 1:], y)
    coef = np.concatenate([[model.intercept_], model.coef_])
    return coef, SolveInfo(s_all, int(np.count_nonzero(model.coef_)) + 1, A.shape[1])


def solve(A, y, solver: str = "lstsq", alpha: float = 0.0, rcond: float | None = None):
    """Fit ``y ~ A @ coef`` with one of :data:`SOLVERS`; returns ``(coef, SolveInfo)``."""
    solver, alpha = check_solver(solver, alpha)
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if solver == "lstsq":
        return lstsq_cutoff(A, y, rcond)
    if solver == "minnorm":
        return minnorm(A, y)
    if solver == "ridge":
        return ridge(A, y, alpha)
    return lasso(A, y, alpha)
