"""A user's own estimators, as a test names them on the command line (``genlab_test_models:BinRegressor(width=4)``):
a module outside genlab, found from the current folder or PYTHONPATH, never imported by genlab itself.

Each class follows scikit-learn's estimator API (parameters stored untouched, learned attributes ending in
``_``, ``fit`` returns self); the others are the mistakes a user makes.
"""

import numpy as np
from numpy.random import Generator  # noqa: F401 - a re-export of another package's class: refused by name
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin


class BinRegressor(RegressorMixin, BaseEstimator):
    """The mean of y in each of ``width`` equal bins of x over [lo, hi]: a histogram regressor whose bias
    falls and variance grows with ``width``."""

    def __init__(self, width: int = 4, lo: float = 0.0, hi: float = 1.0):
        self.width = width
        self.lo = lo
        self.hi = hi

    def _bins(self, X):
        x = (np.asarray(X, dtype=float)[:, 0] - self.lo) / (self.hi - self.lo)
        return np.clip((x * self.width).astype(int), 0, self.width - 1)

    def fit(self, X, y):
        if self.width < 1:
            raise ValueError(f"width must be at least 1, got {self.width}")
        b = self._bins(X)
        y = np.asarray(y, dtype=float)
        self.overall_ = y.mean()
        sums = np.bincount(b, weights=y, minlength=self.width)
        counts = np.bincount(b, minlength=self.width)
        self.means_ = np.where(counts > 0, sums / np.maximum(counts, 1), self.overall_)
        return self

    def predict(self, X):
        return self.means_[self._bins(X)]


class MajorityClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the training set's most frequent class everywhere: a degenerate classifier of one's own."""

    def fit(self, X, y):
        self.classes_, counts = np.unique(np.asarray(y).astype(int), return_counts=True)
        self.top_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.top_)


class FitOnly(BaseEstimator):
    """Fits but cannot predict."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        return self


class WrongShape(RegressorMixin, BaseEstimator):
    """Predicts a column instead of one value per point."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros((len(X), 2))


def make_regressor(width=4):
    """A function that returns an estimator: not a class, so not accepted."""
    return BinRegressor(width=width)
