"""One model fitted on one dataset: the article's Figs 1-4."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..core.errors import GenlabError, IllConditionedWarning
from ..core.limits import check_memory, fit_bytes
from ..core.io import plain
from ..core.results import Result
from ..data.sources import Dataset, SyntheticSource
from ..linalg.bases import check_degree
from ..models import PolynomialRegression
from ..models.polynomial import ILL_CONDITIONED
from ..plots.helpers import axes, data_ylim, finish_xy, scatter


def rmse(y_true, y_pred) -> float:
    """Root mean squared error."""
    y_true = np.asarray(y_true, dtype=np.float64)
    return float(np.sqrt(np.mean((y_true - np.asarray(y_pred, dtype=np.float64)) ** 2)))


@dataclass
class FitResult(Result):
    """A fitted (or given) model with its training and validation error.

    ``predict`` maps x of shape (m,) to predictions of shape (m,).
    """

    name: str
    predict: Callable[[np.ndarray], np.ndarray]
    n_params: int
    train: Dataset
    validation: Dataset | None = None
    source: SyntheticSource | None = None
    params: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)

    @property
    def train_rmse(self) -> float:
        return rmse(self.train.y, self.predict(self.train.x))

    @property
    def val_rmse(self) -> float | None:
        if self.validation is None:
            return None
        return rmse(self.validation.y, self.predict(self.validation.x))

    def summary(self):
        """One row per data set the model is measured on (training, then validation): its size and RMSE."""
        import pandas as pd

        rows = [{"model": self.name, "split": "train", "n": self.train.n, "rmse": self.train_rmse}]
        if self.validation is not None:
            rows.append({"model": self.name, "split": "validation", "n": self.validation.n, "rmse": self.val_rmse})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        out = {"model": self.name, "n_params": self.n_params, "params": self.params,
               "n_train": self.train.n, "train_rmse": self.train_rmse, **self.diagnostics}
        if self.validation is not None:
            out.update(n_val=self.validation.n, val_rmse=self.val_rmse)
        if self.source is not None:
            out["source"] = self.source.describe()
        return plain(out)

    def curve(self, num: int = 400, lim=None) -> tuple[np.ndarray, np.ndarray]:
        x = self.train.x
        lo, hi = lim if lim is not None else (x.min(), x.max())
        grid = np.linspace(lo, hi, num)
        return grid, self.predict(grid)

    def plot(self, ax=None, *, ylim=None, title=None, show_truth=True):
        """Training points, the fitted curve and its training RMSE, as in the article.

        ``ylim`` defaults to the span of the data shown (training and validation points).
        """
        ax = axes(ax)
        x = self.train.x
        support = self.source.x_dist.support if self.source is not None else None
        grid, pred = self.curve(1000, support or (x.min(), x.max()))
        if show_truth and self.source is not None:
            ax.plot(grid, self.source.mean(grid), color="0.6", lw=1, ls="--", label="ȳ(x) = E[y|x]")
        scatter(ax, x, self.train.y, s=18, color="tab:blue", zorder=3, label=f"training data (n = {self.train.n})")
        if self.validation is not None:
            scatter(ax, self.validation.x, self.validation.y, s=14, marker="x", color="tab:green",
                       zorder=3, label=f"validation (n = {self.validation.n})")
        ax.plot(grid, pred, color="tab:red", lw=1.8, label=self.name)
        text = f"training RMSE = {self.train_rmse:.3f}"
        if self.validation is not None:
            text += f"\nvalidation RMSE = {self.val_rmse:.3g}"
        ax.text(0.03, 0.97, text, transform=ax.transAxes, va="top", ha="left",
                bbox=dict(boxstyle="round", fc="white", ec="0.8"))
        if ylim is None:
            ylim = data_ylim(self.train.y, *([self.validation.y] if self.validation is not None else []))
        return finish_xy(ax, ylim=ylim, title=title)


def fit_polynomial(data: Dataset, degree: int = 2, *, basis: str = "legendre", solver: str = "lstsq",
                   alpha: float = 0.0, scale=None, normalize: bool = False, domain=None,
                   validation: Dataset | None = None, source: SyntheticSource | None = None,
                   quiet: bool = False) -> FitResult:
    """Fit :class:`PolynomialRegression` to a one-feature dataset.

    ``domain`` defaults to the source's support when a source is given, so the
    basis is the same whichever points were drawn. With ``quiet`` the
    ill-conditioning warning is recorded in ``diagnostics`` but not raised.
    """
    if data.X.shape[1] != 1:
        raise GenlabError(f"a polynomial fit needs one input feature, the data has {data.X.shape[1]}")
    check_memory(fit_bytes(n=data.n, degree=check_degree(degree), n_features=data.X.shape[1]),
                 f"a degree-{degree} fit of {data.n:,} points", "give a lower --degree or fewer points")
    if domain is None and source is not None:
        domain = source.x_dist.support
    model = PolynomialRegression(degree, basis=basis, solver=solver, alpha=alpha, scale=scale,
                                 normalize=normalize, domain=domain)
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", IllConditionedWarning)
        model.fit(data.X, data.y)
    return FitResult(
        name=f"degree {degree} polynomial", predict=lambda x: model.predict(np.asarray(x, float)[:, None]),
        n_params=model.n_params, train=data, validation=validation, source=source,
        params={"degree": degree, "basis": basis, "solver": solver, "alpha": alpha,
                "scale": model._scales(), "normalize": normalize,
                "coef": model.coef_.tolist()},
        diagnostics={"condition_number": model.condition_number_, "rank": model.rank_,
                     "ill_conditioned": model.condition_number_ > ILL_CONDITIONED})


def fixed_line(data: Dataset, a: float, b: float, *, source: SyntheticSource | None = None,
               validation: Dataset | None = None) -> FitResult:
    """The line y = a x + b, not fitted (the article's Fig 2 uses a = -2, b = 2)."""
    return FitResult(name=f"y = {a:g}x + {b:g}", predict=lambda x: a * np.asarray(x, float) + b,
                     n_params=2, train=data, validation=validation, source=source,
                     params={"a": a, "b": b})
