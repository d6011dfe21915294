"""Batched closed-form engines for linear-in-parameters families.

The bias-variance engine needs, for each of many datasets, the least-squares
fit of every nested degree 0..P-1. One Householder QR of the augmented design
``[A | y]`` gives them all: with ``A = Q R`` and ``z = Q^T y``, the degree-d
coefficients solve ``R[:d+1, :d+1] c = z[:d+1]``, and since the inverse of an
upper-triangular matrix restricted to a leading block is the leading block of
its inverse, ``c_d = cumsum_k(R^{-1}[:, k] z[k])`` evaluated at ``k = d``. The
cost per dataset is one small QR plus one triangular inverse, for all degrees.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack

from .features import vander


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

    def design(self, x) -> np.ndarray:
        """The basis's own design at x (window-mapped when ``domain`` is set): ``x.shape + (P,)``."""
        x = np.asarray(x, dtype=np.float64)
        if self.domain is not None:
            lo, hi = self.domain
            x = (2.0 * x - (lo + hi)) / (hi - lo)
        return vander(x.reshape(-1), self.degree, self.basis).reshape(x.shape + (self.degree + 1,))

    def __call__(self, x) -> np.ndarray:
        """Coordinates' functions at x: shape ``x.shape + (P,)``."""
        V = self.design(x)
        return (V.reshape(-1, V.shape[-1]) @ self.T).reshape(V.shape)


def nested_lstsq(Phi, Y) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients of every nested degree, for a stack of datasets.

    Parameters
    ----------
    Phi : ndarray of shape (n_datasets, n, P)
        Designs; column j is the degree-j coordinate.
    Y : ndarray of shape (n_datasets, n)

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
    aug = np.empty((n, P + 1), order="F")
    Rinv = np.empty((B, P, P))
    z = np.empty((B, P))
    rdiag = np.empty((B, P))
    dgeqrf, dtrtri = lapack.dgeqrf, lapack.dtrtri
    for b in range(B):
        aug[:, :P] = Phi[b]
        aug[:, P] = Y[b]
        qr, _, _, info = dgeqrf(aug)
        z[b] = qr[:P, P]
        rdiag[b] = np.diagonal(qr)[:P]
        Rinv[b], info = dtrtri(qr[:P, :P])  # reads the upper triangle only
    np.abs(rdiag, out=rdiag)
    Rinv = np.triu(Rinv)
    return np.cumsum(Rinv * z[:, None, :], axis=2), rdiag
