"""Epoch-wise double descent: test error against gradient-descent steps falls, rises and falls
again, in a linear model whose features are learned at two speeds (Heckel & Yilmaz 2020),
:func:`epoch_wise`; the cause is stated on the result."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...core.checks import check_int as _check_int, check_positive as _check_positive
from ...core.errors import GenlabError
from ...core.results import Result
from ...core.stats import find_peak, summary_frame
from ...plots.helpers import axes, quartile_band

__all__ = ["EPOCH_WISE_CAUSE", "EpochWiseCurve", "epoch_wise", "epoch_wise_job", "gd_iterates"]

EPOCH_WISE_CAUSE = (
    "Two time scales. The inputs have fast features (variance 1) and slow features (variance {slow_variance:g}); "
    "gradient descent with step {lr:g} learns a direction of variance v in about 1 / (step * v) steps. "
    "The fast features' signal is learned within ~{t_fast:.0f} steps (test error falls); their least-squares "
    "fit then absorbs the label noise, which with {n_fast} fast features for {n_train} samples has a large "
    "variance, up to the slowest fast direction at ~{t_noise:.0f} steps (test error rises); the slow "
    "features' signal is learned only after ~{t_slow:.0f} steps (test error falls again). The curve is the "
    "sum of two bias-variance U-curves at different times (Heckel & Yilmaz 2020). With equal variances "
    "(slow_variance=1), or step sizes scaled per group so that both are learned at one speed (their cure), "
    "there is one U-curve and no peak.")


def gd_iterates(X, y, *, lr: float, steps) -> np.ndarray:
    """Gradient descent on ``||X w - y||^2 / (2 n)`` from w = 0, exactly, at the given step counts.

    In the eigenbasis of ``S = X^T X / n`` each coordinate of the iterate is
    ``(1 - (1 - lr λ)^t) b / λ`` (``b`` the coordinate of ``X^T y / n``), so
    any step count costs one product: the same numbers as running the steps,
    up to rounding.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    lr : float
        Step size; must be below 2 / λ_max(S) for the iteration to converge.
    steps : sequence of int
        Step counts t >= 0.

    Returns
    -------
    ndarray of shape (len(steps), d)
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = X.shape[0]
    lam, V = np.linalg.eigh(X.T @ X / n)          # (d,), (d, d)
    lam = np.clip(lam, 0.0, None)
    if lr * lam.max() >= 2.0:
        raise GenlabError(f"lr = {lr:g} makes gradient descent diverge (largest curvature {lam.max():.3g}); "
                          f"use lr < {2.0 / lam.max():.3g}")
    b = V.T @ (X.T @ y / n)                         # (d,)
    t = np.asarray(steps, dtype=np.float64)[:, None]  # (T, 1)
    pos = lam > 1e-12 * max(lam.max(), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        # log1p keeps (1 - lr λ)^t accurate when lr λ is tiny (slow directions)
        gain = np.where(pos, -np.expm1(t * np.log1p(-lr * lam)) / np.where(pos, lam, 1.0), t * lr)  # (T, d)
    return (gain * b) @ V.T                         # (T, d)


def epoch_wise_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One repeat of :func:`epoch_wise`: draw the data, run gradient descent, measure the risks."""
    c = config
    g = np.random.default_rng(seed)
    n, d1, d2 = c["n_train"], c["n_fast"], c["n_slow"]
    scale = np.r_[np.ones(d1), np.full(d2, math.sqrt(c["slow_variance"]))]       # (d,) feature std
    u1, u2 = g.standard_normal(d1), g.standard_normal(d2)
    beta = np.r_[u1 / np.linalg.norm(u1) * math.sqrt(c["fast_signal"]),
                 u2 / np.linalg.norm(u2) * math.sqrt(c["slow_signal"]) / scale[d1:]]  # (d,)
    X = g.standard_normal((n, d1 + d2)) * scale                                     # (n, d)
    y = X @ beta + c["noise"] * g.standard_normal(n)                                # (n,)
    steps = np.asarray(c["steps"])
    W = gd_iterates(X, y, lr=c["lr"], steps=steps)                                  # (T, d)
    E = (W - beta) * scale                                                          # whitened error
    test = (E * E).sum(axis=1) + c["noise"] ** 2  # E[(y - x.w)^2] for a fresh (x, y): exact, no test sample
    train = ((W @ X.T - y) ** 2).mean(axis=1)
    return {"metrics": {"final_test": float(test[-1]), "final_train": float(train[-1])},
            "series": {"test": test, "train": train}}


@dataclass
class EpochWiseCurve(Result):
    """Test and training error against gradient-descent steps, over repeats.

    ``test`` and ``train`` have shape (n_repeats, n_steps); ``test`` is the
    exact expected squared error on a fresh sample (noise included), ``train``
    the mean squared error on the training set. One step is one epoch
    (full-batch gradient descent). ``cause`` says why the curve has its shape.
    """

    steps: np.ndarray
    test: np.ndarray
    train: np.ndarray
    noise_var: float
    cause: str
    config: dict = field(default_factory=dict)
    elapsed_s: float = math.nan
    cause_values: dict = field(default_factory=dict)  # the numbers in ``cause`` (for other languages)

    def summary(self):
        """One row per step count: mean, s.e., median, quantiles of the test and training errors."""
        return summary_frame({"step": self.steps}, {"test": self.test, "train": self.train})

    @property
    def phases(self) -> dict:
        """The fall-rise-fall of the median test error: steps and errors of the first minimum, the peak
        and the second minimum, the peak's prominence, and the share of repeats whose own curve has a
        prominent peak (more than 5% of the noise variance)."""
        med = np.median(self.test, axis=0)
        p = find_peak(med)
        out = {"prominence": p["prominence"]}
        for key in ("first_min", "peak", "second_min"):
            out[f"{key}_step"] = int(self.steps[p[key]])
            out[f"{key}_test"] = float(med[p[key]])
        out["start_test"], out["end_test"] = float(med[0]), float(med[-1])
        per = np.array([find_peak(r)["prominence"] for r in self.test])
        out["share_of_repeats"] = float(np.mean(per > 0.05 * self.noise_var))
        return out

    def to_dict(self) -> dict:
        return {"cause": self.cause, "phases": self.phases, "noise_var": self.noise_var,
                "n_repeats": int(self.test.shape[0]), "config": self.config,
                "by_step": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, title=None):
        """Median test and training error against steps on log axes, IQR bands, phases marked."""
        ax = axes(ax, (6.4, 4.2))
        x = np.maximum(self.steps, 0.5)  # step 0 drawn at 0.5 on the log axis
        quartile_band(ax, x, self.train, color="tab:blue", label="training", alpha=0.18, mean=True)
        quartile_band(ax, x, self.test, color="tab:orange", label="test", alpha=0.18, mean=True)
        ax.axhline(self.noise_var, color="0.6", lw=0.8, ls=":", label="noise (best possible)")
        ph = self.phases
        for key, marker in (("first_min", "^"), ("peak", "v"), ("second_min", "^")):
            ax.plot([max(ph[f"{key}_step"], 0.5)], [ph[f"{key}_test"]], marker=marker, color="tab:red", ls="none",
                    ms=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("gradient-descent steps (= epochs, full batch)")
        ax.set_ylabel("mean squared error")
        ax.legend(fontsize="small", loc="lower left")
        ax.set_title(title or "Epoch-wise double descent (fast and slow features)")
        return ax


def _cause_values(*, n_train, n_fast, slow_variance, lr) -> dict:
    """The time constants 1 / (lr * curvature) the cause names.

    The fast block's curvatures spread over (1 ± sqrt(n_fast / n_train))² (Marchenko-Pastur),
    the slow block's sit near slow_variance.
    """
    lam_fast_min = max((1 - math.sqrt(min(n_fast / n_train, 1.0))) ** 2, 1e-3)
    return dict(slow_variance=slow_variance, lr=lr, n_fast=n_fast, n_train=n_train, t_fast=1 / lr,
                t_noise=1 / (lr * lam_fast_min), t_slow=1 / (lr * slow_variance))


def epoch_wise(*, n_train: int = 100, n_fast: int = 50, n_slow: int = 5, slow_variance: float = 1e-3,
               fast_signal: float = 4.0, slow_signal: float = 2.0, noise: float = 1.0, lr: float = 0.02,
               max_steps: int = 10**6, n_points: int = 121, seeds: int = 20, store=None, seed: int = 0,
               jobs: int | None = 1, dask=None, progress: bool = False) -> EpochWiseCurve:
    """Epoch-wise double descent: test error falls, rises and falls again over gradient-descent steps.

    The model is linear regression ``y = x . beta + noise`` fitted by
    full-batch gradient descent from zero (computed exactly at log-spaced
    step counts by :func:`gd_iterates`). Its inputs have two groups of
    independent Gaussian features: ``n_fast`` with variance 1 and ``n_slow``
    with variance ``slow_variance``. Gradient descent learns a direction at a
    rate proportional to its variance, so the two groups are learned at times
    about ``1 / slow_variance`` apart:

    1. the fast features' signal is learned: test error falls;
    2. their least-squares fit then absorbs the label noise (``n_fast`` is a
       large share of ``n_train``, so that fit has a large variance,
       ``noise² · n_fast / (n_train - n_fast)``): test error rises;
    3. much later the slow features' signal (``slow_signal``) is learned:
       test error falls again, below the peak.

    Each phase is one bias-variance U-curve; their sum over two time scales
    is the double descent (Heckel & Yilmaz 2020, "Early stopping in deep
    networks: double descent and how to eliminate it"; Nakkiran et al.'s
    epoch-wise double descent in deep networks is attributed to the same
    superposition of features learned at different speeds). With
    ``slow_variance=1`` the curve has one minimum.

    Parameters
    ----------
    n_train : int, default=100
        Training points.
    n_fast, n_slow : int, default 50 and 5
        Features in each group.
    slow_variance : float, default=1e-3
        Variance of the slow features (the fast ones have 1).
    fast_signal, slow_signal : float, default 4.0 and 2.0
        The variance of ``x . beta`` carried by each group.
    noise : float, default=1.0
        Standard deviation of the label noise.
    lr : float, default=0.02
        Step size (the largest curvature is about (1 + sqrt(d / n))² ≈ 3).
    max_steps : int, default=10**6
        Last step count (log-spaced points from 1, plus 0).
    n_points : int, default=121
        Log-spaced step counts measured (fewer where rounding merges small counts).
    seeds : int, default=20
        Repeats (each draws beta, the data and the noise).
    store, seed, jobs, dask, progress
        As in :func:`genlab.runs.sweep.sweep`.

    Returns
    -------
    EpochWiseCurve
    """
    from ...runs.sweep import sweep

    n_train, n_fast = _check_int(n_train, "n_train"), _check_int(n_fast, "n_fast")
    n_slow = _check_int(n_slow, "n_slow")
    seeds, n_points = _check_int(seeds, "seeds"), _check_int(n_points, "n_points", 3)
    max_steps = _check_int(max_steps, "max_steps")
    slow_variance = _check_positive(slow_variance, "slow_variance")
    lr = _check_positive(lr, "lr")
    fast_signal, slow_signal = (_check_positive(v, name) for v, name in
                                ((fast_signal, "fast_signal"), (slow_signal, "slow_signal")))
    noise = _check_positive(noise, "noise")
    steps = [0] + sorted({int(round(s)) for s in np.logspace(0, math.log10(max_steps), n_points - 1)})
    base = {"n_train": n_train, "n_fast": n_fast, "n_slow": n_slow, "slow_variance": slow_variance,
            "fast_signal": fast_signal, "slow_signal": slow_signal, "noise": noise, "lr": lr, "steps": steps}
    res = sweep(epoch_wise_job, [dict(base, repeat=r) for r in range(seeds)], store=store, seed=seed, jobs=jobs,
                dask=dask, progress=progress, label="epoch-wise double descent (linear model)")
    values = _cause_values(n_train=n_train, n_fast=n_fast, slow_variance=slow_variance, lr=lr)
    config = dict(base, seeds=seeds, seed=seed, max_steps=max_steps)
    del config["steps"]
    return EpochWiseCurve(np.array(steps), np.stack(res.series("test")), np.stack(res.series("train")),
                          noise ** 2, EPOCH_WISE_CAUSE.format(**values), config, res.elapsed_s, values)
