"""Regularization, measured (the article's §4.2): ridge chosen by cross-validation
(Fig 14), optimal ridge against the sample-wise peak, and the implicit
regularization of gradient descent."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.sources import Dataset, SyntheticSource, check_n
from ..core.errors import GenlabError
from ..runs.execute import sweep
from ..linalg.bases import check_basis, check_degree, vander
from ..linalg.solvers import ridge_path
from ..core.seeding import check_seed, rng as make_rng
from ..core.stats import summarize


# -- Fig 14: degree 30 with ridge, alpha by cross-validation --------------------------------

@dataclass
class RidgeCV:
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
        lo, hi = self.domain
        A = vander((2.0 * np.asarray(x, float) - (lo + hi)) / (hi - lo), self.degree, self.basis)
        return A @ (self.coef if coef is None else coef)

    @property
    def train_rmse(self) -> float:
        return float(np.sqrt(np.mean((self.predict(self.data.x) - self.data.y) ** 2)))

    def summary(self):
        import pandas as pd

        s = summarize(self.cv_mse)
        return pd.DataFrame({"alpha": self.alphas, "cv_mse": s["mean"], "cv_mse_se": s["se"]})

    to_frame = summary

    def to_dict(self) -> dict:
        return {"degree": self.degree, "best_alpha": self.best_alpha, "train_rmse": self.train_rmse,
                "folds": int(self.cv_mse.shape[0]), "by_alpha": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, ylim=(0.5, 3.5), title=None):
        """Fig 14: the ridge fit (smooth) beside the unregularized fit of the same degree (faint)."""
        from ..plots.helpers import axes, finish_xy

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
        return finish_xy(ax, ylim=ylim, title=title)

    def plot_cv(self, ax=None):
        from ..plots.helpers import axes

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
    lo, hi = domain
    A = vander((2.0 * x - (lo + hi)) / (hi - lo), degree, basis)
    parts = np.array_split(make_rng(seed, "ridge-cv").permutation(data.n), folds)
    cv = np.empty((folds, alphas.size))
    for k, val in enumerate(parts):
        tr = np.concatenate(parts[:k] + parts[k + 1:])
        coef, _ = ridge_path(A[tr], y[tr], alphas)
        cv[k] = np.mean((A[val] @ coef - y[val][:, None]) ** 2, axis=0)
    best = float(alphas[np.argmin(cv.mean(axis=0))])
    coef, _ = ridge_path(A, y, [best])
    coef0 = np.linalg.lstsq(A, y, rcond=None)[0]
    return RidgeCV(degree, alphas, cv, best, data, coef[:, 0], coef0, basis, domain, source)


# -- implicit regularization: gradient descent from zero finds the minimum-norm solution --------------

@dataclass
class ImplicitRegularization:
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
        import pandas as pd

        return pd.DataFrame({"step": self.steps, "gap_from_zero": self.dist_zero,
                             "gap_from_random": self.dist_random, "train_mse": self.train_mse_zero})

    to_frame = summary

    def to_dict(self) -> dict:
        return {"n": self.n, "p": self.p, "final_gap_from_zero": self.final_gap,
                "final_gap_from_random": float(self.dist_random[-1]), "null_space_part": self.null_part}

    def plot(self, ax=None):
        from ..plots.helpers import axes

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
class SampleWiseCurve:
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
        import pandas as pd

        s = summarize(self.test)
        out = {"n": self.ns, "test_mean": s["mean"], "test_se": s["se"], "test_median": s["median"],
               "test_q25": s["q25"], "test_q75": s["q75"], "heavy_tail": s["heavy_tail"]}
        if self.lam == 0:
            out["theory"] = self.theory()
        return pd.DataFrame(out)

    to_frame = summary

    @property
    def peak_n(self) -> int:
        return int(self.ns[np.argmax(np.median(self.test, axis=0))])

    def to_dict(self) -> dict:
        return {"d": self.d, "sigma": self.sigma, "ridge": self.ridge, "lambda": self.lam, "peak_n": self.peak_n,
                "seeds": int(self.test.shape[0]), "by_n": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, label=None, color=None):
        from ..plots.helpers import axes

        ax = axes(ax, (6, 4))
        s = summarize(self.test)
        label = label or ("minimum-norm" if self.lam == 0 else f"ridge λ = {self.lam:.3g}")
        line, = ax.plot(self.ns, s["median"], marker="o", ms=3, color=color, label=f"{label} (median)")
        ax.fill_between(self.ns, s["q25"], s["q75"], color=line.get_color(), alpha=0.2, lw=0)
        if self.lam == 0:
            ax.plot(self.ns, self.theory(), color=line.get_color(), ls="--", lw=1, label="theory")
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
            w = np.linalg.lstsq(Xn, yn, rcond=None)[0]  # minimum norm when n < d
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
    res = sweep(_sample_wise_job, configs, store=store, seed=check_seed(seed), jobs=jobs, dask=dask, progress=progress)
    return SampleWiseCurve(d, np.array(ns), np.array(res.series("test")), float(sigma), ridge, lam)
