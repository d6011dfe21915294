"""Double descent, measured: test error against model size (or sample size) past
the interpolation threshold, with the quantities that explain the peak.

Every experiment here runs its seeds as jobs through :func:`genlab.runs.execute.sweep`
(one job per seed, the job returning its whole curve as series), so the same
call serves a notebook (a temporary store) and the CLI (``store=``, resumable,
``jobs=``/``dask=``); the numbers depend on ``seed`` only, not on the workers.

* :func:`random_features_sweep` — random ReLU / Fourier features on a bundled
  dataset, minimum-norm least squares (or ridge, fixed or tuned per p) on
  one-hot targets; :func:`label_noise_sweep` repeats it at several label-noise rates.
* :func:`polynomial_model_wise` — minimum-norm polynomials past the threshold in
  several bases: the basis decides whether the second descent beats the
  classical minimum.
* :func:`random_features_variance_split` — the variance across the curve,
  split by the law of total variance into the part due to the training data
  and the part due to the random features.
* :func:`linear_sample_wise`, :func:`singular_value_analysis` and
  :func:`schaeffer_ablations` — why the peak: the smallest non-zero singular
  value, the coefficient norm, and the three ablations of Schaeffer et al.
  (2023), each of which removes the peak.

The shared engine, :func:`nested_least_squares`, fits every leading block of
columns ``Phi[:, :p]`` from one growing factorization (see its docstring).

Errors are squared errors summed over the outputs (one-hot targets: over the
classes) and averaged over the points; near the threshold they are
heavy-tailed, so every summary gives the median and quartiles beside the mean.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.linalg import lapack, solve_triangular

from ...core.checks import check_fraction, check_int as _check_int
from ...core.errors import GenlabError
from ...core.seeding import check_seed, rng as make_rng, seed_sequence
from ...core.stats import summarize

__all__ = ["ABLATIONS", "CurveFamily", "DoubleDescentCurve", "NestedFit", "SingularValueAnalysis", "VarianceSplit",
           "default_ps", "label_noise_sweep", "linear_sample_wise", "nested_least_squares", "polynomial_model_wise",
           "random_features_sweep", "random_features_variance_split", "schaeffer_ablations",
           "singular_value_analysis"]

EPS = np.finfo(np.float64).eps

#: Metrics a :class:`DoubleDescentCurve` may carry, with their axis labels.
METRICS = {
    "test_mse": "test squared error",
    "train_mse": "training squared error",
    "test_error": "test 0-1 error",
    "coef_norm": "coefficient norm ‖β‖",
    "sigma_min": "smallest non-zero singular value",
}
#: Relative ridge penalties tried per p when ``ridge="tuned"`` (times trace(ΦΦᵀ)/n), plus 0.
RIDGE_GRID = np.concatenate([[0.0], np.logspace(-8, 2, 41)])
POLY_BASES = ("legendre", "legendre-normalized", "chebyshev", "monomial")
#: Largest feature matrices (training, test and validation rows × max p, float64) one job may hold.
MAX_FEATURE_GB = 4.0
HARD_TARGET = "2*x + cos(25*x)"


# =============================================================================== the engine

class NestedFit(NamedTuple):
    """The fit of the leading ``p`` columns.

    ``coef`` has shape (p, n_outputs), or (p, n_outputs, n_alphas) when
    penalties were given; ``singular_values`` are those of ``Phi[:, :p]``
    (descending, min(n, p) of them); ``rank`` counts those above the cut-off
    ``max(n, p) · eps · s_max`` (numpy's ``pinv`` default).
    """

    p: int
    coef: np.ndarray
    singular_values: np.ndarray
    rank: int

    @property
    def sigma_min(self) -> float:
        """The smallest singular value kept (the smallest non-zero one)."""
        return float(self.singular_values[self.rank - 1]) if self.rank else 0.0


def _r_factor(A) -> np.ndarray:
    """The R factor (upper triangle, first min(shape) rows) of a Householder QR of ``A``."""
    qr, _, _, info = lapack.dgeqrf(np.asfortranarray(A), overwrite_a=True)
    if info != 0:  # pragma: no cover - LAPACK argument errors only
        raise RuntimeError(f"dgeqrf failed ({info})")
    k = min(A.shape)
    return np.triu(qr[:k])


def nested_least_squares(Phi, Y, ps, *, alphas=None):
    """Minimum-norm (or ridge) fits of every leading block ``Phi[:, :p]``, one factorization for all.

    Parameters
    ----------
    Phi : ndarray of shape (n, P)
        Design (e.g. random features); column order defines the nesting.
    Y : ndarray of shape (n,) or (n, n_outputs)
    ps : sequence of int
        Model sizes, ascending, each in 1..P.
    alphas : sequence of float or callable, optional
        Ridge penalties (``‖Φβ − Y‖² + α‖β‖²``); 0 is the minimum-norm
        solution. When given, ``coef`` carries one fit per penalty. A callable
        ``alphas(p, singular_values)`` gives each p its own penalties (e.g.
        relative to ``(singular_values ** 2).sum() / n``, the mean squared
        feature norm), from the same SVD.

    Yields
    ------
    NestedFit
        In the order of ``ps``.

    Notes
    -----
    Under the threshold (p <= n) the columns are nested, and so are the
    factors of one Householder QR ``[Phi[:, :n] | Y] = Q [R | z]``:
    ``Phi[:, :p] = Q_p R[:p, :p]`` and ``Q_pᵀ Y = z[:p]``. The minimum-norm
    least-squares solution is ``pinv(R_p) z_p``, so each p costs the singular
    values of the p × p triangle ``R_p`` (for σ_min and numpy's cut-off) and a
    triangular solve — a full SVD ``R_p = U S Vᵀ`` only when the cut-off drops
    a direction or penalties are asked for — and nothing of size n.

    Over the threshold (p > n) the *rows* of ``Phi[:, :p]ᵀ`` are nested: its
    R factor (n × n) is updated by appending the new rows,
    ``R_new = qr_r([R_old; Phi[:, p_old:p]ᵀ])`` (the R factor of stacked rows
    is that of the stacked R and rows), so every p above n shares one growing
    factorization of cost O(n² P) in all — never an SVD of the n × p block.
    With ``R = U S Vᵀ``, ``Phi_p = V S (Q_p U)ᵀ`` and the minimum-norm
    solution is ``Phi_pᵀ V S⁻² Vᵀ Y`` — at full rank ``Phi_pᵀ R⁻¹ R⁻ᵀ Y``, two
    triangular solves (the seminormal form of the underdetermined problem,
    accurate to O(eps · cond) because it uses the stable factor R, never the
    Gram matrix ΦΦᵀ, whose condition is squared). The same SVD gives every
    singular value, the cut-off of ``np.linalg.pinv`` and any number of ridge
    penalties at once (``S⁻²`` → ``(S² + α)⁻¹`` and, below n, ``S⁻¹`` →
    ``S / (S² + α)``). Both regimes need different factors because the
    pseudo-inverse changes side at p = n: below it projects Y onto the
    column space, above it picks the smallest of many interpolants.
    """
    Phi = np.asarray(Phi, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    one = Y.ndim == 1
    Y2 = Y.reshape(Y.shape[0], -1)
    n, P = Phi.shape
    k = Y2.shape[1]
    ps = [int(p) for p in ps]
    if not ps or any(b <= a for a, b in zip(ps, ps[1:])) or ps[0] < 1 or ps[-1] > P:
        raise GenlabError(f"model sizes must be increasing integers in 1..{P}, got {ps}")
    per_p = callable(alphas)
    al = None if alphas is None or per_p else np.asarray(alphas, dtype=np.float64)
    # -- under the threshold: one QR of [Phi[:, :m] | Y]
    m = min(n, P, max((p for p in ps if p <= n), default=0))
    if m:
        aug = np.empty((n, m + k), order="F")
        aug[:, :m] = Phi[:, :m]
        aug[:, m:] = Y2
        qr, _, _, _ = lapack.dgeqrf(aug, overwrite_a=True)
        Rm = np.triu(qr[:m, :m])
        z = qr[:m, m:m + k]
    R, p_done = None, 0  # over the threshold: the growing R factor of Phi[:, :p]ᵀ
    for p in ps:
        if p <= n:
            T = Rm[:p, :p]
            s = np.linalg.svd(T, compute_uv=False)
            keep = s > max(n, p) * EPS * s[0] if s[0] > 0 else np.zeros(s.size, bool)
            r = int(keep.sum())
            if al is None and not per_p and r == p:  # full rank: pinv(R_p) = R_p⁻¹, one triangular solve
                coef = solve_triangular(T, z[:p], check_finite=False)
                yield NestedFit(p, coef[:, 0] if one else coef, s, r)
                continue
            U, s, Vt = np.linalg.svd(T)
            if per_p:
                al = np.asarray(alphas(p, s), dtype=np.float64).reshape(-1)
            w = U[:, :r].T @ z[:p]  # (r, k)
            sk = s[:r]
            if al is None:
                coef = Vt[:r].T @ (w / sk[:, None])
            else:
                filt = sk[:, None] / (sk[:, None] ** 2 + al[None, :])             # (r, L)
                coef = np.einsum("jr,rk,rl->jkl", Vt[:r].T, w, filt, optimize=True)
        else:
            if R is None:
                R = _r_factor(Phi[:, :p].T.copy())
            else:
                stack = np.empty((n + p - p_done, n), order="F")
                stack[:n] = R
                stack[n:] = Phi[:, p_done:p].T
                R = _r_factor(stack)
            p_done = p
            s = np.linalg.svd(R, compute_uv=False)
            keep = s > max(n, p) * EPS * s[0] if s[0] > 0 else np.zeros(s.size, bool)
            r = int(keep.sum())
            if al is None and not per_p and r == n:  # full rank: (ΦΦᵀ)⁻¹Y = R⁻¹R⁻ᵀY, two triangular solves
                A = solve_triangular(R, solve_triangular(R, Y2, trans="T", check_finite=False), check_finite=False)
                coef = Phi[:, :p].T @ A
                yield NestedFit(p, coef[:, 0] if one else coef, s, r)
                continue
            _, s, Vt = np.linalg.svd(R)
            if per_p:
                al = np.asarray(alphas(p, s), dtype=np.float64).reshape(-1)
            V = Vt[:r].T                         # (n, r): left singular vectors of Phi_p
            w = V.T @ Y2                         # (r, k)
            sk2 = s[:r] ** 2
            if al is None:
                A = V @ (w / sk2[:, None])        # (n, k)
                coef = Phi[:, :p].T @ A
            else:
                filt = 1.0 / (sk2[:, None] + al[None, :])
                A = np.einsum("ir,rk,rl->ikl", V, w, filt, optimize=True).reshape(n, k * al.size)
                coef = (Phi[:, :p].T @ A).reshape(p, k, al.size)
        if one and al is None:
            coef = coef[:, 0]
        yield NestedFit(p, coef, s, r)


# =============================================================================== results

def _metric_label(name: str) -> str:
    return METRICS.get(name, name.replace("_", " "))


@dataclass
class DoubleDescentCurve:
    """Per-seed curves of one double-descent experiment.

    Every metric is an array of shape (n_seeds, n_points): one row per seed
    (an independent job), one column per value of the knob.

    Attributes
    ----------
    knob : str
        What varies: ``"p"`` (model size), ``"degree"``, ``"n"`` (training
        points) or ``"epochs"``.
    values : ndarray of shape (n_points,)
    threshold : float or None
        The interpolation threshold on the knob's axis (p = n, degree = n − 1,
        n = rank of the features), marked on the plots.
    test_mse, train_mse : ndarray
        Squared error summed over outputs, averaged over points.
    coef_norm : ndarray
        ‖β‖ (Frobenius over outputs).
    sigma_min : ndarray
        Smallest non-zero singular value of the training design.
    test_error : ndarray or None
        Test 0-1 error (classification only).
    extra : dict of ndarray
        Further per-point quantities, e.g. ``ridge_lambda`` (the penalty chosen per p).
    label : str
    config : dict
    """

    knob: str
    values: np.ndarray
    threshold: float | None
    test_mse: np.ndarray
    train_mse: np.ndarray
    coef_norm: np.ndarray
    sigma_min: np.ndarray
    test_error: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
    label: str = ""
    config: dict = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, np.ndarray]:
        """Every metric held, by name."""
        out = {"test_mse": self.test_mse, "train_mse": self.train_mse}
        if self.test_error is not None:
            out["test_error"] = self.test_error
        out.update(coef_norm=self.coef_norm, sigma_min=self.sigma_min)
        out.update(self.extra)
        return out

    @property
    def n_seeds(self) -> int:
        return int(self.test_mse.shape[0])

    def metric(self, name: str) -> np.ndarray:
        try:
            return self.metrics[name]
        except KeyError:
            raise GenlabError(f"this curve has no metric {name!r}; choose one of {', '.join(self.metrics)}") from None

    def median(self, metric: str = "test_mse") -> np.ndarray:
        """The median over seeds, per point."""
        return np.median(self.metric(metric), axis=0)

    def summary(self):
        """One row per point: per metric the mean, its s.e., the median, quartiles, the
        10%-trimmed mean and the heavy-tail flag of :func:`genlab.core.stats.summarize`
        (which needs at least 20 seeds to fire)."""
        import pandas as pd

        cols = {self.knob: self.values}
        for name, arr in self.metrics.items():
            s = summarize(arr)
            for key in ("mean", "se", "median", "q25", "q75", "trimmed", "heavy_tail"):
                cols[f"{name}_{key}"] = s[key]
        return pd.DataFrame(cols)

    to_frame = summary

    def find_peak(self, metric: str = "test_mse") -> dict:
        """Where the median of ``metric`` is largest: ``{"at": value, "value": median}``."""
        med = self.median(metric)
        i = int(np.nanargmax(med))
        return {"at": float(self.values[i]), "value": float(med[i])}

    @property
    def peak(self) -> float:
        """The knob value of the largest median test squared error."""
        return self.find_peak()["at"]

    def find_minima(self, metric: str = "test_mse") -> dict:
        """The classical minimum (before the peak), the minimum after it, and their ratio.

        With a known threshold the two sides are those of the threshold (the
        point on it belongs to neither); otherwise of the largest median.

        Returns
        -------
        dict
            ``classical`` and ``after_peak`` (each ``{"at", "value"}`` or None
            when there is no point on that side), ``global`` and ``ratio``
            (after-peak over classical median error: below 1 when the second
            descent beats the classical minimum).
        """
        med = self.median(metric)
        x = np.asarray(self.values, dtype=float)

        def best(idx):
            if idx.size == 0:
                return None
            j = idx[int(np.nanargmin(med[idx]))]
            return {"at": float(self.values[j]), "value": float(med[j])}

        idx = np.arange(med.size)
        if self.threshold is not None:  # the peak this is about: the interpolation threshold's
            classical, after = best(idx[x < self.threshold]), best(idx[x > self.threshold])
        else:
            ip = int(np.nanargmax(med))
            classical, after = best(idx[:ip]), best(idx[ip + 1:])
        ratio = after["value"] / classical["value"] if classical and after and classical["value"] > 0 else None
        return {"classical": classical, "after_peak": after, "global": best(idx), "ratio": ratio}

    @property
    def minimum(self) -> dict:
        """:meth:`find_minima` of the test squared error."""
        return self.find_minima()

    def to_dict(self) -> dict:
        return {"knob": self.knob, "label": self.label, "threshold": self.threshold, "n_seeds": self.n_seeds,
                "peak": self.find_peak(), "minimum": self.minimum, "config": self.config,
                "points": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, metric: str = "test_mse", log: bool = True, title=None, color=None, label=None):
        """Median over seeds with the interquartile band, on log axes, threshold marked.

        For ``metric="test_mse"`` or ``"train_mse"`` both the training and the test
        curves are drawn (the mean of the test error dashed beside its median).
        """
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        names = ("train_mse", "test_mse") if metric in ("test_mse", "train_mse") else (metric,)
        x = np.asarray(self.values, dtype=float)
        colors = {"train_mse": "tab:blue", "test_mse": "tab:red"}
        shown = []
        for name in names:
            s = summarize(self.metric(name))
            c = color or colors.get(name, "tab:purple")
            text = label or self.label
            lab = f"{_metric_label(name)}" + (f" — {text}" if text else "")
            ax.fill_between(x, s["q25"], s["q75"], color=c, alpha=0.2, lw=0)
            ax.plot(x, s["median"], color=c, marker="o", ms=2.5, label=f"{lab} (median, IQR)")
            if name == "test_mse":
                ax.plot(x, s["mean"], color=c, ls="--", lw=0.8, label="mean")
            shown.append(s["median"])
        _finish_axes(ax, self, shown, metric=metric if len(names) == 1 else "squared error", log=log)
        if title:
            ax.set_title(title)
        return ax


def _finish_axes(ax, curve, shown, *, metric, log):
    if curve.threshold is not None:
        ax.axvline(curve.threshold, color="0.4", ls=":", lw=1)
        ax.annotate("interpolation threshold", (curve.threshold, 0.98), xycoords=("data", "axes fraction"),
                    ha="right", va="top", fontsize="small", color="0.35", rotation=90)
    if log:
        if np.all(np.asarray(curve.values, dtype=float) > 0):
            ax.set_xscale("log")
        ax.set_yscale("log")
        top = [np.asarray(v)[np.asarray(v) > 0] for v in shown]
        top = [v for v in top if v.size]
        if top and metric in ("squared error", "test_mse", "train_mse"):
            # past the threshold the training error is ~1e-30: keep the axis on the test error's scale
            ax.set_ylim(bottom=1e-3 * min(float(v.min()) for v in top[-1:]))
    ax.set_xlabel({"p": "random features p", "degree": "polynomial degree", "n": "training points n",
                   "epochs": "epochs"}.get(curve.knob, curve.knob))
    ax.set_ylabel(_metric_label(metric))
    ax.legend(fontsize="small")


@dataclass
class CurveFamily:
    """Several :class:`DoubleDescentCurve` of one experiment (per basis, per ablation,
    per label-noise rate), each with a one-line verdict, and a caption for the figure."""

    curves: dict
    verdicts: dict
    caption: str = ""
    title: str = ""
    config: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)  # the numbers behind each verdict (for other languages)

    def __getitem__(self, key) -> DoubleDescentCurve:
        try:
            return self.curves[key]
        except KeyError:
            raise GenlabError(f"no curve {key!r}; choose one of {', '.join(map(str, self.curves))}") from None

    def __iter__(self):
        return iter(self.curves)

    def summary(self):
        """The curves' summaries stacked, with a ``curve`` column."""
        import pandas as pd

        frames = []
        for key, c in self.curves.items():
            f = c.summary()
            f.insert(0, "curve", str(key))
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    to_frame = summary

    def table(self):
        """One row per curve: peak, classical minimum, minimum after the peak, their ratio, verdict."""
        import pandas as pd

        rows = []
        for key, c in self.curves.items():
            pk, mn = c.find_peak(), c.minimum
            rows.append({"curve": str(key), "peak_at": pk["at"], "peak_value": pk["value"],
                         "classical_at": (mn["classical"] or {}).get("at"),
                         "classical_value": (mn["classical"] or {}).get("value"),
                         "after_peak_at": (mn["after_peak"] or {}).get("at"),
                         "after_peak_value": (mn["after_peak"] or {}).get("value"),
                         "ratio": mn["ratio"], "verdict": self.verdicts.get(key, "")})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"title": self.title, "caption": self.caption, "config": self.config,
                "verdicts": {str(k): v for k, v in self.verdicts.items()},
                "curves": {str(k): c.to_dict() for k, c in self.curves.items()}}

    def plot(self, ax=None, *, metric: str = "test_mse", log: bool = True, title=None):
        """Each curve's median ``metric`` with its interquartile band, threshold marked."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        shown = []
        colors = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown"]
        first = None
        for (key, c), col in zip(self.curves.items(), colors * 3):
            s = summarize(c.metric(metric))
            x = np.asarray(c.values, dtype=float)
            ax.fill_between(x, s["q25"], s["q75"], color=col, alpha=0.15, lw=0)
            ax.plot(x, s["median"], color=col, marker="o", ms=2.5, label=str(key))
            shown.append(s["median"])
            first = first or c
        _finish_axes(ax, first, shown[:1] if shown else [], metric=metric, log=log)
        ax.set_title(title or self.title, fontsize="medium")
        return ax


# =============================================================================== shared checks

@functools.lru_cache(maxsize=8)
def _dataset(name: str):
    from ...data.sources import load_dataset

    return load_dataset(name)


def _check_data(data):
    if not isinstance(data, str):
        raise GenlabError(f"data must name a bundled dataset (digits, diabetes, wine, breast_cancer), got {data!r}")
    return _dataset(data)


def _check_rate(rate) -> float:
    return check_fraction(rate, "label noise")


def _check_sizes(values, what: str = "ps", lo: int = 1) -> list[int]:
    """Sorted distinct integer sizes >= lo; a GenlabError for an empty list or a non-integer."""
    try:
        vals = list(values)
        ints = [int(v) for v in vals]
        whole = all(not isinstance(v, bool) and float(v) == i for v, i in zip(vals, ints))
    except (TypeError, ValueError, OverflowError):
        raise GenlabError(f"{what} must be a list of integers >= {lo}, got {values!r}") from None
    if not vals:
        raise GenlabError(f"{what} is empty; give at least one size")
    if not whole or min(ints) < lo:
        raise GenlabError(f"{what} must be integers >= {lo}, got {vals!r}")
    return sorted(set(ints))


def default_ps(n: int, *, lo: int = 10, factor: float = 20.0, count: int = 32) -> list[int]:
    """About 40 model sizes: ``count`` log-spaced from ``lo`` to ``factor · n``, and a
    dozen around the threshold (0.5n … 2n, densest at n)."""
    hi = max(lo + 1, int(round(factor * n)))
    base = np.geomspace(lo, hi, count)
    near = n * np.array([0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2.0])
    base = base[np.min(np.abs(np.log(base[:, None] / near[None, :])), axis=1) > 0.04]  # no near-duplicates
    ps = np.unique(np.round(np.concatenate([base, near])).astype(int))
    return [int(p) for p in ps if p >= 1]


def _check_ridge(ridge):
    if isinstance(ridge, str):
        if ridge != "tuned":
            raise GenlabError(f"ridge must be a number >= 0 or 'tuned', got {ridge!r}")
        return ridge
    try:
        value = float(ridge)
    except (TypeError, ValueError):
        raise GenlabError(f"ridge must be a number >= 0 or 'tuned', got {ridge!r}") from None
    if not math.isfinite(value) or value < 0:
        raise GenlabError(f"ridge must be a number >= 0 or 'tuned', got {ridge!r}")
    return value


def _sweep(fn, configs, *, store, seed, jobs, dask, progress):
    from ...runs.execute import sweep

    return sweep(fn, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)


def _stack(result, name: str, rows=None) -> np.ndarray | None:
    """Series ``name`` of the sweep's jobs (all, or those at index ``rows``) as one array (n_jobs, length)."""
    series = result.series(name)
    series = series if rows is None else [series[i] for i in rows]
    if any(r is None for r in series):
        return None
    return np.vstack(series)


