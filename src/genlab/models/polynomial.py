"""Polynomial regression of any degree, in a choice of basis and solver."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..core.errors import GenlabError, IllConditionedWarning
from ..linalg.bases import check_basis, check_degree, design, window
from ..linalg.solvers import check_solver, solve

#: Above this condition number a fit loses more than half of float64's digits.
ILL_CONDITIONED = 1.0 / np.sqrt(np.finfo(np.float64).eps)


class LinearInFeatures:
    """Mixin of a fitted model that is linear in fixed features of its inputs: ``predict(X)`` is
    ``features(X) @ coef_`` (polynomials: a basis; random features: a drawn first layer).

    The model defines ``_features(X)``, the features of validated inputs, and ``fit`` sets ``coef_``.
    """

    def _validated(self, X):
        """``X`` as float64, checked against the fitted model (fitted, with the training's features)."""
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def predict(self, X):
        """Predict with the fitted model: the features of ``X`` times the coefficients.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The shape of the training targets.
        """
        return self._features(self._validated(X)) @ self.coef_


class PolynomialRegression(LinearInFeatures, RegressorMixin, BaseEstimator):
    """Least-squares polynomial of a given degree (the article's model family).

    With several input features the model is additive: one constant plus
    degrees ``1..degree`` of each feature, without cross terms.

    Parameters
    ----------
    degree : int, default=2
        Highest degree; the model has ``degree + 1`` parameters per feature
        (sharing one constant).
    basis : {"legendre", "chebyshev", "monomial"}, default="legendre"
        Polynomial basis. Legendre and Chebyshev are well conditioned on
        [-1, 1]; monomial reproduces ``np.polyfit`` and the article.
    solver : {"lstsq", "minnorm", "ridge", "lasso"}, default="lstsq"
        ``"lstsq"``: least squares with ``np.polyfit``'s cut-off (singular
        values below ``rcond`` times the largest, after scaling columns to unit
        norm, are dropped). ``"minnorm"``: the exact minimum-norm solution
        (pseudo-inverse at machine precision); it interpolates once
        ``degree + 1 >= n_samples``. ``"ridge"`` and ``"lasso"``: penalized by
        ``alpha`` (scikit-learn's scaling; the constant is not penalized).
    alpha : float, default=0.0
        Regularization strength for ``"ridge"`` and ``"lasso"``.
    scale : bool or None, default=None
        Map inputs from ``domain`` to [-1, 1] before building the basis.
        ``None`` means yes for Legendre and Chebyshev, no for monomial (as
        ``np.polyfit``).
    domain : tuple of float or None, default=None
        Interval mapped to [-1, 1] when scaling; ``None`` takes the training
        inputs' range. Give the source's support (e.g. ``(0, 1)``) to use the
        same basis on every dataset.
    normalize : bool, default=False
        Orthonormal Legendre/Chebyshev polynomials (changes minimum-norm and
        ridge solutions, which penalize coefficients).
    rcond : float or None, default=None
        Cut-off of ``"lstsq"``; ``None`` is ``n_samples * eps`` as in ``np.polyfit``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_params,)
        Coefficients in the chosen basis, constant first.
    domain_ : ndarray of shape (n_features, 2)
        The interval mapped to [-1, 1] per feature (``[-1, 1]`` when unscaled).
    rank_ : int
        Singular values the solver kept.
    singular_values_ : ndarray
        Singular values of the matrix the solver factorized.
    condition_number_ : float
        Their ratio, largest over smallest. A warning
        (:class:`genlab.IllConditionedWarning`) is given above 1/sqrt(eps).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from genlab import PolynomialRegression
    >>> x = np.linspace(0, 1, 20)[:, None]
    >>> model = PolynomialRegression(degree=2).fit(x, 2 * x[:, 0] ** 2 + 1)
    >>> float(np.round(model.predict([[0.5]])[0], 6))
    1.5
    """

    def __init__(self, degree=2, *, basis="legendre", solver="lstsq", alpha=0.0,
                 scale=None, domain=None, normalize=False, rcond=None):
        self.degree = degree
        self.basis = basis
        self.solver = solver
        self.alpha = alpha
        self.scale = scale
        self.domain = domain
        self.normalize = normalize
        self.rcond = rcond

    # -- helpers ---------------------------------------------------------
    def _scales(self) -> bool:
        return self.basis != "monomial" if self.scale is None else bool(self.scale)

    def _features(self, X):
        return design(window(X, self.domain_.T), self.degree, self.basis, normalize=self.normalize)

    def _learn_domain(self, X):
        n_features = X.shape[1]
        if not self._scales():
            return np.tile([-1.0, 1.0], (n_features, 1))
        if self.domain is not None:
            try:
                lo, hi = (float(v) for v in self.domain)
            except (TypeError, ValueError):
                raise GenlabError(f"domain must be a pair (low, high), got {self.domain!r}") from None
            if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
                raise GenlabError(f"domain must satisfy low < high, got {self.domain!r}")
            return np.tile([lo, hi], (n_features, 1))
        lo, hi = X.min(axis=0), X.max(axis=0)
        half = np.where(hi > lo, (hi - lo) / 2, 1.0)
        mid = (hi + lo) / 2
        return np.column_stack([mid - half, mid + half])

    # -- estimator API -----------------------------------------------------
    def fit(self, X, y):
        """Fit the polynomial.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : PolynomialRegression
        """
        check_degree(self.degree)
        check_basis(self.basis)
        check_solver(self.solver, self.alpha)
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        self.domain_ = self._learn_domain(X)
        A = self._features(X)
        coef, info = solve(A, y, self.solver, self.alpha, self.rcond)
        self.coef_ = coef
        self.rank_ = info.rank
        self.singular_values_ = info.singular_values
        self.condition_number_ = info.condition_number
        if self.condition_number_ > ILL_CONDITIONED:
            dropped = (f", {info.n_params - info.rank} of {info.n_params} directions cut off"
                       if info.rank < min(A.shape) else "")
            fixes = "lower the degree" + (", use basis='legendre'" if self.basis == "monomial" else "") \
                + (", or add ridge alpha" if self.solver != "ridge" else ", or raise alpha")
            warnings.warn(
                f"design is ill-conditioned (condition number {self.condition_number_:.2g}{dropped}): "
                f"coefficients are unreliable; {fixes}", IllConditionedWarning, stacklevel=2)
        return self

    @property
    def n_params(self) -> int:
        """Number of parameters (the article's model size)."""
        check_is_fitted(self)
        return self.coef_.shape[0]
