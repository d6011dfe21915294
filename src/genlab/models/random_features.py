"""Random-features regression: a random first layer, a least-squares output layer.

The first layer is drawn once and never trained:

* ``kind="relu"``:    φ_j(x) = sqrt(2/p) · max(0, w_j·x + b_j),   w_j ~ N(0, scale²/d · I), b_j ~ N(0, 1/4);
* ``kind="fourier"``: φ_j(x) = sqrt(2/p) · cos(w_j·x + b_j),      w_j ~ N(0, scale²/d · I), b_j ~ U[0, 2π].

With the factor sqrt(2/p), ΦΦᵀ converges as p grows to a fixed kernel: the
Gaussian kernel exp(-scale²‖x − x'‖² / (2d)) for Fourier features (Rahimi &
Recht 2007) and the first-order arc-cosine kernel (with a constant input)
for ReLU features, so ``alpha`` means the same thing at every p. The factor is
a scalar per p: it changes neither the minimum-norm predictions nor which
features are drawn.

The ReLU biases have standard deviation :data:`RELU_BIAS_STD` = 1/2, not 1.
For inputs with E‖x‖² = d the pre-activation w·x is about N(0, scale²), so a
feature fires on a share Φ(b / scale) of the inputs; with b ~ N(0, 1) that
share is uniform on [0, 1], and one feature in fifty fires on fewer than 2% of
the points. Under the threshold least squares gives such a feature a huge
coefficient (it fits its one or two active training points), and a seed's
test error jumps by two orders of magnitude: on digits (n = 100, p = 10) the
mean over 20 seeds was 2.4× the median. With b ~ N(0, 1/4) a feature fires on
fewer than 5% of the points with probability 5e-4, mean and median agree in
the classical regime, and the double-descent curve is otherwise unchanged.

Draws are *nested*: the first p features of a draw of P > p features under
the same seed are the p features drawn on their own (the weights and the
biases come from two separate streams, each filled feature by feature). A
sweep over p can therefore draw once, at the largest p, and fit the leading
columns — see :func:`random_features` and :func:`genlab.analysis.double_descent.random_features_sweep`.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_random_state, validate_data

from ..core.checks import check_int
from ..core.errors import GenlabError
from ..core.seeding import child
from ..linalg.minnorm import svd_minnorm
from .polynomial import LinearInFeatures

KINDS = ("relu", "fourier")
#: Standard deviation of the ReLU features' biases (see the module's docstring).
RELU_BIAS_STD = 0.5


def check_kind(kind) -> str:
    if kind not in KINDS:
        raise GenlabError(f"unknown random-features kind {kind!r}; choose relu or fourier")
    return kind


def check_n_features(p, what: str = "n_features") -> int:
    return check_int(p, what)


def check_scale(scale) -> float:
    try:
        scale = float(scale)
    except (TypeError, ValueError):
        raise GenlabError(f"scale must be a number > 0, got {scale!r}") from None
    if not np.isfinite(scale) or scale <= 0:
        raise GenlabError(f"scale must be a number > 0, got {scale!r}")
    return scale


def _seed_sequence(seed) -> np.random.SeedSequence:
    """A SeedSequence from an int, a SeedSequence, a Generator/RandomState (consumed) or None."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4, dtype=np.uint64))
    if seed is None or isinstance(seed, np.random.RandomState):
        rs = check_random_state(seed)
        return np.random.SeedSequence([int(v) for v in rs.randint(0, 2**31 - 1, size=4)])
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise GenlabError(f"seed must be an integer >= 0, a numpy SeedSequence or Generator, got {seed!r}")


def draw_weights(n_inputs: int, n_features: int, *, kind: str = "relu", scale: float = 1.0,
                 seed=0) -> tuple[np.ndarray, np.ndarray]:
    """The random first layer: weights and biases of ``n_features`` features.

    Parameters
    ----------
    n_inputs : int
        Input dimension d.
    n_features : int
        Number of features p.
    kind : {"relu", "fourier"}
    scale : float, default=1.0
        Weights are N(0, scale²/d): for inputs with E‖x‖² ≈ d, the
        pre-activation w·x has variance about scale².
    seed : int, numpy SeedSequence, Generator, RandomState or None

    Returns
    -------
    W : ndarray of shape (n_inputs, n_features)
    b : ndarray of shape (n_features,)

    Notes
    -----
    The first p columns of a draw of P > p features equal the draw of p
    features with the same seed (nested draws).
    """
    d = check_n_features(n_inputs, "n_inputs")
    p = check_n_features(n_features)
    check_kind(kind)
    s = check_scale(scale)
    ss = _seed_sequence(seed)
    # fixed children of the seed (not ss.spawn, which counts calls): the same seed gives the same streams every time
    W = np.random.default_rng(child(ss, 0)).standard_normal((p, d)).T * (s / np.sqrt(d))  # filled feature by feature
    gb = np.random.default_rng(child(ss, 1))
    b = RELU_BIAS_STD * gb.standard_normal(p) if kind == "relu" else gb.uniform(0.0, 2 * np.pi, p)
    return np.ascontiguousarray(W), b