def _children(seed: np.random.SeedSequence, k: int) -> list[np.random.SeedSequence]:
    """``k`` fixed children of a job's SeedSequence (unlike ``spawn``, the same on every call)."""
    return [np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (i,), pool_size=seed.pool_size)
            for i in range(k)]


def _targets(ds, y):
    """One-hot rows for class labels (over the dataset's classes), else the values as one column."""
    if ds.task == "classification":
        classes = np.unique(ds.y)
        return (np.asarray(y)[:, None] == classes[None, :]).astype(np.float64)
    return np.asarray(y, dtype=np.float64)[:, None]


def _sq_err(pred, Y) -> float:
    return float(np.mean(np.sum((pred - Y) ** 2, axis=1)))


# =============================================================================== random features

def _rf_split(ds, n_train, n_test, n_val, g):
    perm = g.permutation(ds.n)
    tr = perm[:n_train]
    te = perm[n_train:n_train + n_test]
    va = perm[n_train + n_test:n_train + n_test + n_val]
    return tr, te, va


def _standardizer(X_ref):
    """Centre by the reference rows' mean, divide by one scalar so that E‖x‖² = d
    (zero-variance inputs such as digits' blank corner pixels stay harmless)."""
    mu = X_ref.mean(axis=0)
    r = math.sqrt(float(np.mean(np.sum((X_ref - mu) ** 2, axis=1))) / X_ref.shape[1])
    r = r if r > 0 else 1.0
    return lambda X: (X - mu) / r


