"""Minimum-norm least squares by the singular value decomposition: one fit, or every nested model size.

Every solver here keeps the singular values above numpy's ``pinv`` cut-off,
``max(n, p) · eps · s_max`` (:func:`pinv_mask`), and applies the
pseudo-inverse (or a ridge filter ``s / (s² + α)``) to the targets:

* :func:`svd_minnorm` — one design, one thin SVD (what
  :class:`~genlab.models.random_features.RandomFeaturesRegressor` fits);
* :func:`svd_solve` — the same from factors already computed (the ablations
  of the sample-wise double descent reuse them);
* :func:`nested_least_squares` — every leading block of columns
  ``Phi[:, :p]`` from one growing factorization (the double-descent sweeps).

:func:`genlab.linalg.solvers.minnorm` is LAPACK's own driver (``gelsd``,
through ``np.linalg.lstsq``) with the same cut-off: the solver of
:class:`~genlab.models.polynomial.PolynomialRegression` and the
bias-variance engine, kept beside these because the two drivers round
differently and the article's numbers come from it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.linalg import lapack, solve_triangular

from ..core.errors import GenlabError
from .solvers import EPS, SolveInfo

__all__ = ["NestedFit", "nested_least_squares", "pinv_mask", "svd_minnorm", "svd_solve"]


def pinv_mask(s, shape) -> np.ndarray:
    """The singular values ``s`` (descending) of a matrix of ``shape`` that numpy's ``pinv`` keeps.

    Returns
    -------
    ndarray of bool
        ``s > max(shape) · eps · s[0]``; all False when ``s`` is empty or zero.
    """
    if s.size == 0 or not s[0] > 0:
        return np.zeros(s.size, bool)
    return s > max(shape) * EPS * s[0]


def svd_solve(U, s, Vt, Y, keep, alpha: float = 0.0) -> np.ndarray:
    """Coefficients from a thin SVD ``A = U diag(s) Vt``, on the singular values in ``keep``.

    Parameters
    ----------
    U, s, Vt : ndarray
        The thin SVD of the design.
    Y : ndarray of shape (n,) or (n, n_outputs)
    keep : ndarray of bool
        The singular values to use (:func:`pinv_mask`, or fewer).
    alpha : float, default=0.0
        0: the pseudo-inverse, ``Σ v_r (u_r · Y) / s_r``; otherwise ridge
        without intercept, ``argmin ‖A c − Y‖² + α ‖c‖²`` (filter ``s / (s² + α)``).

    Returns
    -------
    ndarray of shape (p,) or (p, n_outputs), as ``Y``
    """
    Y2 = Y.reshape(Y.shape[0], -1)
    w = U[:, keep].T @ Y2
    sk = s[keep][:, None]
    coef = Vt[keep].T @ (w / sk if alpha == 0 else w * (sk / (sk ** 2 + alpha)))
    return coef[:, 0] if Y.ndim == 1 else coef


def svd_minnorm(A, Y, alpha: float = 0.0) -> tuple[np.ndarray, SolveInfo]:
    """Minimum-norm least squares (``alpha == 0``) or ridge without intercept, by one thin SVD.

    Past ``p = n`` the minimum-norm solution interpolates.

    Returns
    -------
    coef : ndarray of shape (p,) or (p, n_outputs)
    info : SolveInfo
        The singular values of ``A`` and how many were kept.
    """
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    keep = pinv_mask(s, A.shape)
    return svd_solve(U, s, Vt, Y, keep, alpha), SolveInfo(s, int(keep.sum()), A.shape[1])


# =============================================================================== nested model sizes

class NestedFit(NamedTuple):
    """The fit of the leading ``p`` columns.

    ``coef`` has shape (p, n_outputs), or (p, n_outputs, n_alphas) when
    penalties were given; ``singular_values`` are those of ``Phi[:, :p]``
    (descending, min(n, p) of them); ``rank`` counts those above the cut-off
    ``max(n, p) · eps · s_max`` (numpy's ``pinv`` default).
    """

    p: int
    coef: np.ndarray
    singular_values: np.ndarray
    rank: int

    @property
    def sigma_min(self) -> float:
        """The smallest singular value kept (the smallest non-zero one)."""
        return float(self.singular_values[self.rank - 1]) if self.rank else 0.0


def _r_factor(A) -> np.ndarray:
    """The R factor (upper triangle, first min(shape) rows) of a Householder QR of ``A``."""
    qr, _, _, info = lapack.dgeqrf(np.asfortranarray(A), overwrite_a=True)
    if info != 0:  # pragma: no cover - LAPACK argument errors only
        raise RuntimeError(f"dgeqrf failed ({info})")
    k = min(A.shape)
    return np.triu(qr[:k])


def _penalties(alphas, p, s):
    """The ridge penalties of model size ``p`` (None: minimum norm)."""
    if alphas is None:
        return None
    if callable(alphas):
        return np.asarray(alphas(p, s), dtype=np.float64).reshape(-1)
    return np.asarray(alphas, dtype=np.float64)


def _column_qr(Phi, Y2, m):
    """One QR of ``[Phi[:, :m] | Y]``: the triangle ``R_m`` and ``z = Q_mᵀ Y``."""
    n, k = Y2.shape
    aug = np.empty((n, m + k), order="F")
    aug[:, :m] = Phi[:, :m]
    aug[:, m:] = Y2
    qr, _, _, _ = lapack.dgeqrf(aug, overwrite_a=True)
    return np.triu(qr[:m, :m]), qr[:m, m:m + k]


def _fit_below(T, z, n, alphas):
    """Under the threshold: the fit of ``Phi_p = Q_p T`` (T the leading p × p triangle), from ``z = Q_pᵀ Y``."""
    p = T.shape[0]
    s = np.linalg.svd(T, compute_uv=False)
    r = int(pinv_mask(s, (n, p)).sum())
    if alphas is None and r == p:  # full rank: pinv(R_p) = R_p⁻¹, one triangular solve
        return solve_triangular(T, z, check_finite=False), s, r
    U, s, Vt = np.linalg.svd(T)
    al = _penalties(alphas, p, s)
    w = U[:, :r].T @ z  # (r, k)
    sk = s[:r]
    if al is None:
        return Vt[:r].T @ (w / sk[:, None]), s, r
    filt = sk[:, None] / (sk[:, None] ** 2 + al[None, :])             # (r, L)
    return np.einsum("jr,rk,rl->jkl", Vt[:r].T, w, filt, optimize=True), s, r


def _fit_above(R, Phi_p, Y2, alphas):
    """Over the threshold: the fit of ``Phi_p`` (n × p, p > n) from the R factor of ``Phi_pᵀ``."""
    n, p = Phi_p.shape
    k = Y2.shape[1]
    s = np.linalg.svd(R, compute_uv=False)
    r = int(pinv_mask(s, (n, p)).sum())
    if alphas is None and r == n:  # full rank: (ΦΦᵀ)⁻¹Y = R⁻¹R⁻ᵀY, two triangular solves
        A = solve_triangular(R, solve_triangular(R, Y2, trans="T", check_finite=False), check_finite=False)
        return Phi_p.T @ A, s, r
    _, s, Vt = np.linalg.svd(R)
    al = _penalties(alphas, p, s)
    V = Vt[:r].T                         # (n, r): left singular vectors of Phi_p
    w = V.T @ Y2                         # (r, k)
    sk2 = s[:r] ** 2
    if al is None:
        return Phi_p.T @ (V @ (w / sk2[:, None])), s, r
    filt = 1.0 / (sk2[:, None] + al[None, :])
    A = np.einsum("ir,rk,rl->ikl", V, w, filt, optimize=True).reshape(n, k * al.size)
    return (Phi_p.T @ A).reshape(p, k, al.size), s, r


def _grow_r(R, Phi, p_done, p):
    """The R factor of ``Phi[:, :p]ᵀ`` from that of ``Phi[:, :p_done]ᵀ`` (None: none yet) and the new rows."""
    n = Phi.shape[0]
    if R is None:
        return _r_factor(Phi[:, :p].T.copy())
    stack = np.empty((n + p - p_done, n), order="F")
    stack[:n] = R
    stack[n:] = Phi[:, p_done:p].T
    return _r_factor(stack)


def _check_ps(ps, P) -> list[int]:
    ps = [int(p) for p in ps]
    if not ps or any(b <= a for a, b in zip(ps, ps[1:])) or ps[0] < 1 or ps[-1] > P:
        raise GenlabError(f"model sizes must be increasing integers in 1..{P}, got {ps}")
    return ps


def nested_least_squares(Phi, Y, ps, *, alphas=None):
    """Minimum-norm (or ridge) fits of every leading block ``Phi[:, :p]``, one factorization for all.

    Parameters
    ----------
    Phi : ndarray of shape (n, P)
        Design (e.g. random features); column order defines the nesting.
    Y : ndarray of shape (n,) or (n, n_outputs)
    ps : sequence of int
        Model sizes, ascending, each in 1..P.
    alphas : sequence of float or callable, optional
        Ridge penalties (``‖Φβ − Y‖² + α‖β‖²``); 0 is the minimum-norm
        solution. When given, ``coef`` carries one fit per penalty. A callable
        ``alphas(p, singular_values)`` gives each p its own penalties (e.g.
        relative to ``(singular_values ** 2).sum() / n``, the mean squared
        feature norm), from the same SVD.

    Yields
    ------
    NestedFit
        In the order of ``ps``.

    Notes
    -----
    Under the threshold (p <= n) the columns are nested, and so are the
    factors of one Householder QR ``[Phi[:, :n] | Y] = Q [R | z]``:
    ``Phi[:, :p] = Q_p R[:p, :p]`` and ``Q_pᵀ Y = z[:p]``. The minimum-norm
    least-squares solution is ``pinv(R_p) z_p``, so each p costs the singular
    values of the p × p triangle ``R_p`` (for σ_min and numpy's cut-off) and a
    triangular solve — a full SVD ``R_p = U S Vᵀ`` only when the cut-off drops
    a direction or penalties are asked for — and nothing of size n.

    Over the threshold (p > n) the *rows* of ``Phi[:, :p]ᵀ`` are nested: its
    R factor (n × n) is updated by appending the new rows,
    ``R_new = qr_r([R_old; Phi[:, p_old:p]ᵀ])`` (the R factor of stacked rows
    is that of the stacked R and rows), so every p above n shares one growing
    factorization of cost O(n² P) in all — never an SVD of the n × p block.
    With ``R = U S Vᵀ``, ``Phi_p = V S (Q_p U)ᵀ`` and the minimum-norm
    solution is ``Phi_pᵀ V S⁻² Vᵀ Y`` — at full rank ``Phi_pᵀ R⁻¹ R⁻ᵀ Y``, two
    triangular solves (the seminormal form of the underdetermined problem,
    accurate to O(eps · cond) because it uses the stable factor R, never the
    Gram matrix ΦΦᵀ, whose condition is squared). The same SVD gives every
    singular value, the cut-off of ``np.linalg.pinv`` and any number of ridge
    penalties at once (``S⁻²`` → ``(S² + α)⁻¹`` and, below n, ``S⁻¹`` →
    ``S / (S² + α)``). Both regimes need different factors because the
    pseudo-inverse changes side at p = n: below it projects Y onto the
    column space, above it picks the smallest of many interpolants.
    """
    Phi = np.asarray(Phi, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    squeeze = Y.ndim == 1 and alphas is None
    Y2 = Y.reshape(Y.shape[0], -1)
    n, P = Phi.shape
    ps = _check_ps(ps, P)
    m = min(n, P, max((p for p in ps if p <= n), default=0))
    if m:
        Rm, z = _column_qr(Phi, Y2, m)
    R, p_done = None, 0  # over the threshold: the growing R factor of Phi[:, :p]ᵀ
    for p in ps:
        if p <= n:
            coef, s, r = _fit_below(Rm[:p, :p], z[:p], n, alphas)
        else:
            R, p_done = _grow_r(R, Phi, p_done, p), p
            coef, s, r = _fit_above(R, Phi[:, :p], Y2, alphas)
        yield NestedFit(p, coef[:, 0] if squeeze else coef, s, r)