def features_from_weights(X, W, b, *, kind: str = "relu", normalize: bool = True, out=None) -> np.ndarray:
    """Feature matrix ``φ(X)`` for a given first layer.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_inputs)
    W : ndarray of shape (n_inputs, p)
    b : ndarray of shape (p,)
    normalize : bool, default=True
        Multiply by sqrt(2/p) (ΦΦᵀ → a kernel). Without it the features are
        ``sqrt(2)·max(0, z)`` or ``sqrt(2)·cos(z)``, whose columns do not
        depend on p: the nested form used by the sweeps.

    Returns
    -------
    Phi : ndarray of shape (n_samples, p)
    """
    check_kind(kind)
    Z = np.matmul(np.asarray(X, dtype=np.float64), W, out=out)
    Z += b
    if kind == "relu":
        np.maximum(Z, 0.0, out=Z)
    else:
        np.cos(Z, out=Z)
    Z *= np.sqrt(2.0 / W.shape[1]) if normalize else np.sqrt(2.0)
    return Z


def random_features(X, n_features: int, *, kind: str = "relu", scale: float = 1.0, seed=0,
                    normalize: bool = False) -> np.ndarray:
    """The first ``n_features`` random features of ``X`` under ``seed``.

    ``random_features(X, P, seed=s)[:, :p]`` equals ``random_features(X, p, seed=s)``
    (with ``normalize=False``; with ``normalize=True`` they differ by the scalar
    sqrt(P/p)), so a sweep over p draws once at the largest p.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_inputs)
    n_features : int
    kind : {"relu", "fourier"}
    scale : float, default=1.0
    seed : int, numpy SeedSequence, Generator, RandomState or None
    normalize : bool, default=False
        Include the sqrt(1/p) factor of :class:`RandomFeaturesRegressor`.

    Returns
    -------
    Phi : ndarray of shape (n_samples, n_features)
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise GenlabError(f"X must be 2-D (n_samples, n_inputs), got shape {X.shape}")
    W, b = draw_weights(X.shape[1], n_features, kind=kind, scale=scale, seed=seed)
    return features_from_weights(X, W, b, kind=kind, normalize=normalize)


class RandomFeaturesRegressor(LinearInFeatures, RegressorMixin, BaseEstimator):
    """Random ReLU or Fourier features with a least-squares output layer.

    Parameters
    ----------
    n_features : int, default=100
        Number of random features p (the model size).
    kind : {"relu", "fourier"}, default="relu"
        ``"relu"``: sqrt(2/p)·max(0, w·x + b) with b ~ N(0, 1/4);
        ``"fourier"``: sqrt(2/p)·cos(w·x + b) with b ~ U[0, 2π]. In both,
        w ~ N(0, scale²/d · I).
    alpha : float, default=0.0
        0: the minimum-norm least-squares output layer (it interpolates once
        p >= n_samples); > 0: ridge with this penalty on ‖coef‖².
    scale : float, default=1.0
        Input scale of the weights (for Fourier features, the inverse
        bandwidth of the Gaussian kernel). Inputs are not rescaled: put a
        ``StandardScaler`` before the model for raw data.
    random_state : int, RandomState instance or None, default=None
        Seeds the first layer; the first p features of a larger draw under
        the same int seed are the same features.

    Attributes
    ----------
    weights_ : ndarray of shape (n_features_in_, n_features)
    biases_ : ndarray of shape (n_features,)
    coef_ : ndarray of shape (n_features,) or (n_features, n_outputs)
    singular_values_ : ndarray
        Singular values of the training feature matrix.
    rank_ : int
        Singular values kept by the solver.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from genlab.models.random_features import RandomFeaturesRegressor
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> model = RandomFeaturesRegressor(200, random_state=0).fit(X, X[:, 0])
    >>> bool(np.abs(model.predict(X) - X[:, 0]).max() < 1e-8)  # p > n: interpolates
    True
    """

    def __init__(self, n_features=100, *, kind="relu", alpha=0.0, scale=1.0, random_state=None):
        self.n_features = n_features
        self.kind = kind
        self.alpha = alpha
        self.scale = scale
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _check_params(self) -> float:
        check_n_features(self.n_features)
        check_kind(self.kind)
        check_scale(self.scale)
        try:
            alpha = float(self.alpha)
        except (TypeError, ValueError):
            raise GenlabError(f"alpha must be a number >= 0, got {self.alpha!r}") from None
        if not np.isfinite(alpha) or alpha < 0:
            raise GenlabError(f"alpha must be a number >= 0, got {self.alpha!r}")
        return alpha

    def fit(self, X, y):
        """Draw the first layer and fit the output layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            E.g. one-hot class indicators.

        Returns
        -------
        self : RandomFeaturesRegressor
        """
        alpha = self._check_params()
        X, y = validate_data(self, X, y, y_numeric=True, multi_output=True, dtype=np.float64)
        self.weights_, self.biases_ = draw_weights(X.shape[1], self.n_features, kind=self.kind,
                                                   scale=self.scale, seed=self.random_state)
        Phi = self._features(X)
        self.coef_, info = svd_minnorm(Phi, np.asarray(y, dtype=np.float64), alpha)
        self.singular_values_, self.rank_ = info.singular_values, info.rank
        return self

    def _features(self, X):
        return features_from_weights(X, self.weights_, self.biases_, kind=self.kind, normalize=True)

    def features(self, X):
        """The fitted random features of ``X``: ndarray of shape (n_samples, n_features).

        (Not ``transform``: the model is a regressor, not a transformer.)
        """
        return self._features(self._validated(X))
