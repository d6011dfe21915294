"""Regularization, measured (the article's §4.2): ridge chosen by cross-validation
(Fig 14), optimal ridge against the sample-wise peak, the implicit
regularization of gradient descent, and regularizers of a network side by side.

* :func:`ridge_cv` — a degree-30 polynomial with ridge, alpha by cross-validation;
* :func:`implicit_regularization` — gradient descent from zero finds the minimum-norm solution;
* :func:`sample_wise_linear` — sample-wise double descent in the isotropic linear model, and optimal ridge;
* :func:`regularizers_side_by_side` — no regularization, L1, L2, early stopping and dropout on
  the MLP width sweep's noisy task, at a width near its peak, each at the strength its
  validation error picks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.checks import check_int as _check_int
from ..core.errors import GenlabError
from ..core.results import Result
from ..core.seeding import check_seed, rng as make_rng
from ..core.stats import summarize
from ..data.sources import Dataset, SyntheticSource, check_n
from ..data.splits import split_settings
from ..linalg.bases import check_basis, check_degree, vander, window
from ..linalg.solvers import minnorm, ridge_path
from ..plots.helpers import axes, data_ylim, finish_xy, quartile_band
from ..runs.sweep import sweep
from .double_descent.mlp import metric_grid, run_mlp_jobs, train_settings

__all__ = ["GRIDS", "METHODS", "QUICK_GRIDS", "ImplicitRegularization", "RegularizerComparison", "RidgeCV",
           "SampleWiseCurve", "implicit_regularization", "regularizers_side_by_side", "ridge_cv",
           "sample_wise_linear"]

METHODS = ("none", "l1", "l2", "early_stopping", "dropout")
#: Strengths tried per regularizer; each repeat keeps the one with the lowest validation error.
GRIDS = {"l1": (3e-4, 1e-3, 3e-3, 1e-2), "l2": (3e-3, 1e-2, 3e-2, 1e-1), "dropout": (0.3, 0.5, 0.7, 0.8)}
QUICK_GRIDS = {"l1": (1e-3, 3e-3), "l2": (1e-2, 3e-2), "dropout": (0.5, 0.7)}


# -- Fig 14: degree 30 with ridge, alpha by cross-validation --------------------------------

@dataclass
class RidgeCV(Result):
    """Cross-validated ridge for one polynomial degree.

    ``cv_mse`` has shape (folds, n_alphas); ``best_alpha`` minimizes its mean.
    """

    degree: int
    alphas: np.ndarray
    cv_mse: np.ndarray
    best_alpha: float
    data: Dataset
    coef: np.ndarray            # ridge coefficients at best_alpha (basis of ``basis`` on ``domain``)
    coef_unregularized: np.ndarray
    basis: str
    domain: tuple
    source: SyntheticSource | None = None

    def predict(self, x, coef=None) -> np.ndarray:
        A = vander(window(np.asarray(x, float), self.domain), self.degree, self.basis)
        return A @ (self.coef if coef is None else coef)

    @property
    def train_rmse(self) -> float:
        return float(np.sqrt(np.mean((self.predict(self.data.x) - self.data.y) ** 2)))

    def summary(self):
        """One row per alpha: the cross-validated error (mean over folds) and its s.e."""
        import pandas as pd

        s = summarize(self.cv_mse)
        return pd.DataFrame({"alpha": self.alphas, "cv_mse": s["mean"], "cv_mse_se": s["se"]})

    def to_dict(self) -> dict:
        return {"degree": self.degree, "best_alpha": self.best_alpha, "train_rmse": self.train_rmse,
                "folds": int(self.cv_mse.shape[0]), "by_alpha": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, ylim=None, title=None):
        """Fig 14: the ridge fit (smooth) beside the unregularized fit of the same degree (faint).

        ``ylim`` defaults to the span of the training data.
        """
        ax = axes(ax)
        lo, hi = self.domain
        grid = np.linspace(lo, hi, 800)
        if self.source is not None:
            ax.plot(grid, self.source.mean(grid), color="0.6", ls="--", lw=1, label="ȳ(x)")
        ax.plot(grid, self.predict(grid, self.coef_unregularized), color="0.5", lw=0.8, alpha=0.6,
                label=f"degree {self.degree}, no penalty")
        ax.scatter(self.data.x, self.data.y, s=18, color="tab:blue", zorder=3, label=f"training data (n = {self.data.n})")
        ax.plot(grid, self.predict(grid), color="tab:red", lw=2, label=f"degree {self.degree}, ridge α = {self.best_alpha:.1e}")
        ax.text(0.03, 0.97, f"training RMSE = {self.train_rmse:.3f}", transform=ax.transAxes, va="top",
                bbox=dict(boxstyle="round", fc="white", ec="0.8"))
        return finish_xy(ax, ylim=data_ylim(self.data.y) if ylim is None else ylim, title=title)

    def plot_cv(self, ax=None):
        """The cross-validated error against alpha (± 2 s.e.), the chosen alpha marked."""
        ax = axes(ax, (5.2, 3.8))
        s = self.summary()
        ax.errorbar(s["alpha"], s["cv_mse"], yerr=2 * s["cv_mse_se"], marker="o", ms=3, capsize=2)
        ax.axvline(self.best_alpha, color="tab:red", ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("ridge α")
        ax.set_ylabel(f"{self.cv_mse.shape[0]}-fold CV mean squared error")
        return ax


def ridge_cv(data: Dataset, degree: int = 30, *, alphas=None, folds: int = 5, basis: str = "legendre",
             domain=None, source: SyntheticSource | None = None, seed: int = 0) -> RidgeCV:
    """Choose the ridge strength of a degree-``degree`` polynomial by k-fold cross-validation.

    Every alpha of a fold comes from one SVD (:func:`genlab.linalg.solvers.ridge_path`);
    the constant term is not penalized.
    """
    degree = check_degree(degree)
    check_basis(basis)
    seed = check_seed(seed)
    alphas = np.logspace(-12, 2, 29) if alphas is None else np.asarray(sorted(float(a) for a in alphas))
    if alphas.size == 0 or np.any(alphas < 0):
        raise GenlabError("alphas must be numbers >= 0")
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or not 2 <= folds <= data.n:
        raise GenlabError(f"folds must be an integer between 2 and n = {data.n}, got {folds!r}")
    x, y = data.x, data.y
    domain = domain or (source.x_dist.support if source is not None else None) or (float(x.min()), float(x.max()))
    A = vander(window(x, domain), degree, basis)
    parts = np.array_split(make_rng(seed, "ridge-cv").permutation(data.n), folds)
    cv = np.empty((folds, alphas.size))
    for k, val in enumerate(parts):
        tr = np.concatenate(parts[:k] + parts[k + 1:])
        coef, _ = ridge_path(A[tr], y[tr], alphas)
        cv[k] = np.mean((A[val] @ coef - y[val][:, None]) ** 2, axis=0)
    best = float(alphas[np.argmin(cv.mean(axis=0))])
    coef, _ = ridge_path(A, y, [best])
    coef0, _ = minnorm(A, y)
    return RidgeCV(degree, alphas, cv, best, data, coef[:, 0], coef0, basis, domain, source)


# -- implicit regularization: gradient descent from zero finds the minimum-norm solution --------------

@dataclass
class ImplicitRegularization(Result):
    """Gradient descent on an over-parameterized least-squares problem (p > n)."""

    n: int
    p: int
    steps: np.ndarray               # recorded step numbers
    dist_zero: np.ndarray           # ||w_t - w_pinv|| / ||w_pinv||, started from zero
    dist_random: np.ndarray         # the same, started from a random point
    train_mse_zero: np.ndarray
    null_part: float                # ||projection of the random start on the null space|| / ||w_pinv||

    @property
    def final_gap(self) -> float:
        return float(self.dist_zero[-1])

    def summary(self):
        """One row per recorded step: the gaps to the minimum-norm solution and the training error."""
        import pandas as pd

        return pd.DataFrame({"step": self.steps, "gap_from_zero": self.dist_zero,
                             "gap_from_random": self.dist_random, "train_mse": self.train_mse_zero})

    def to_dict(self) -> dict:
        return {"n": self.n, "p": self.p, "final_gap_from_zero": self.final_gap,
                "final_gap_from_random": float(self.dist_random[-1]), "null_space_part": self.null_part}

    def plot(self, ax=None):
        """The relative distance to the minimum-norm solution against the step, from both starts."""
        ax = axes(ax, (5.6, 3.8))
        ax.loglog(self.steps, self.dist_zero, label="start at 0 → the minimum-norm solution")
        ax.loglog(self.steps, self.dist_random, label="random start → min-norm + its null-space part")
        ax.loglog(self.steps, self.train_mse_zero, ls=":", label="training MSE (start at 0)")
        ax.axhline(self.null_part, color="0.5", ls="--", lw=1)
        ax.set_xlabel("gradient-descent step")
        ax.set_ylabel("‖w − w_pinv‖ / ‖w_pinv‖")
        ax.legend(fontsize="small")
        return ax


def implicit_regularization(n: int = 20, p: int = 100, *, steps: int = 20_000, seed: int = 0) -> ImplicitRegularization:
    """Run gradient descent on ``||X w - y||² / 2n`` with p > n from zero and from a random start.

    From zero, every iterate lies in the row space of X, so the limit is the
    interpolating solution of least norm — the pseudo-inverse's. From a random
    start the null-space component never changes.
    """
    n, p = check_n(n, "n"), check_n(p, "p")
    if p <= n:
        raise GenlabError(f"implicit regularization needs more parameters than points (p > n), got p = {p}, n = {n}")
    g = make_rng(check_seed(seed), "implicit")
    X = g.normal(size=(n, p)) / np.sqrt(p)
    y = X @ g.normal(size=p) + 0.1 * g.normal(size=n)
    w_pinv = np.linalg.pinv(X) @ y
    lr = n / np.linalg.norm(X, 2) ** 2              # 1 / Lipschitz constant of the gradient
    record = np.unique(np.geomspace(1, steps, 60).astype(int))
    w0, w1 = np.zeros(p), g.normal(size=p) * np.linalg.norm(w_pinv) / np.sqrt(p)
    P_null = np.eye(p) - np.linalg.pinv(X) @ X
    null_part = float(np.linalg.norm(P_null @ w1) / np.linalg.norm(w_pinv))
    d0, d1, mse = [], [], []
    for t in range(1, steps + 1):
        w0 -= lr * X.T @ (X @ w0 - y) / n
        w1 -= lr * X.T @ (X @ w1 - y) / n
        if t in record:
            d0.append(np.linalg.norm(w0 - w_pinv) / np.linalg.norm(w_pinv))
            d1.append(np.linalg.norm(w1 - w_pinv) / np.linalg.norm(w_pinv))
            mse.append(np.mean((X @ w0 - y) ** 2))
    return ImplicitRegularization(n, p, record, np.array(d0), np.array(d1), np.array(mse), null_part)


# -- sample-wise double descent in the isotropic linear model, and optimal ridge ---------------------

@dataclass
class SampleWiseCurve(Result):
    """Test error of linear regression in d dimensions against the number of samples n.

    ``test`` has shape (seeds, len(ns)): the exact expected test MSE of each fit
    over fresh x ~ N(0, I_d), ``||w - beta||² + σ²``.
    """

    d: int
    ns: np.ndarray
    test: np.ndarray
    sigma: float
    ridge: str | float
    lam: float

    def theory(self) -> np.ndarray:
        """The expected test error of the minimum-norm estimator (Hastie et al. 2019), NaN at n = d ± 1."""
        n, d, s2 = self.ns.astype(float), self.d, self.sigma ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            under = (1 - n / d) + s2 * n / (d - n - 1)
            over = s2 * d / (n - d - 1)
        return np.where(n < d - 1, under, np.where(n > d + 1, over, np.nan)) + s2

    def summary(self):
        """One row per n: the test error's mean, s.e., median, quartiles, heavy-tail flag (and the theory)."""
        import pandas as pd

        s = summarize(self.test)
        out = {"n": self.ns, "test_mean": s["mean"], "test_se": s["se"], "test_median": s["median"],
               "test_q25": s["q25"], "test_q75": s["q75"], "heavy_tail": s["heavy_tail"]}
        if self.lam == 0:
            out["theory"] = self.theory()
        return pd.DataFrame(out)

    @property
    def peak_n(self) -> int:
        return int(self.ns[np.argmax(np.median(self.test, axis=0))])

    def to_dict(self) -> dict:
        return {"d": self.d, "sigma": self.sigma, "ridge": self.ridge, "lambda": self.lam, "peak_n": self.peak_n,
                "seeds": int(self.test.shape[0]), "by_n": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, label=None, color=None):
        """Median test error against n with its interquartile band (and the theory), n = d marked."""
        ax = axes(ax, (6, 4))
        label = label or ("minimum-norm" if self.lam == 0 else f"ridge λ = {self.lam:.3g}")
        quartile_band(ax, self.ns, self.test, color=color, label=f"{label} (median)", ms=3)
        if self.lam == 0:
            ax.plot(self.ns, self.theory(), color=ax.get_lines()[-1].get_color(), ls="--", lw=1, label="theory")
        ax.axvline(self.d, color="0.5", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("training samples n")
        ax.set_ylabel("test MSE")
        ax.legend(fontsize="small")
        return ax


def _sample_wise_job(config: dict, seed) -> dict:
    """One seed of the sample-wise sweep: nested samples share one draw."""
    d, ns, sigma, lam = config["d"], config["ns"], config["sigma"], config["lam"]
    g = np.random.default_rng(seed)
    beta = g.normal(size=d)
    beta /= np.linalg.norm(beta)                      # ||beta|| = 1
    X = g.normal(size=(max(ns), d))
    y = X @ beta + sigma * g.normal(size=max(ns))
    test = []
    for n in ns:
        Xn, yn = X[:n], y[:n]
        if lam == 0:
            w, _ = minnorm(Xn, yn)  # minimum norm when n < d
        else:
            w = np.linalg.solve(Xn.T @ Xn + lam * np.eye(d), Xn.T @ yn)
        test.append(float(np.sum((w - beta) ** 2) + sigma ** 2))
    return {"metrics": {}, "series": {"test": test}}


def sample_wise_linear(d: int = 100, ns=None, *, sigma: float = 0.5, ridge="none", seeds: int = 20,
                       seed: int = 0, store=None, jobs: int = 1, dask=None, progress: bool = False) -> SampleWiseCurve:
    """Sample-wise double descent: x ~ N(0, I_d), y = <beta, x> + N(0, σ²), ||beta|| = 1.

    ``ridge``: "none" (minimum-norm least squares: the test error peaks at
    n = d, where more data hurts), "optimal" (λ = dσ²/||beta||², Nakkiran et al.
    2020, which makes the error fall with n), or a number.
    """
    d = check_n(d, "d")
    ns = sorted({int(v) for v in (np.unique(np.linspace(2, 3 * d, 60).astype(int)) if ns is None else ns)})
    if not ns or ns[0] < 1:
        raise GenlabError("sample sizes must be integers >= 1")
    if not np.isfinite(sigma) or sigma < 0:
        raise GenlabError(f"sigma must be >= 0, got {sigma}")
    if ridge == "none":
        lam = 0.0
    elif ridge == "optimal":
        lam = d * sigma ** 2
    else:
        try:
            lam = float(ridge)
        except (TypeError, ValueError):
            raise GenlabError(f"ridge must be 'none', 'optimal' or a number >= 0, got {ridge!r}") from None
        if lam < 0:
            raise GenlabError(f"ridge must be >= 0, got {lam}")
    configs = [{"d": d, "ns": ns, "sigma": float(sigma), "lam": lam, "repeat": r} for r in range(check_n(seeds, "seeds"))]
    res = sweep(_sample_wise_job, configs, store=store, seed=check_seed(seed), jobs=jobs, dask=dask, progress=progress,
                label=f"sample-wise linear regression (d = {d}, ridge {ridge})")
    return SampleWiseCurve(d, np.array(ns), np.array(res.series("test")), float(sigma), ridge, lam)


# -- regularizers of a network side by side -----------------------------------------------------------

@dataclass
class RegularizerComparison(Result):
    """Test error of each regularizer on one noisy task, each at the strength its validation error picks.

    ``test_error``, ``val_error``, ``train_error`` and ``strength`` have shape
    (n_repeats, n_methods) in the order of ``methods``; ``strength`` is the
    chosen penalty (l1, l2), drop probability (dropout), stopping epoch
    (early_stopping) or 0 (none). ``grid_val_error`` and ``grid_test_error``
    map a method to (n_repeats, n_strengths) over ``grids[method]``.
    """

    methods: list[str]
    test_error: np.ndarray
    val_error: np.ndarray
    train_error: np.ndarray
    strength: np.ndarray
    grids: dict[str, tuple]
    grid_val_error: dict[str, np.ndarray]
    grid_test_error: dict[str, np.ndarray]
    width: int
    n_train: int
    label_noise: float
    config: dict = field(default_factory=dict)
    elapsed_s: float = float("nan")

    def summary(self):
        """One row per method: test error (mean, s.e., median, quartiles), its paired difference from no
        regularization (mean, s.e.), train and validation error, and the median chosen strength."""
        import pandas as pd

        s = summarize(self.test_error)
        none = self.test_error[:, self.methods.index("none")][:, None] if "none" in self.methods else None
        rows = []
        for i, m in enumerate(self.methods):
            row = {"method": m, "test_mean": s["mean"][i], "test_se": s["se"][i], "test_median": s["median"][i],
                   "test_q25": s["q25"][i], "test_q75": s["q75"][i]}
            if none is not None:
                diff = summarize(self.test_error[:, [i]] - none)
                row.update(diff_vs_none_mean=diff["mean"][0], diff_vs_none_se=diff["se"][0])
            row.update(train_mean=float(self.train_error[:, i].mean()), val_mean=float(self.val_error[:, i].mean()),
                       strength_median=float(np.median(self.strength[:, i])))
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"width": self.width, "n_train": self.n_train, "label_noise": self.label_noise,
                "n_repeats": int(self.test_error.shape[0]), "grids": {k: list(v) for k, v in self.grids.items()},
                "config": self.config,
                "by_method": self.summary().to_dict(orient="records"),
                "chosen": {m: self.strength[:, i].tolist() for i, m in enumerate(self.methods)}}

    def plot(self, ax=None, *, title=None):
        """Test error per method: each repeat as a dot, mean ± s.e. as a bar, median as a tick."""
        ax = axes(ax, (6.4, 3.8))
        s = summarize(self.test_error)
        x = np.arange(len(self.methods))
        ax.bar(x, s["mean"], yerr=s["se"], color="tab:orange", alpha=0.45, capsize=4, label="mean ± s.e.")
        ax.scatter(x, s["median"], marker="_", s=400, color="k", label="median", zorder=3)
        for i in x:
            jitter = np.linspace(-0.15, 0.15, self.test_error.shape[0])
            ax.scatter(i + jitter, self.test_error[:, i], s=10, color="tab:red", alpha=0.7, zorder=4)
        ax.set_xticks(x, [m.replace("_", " ") for m in self.methods])
        ax.set_ylabel("test 0-1 error (clean labels)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize="small")
        ax.set_title(title or f"Regularizers at width {self.width}: n_train = {self.n_train}, "
                              f"label noise {self.label_noise:g}")
        return ax


def _check_methods(methods) -> list:
    methods = list(methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods or len(set(methods)) != len(methods):
        raise GenlabError(f"methods {methods!r}: choose distinct names among {', '.join(METHODS)}")
    return methods


def _check_grids(grids, quick) -> dict:
    """The strengths per method: :data:`GRIDS` (:data:`QUICK_GRIDS` with ``quick``), overridden by ``grids``."""
    use = dict(QUICK_GRIDS if quick else GRIDS)
    for m, values in (grids or {}).items():
        if m not in GRIDS:
            raise GenlabError(f"grids has {m!r}; strengths are given for {', '.join(GRIDS)}")
        try:
            values = [float(v) for v in (values if np.ndim(values) else [values])]
        except (TypeError, ValueError):
            raise GenlabError(f"grids[{m!r}] must be numbers, got {values!r}") from None
        if not values or any(not (0 <= v < (1 if m == "dropout" else math.inf)) for v in values):
            raise GenlabError(f"grids[{m!r}] must be non-empty, with values >= 0" +
                              (" and < 1" if m == "dropout" else ""))
        use[m] = tuple(values)
    return use


def _settings(methods, use, patience) -> list:
    """One ``(method, strength, config overrides)`` per network a repeat trains."""
    keys = {"l1": "l1", "l2": "weight_decay", "dropout": "dropout"}
    settings = []
    for m in methods:
        if m == "none":
            settings.append((m, 0.0, {}))
        elif m == "early_stopping":
            settings.append((m, 0.0, {"patience": patience}))
        else:
            settings += [(m, v, {keys[m]: v}) for v in use[m]]
    return settings


def _choose(res, methods, settings, seeds) -> tuple[dict, dict, dict]:
    """Per repeat and method, the strength with the lowest validation error, and its errors.

    Returns
    -------
    out : dict of ndarray (n_repeats, n_methods)
        ``test``, ``val``, ``train`` (errors) and ``strength``.
    grid_val, grid_test : dict of ndarray (n_repeats, n_strengths)
        Every strength's errors, per method with a grid.
    """
    shape = (seeds, len(settings))
    te, va, tr = (metric_grid(res, f"{k}_error", shape) for k in ("test", "val", "train"))
    stop = metric_grid(res, "best_epoch", shape)
    out = {k: np.empty((seeds, len(methods))) for k in ("test", "val", "train", "strength")}
    grid_val, grid_test = {}, {}
    for i, m in enumerate(methods):
        cols = [j for j, (mm, _, _) in enumerate(settings) if mm == m]
        vals = np.array([settings[j][1] for j in cols])
        pick = np.argmin(va[:, cols], axis=1)  # per repeat; ties: the first (weakest) strength
        rows = np.arange(seeds)
        out["test"][:, i], out["val"][:, i], out["train"][:, i] = (a[:, cols][rows, pick] for a in (te, va, tr))
        out["strength"][:, i] = stop[:, cols[0]] if m == "early_stopping" else vals[pick]
        if m in GRIDS:
            grid_val[m], grid_test[m] = va[:, cols], te[:, cols]
    return out, grid_val, grid_test


def regularizers_side_by_side(data: str = "digits", *, width: int = 48, methods=METHODS, grids=None,
                              n_train: int = 200, n_val: int = 300, label_noise: float = 0.2,
                              epochs: int | None = None, seeds: int | None = None, patience: int = 20,
                              depth: int = 1, loss: str = "squared", optimizer: str = "adam", lr: float = 1e-3,
                              batch_size: int | None = None, eval_every: int = 10, quick: bool = False, store=None,
                              seed: int = 0, jobs: int | None = 1, dask=None,
                              progress: bool = False) -> RegularizerComparison:
    """No regularization, L1, L2, early stopping and dropout on one noisy task, side by side.

    The task is :func:`~genlab.analysis.double_descent.mlp_width_sweep`'s
    (digits, 20% label noise) at a width near its peak (48 units). For L1, L2
    and dropout each repeat trains one network per strength in ``grids`` and
    keeps the one with the lowest validation error (validation labels are
    noisy too); early stopping trains without a penalty, evaluates every
    ``eval_every`` epochs and stops after ``patience`` evaluations without a
    better validation error, restoring the best epoch's weights. Test error is
    then measured once, on clean labels.

    Parameters
    ----------
    width : int, default=48
        Hidden units.
    methods : sequence of str
        Any of "none", "l1", "l2", "early_stopping", "dropout".
    grids : dict, optional
        Strengths per method (``{"l2": [1e-2, 3e-2]}``); default :data:`GRIDS`
        (:data:`QUICK_GRIDS` with ``quick``).
    epochs : int, optional
        As the width sweep: 2000 (1000 with ``quick``).
    seeds : int, optional
        Repeats: 5 (2 with ``quick``).
    patience, eval_every : int
        Early stopping's patience (in evaluations) and evaluation interval (epochs).
    other parameters
        As in :func:`~genlab.analysis.double_descent.mlp_width_sweep`.

    Returns
    -------
    RegularizerComparison
    """
    width = _check_int(width, "width")
    methods = _check_methods(methods)
    patience = _check_int(patience, "patience")
    epochs = epochs if epochs is not None else (1000 if quick else 2000)
    seeds = _check_int(seeds if seeds is not None else (2 if quick else 5), "seeds")
    base = split_settings(data, n_train, n_val, label_noise, seed)
    if base["n_val"] < 1:
        raise GenlabError("choosing strengths and early stopping need a validation set; give n_val >= 1")
    base.update(train_settings(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size,
                               eval_every=eval_every, depth=depth, loss=loss))
    base.update(width=width, dropout=0.0, weight_decay=0.0, l1=0.0, patience=None)
    use = _check_grids(grids, quick)
    settings = _settings(methods, use, patience)
    configs = [dict(base, repeat=r, **over) for r in range(seeds) for _, _, over in settings]
    res = run_mlp_jobs(configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                       label=f"regularizers of an MLP on {data}")
    out, grid_val, grid_test = _choose(res, methods, settings, seeds)
    config = dict(base, methods=methods, seeds=seeds, quick=quick, early_stopping_patience=patience)
    return RegularizerComparison(methods, out["test"], out["val"], out["train"], out["strength"],
                                 {m: use[m] for m in methods if m in GRIDS}, grid_val, grid_test, width,
                                 base["n_train"], base["label_noise"], config, res.elapsed_s)