def rf_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One seed of :func:`random_features_sweep`: a split, label noise, one feature draw, every p.

    Streams: the split and the features come from ``(config["draw_seed"],
    config["repeat"])`` only, so curves that differ in label noise, ridge or
    test size are *paired* (same splits, same features: their differences are
    not drowned by the draws'); the label flips come from the job's own
    ``seed`` (which depends on the whole config). Returns series over p: ``test_mse``, ``train_mse``,
    ``test_error`` (classification), ``coef_norm``, ``sigma_min`` and, with a
    tuned ridge, ``ridge_lambda`` (all for the normalized features sqrt(2/p)·φ,
    as :class:`~genlab.models.random_features.RandomFeaturesRegressor` uses).
    """
    from ...data.sources import flip_labels
    from ...models.random_features import draw_weights, features_from_weights

    ds = _dataset(config["data"])
    ss_split, ss_feat = _children(seed_sequence(int(config["draw_seed"]), "rf-draw", int(config["repeat"])), 2)
    g_split, g_noise = np.random.default_rng(ss_split), np.random.default_rng(_children(seed, 1)[0])
    ps = [int(p) for p in config["ps"]]
    ridge = config["ridge"]
    n_val = int(config.get("n_val") or 0) if ridge == "tuned" else 0
    tr, te, va = _rf_split(ds, int(config["n_train"]), int(config["n_test"]), n_val, g_split)
    std = _standardizer(ds.X[tr])
    y_tr = ds.y[tr]
    classify = ds.task == "classification"
    if classify and config["label_noise"] > 0:
        y_tr, _ = flip_labels(y_tr, config["label_noise"], g_noise, classes=np.unique(ds.y))
    if not classify:  # standardized targets
        mu, sd = float(ds.y[tr].mean()), float(ds.y[tr].std()) or 1.0
        tgt = lambda y: (np.asarray(y, dtype=np.float64) - mu) / sd  # noqa: E731
    else:
        tgt = lambda y: y  # noqa: E731
    Y_tr, Y_te = _targets(ds, tgt(y_tr)), _targets(ds, tgt(ds.y[te]))
    Y_va = _targets(ds, tgt(ds.y[va])) if n_val else None
    W, b = draw_weights(ds.X.shape[1], ps[-1], kind=config["kind"], scale=config["scale"], seed=ss_feat)
    F_tr = features_from_weights(std(ds.X[tr]), W, b, kind=config["kind"], normalize=False)
    F_te = features_from_weights(std(ds.X[te]), W, b, kind=config["kind"], normalize=False)
    F_va = features_from_weights(std(ds.X[va]), W, b, kind=config["kind"], normalize=False) if n_val else None
    n = F_tr.shape[0]
    out = {k: [] for k in ("test_mse", "train_mse", "coef_norm", "sigma_min")}
    if classify:
        out["test_error"] = []
    if ridge != 0:
        out["ridge_lambda"] = []
    if ridge == "tuned":  # the grid relative to trace(ΦΦᵀ)/n = Σ s² / n, per p
        alphas = lambda p, s: RIDGE_GRID * float(np.sum(s ** 2)) / n  # noqa: E731
    elif ridge:  # the penalty of the normalized features sqrt(2/p)·φ = raw / sqrt(p) is α·p on the raw ones
        alphas = lambda p, s: np.array([float(ridge) * p])  # noqa: E731
    else:
        alphas = None
    for fit in nested_least_squares(F_tr, Y_tr, ps, alphas=alphas):
        p = fit.p
        if ridge == "tuned":
            lams = RIDGE_GRID * float(np.sum(fit.singular_values ** 2)) / n
            pv = np.einsum("ij,jkl->ikl", F_va[:, :p], fit.coef, optimize=True)   # (n_val, k, L)
            val = np.mean(np.sum((pv - Y_va[:, :, None]) ** 2, axis=1), axis=0)
            j = int(np.argmin(val))
            coef, lam = fit.coef[:, :, j], lams[j]
        elif ridge:
            coef, lam = fit.coef[:, :, 0], float(ridge) * p
        else:
            coef, lam = fit.coef, 0.0
        pred_tr = F_tr[:, :p] @ coef
        pred_te = F_te[:, :p] @ coef
        out["train_mse"].append(_sq_err(pred_tr, Y_tr))
        out["test_mse"].append(_sq_err(pred_te, Y_te))
        if classify:
            out["test_error"].append(float(np.mean(np.argmax(pred_te, axis=1) != np.argmax(Y_te, axis=1))))
        # normalized features sqrt(2/p)·φ = raw/sqrt(p): coef × sqrt(p), σ / sqrt(p), λ / p
        out["coef_norm"].append(float(np.linalg.norm(coef)) * math.sqrt(p))
        out["sigma_min"].append(fit.sigma_min / math.sqrt(p))
        if ridge != 0:
            out["ridge_lambda"].append(lam / p)
    return {"series": out, "metrics": {"n_train": n, "p_max": ps[-1]}}


def _rf_configs(data, *, kind, n_train, n_test, ps, seeds, label_noise, ridge, scale, n_val, seed):
    from ...models.random_features import check_kind, check_scale

    ds = _check_data(data)
    check_kind(kind)
    scale = check_scale(scale)
    n_train = _check_int(n_train, "n_train")
    n_test = _check_int(n_test, "n_test")
    seeds = _check_int(seeds, "seeds")
    rates = [_check_rate(r) for r in (label_noise if isinstance(label_noise, (list, tuple)) else [label_noise])]
    if ds.task != "classification" and any(rates):
        raise GenlabError(f"label noise flips class labels; dataset {data!r} is a regression set (use noise 0)")
    ridge = _check_ridge(ridge)
    ps = default_ps(n_train) if ps is None else _check_sizes(ps, "ps")
    left = ds.n - n_train - n_test
    if left < 0:
        raise GenlabError(f"dataset {data!r} has {ds.n} points: n_train + n_test = {n_train + n_test} do not fit; "
                          "lower n_train or n_test")
    if ridge == "tuned":
        n_val = min(n_train, left) if n_val is None else _check_int(n_val, "n_val")
        if n_val < 10 or n_val > left:
            raise GenlabError(f"a tuned ridge needs a validation split of 10 to {left} points left over from "
                              f"n_train + n_test; got {n_val} — lower n_train or n_test")
    else:
        n_val = 0
    gb = (n_train + n_test + n_val) * ps[-1] * 8 / 1e9
    if gb > MAX_FEATURE_GB:
        raise GenlabError(f"the largest p = {ps[-1]} needs {gb:.1f} GB of features per job (limit "
                          f"{MAX_FEATURE_GB:g} GB); lower max(ps) or n_test")
    base = {"data": data, "kind": kind, "n_train": n_train, "n_test": n_test, "ps": ps, "ridge": ridge,
            "scale": scale, "n_val": n_val, "draw_seed": check_seed(seed)}
    return ds, [{**base, "label_noise": r, "repeat": s} for r in rates for s in range(seeds)], rates, ps


def _rf_curve(ds, result, rows, ps, config, label) -> DoubleDescentCurve:
    rows = list(rows)
    return DoubleDescentCurve(
        knob="p", values=np.array(ps), threshold=float(config["n_train"]),
        test_mse=_stack(result, "test_mse", rows), train_mse=_stack(result, "train_mse", rows),
        coef_norm=_stack(result, "coef_norm", rows), sigma_min=_stack(result, "sigma_min", rows),
        test_error=_stack(result, "test_error", rows) if ds.task == "classification" else None,
        extra={"ridge_lambda": _stack(result, "ridge_lambda", rows)} if config["ridge"] != 0 else {},
        label=label, config=config)


def random_features_sweep(data: str = "digits", *, kind: str = "relu", n_train: int = 400, n_test: int = 1000,
                          ps=None, seeds: int = 5, label_noise: float = 0.0, ridge=0.0, scale: float = 1.0,
                          n_val: int | None = None, store=None, jobs: int | None = 1, dask=None,
                          progress: bool = False, seed: int = 0) -> DoubleDescentCurve:
    """Model-wise double descent of random features on a bundled dataset.

    Per seed: a random split (``n_train`` training, ``n_test`` test points;
    inputs centred and scaled by one scalar from the training rows), label
    noise on the training labels only, one draw of ``max(ps)`` random
    features, and for every p the least-squares fit of the first p of them on
    one-hot targets (standardized values for a regression set).

    Parameters
    ----------
    data : str, default="digits"
        A bundled dataset: digits, wine, breast_cancer (one-hot targets, 0-1
        error too) or diabetes (regression).
    kind : {"relu", "fourier"}
    n_train, n_test : int
    ps : sequence of int, optional
        Model sizes; default :func:`default_ps` (about 40, from 10 to 20n, dense near n).
    seeds : int, default=5
        Independent repeats (split, label noise and features all redrawn), one job each.
        Repeat r's split and features depend on (``seed``, r) only: curves
        run with the same seed at other label-noise rates or penalties are
        paired with this one.
    label_noise : float, default=0.0
        Fraction of training labels replaced by another class (:func:`genlab.data.sources.flip_labels`).
    ridge : float or "tuned", default=0.0
        0: minimum-norm least squares (interpolates past p = n). A number: the
        ridge penalty of :class:`~genlab.models.random_features.RandomFeaturesRegressor`
        (on the normalized features). ``"tuned"``: per p, the penalty of
        :data:`RIDGE_GRID` (relative to trace(ΦΦᵀ)/n, zero included) with the
        lowest error on a validation split of ``n_val`` further points.
    scale : float, default=1.0
        Input scale of the random weights.
    n_val : int, optional
        Validation points for ``ridge="tuned"`` (default: min(n_train, what is left)).
    store, jobs, dask, progress, seed
        As :func:`genlab.runs.execute.sweep`: one job per seed.

    Returns
    -------
    DoubleDescentCurve
        Knob ``"p"``, threshold n_train; metrics ``test_mse``, ``train_mse``,
        ``test_error``, ``coef_norm``, ``sigma_min`` (for the normalized
        features sqrt(2/p)·φ), and ``ridge_lambda`` when a ridge is used.

    Notes
    -----
    Performance: all p of one seed share one factorization
    (:func:`nested_least_squares`): the leading blocks of one QR below n and a
    row-appended R factor above n, so each p costs one SVD of a min(n, p)²
    triangle plus the products with Φ — never a pseudo-inverse of the n × p
    block (``bench/double_descent.py`` measures the ratio).
    """
    ds, configs, _, ps = _rf_configs(data, kind=kind, n_train=n_train, n_test=n_test, ps=ps, seeds=seeds,
                                     label_noise=label_noise, ridge=ridge, scale=scale, n_val=n_val, seed=seed)
    result = _sweep(rf_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)
    config = {k: v for k, v in configs[0].items() if k not in ("repeat", "ps")}
    config.update(seeds=seeds, seed=check_seed(seed))
    label = f"{kind} features" + (f", {label_noise:.0%} label noise" if label_noise else "") \
        + (", tuned ridge" if ridge == "tuned" else f", ridge {ridge:g}" if ridge else "")
    return _rf_curve(ds, result, range(len(configs)), ps, config, label)


def label_noise_sweep(data: str = "digits", *, rates=(0.0, 0.1, 0.2), kind: str = "relu", n_train: int = 400,
                      n_test: int = 1000, ps=None, seeds: int = 5, ridge=0.0, scale: float = 1.0,
                      store=None, jobs: int | None = 1, dask=None, progress: bool = False,
                      seed: int = 0) -> CurveFamily:
    """:func:`random_features_sweep` at several label-noise rates, in one sweep.

    Returns
    -------
    CurveFamily
        One curve per rate (keys ``"0%"``, ``"10%"``, …); each verdict gives
        the peak's median test error and its growth over the noiseless one.
    """
    rates = list(rates)
    if not rates:
        raise GenlabError("rates is empty; give at least one label-noise rate")
    ds, configs, rates, ps = _rf_configs(data, kind=kind, n_train=n_train, n_test=n_test, ps=ps, seeds=seeds,
                                         label_noise=rates, ridge=ridge, scale=scale, n_val=None, seed=seed)
    result = _sweep(rf_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)
    curves, verdicts = {}, {}
    for i, r in enumerate(rates):
        config = {k: v for k, v in configs[0].items() if k not in ("repeat", "ps")}
        config.update(label_noise=r, seeds=seeds, seed=check_seed(seed))
        key = f"{r:.0%}"
        curves[key] = _rf_curve(ds, result, range(i * seeds, (i + 1) * seeds), ps, config,
                                f"{r:.0%} label noise")
    def near(c):  # the threshold's neighbourhood: the exact peak is one heavy-tailed point
        v = c.median()[(c.values >= 0.8 * n_train) & (c.values <= 1.25 * n_train)]
        return float(np.exp(np.mean(np.log(v)))) if v.size else float("nan")

    first = next(iter(curves.values()))
    base, base_near = first.find_peak()["value"], near(first)
    for key, c in curves.items():
        pk, mn = c.find_peak(), c.minimum
        ratio = f"{mn['ratio']:.2g}x the classical minimum" if mn["ratio"] is not None else "n/a"
        verdicts[key] = (f"peak {pk['value']:.3g} at p = {pk['at']:g} ({pk['value'] / base:.2g}x the first curve's); "
                         f"geometric mean of the median error over 0.8n-1.25n {near(c):.3g} "
                         f"({near(c) / base_near:.2g}x); far past the peak the error reaches {ratio}")
    return CurveFamily(curves, verdicts, title=f"Random {kind} features on {data}: label noise",
                       caption="Label noise on the training labels raises the peak at p = n: the interpolant must "
                               "fit the flipped labels, and near the threshold it does so with a huge norm.",
                       config={"data": data, "kind": kind, "rates": rates, "n_train": n_train, "seeds": seeds,
                               "seed": check_seed(seed)})


# =============================================================================== polynomials

def _poly_design(x, degree, basis):
    from ...linalg.bases import vander

    if basis == "legendre-normalized":
        return vander(x, degree, "legendre", normalize=True)
    if basis == "chebyshev-normalized":
        return vander(x, degree, "chebyshev", normalize=True)
    return vander(x, degree, basis)


def poly_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One dataset of :func:`polynomial_model_wise`: minimum-norm fits of every degree in every basis."""
    from ...data.sources import SyntheticSource

    src = SyntheticSource(config["target"], config["noise"], config["x"])
    g = np.random.Generator(np.random.PCG64(seed))
    ds = src.sample(int(config["n"]), g)
    lo, hi = config["window"]
    win = lambda x: (2.0 * np.asarray(x) - (lo + hi)) / (hi - lo)  # noqa: E731
    x_test = src.x_dist.quantiles(int(config["n_test"]))
    ybar = src.mean(x_test)
    degrees = [int(d) for d in config["degrees"]]
    top = degrees[-1]
    out = {}
    for basis in config["bases"]:
        A = _poly_design(win(ds.x), top, basis)
        A_t = _poly_design(win(x_test), top, basis)
        res = {k: [] for k in ("test_mse", "train_mse", "coef_norm", "sigma_min")}
        for fit in nested_least_squares(A, ds.y, [d + 1 for d in degrees]):
            p = fit.p
            res["train_mse"].append(float(np.mean((A[:, :p] @ fit.coef - ds.y) ** 2)))
            # expected error against fresh noisy labels: mean (h − ȳ)² over the test grid + σ²
            res["test_mse"].append(float(np.mean((A_t[:, :p] @ fit.coef - ybar) ** 2)) + src.noise_var)
            res["coef_norm"].append(float(np.linalg.norm(fit.coef)))
            res["sigma_min"].append(fit.sigma_min)
        out.update({f"{basis}/{k}": v for k, v in res.items()})
    return {"series": out}


def polynomial_model_wise(source=None, *, n: int = 15, degrees=range(0, 61), bases=POLY_BASES,
                          seeds: int = 20, n_test: int = 500, store=None, jobs: int | None = 1, dask=None,
                          progress: bool = False, seed: int = 0) -> CurveFamily:
    """Minimum-norm polynomial fits past the interpolation threshold, per basis.

    Every basis spans the same functions at each degree, so below the
    threshold (degree + 1 <= n) the fits are identical; past it, the
    minimum-norm interpolant minimizes the *coefficients'* norm, and the basis
    decides which interpolant that is. Unnormalized Legendre polynomials
    shrink with degree (‖P_k‖² = 2/(2k+1)), so a small coefficient norm
    penalizes high degrees more: a smoothness prior. Orthonormal Legendre and
    Chebyshev weight all degrees alike and interpolate with wiggles;
    monomials are nearly collinear at high degree.

    Parameters
    ----------
    source : SyntheticSource, default: ``SyntheticSource("2*x + cos(25*x)", 0.1)``
        Its target must be an expression (it travels to the workers as text).
        ``ARTICLE_SOURCE`` gives the article's 2x² + 1.
    n : int, default=15
    degrees : iterable of int, default=range(0, 61)
    bases : sequence of str
        From ``"legendre"``, ``"legendre-normalized"``, ``"chebyshev"``,
        ``"chebyshev-normalized"``, ``"monomial"``; every basis is evaluated on
        the source's support mapped to [-1, 1] (monomials too, so the bases
        differ only in their functions, not in the input scale).
    seeds : int
        Datasets, one job each.
    n_test : int
        Test inputs at the quantiles of the x distribution; the test error is
        the expected squared error against fresh noisy labels, mean (h − ȳ)² + σ².

    Returns
    -------
    CurveFamily
        One :class:`DoubleDescentCurve` per basis (knob ``"degree"``,
        threshold n − 1) and a verdict per basis such as "second descent
        reaches 0.8x the classical minimum"; ``caption`` says which bases
        go below.
    """
    from ...data.sources import SyntheticSource, check_n
    from ...linalg.bases import check_degree

    source = SyntheticSource(HARD_TARGET, 0.1) if source is None else source
    if not isinstance(source, SyntheticSource):
        raise GenlabError("polynomial_model_wise needs a SyntheticSource (a target expression and a noise level)")
    if not isinstance(source.target, str):
        raise GenlabError("give the source's target as an expression string so that workers can rebuild it")
    n = check_n(n)
    degrees = sorted({check_degree(d) for d in degrees})
    if not degrees:
        raise GenlabError("degrees is empty; give at least one degree")
    bases = list(bases)
    known = ("legendre", "legendre-normalized", "chebyshev", "chebyshev-normalized", "monomial")
    for b in bases:
        if b not in known:
            raise GenlabError(f"unknown basis {b!r}; choose from {', '.join(known)}")
    if not bases:
        raise GenlabError("bases is empty; give at least one basis")
    seeds = _check_int(seeds, "seeds")
    n_test = _check_int(n_test, "n_test")
    window = source.x_dist.support or (source.x_dist.a - 3 * source.x_dist.b, source.x_dist.a + 3 * source.x_dist.b)
    base = {"target": source.target, "noise": source.noise, "x": str(source.x_dist), "n": n, "degrees": degrees,
            "bases": bases, "n_test": n_test, "window": list(window)}
    configs = [{**base, "repeat": s} for s in range(seeds)]
    result = _sweep(poly_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)
    curves, verdicts = {}, {}
    below = []
    for b in bases:
        c = DoubleDescentCurve(
            knob="degree", values=np.array(degrees), threshold=float(n - 1),
            test_mse=_stack(result, f"{b}/test_mse"), train_mse=_stack(result, f"{b}/train_mse"),
            coef_norm=_stack(result, f"{b}/coef_norm"), sigma_min=_stack(result, f"{b}/sigma_min"),
            label=b, config={**base, "basis": b, "seeds": seeds, "seed": check_seed(seed)})
        curves[b] = c
        verdicts[b] = _verdict(c)
        if c.minimum["ratio"] is not None and c.minimum["ratio"] < 1:
            below.append(b)
    caption = (f"Minimum-norm polynomial fits of y = {source.target} (σ = {source.noise:g}, n = {n}) against the "
               f"degree; median test error over {seeds} datasets. Past the threshold (degree {n - 1}) the basis "
               "decides which interpolant has the smallest coefficients: "
               + (f"the second descent goes below the classical minimum with {', '.join(below)}"
                  if below else "in no basis here does the second descent go below the classical minimum")
               + (f", not with {', '.join(b for b in bases if b not in below)}." if below and len(below) < len(bases)
                  else "."))
    return CurveFamily(curves, verdicts, caption=caption, title=f"Polynomial double descent, n = {n}",
                       config={**base, "seeds": seeds, "seed": check_seed(seed)})


def _verdict(c: DoubleDescentCurve) -> str:
    mn = c.minimum
    if mn["ratio"] is None:
        return "no point on both sides of the peak"
    knob = c.knob
    word = "goes below" if mn["ratio"] < 1 else "stays above"
    return (f"second descent reaches {mn['ratio']:.2g}x the classical minimum ({word} it: "
            f"{mn['after_peak']['value']:.3g} at {knob} {mn['after_peak']['at']:g} vs "
            f"{mn['classical']['value']:.3g} at {knob} {mn['classical']['at']:g})")


# =============================================================================== variance split

def _variance_design(config):
    ds = _dataset(config["data"])
    g = make_rng(int(config["data_seed"]), "rf-variance-split")
    perm = g.permutation(ds.n)
    n_test, n_train, D = int(config["n_test"]), int(config["n_train"]), int(config["data_seeds"])
    test, pool = perm[:n_test], perm[n_test:]
    if D * n_train <= pool.size:  # disjoint training sets: independent draws from the data's distribution
        trains = [pool[i * n_train:(i + 1) * n_train] for i in range(D)]
    else:
        trains = [make_rng(int(config["data_seed"]), "rf-variance-data", i).choice(pool, n_train, replace=False)
                  for i in range(D)]
    return ds, test, pool, trains


def rf_variance_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One feature draw of :func:`random_features_variance_split`, fitted on every training set.

    The training sets and the test set come from ``config["data_seed"]`` (the
    same in every job); the features from the job's own stream. Returns per
    p: ``data_var`` (mean over test points of Σ_k Var_D h, population
    variance over the training sets), ``second`` (mean of Σ_k E_D h²),
    ``mse``, and ``mean`` (E_D h at every test point and output, flattened
    p-major), which the driver needs for the variance across feature draws.
    """
    from ...data.sources import flip_labels
    from ...models.random_features import draw_weights, features_from_weights

    ds, test, pool, trains = _variance_design(config)
    std = _standardizer(ds.X[pool])
    ps = [int(p) for p in config["ps"]]
    W, b = draw_weights(ds.X.shape[1], ps[-1], kind=config["kind"], scale=config["scale"], seed=seed)
    F_te = features_from_weights(std(ds.X[test]), W, b, kind=config["kind"], normalize=False)
    classify = ds.task == "classification"
    if classify:
        Y_te = _targets(ds, ds.y[test])
    else:
        mu, sd = float(ds.y[pool].mean()), float(ds.y[pool].std()) or 1.0
        Y_te = _targets(ds, (ds.y[test] - mu) / sd)
    m, k = Y_te.shape
    S1 = np.zeros((len(ps), m, k))
    S2 = np.zeros((len(ps), m, k))
    mse = np.zeros(len(ps))
    for i, tr in enumerate(trains):
        y = ds.y[tr]
        if classify and config["label_noise"] > 0:
            y, _ = flip_labels(y, config["label_noise"], make_rng(int(config["data_seed"]), "rf-variance-labels", i),
                               classes=np.unique(ds.y))
        Y = _targets(ds, y) if classify else _targets(ds, (y - mu) / sd)
        F = features_from_weights(std(ds.X[tr]), W, b, kind=config["kind"], normalize=False)
        for j, fit in enumerate(nested_least_squares(F, Y, ps)):
            H = F_te[:, :fit.p] @ fit.coef
            S1[j] += H
            S2[j] += H * H
            mse[j] += _sq_err(H, Y_te)
    D = len(trains)
    mean, second = S1 / D, S2 / D
    return {"series": {"mean": mean.ravel(), "second": second.sum(axis=2).mean(axis=1),
                       "data_var": (second - mean ** 2).sum(axis=2).mean(axis=1), "mse": mse / D}}


@dataclass
class VarianceSplit:
    """Bias and variance of random-features fits across p, the variance split by its source.

    Over a grid of training sets D (``data_seeds``) × feature draws F
    (``feature_seeds``), with population moments over the grid, at every test
    point and output (then averaged over points, summed over outputs):

        total variance  Var_{D,F}[h]  =  E_F[ Var_D[h | F] ]   (``data``: due to the training data)
                                       + Var_F[ E_D[h | F] ]   (``features``: due to the random features)

    an exact identity (law of total variance), checked by
    :attr:`identity_gap` with ``total`` computed independently from second
    moments. ``data`` includes the data × features interaction (the three-way
    split of Adlam & Pennington 2020 would need every pair's predictions).
    ``bias2`` is mean ‖E_{D,F} h − y‖² against the observed test labels (so it
    includes their noise) and ``error`` = bias2 + total, exactly.
    """

    values: np.ndarray
    threshold: float
    total: np.ndarray
    data: np.ndarray
    features: np.ndarray
    bias2: np.ndarray
    error: np.ndarray
    config: dict = field(default_factory=dict)

    @property
    def identity_gap(self) -> float:
        """max over p of |data + features − total| / total."""
        return float(np.max(np.abs(self.data + self.features - self.total) / self.total))

    @property
    def peak(self) -> float:
        """The p with the largest total variance."""
        return float(self.values[int(np.argmax(self.total))])

    def summary(self):
        import pandas as pd

        return pd.DataFrame({"p": self.values, "bias2_incl_noise": self.bias2, "variance": self.total,
                             "variance_data": self.data, "variance_features": self.features,
                             "features_share": self.features / self.total, "error": self.error})

    to_frame = summary

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "peak": self.peak, "identity_gap": self.identity_gap,
                "config": self.config, "points": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, log: bool = True, title=None):
        """bias², total variance and its two parts against p, threshold marked."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        x = np.asarray(self.values, dtype=float)
        for name, val, col, ls in (("bias² (incl. noise)", self.bias2, "tab:blue", "-"),
                                   ("variance (total)", self.total, "tab:red", "-"),
                                   ("  due to the data: E_F Var_D", self.data, "tab:orange", "--"),
                                   ("  due to the features: Var_F E_D", self.features, "tab:green", "--")):
            ax.plot(x, val, color=col, ls=ls, marker="o", ms=2.5, label=name)
        ax.axvline(self.threshold, color="0.4", ls=":", lw=1)
        if log:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel("random features p")
        ax.set_ylabel("squared error")
        ax.legend(fontsize="small")
        if title:
            ax.set_title(title)
        return ax


def random_features_variance_split(data: str = "digits", *, kind: str = "relu", n_train: int = 100,
                                   n_test: int = 300, ps=None, data_seeds: int = 8, feature_seeds: int = 8,
                                   label_noise: float = 0.0, scale: float = 1.0, store=None,
                                   jobs: int | None = 1, dask=None, progress: bool = False,
                                   seed: int = 0) -> VarianceSplit:
    """Variance of minimum-norm random-features fits across p, split into data and features.

    One fixed test set; ``data_seeds`` training sets (disjoint when they fit
    in the pool, else random subsets) drawn from ``seed``; ``feature_seeds``
    feature draws, one job each (each job fits every training set).

    Parameters
    ----------
    data, kind, n_train, n_test, label_noise, scale
        As :func:`random_features_sweep`; label noise is part of the data draw.
    ps : sequence of int, optional
        Default: :func:`default_ps` up to 4n (the variance has settled by then).
    data_seeds, feature_seeds : int
        The grid's sides (>= 2 each).
    store, jobs, dask, progress, seed
        As :func:`genlab.runs.execute.sweep`.

    Returns
    -------
    VarianceSplit
    """
    from ...models.random_features import check_kind, check_scale

    ds = _check_data(data)
    check_kind(kind)
    scale = check_scale(scale)
    n_train, n_test = _check_int(n_train, "n_train"), _check_int(n_test, "n_test")
    D, J = _check_int(data_seeds, "data_seeds", 2), _check_int(feature_seeds, "feature_seeds", 2)
    rate = _check_rate(label_noise)
    if ds.task != "classification" and rate:
        raise GenlabError(f"label noise flips class labels; dataset {data!r} is a regression set (use noise 0)")
    if n_train + n_test > ds.n:
        raise GenlabError(f"dataset {data!r} has {ds.n} points: n_train + n_test = {n_train + n_test} do not fit")
    ps = default_ps(n_train, factor=4, count=16) if ps is None else _check_sizes(ps, "ps")
    seed = check_seed(seed)
    base = {"data": data, "kind": kind, "n_train": n_train, "n_test": n_test, "ps": ps, "data_seeds": D,
            "data_seed": seed, "label_noise": rate, "scale": scale}
    configs = [{**base, "feature_seed": j} for j in range(J)]
    result = _sweep(rf_variance_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)
    _, test, _, _ = _variance_design(base)
    if ds.task == "classification":
        Y_te = _targets(ds, ds.y[test])
    else:
        _, _, pool, _ = _variance_design(base)
        Y_te = _targets(ds, (ds.y[test] - ds.y[pool].mean()) / (ds.y[pool].std() or 1.0))
    m, k = Y_te.shape
    means = np.stack([a.reshape(len(ps), m, k) for a in result.series("mean")])  # (J, P, m, k)
    second = _stack(result, "second").mean(axis=0)                               # (P,)
    grand = means.mean(axis=0)                                                    # (P, m, k)
    total = second - (grand ** 2).sum(axis=2).mean(axis=1)
    data_part = _stack(result, "data_var").mean(axis=0)
    feat_part = means.var(axis=0).sum(axis=2).mean(axis=1)
    bias2 = ((grand - Y_te[None]) ** 2).sum(axis=2).mean(axis=1)
    error = _stack(result, "mse").mean(axis=0)
    return VarianceSplit(np.array(ps), float(n_train), total, data_part, feat_part, bias2, error,
                         config={**{k_: v for k_, v in base.items() if k_ != "ps"}, "feature_seeds": J,
                                 "training_sets": "disjoint" if D * n_train <= ds.n - n_test else "random subsets"})


# =============================================================================== linear, sample-wise

def _linear_setup(name):
    """Inputs standardized and targets centred on the whole dataset (a fixed preprocessing);
    the best linear model on all of it, β*, for the no-residual ablation."""
    ds = _dataset(name)
    X = ds.X - ds.X.mean(axis=0)
    sd = ds.X.std(axis=0)
    X = X / np.where(sd > 0, sd, 1.0)
    if ds.task == "classification":
        Y = _targets(ds, ds.y)
        Y = Y - Y.mean(axis=0)
    else:
        Y = ((ds.y - ds.y.mean()) / (ds.y.std() or 1.0))[:, None]
    beta_star = np.linalg.lstsq(X, Y, rcond=None)[0]
    return ds, X, Y, beta_star


ABLATIONS = ("baseline", "no_small_singular_values", "test_projected_top_k", "no_residual")


def linear_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One seed of the sample-wise linear sweep: nested training sets of every size, the
    minimum-norm fit and (with ``ablations``) Schaeffer et al.'s three ablations."""
    ds, X, Y, beta_star = _linear_setup(config["data"])
    g = np.random.Generator(np.random.PCG64(seed))
    perm = g.permutation(ds.n)
    n_test = int(config["n_test"])
    te, pool = perm[:n_test], perm[n_test:]
    X_te, Y_te = X[te], Y[te]
    Yc = X @ beta_star   # targets the best linear model explains exactly (no residual)
    variants = ABLATIONS if config.get("ablations") else ABLATIONS[:1]
    out = {f"{v}/{k}": [] for v in variants for k in ("test_mse", "train_mse", "coef_norm", "sigma_min")}
    cutoff, top_k = float(config["cutoff"]), int(config["top_k"])
    for N in config["ns"]:
        idx = pool[:int(N)]  # nested: a larger training set contains the smaller ones
        A, y, yc = X[idx], Y[idx], Yc[idx]
        U, s, Vt = np.linalg.svd(A, full_matrices=False)
        keep = s > max(A.shape) * EPS * s[0] if s[0] > 0 else np.zeros(s.size, bool)
        r = int(keep.sum())
        smin = float(s[r - 1]) if r else 0.0

        def fit(mask, target):
            return Vt[mask].T @ ((U[:, mask].T @ target) / s[mask][:, None])

        for v in variants:
            if v == "no_small_singular_values":
                mask = keep & (s >= cutoff * s[0])
                beta, tgt_tr, x_te, y_te = fit(mask, y), y, X_te, Y_te
                sv = float(s[mask][-1]) if mask.any() else 0.0
            elif v == "test_projected_top_k":
                kk = min(top_k, r)
                beta, tgt_tr, y_te, sv = fit(keep, y), y, Y_te, smin
                x_te = (X_te @ Vt[:kk].T) @ Vt[:kk]
            elif v == "no_residual":
                beta, tgt_tr, x_te, y_te, sv = fit(keep, yc), yc, X_te, X_te @ beta_star, smin
            else:
                beta, tgt_tr, x_te, y_te, sv = fit(keep, y), y, X_te, Y_te, smin
            out[f"{v}/test_mse"].append(_sq_err(x_te @ beta, y_te))
            out[f"{v}/train_mse"].append(_sq_err(A @ beta, tgt_tr))
            out[f"{v}/coef_norm"].append(float(np.linalg.norm(beta)))
            out[f"{v}/sigma_min"].append(sv)
    return {"series": out}


def _linear_run(data, *, ns, seeds, n_test, cutoff, top_k, ablations, store, jobs, dask, progress, seed):
    ds = _check_data(data)
    _, X, _, _ = _linear_setup(data)
    d = int(np.linalg.matrix_rank(X))
    n_test = _check_int(n_test, "n_test")
    seeds = _check_int(seeds, "seeds")
    pool = ds.n - n_test
    if pool < 2:
        raise GenlabError(f"dataset {data!r} has {ds.n} points; n_test = {n_test} leaves none to train on")
    if ns is None:
        ns = sorted(set(range(1, min(3 * d, pool) + 1))
                    | {int(v) for v in np.round(np.geomspace(min(3 * d, pool), pool, 8))})
    ns = _check_sizes(ns, "ns")
    if ns[-1] > pool:
        raise GenlabError(f"training sizes up to {ns[-1]} do not fit in the {pool} points left after n_test; "
                          "lower ns or n_test")
    try:
        cutoff = float(cutoff)
    except (TypeError, ValueError):
        raise GenlabError(f"cutoff must be a number in (0, 1), got {cutoff!r}") from None
    if not 0 < cutoff < 1:
        raise GenlabError(f"cutoff must be a number in (0, 1), got {cutoff!r}")
    top_k = max(1, d // 2) if top_k is None else _check_int(top_k, "top_k")
    base = {"data": data, "ns": ns, "n_test": n_test, "cutoff": cutoff, "top_k": top_k, "ablations": ablations}
    configs = [{**base, "repeat": s} for s in range(seeds)]
    result = _sweep(linear_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)
    curves = {}
    for v in (ABLATIONS if ablations else ABLATIONS[:1]):
        curves[v] = DoubleDescentCurve(
            knob="n", values=np.array(ns), threshold=float(d),
            test_mse=_stack(result, f"{v}/test_mse"), train_mse=_stack(result, f"{v}/train_mse"),
            coef_norm=_stack(result, f"{v}/coef_norm"), sigma_min=_stack(result, f"{v}/sigma_min"),
            label=v.replace("_", " "), config={**base, "variant": v, "rank": d, "seeds": seeds,
                                               "seed": check_seed(seed)})
    return curves, base, d


def linear_sample_wise(data: str = "diabetes", *, ns=None, seeds: int = 50, n_test: int = 100, store=None,
                       jobs: int | None = 1, dask=None, progress: bool = False, seed: int = 0) -> DoubleDescentCurve:
    """Sample-wise double descent: minimum-norm linear regression on d inputs as the
    training set grows (nested subsets of one shuffle per seed); near n = d more data hurts.

    Inputs are standardized and targets centred on the whole dataset (one fixed
    preprocessing, no intercept); the threshold is the rank d of the inputs.

    Returns
    -------
    DoubleDescentCurve
        Knob ``"n"``, threshold d.
    """
    curves, _, _ = _linear_run(data, ns=ns, seeds=seeds, n_test=n_test, cutoff=0.1, top_k=None, ablations=False,
                               store=store, jobs=jobs, dask=dask, progress=progress, seed=seed)
    return curves["baseline"]


def schaeffer_ablations(data: str = "diabetes", *, ns=None, seeds: int = 50, n_test: int = 100,
                        cutoff: float = 0.1, top_k: int | None = None, store=None, jobs: int | None = 1,
                        dask=None, progress: bool = False, seed: int = 0) -> CurveFamily:
    """The three ablations of Schaeffer et al. (2023), "Double Descent Demystified", each
    of which removes the sample-wise peak of minimum-norm linear regression.

    With the training inputs' SVD ``X = U S Vᵀ`` the minimum-norm prediction
    error at a test input x is (for n < d)

        x (V Vᵀ − I) β*  +  Σ_r (x · v_r) (u_r · E) / s_r,

    where E is the residual the best linear model β* leaves on the training
    targets. The peak at n = d needs all three factors of the second term:

    * ``no_small_singular_values`` — drop singular values below ``cutoff`` ×
      the largest in the fit (1/s_r stays bounded);
    * ``test_projected_top_k`` — project the test inputs onto the ``top_k``
      leading right-singular directions of the training inputs (x · v_r = 0
      for the small modes);
    * ``no_residual`` — replace every target by X β*, fitted on the whole
      dataset (E = 0; the error is then measured against X β* too).

    Parameters
    ----------
    data : str, default="diabetes"
        A bundled dataset (diabetes: 442 points, d = 10).
    ns : sequence of int, optional
        Training sizes; default 1..3d and 8 log-spaced sizes up to the pool.
    seeds : int, default=50
        Shuffles (one job each); the curves share them.
    n_test : int, default=100
    cutoff : float in (0, 1), default=0.1
    top_k : int, optional
        Default: d // 2.

    Returns
    -------
    CurveFamily
        Curves ``baseline`` and the three ablations (knob ``"n"``, threshold
        d), verdicts giving each one's peak against the baseline's.
    """
    curves, base, d = _linear_run(data, ns=ns, seeds=seeds, n_test=n_test, cutoff=cutoff, top_k=top_k,
                                  ablations=True, store=store, jobs=jobs, dask=dask, progress=progress, seed=seed)
    b = curves["baseline"]
    ib = int(np.argmin(np.abs(b.values - d)))
    near = np.abs(b.values - d) <= max(1, 0.1 * d)  # the threshold's neighbourhood
    peak_b = float(b.median()[near].max())
    verdicts = {"baseline": f"peak {b.find_peak()['value']:.3g} at n = {b.peak:g} (threshold d = {d})"}
    details = {"baseline": {"peak": float(b.find_peak()["value"]), "at": float(b.peak), "d": int(d)}}
    for v in ABLATIONS[1:]:
        c = curves[v]
        peak_v = float(c.median()[near].max())
        details[v] = {"near": peak_v, "baseline_near": peak_b, "ratio": peak_v / peak_b, "n": float(b.values[ib]),
                      "at_n": float(c.median()[ib])}
        verdicts[v] = (f"median test error near n = d: {peak_v:.3g} vs {peak_b:.3g} without the ablation "
                       f"({peak_v / peak_b:.2g}x); at n = {b.values[ib]:g}: {c.median()[ib]:.3g}")
    return CurveFamily(curves, verdicts, details=details, title=f"Schaeffer et al.'s ablations on {data}",
                       caption=f"Sample-wise double descent of minimum-norm linear regression on {data} (d = {d}) "
                               "and the three ablations of Schaeffer et al. (2023): dropping small singular values, "
                               "projecting test inputs onto the leading training directions, or removing the "
                               "residual each removes the peak at n = d.",
                       config={**base, "rank": d, "seeds": seeds, "seed": check_seed(seed)})


@dataclass
class SingularValueAnalysis:
    """How the test error follows the smallest non-zero singular value and the coefficient norm.

    ``rank_corr_sigma`` and ``rank_corr_norm`` are Spearman correlations, over
    every (seed, point), of the test error with 1/σ_min² and with ‖β‖.
    """

    curve: DoubleDescentCurve
    rank_corr_sigma: float
    rank_corr_norm: float

    def summary(self):
        import pandas as pd

        c = self.curve
        return pd.DataFrame({c.knob: c.values, "test_mse_median": c.median("test_mse"),
                             "sigma_min_median": c.median("sigma_min"),
                             "inv_sigma_min_sq_median": np.median(1.0 / np.maximum(c.sigma_min, 1e-150) ** 2, axis=0),
                             "coef_norm_median": c.median("coef_norm")})

    to_frame = summary

    @property
    def at_peak(self) -> dict:
        """σ_min and ‖β‖ at the error's peak beside their values at the classical minimum."""
        c = self.curve
        pk, mn = c.find_peak(), c.minimum
        row = lambda at: {"at": at, "sigma_min": float(c.median("sigma_min")[list(c.values).index(at)]),  # noqa: E731
                          "coef_norm": float(c.median("coef_norm")[list(c.values).index(at)])}
        return {"peak": row(pk["at"]), "classical_minimum": row(mn["classical"]["at"]) if mn["classical"] else None}

    def to_dict(self) -> dict:
        return {"knob": self.curve.knob, "threshold": self.curve.threshold,
                "rank_corr_test_vs_inv_sigma_min_sq": self.rank_corr_sigma,
                "rank_corr_test_vs_coef_norm": self.rank_corr_norm, "at_peak": self.at_peak,
                "points": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, title=None):
        """Median test error, 1/σ_min² and ‖β‖ against the knob (each on log axes), threshold marked."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        f = self.summary()
        c = self.curve
        x = np.asarray(c.values, dtype=float)
        ax.plot(x, f["test_mse_median"], color="tab:red", marker="o", ms=2.5, label="test error (median)")
        ax.set_yscale("log")
        ax2 = ax.twinx()
        ax2.plot(x, f["inv_sigma_min_sq_median"], color="tab:purple", ls="--", label="1 / σ_min² (median)")
        ax2.plot(x, f["coef_norm_median"], color="tab:green", ls="-.", label="‖β‖ (median)")
        ax2.set_yscale("log")
        if c.threshold is not None:
            ax.axvline(c.threshold, color="0.4", ls=":", lw=1)
        if np.all(x > 0):
            ax.set_xscale("log")
        ax.set_xlabel({"p": "random features p", "n": "training points n", "degree": "polynomial degree"}
                      .get(c.knob, c.knob))
        ax.set_ylabel("test squared error")
        ax2.set_ylabel("1/σ_min², ‖β‖")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize="small")
        if title:
            ax.set_title(title)
        return ax


def singular_value_analysis(curve_or_data="diabetes", **kwargs) -> SingularValueAnalysis:
    """Why the peak: the test error beside 1/σ_min² and ‖β‖.

    Parameters
    ----------
    curve_or_data : DoubleDescentCurve or str, default="diabetes"
        A curve already measured (any knob), or a bundled dataset on which
        :func:`linear_sample_wise` is run with ``kwargs``.

    Returns
    -------
    SingularValueAnalysis
    """
    from scipy.stats import spearmanr

    if isinstance(curve_or_data, DoubleDescentCurve):
        if kwargs:
            raise GenlabError(f"options {', '.join(kwargs)} apply only when a dataset is given, not a curve")
        curve = curve_or_data
    else:
        curve = linear_sample_wise(curve_or_data, **kwargs)
    t = curve.test_mse.ravel()
    inv = 1.0 / np.maximum(curve.sigma_min.ravel(), 1e-150) ** 2
    rs = float(spearmanr(t, inv).statistic)
    rn = float(spearmanr(t, curve.coef_norm.ravel()).statistic)
    return SingularValueAnalysis(curve, rs, rn)
