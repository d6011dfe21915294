"""Batched closed-form engines for linear-in-parameters families.

The bias-variance engine needs, for each of many datasets, the least-squares
fit of every nested degree 0..P-1. One Householder QR of the augmented design
``[A | y]`` gives them all: with ``A = Q R`` and ``z = Q^T y``, the degree-d
coefficients solve ``R[:d+1, :d+1] c = z[:d+1]``, and since the inverse of an
upper-triangular matrix restricted to a leading block is the leading block of
its inverse, ``c_d = cumsum_k(R^{-1}[:, k] z[k])`` evaluated at ``k = d``. The
cost per dataset is one small QR plus one triangular inverse, for all degrees.

Two implementations: compiled kernels (:mod:`genlab.linalg.kernels`, numba) that run
the whole block — coordinates, factorization, moments — in one loop over
datasets, and the LAPACK reference (dgeqrf + dtrtri per dataset), several
times slower on 30 x 31 designs, where its per-call overhead and the Python
loop around it, not arithmetic, are the cost.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack

from .bases import vander


class TestBasis:
    """Polynomial coordinates that are orthonormal on the test points.

    ``phi(x) = vander(window(x)) @ T`` with ``T`` chosen so that
    ``phi(x_test).T @ phi(x_test) / m = I``. In these coordinates the mean
    squared difference of two fits over the test points is the squared
    Euclidean distance of their coefficients, so bias and variance need no
    predictions materialized. ``T`` is upper triangular, so nested degrees
    keep nested spans.
    """

    def __init__(self, x_test, degree: int, basis: str = "legendre", domain=(0.0, 1.0)):
        self.degree, self.basis, self.domain = degree, basis, domain
        self.x_test = np.asarray(x_test, dtype=np.float64)
        m = self.x_test.size
        if m < degree + 1:
            raise ValueError("need at least degree + 1 test points")
        V = self.design(self.x_test)
        R = np.linalg.qr(V / np.sqrt(m), mode="r")
        R *= np.sign(np.diag(R))[:, None]   # positive diagonal: a unique T
        self.R = R                          # basis coefficients -> coordinates: c_phi = R @ c
        self.T = np.linalg.inv(R)           # upper triangular
        self.phi_test = V @ self.T          # (m, P), phi.T phi / m = I
        # The phi are the orthonormal polynomials of the test points' measure, so they obey a three-term
        # recurrence u phi_k = b_{k-1} phi_{k-1} + a_k phi_k + b_k phi_{k+1} (u the windowed x), which
        # evaluates them anywhere in a few vector operations per degree.
        u, phi = self._window(self.x_test), self.phi_test
        self._a = np.einsum("t,tk,tk->k", u, phi, phi) / m
        self._b = np.einsum("t,tk,tk->k", u, phi[:, :-1], phi[:, 1:]) / m
        self._phi0 = float(phi[0, 0])

    def _window(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.domain is None:
            return x
        lo, hi = self.domain
        return (2.0 * x - (lo + hi)) / (hi - lo)

    def design(self, x) -> np.ndarray:
        """The basis's own design at x (window-mapped when ``domain`` is set): ``x.shape + (P,)``."""
        u = self._window(x)
        return vander(u.reshape(-1), self.degree, self.basis).reshape(u.shape + (self.degree + 1,))

    def __call__(self, x) -> np.ndarray:
        """Coordinates' functions at x: shape ``x.shape + (P,)`` (equal to ``design(x) @ T`` up to rounding).

        The array is a view of one laid out degree-major, ``(P,) + x.shape``.
        """
        u = self._window(x)
        a, b = self._a, self._b
        out = np.empty((self.degree + 1,) + u.shape)
        out[0] = self._phi0
        if self.degree >= 1:
            np.multiply(u - a[0], self._phi0 / b[0], out=out[1])
        tmp = np.empty(u.shape)
        for k in range(1, self.degree):
            np.subtract(u, a[k], out=tmp)
            tmp *= out[k]
            np.multiply(out[k - 1], b[k - 1], out=out[k + 1])
            np.subtract(tmp, out[k + 1], out=out[k + 1])
            out[k + 1] /= b[k]
        return np.moveaxis(out, 0, -1)


def nested_lstsq(Phi, Y, engine: str = "numba") -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients of every nested degree, for a stack of datasets.

    Parameters
    ----------
    Phi : ndarray of shape (n_datasets, n, P)
        Designs; column j is the degree-j coordinate.
    Y : ndarray of shape (n_datasets, n)
    engine : {"numba", "lapack"}
        ``"numba"``: one compiled loop that factors 8 datasets side by side
        (:mod:`genlab.linalg.kernels`); ``"lapack"``: LAPACK's dgeqrf and dtrtri per
        dataset, the reference. They agree to rounding: ~1e-14 relative on a
        well-conditioned design; on an ill-conditioned one each is within the
        least-squares rounding bound of the exact solution, not of the other.

    Returns
    -------
    C : ndarray of shape (n_datasets, P, P)
        ``C[b, j, d]`` is coefficient j of the degree-d fit on dataset b
        (zero for j > d).
    rdiag : ndarray of shape (n_datasets, P)
        |R_jj|, whose ratio to the largest shows rank deficiency.
    """
    B, n, P = Phi.shape
    if n < P:
        raise ValueError(f"nested least squares needs n >= P (n = {n}, P = {P})")
    if engine == "numba":
        from . import kernels

        return kernels.nested_lstsq(np.ascontiguousarray(Phi, dtype=np.float64),
                                    np.ascontiguousarray(Y, dtype=np.float64))
    if engine != "lapack":
        raise ValueError(f"engine must be 'numba' or 'lapack', got {engine!r}")
    # buf[b].T is dataset b's augmented design [A | y] in Fortran order: LAPACK works on it in place,
    # leaving R (then R^-1, by dtrtri) in its upper triangle and z = Q^T y in its last column
    buf = np.empty((B, P + 1, n))
    buf[:, :P] = Phi.transpose(0, 2, 1)
    buf[:, P] = Y
    dgeqrf, dtrtri = lapack.dgeqrf, lapack.dtrtri
    for b in range(B):
        a = buf[b].T                        # Fortran-contiguous: dgeqrf works in place
        dgeqrf(a, overwrite_a=1)
        r = a[:P, :P]                       # in place too when n == P; a copy comes back otherwise
        inv = dtrtri(r, overwrite_c=1)[0]   # reads and writes the upper triangle only
        if not np.may_share_memory(inv, r):
            r[...] = inv
    R = buf.transpose(0, 2, 1)
    z = R[:, :P, P]
    with np.errstate(divide="ignore"):
        rdiag = 1.0 / np.abs(np.diagonal(R[:, :P, :P], axis1=1, axis2=2))
    return np.cumsum(R[:, :P, :P] * (np.triu(np.ones((P, P))) * z[:, None, :]), axis=2), rdiag
