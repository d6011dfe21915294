"""Polynomial bases: the columns of a design matrix for a polynomial of a given degree.

A basis turns inputs ``x`` (already mapped to the basis's window when the caller
scales them) into a design matrix whose column ``k`` is the degree-``k`` basis
function. Nested degrees share columns: the design of degree ``d`` is the first
``d + 1`` columns of the design of any higher degree, which is what lets the fast
engines fit every degree from one factorization.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import chebyshev, legendre

from ..core.errors import GenlabError

BASES = ("monomial", "legendre", "chebyshev")


def window(x, domain):
    """Map ``x`` from ``domain = (lo, hi)`` onto [-1, 1], the window of the orthogonal bases.

    ``lo`` and ``hi`` may be arrays (one interval per feature, broadcast against ``x``).
    """
    lo, hi = domain
    return (2.0 * np.asarray(x) - (lo + hi)) / (hi - lo)


def check_basis(basis: str) -> str:
    if basis not in BASES:
        raise GenlabError(f"unknown basis {basis!r}; choose one of {', '.join(BASES)}")
    return basis


def check_degree(degree, what: str = "degree") -> int:
    """Return ``degree`` as an int, or raise :class:`GenlabError` if it is not an integer >= 0."""
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)):
        if isinstance(degree, (float, np.floating)) and float(degree).is_integer():
            degree = int(degree)
        else:
            raise GenlabError(f"{what} must be an integer >= 0, got {degree!r}")
    if degree < 0:
        raise GenlabError(f"{what} must be an integer >= 0, got {degree}")
    return int(degree)


def vander(x, degree: int, basis: str = "legendre", *, normalize: bool = False) -> np.ndarray:
    """Design matrix of one input for a polynomial of ``degree`` in ``basis``.

    Parameters
    ----------
    x : array-like of shape (n_samples,)
        Inputs, in the basis's window ([-1, 1] for Legendre and Chebyshev) when
        they have been scaled.
    degree : int
        Highest degree; the matrix has ``degree + 1`` columns.
    basis : {"monomial", "legendre", "chebyshev"}
    normalize : bool, default=False
        Scale the orthogonal bases to be orthonormal on [-1, 1] (Legendre with
        weight 1, Chebyshev with weight 1/sqrt(1 - x^2)). The fitted function of
        an unregularized solver does not change; the minimum-norm and ridge
        solutions do, because their penalty is on the coefficients.

    Returns
    -------
    V : ndarray of shape (n_samples, degree + 1)
    """
    check_basis(basis)
    degree = check_degree(degree)
    x = np.asarray(x, dtype=np.float64)
    if basis == "monomial":
        if normalize:
            raise GenlabError("normalize applies to the orthogonal bases; use basis='legendre' or 'chebyshev'")
        return np.vander(x, degree + 1, increasing=True)
    if basis == "legendre":
        V = legendre.legvander(x, degree)
        if normalize:
            V *= np.sqrt((2 * np.arange(degree + 1) + 1) / 2.0)
        return V
    V = chebyshev.chebvander(x, degree)
    if normalize:
        V *= np.where(np.arange(degree + 1) == 0, 1 / np.sqrt(np.pi), np.sqrt(2 / np.pi))
    return V


def design(X, degree: int, basis: str = "legendre", *, normalize: bool = False) -> np.ndarray:
    """Additive polynomial design for several inputs: one constant column, then
    degrees ``1..degree`` of each feature in turn (no cross terms).

    With one feature this is exactly :func:`vander`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    A : ndarray of shape (n_samples, 1 + n_features * degree)
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    blocks = [vander(X[:, j], degree, basis, normalize=normalize) for j in range(X.shape[1])]
    if len(blocks) == 1:
        return blocks[0]
    return np.hstack([blocks[0][:, :1]] + [b[:, 1:] for b in blocks])
