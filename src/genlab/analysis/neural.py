"""Double descent with networks and its cures, measured: model-wise, epoch-wise, regularized.

Three experiments, each one job per (setting, repeat) through
:func:`genlab.runs.execute.sweep` (resumable with a store, parallel with ``jobs``
or Dask), each returning a result object with ``summary()``, ``to_dict()``
and ``plot()``:

* :func:`mlp_width_sweep` — the model-wise double descent of Nakkiran et al.
  (2019) with an MLP on digits with label noise: test error against width
  peaks where the network first fits its noisy training set, then falls again.
* :func:`epoch_wise` — test error against gradient-descent steps falls, rises
  and falls again, in a linear model whose features are learned at two speeds
  (Heckel & Yilmaz 2020): the cause is stated on the result.
* :func:`regularizers_side_by_side` — no regularization, L1, L2, early
  stopping and dropout on the same noisy task, at a width near the peak.

Each repeat draws its own split of the data and its own label noise; within a
repeat every width (or regularizer) sees the same noisy data, so comparisons
between settings are paired. The training labels and the validation labels
are noisy (as a practitioner's would be), the test labels are clean: test
error is the error against the truth.

torch is imported by the jobs, not by ``import genlab`` nor by this module.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ..core.checks import check_fraction as _check_fraction, check_int as _check_int, check_positive as _check_positive
from ..core.errors import GenlabError
from ..core.seeding import check_seed, rng as make_rng
from ..core.stats import summarize

#: Widths of the default sweep: dense around the peak (about 30-60 units on
#: digits with n_train = 200), sparse far from it.
WIDTHS = (2, 4, 6, 8, 12, 16, 24, 32, 40, 48, 64, 96, 128, 256, 512, 1024, 2048)
QUICK_WIDTHS = (4, 8, 12, 16, 24, 32, 48, 64, 128, 512)
METHODS = ("none", "l1", "l2", "early_stopping", "dropout")
#: Strengths tried per regularizer; each repeat keeps the one with the lowest validation error.
GRIDS = {"l1": (3e-4, 1e-3, 3e-3, 1e-2), "l2": (3e-3, 1e-2, 3e-2, 1e-1), "dropout": (0.3, 0.5, 0.7, 0.8)}
QUICK_GRIDS = {"l1": (1e-3, 3e-3), "l2": (1e-2, 3e-2), "dropout": (0.5, 0.7)}

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


# --------------------------------------------------------------------------- checks and data

def _check_widths(widths) -> list[int]:
    if isinstance(widths, (int, np.integer)) and not isinstance(widths, bool):
        widths = [widths]
    try:
        out = sorted({_check_int(w, "width") for w in widths})
    except TypeError:
        raise GenlabError(f"widths must be a list of integers >= 1, got {widths!r}") from None
    if not out:
        raise GenlabError("give at least one width")
    return out


@functools.lru_cache(maxsize=8)
def _load(name: str):
    from ..data.sources import BUNDLED, load_dataset

    if not isinstance(name, str) or name not in BUNDLED or BUNDLED[name][1] != "classification":
        choices = ", ".join(k for k, (_, task) in BUNDLED.items() if task == "classification")
        raise GenlabError(f"data {name!r} is not a bundled classification set; choose one of {choices}")
    ds = load_dataset(name)
    classes, y = np.unique(ds.y, return_inverse=True)
    return ds.X, y.astype(np.int64), classes.size


def noisy_splits(data: str, *, n_train: int, n_val: int, label_noise: float, seed: int, repeat: int) -> dict:
    """Repeat ``repeat``'s split of a bundled classification set, with label noise.

    The random stream is ``(seed, "neural-data", data, repeat)``: every width
    or regularizer of a repeat sees the same split and the same noisy labels.
    Inputs: digits' pixels divided by 16 (to [0, 1]); other sets standardized
    with the training split's means and standard deviations.

    Returns
    -------
    dict
        ``train``, ``val`` and ``test``: pairs ``(X, y)`` (test: the rest of
        the data, clean labels; train and val labels flipped with probability
        ``label_noise`` to another class), ``n_classes`` and ``n_inputs``.
    """
    from ..data.sources import flip_labels

    X, y, k = _load(data)
    n = X.shape[0]
    if n_train + n_val >= n:
        raise GenlabError(f"n_train + n_val = {n_train + n_val} leaves no test set in {data} (n = {n}); "
                          "lower n_train or n_val")
    g = make_rng(seed, "neural-data", data, repeat)
    perm = g.permutation(n)
    tr, va, te = perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]
    if data == "digits":
        Xs = X / 16.0
    else:
        mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
        Xs = (X - mu) / np.where(sd > 0, sd, 1.0)
    classes = np.arange(k)
    y_tr, _ = flip_labels(y[tr], label_noise, g, classes)
    y_va, _ = flip_labels(y[va], label_noise, g, classes) if n_val else (y[va], None)
    out = {"train": (Xs[tr], y_tr), "test": (Xs[te], y[te]), "n_classes": k, "n_inputs": X.shape[1]}
    if n_val:
        out["val"] = (Xs[va], y_va)
    return out


def _torch_seed(seed: np.random.SeedSequence) -> int:
    return int(seed.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


# --------------------------------------------------------------------------- the job

def mlp_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """Train one MLP on one repeat's noisy split (a job of :func:`genlab.runs.execute.sweep`).

    Parameters
    ----------
    config : dict
        ``data``, ``n_train``, ``n_val``, ``label_noise``, ``seed`` and
        ``repeat`` (the data, see :func:`noisy_splits`); ``width``, ``depth``,
        ``dropout``, ``loss`` (the model); ``epochs``, ``lr``, ``optimizer``,
        ``batch_size``, ``weight_decay``, ``l1``, ``eval_every``, ``patience``
        (training, see :func:`genlab.models.mlp.train`).
    seed : numpy.random.SeedSequence
        Seeds the initialization, dropout and the batch order.

    Returns
    -------
    dict
        ``metrics``: final train/val/test loss and error (of the restored
        model under early stopping), ``best_epoch``, ``stopped_epoch``,
        ``n_params``, ``samples_per_s``; ``series``: ``epochs`` and the
        train/val/test error and loss at each evaluation.
    """
    import torch

    from ..models.mlp import MLP, MLPConfig, train

    torch.set_num_threads(1)
    c = config
    data = noisy_splits(c["data"], n_train=c["n_train"], n_val=c["n_val"], label_noise=c["label_noise"],
                        seed=c["seed"], repeat=c["repeat"])
    model_config = MLPConfig(n_inputs=data["n_inputs"], width=c["width"], depth=c["depth"],
                             n_classes=data["n_classes"], dropout=c["dropout"], loss=c["loss"])
    s = _torch_seed(seed)
    model = MLP(model_config, seed=s)
    res = train(model, {k: data[k] for k in ("train", "val", "test") if k in data}, epochs=c["epochs"],
                lr=c["lr"], optimizer=c["optimizer"], batch_size=c["batch_size"], weight_decay=c["weight_decay"],
                l1=c["l1"], eval_every=c["eval_every"], patience=c["patience"], seed=s)
    metrics = res.final()
    metrics.update(best_epoch=res.best_epoch, stopped_epoch=res.stopped_epoch, n_params=model_config.n_params,
                   samples_per_s=res.samples_per_s)
    series = {"epochs": res.epochs}
    for name in ("train_error", "val_error", "test_error", "train_loss", "test_loss"):
        series[name] = getattr(res, name)
    return {"metrics": metrics, "series": series}


def _train_settings(*, epochs, lr, optimizer, batch_size, eval_every, depth, loss) -> dict:
    from ..models.mlp import LOSSES, check_train_args

    check_train_args(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size, weight_decay=0.0, l1=0.0,
                     eval_every=eval_every, patience=None, monitor="val_error")
    _check_int(depth, "depth", 0)
    if loss not in LOSSES:
        raise GenlabError(f"unknown loss {loss!r}; choose {' or '.join(LOSSES)}")
    return {"epochs": int(epochs), "lr": float(lr), "optimizer": optimizer,
            "batch_size": None if batch_size is None else int(batch_size), "eval_every": int(eval_every),
            "depth": int(depth), "loss": loss}


def _data_settings(data, n_train, n_val, label_noise, seed) -> dict:
    _load(data)  # a GenlabError now, not in a worker
    n_train = _check_int(n_train, "n_train")
    n_val = _check_int(n_val, "n_val", 0)
    label_noise = _check_fraction(label_noise, "label_noise")
    n = _load(data)[0].shape[0]
    if n_train + n_val >= n:
        raise GenlabError(f"n_train + n_val = {n_train + n_val} leaves no test set in {data} (n = {n}); "
                          "lower n_train or n_val")
    return {"data": data, "n_train": n_train, "n_val": n_val, "label_noise": label_noise, "seed": check_seed(seed)}


def _run(configs, *, store, seed, jobs, dask, progress):
    from ..runs.execute import sweep

    return sweep(mlp_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)


def _stack(result, name: str, shape) -> np.ndarray:
    return result.metric(name).reshape(shape)


# --------------------------------------------------------------------------- curve shapes

def double_descent_points(values) -> dict:
    """The most prominent interior peak of a curve, with the minima on either side.

    For each interior point j, its prominence is ``min(v[j] - min(v[:j]),
    v[j] - min(v[j+1:]))``; the peak is the j with the largest. A positive
    prominence means the curve falls, rises and falls again.

    Returns
    -------
    dict
        ``first_min``, ``peak``, ``second_min`` (indices) and ``prominence``
        (indices -1 and prominence -inf for fewer than 3 points).
    """
    v = np.asarray(values, dtype=np.float64)
    best = {"first_min": -1, "peak": -1, "second_min": -1, "prominence": -math.inf}
    if v.size < 3:
        return best
    left = np.minimum.accumulate(v)                # min(v[:j+1])
    right = np.minimum.accumulate(v[::-1])[::-1]   # min(v[j:])
    prom = np.minimum(v[1:-1] - left[:-2], v[1:-1] - right[2:])  # for j = 1 .. n-2
    j = int(np.argmax(prom)) + 1
    return {"first_min": int(np.argmin(v[:j])), "peak": j, "second_min": j + 1 + int(np.argmin(v[j + 1:])),
            "prominence": float(prom[j - 1])}


def _band(ax, x, arr, color, label, *, ls="-"):
    s = summarize(arr)
    if arr.shape[0] > 1:
        ax.fill_between(x, s["q25"], s["q75"], color=color, alpha=0.18, lw=0)
        ax.plot(x, s["mean"], color=color, ls="--", lw=0.8)
    ax.plot(x, s["median"], color=color, ls=ls, marker="o", ms=2.5, label=label)


def _frame(index: dict, arrays: dict):
    import pandas as pd

    cols = dict(index)
    for name, arr in arrays.items():
        for key, val in summarize(arr).items():
            cols[f"{name}_{key}"] = val
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- model-wise

@dataclass
class WidthSweep:
    """Train and test error of an MLP against its width, over repeats.

    Arrays of errors and losses have shape (n_repeats, n_widths); the
    ``*_by_epoch`` arrays (n_repeats, n_widths, n_evals) hold the same at each
    evaluation (``epochs``). Errors are 0-1 errors: train against the noisy
    labels it was fitted to, test against clean labels.
    """

    widths: np.ndarray
    n_params: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    epochs: np.ndarray
    train_error_by_epoch: np.ndarray
    test_error_by_epoch: np.ndarray
    n_train: int
    n_classes: int
    label_noise: float
    interpolation_tol: float
    config: dict = field(default_factory=dict)
    elapsed_s: float = float("nan")

    def summary(self):
        """One row per width: mean, s.e., median, quantiles and heavy-tail flag of each error and loss."""
        return _frame({"width": self.widths, "n_params": self.n_params},
                      {"train_error": self.train_error, "test_error": self.test_error,
                       "train_loss": self.train_loss, "test_loss": self.test_loss})

    to_frame = summary

    @property
    def interpolation_width(self) -> int | None:
        """The first width whose median training error is <= ``interpolation_tol`` (None: never)."""
        ok = np.flatnonzero(np.median(self.train_error, axis=0) <= self.interpolation_tol)
        return int(self.widths[ok[0]]) if ok.size else None

    @property
    def points(self) -> dict:
        """Classical minimum, peak and second minimum of the median test error (widths and errors),
        and the paired differences between them over repeats (mean and s.e.: the repeats share
        nothing, the widths of a repeat share its data)."""
        med = np.median(self.test_error, axis=0)
        p = double_descent_points(med)
        if p["peak"] < 0:
            return {"prominence": -math.inf}
        out = {"prominence": p["prominence"]}
        for key in ("first_min", "peak", "second_min"):
            out[f"{key}_width"] = int(self.widths[p[key]])
            out[f"{key}_n_params"] = int(self.n_params[p[key]])
            out[f"{key}_test_error"] = float(med[p[key]])
        for name, (a, b) in (("peak_minus_first_min", ("peak", "first_min")),
                             ("second_min_minus_first_min", ("second_min", "first_min"))):
            d = summarize(self.test_error[:, [p[a]]] - self.test_error[:, [p[b]]])
            out[f"{name}_mean"], out[f"{name}_se"] = float(d["mean"][0]), float(d["se"][0])
        return out

    @property
    def peak_widths(self) -> np.ndarray:
        """Each repeat's own peak width (the most prominent interior maximum of its test error)."""
        return np.array([self.widths[max(double_descent_points(r)["peak"], 0)] for r in self.test_error])

    def to_dict(self) -> dict:
        pts = self.points
        peaks = self.peak_widths
        return {"n_train": self.n_train, "n_classes": self.n_classes, "label_noise": self.label_noise,
                "n_repeats": int(self.test_error.shape[0]), "interpolation_width": self.interpolation_width,
                "interpolation_tol": self.interpolation_tol,
                "interpolation_n_params": (int(self.n_params[list(self.widths).index(self.interpolation_width)])
                                           if self.interpolation_width is not None else None),
                "points": pts, "peak_width_median_over_repeats": float(np.median(peaks)),
                "peak_widths": peaks.tolist(), "second_below_first": bool(
                    pts.get("second_min_test_error", math.inf) < pts.get("first_min_test_error", -math.inf)),
                "config": self.config,
                "by_width": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, title=None):
        """Median train and test 0-1 error against width (log axis), IQR bands, mean dashed; threshold marked."""
        from ..plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        _band(ax, self.widths, self.train_error, "tab:blue", "training (noisy labels)")
        _band(ax, self.widths, self.test_error, "tab:orange", "test (clean labels)")
        ax.axhline(self.label_noise, color="0.6", lw=0.8, ls=":", label=f"label noise rate ({self.label_noise:g})")
        w = self.interpolation_width
        if w is not None:
            ax.axvline(w, color="0.4", ls=":", lw=1)
            ax.annotate("training error reaches 0", (w, 0.98), xycoords=("data", "axes fraction"), ha="right",
                        va="top", rotation=90, fontsize="small", color="0.35")
        pts = self.points
        if pts.get("prominence", -1) > 0:
            ax.plot([pts["peak_width"]], [pts["peak_test_error"]], marker="v", color="tab:red", ms=7, ls="none",
                    label=f"peak: width {pts['peak_width']} ({pts['peak_n_params']} parameters)")
        ax.set_xscale("log")
        ax.set_xlabel("hidden units (width)")
        ax.set_ylabel("0-1 error")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize="small")
        ax.set_title(title or f"MLP width sweep: n_train = {self.n_train}, label noise {self.label_noise:g}")
        return ax


def mlp_width_sweep(data: str = "digits", widths=None, *, n_train: int = 200, n_val: int = 300,
                    label_noise: float = 0.2, epochs: int | None = None, seeds: int | None = None,
                    depth: int = 1, loss: str = "squared", optimizer: str = "adam", lr: float = 1e-3,
                    batch_size: int | None = None, eval_every: int | None = None,
                    interpolation_tol: float | None = None, quick: bool = False, store=None, seed: int = 0,
                    jobs: int | None = 1, dask=None, progress: bool = False) -> WidthSweep:
    """Model-wise double descent: test error of an MLP against its width (Nakkiran et al. 2019).

    One job per (width, repeat); a repeat is one noisy split shared by all widths.

    Parameters
    ----------
    data : str, default="digits"
        A bundled classification set (digits, wine, breast_cancer).
    widths : sequence of int, optional
        Hidden units per layer; default :data:`WIDTHS` (2 to 2048), or
        :data:`QUICK_WIDTHS` with ``quick``.
    n_train : int, default=200
        Training points. The threshold width grows with it.
    n_val : int, default=300
        Validation points (held out, noisy labels; measured, not used here).
    label_noise : float, default=0.2
        Fraction of training (and validation) labels replaced by another class.
    epochs : int, default=2000
        Full-batch steps: enough for every width past the threshold to fit
        its training set.
    seeds : int, optional
        Repeats: 5 (2 with ``quick``).
    depth : int, default=1
        Hidden layers.
    loss : {"squared", "cross_entropy"}, default="squared"
        Squared loss on one-hot targets (as Belkin et al. 2019) gives a clear
        peak at this scale; with cross-entropy the test error on digits only
        plateaus near the threshold (measured over 3 repeats: no peak).
    optimizer, lr, batch_size
        As in :func:`genlab.models.mlp.train`; ``batch_size=None`` is full-batch.
    eval_every : int, optional
        Epochs between evaluations in the per-epoch arrays (default epochs / 50).
    interpolation_tol : float, optional
        Training error counted as "fits the training set" (default 1 / n_train:
        at most one point wrong).
    quick : bool
        Smaller defaults (about 30 s on 2 cores).
    store, seed, jobs, dask, progress
        As in :func:`genlab.runs.execute.sweep`.

    Returns
    -------
    WidthSweep
    """
    widths = _check_widths(widths if widths is not None else (QUICK_WIDTHS if quick else WIDTHS))
    epochs = _check_int(epochs if epochs is not None else 2000, "epochs")
    seeds = _check_int(seeds if seeds is not None else (2 if quick else 5), "seeds")
    eval_every = eval_every if eval_every is not None else max(1, epochs // 50)
    base = _data_settings(data, n_train, n_val, label_noise, seed)
    base.update(_train_settings(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size,
                                eval_every=eval_every, depth=depth, loss=loss))
    base.update(dropout=0.0, weight_decay=0.0, l1=0.0, patience=None)
    tol = 1.0 / base["n_train"] if interpolation_tol is None else _check_fraction(interpolation_tol,
                                                                                  "interpolation_tol")
    configs = [dict(base, width=w, repeat=r) for r in range(seeds) for w in widths]
    res = _run(configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)
    shape = (seeds, len(widths))
    ep = res.series("epochs")[0]
    by = {name: np.stack(res.series(name)).reshape(shape + (-1,)) for name in ("train_error", "test_error")}
    k = _load(data)[2]
    config = dict(base, widths=widths, seeds=seeds, quick=quick)
    return WidthSweep(np.array(widths), _stack(res, "n_params", shape)[0].astype(int),
                      _stack(res, "train_error", shape), _stack(res, "test_error", shape),
                      _stack(res, "train_loss", shape), _stack(res, "test_loss", shape), ep.astype(int),
                      by["train_error"], by["test_error"], base["n_train"], k, base["label_noise"], tol, config,
                      res.elapsed_s)


# --------------------------------------------------------------------------- epoch-wise

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
class EpochWiseCurve:
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
    elapsed_s: float = float("nan")
    cause_values: dict = field(default_factory=dict)  # the numbers in ``cause`` (for other languages)

    def summary(self):
        """One row per step count: mean, s.e., median, quantiles of the test and training errors."""
        return _frame({"step": self.steps}, {"test": self.test, "train": self.train})

    to_frame = summary

    @property
    def phases(self) -> dict:
        """The fall-rise-fall of the median test error: steps and errors of the first minimum, the peak
        and the second minimum, the peak's prominence, and the share of repeats whose own curve has a
        prominent peak (more than 5% of the noise variance)."""
        med = np.median(self.test, axis=0)
        p = double_descent_points(med)
        out = {"prominence": p["prominence"]}
        for key in ("first_min", "peak", "second_min"):
            out[f"{key}_step"] = int(self.steps[p[key]])
            out[f"{key}_test"] = float(med[p[key]])
        out["start_test"], out["end_test"] = float(med[0]), float(med[-1])
        per = np.array([double_descent_points(r)["prominence"] for r in self.test])
        out["share_of_repeats"] = float(np.mean(per > 0.05 * self.noise_var))
        return out

    def to_dict(self) -> dict:
        return {"cause": self.cause, "phases": self.phases, "noise_var": self.noise_var,
                "n_repeats": int(self.test.shape[0]), "config": self.config,
                "by_step": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, title=None):
        """Median test and training error against steps on log axes, IQR bands, phases marked."""
        from ..plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        x = np.maximum(self.steps, 0.5)  # step 0 drawn at 0.5 on the log axis
        _band(ax, x, self.train, "tab:blue", "training")
        _band(ax, x, self.test, "tab:orange", "test")
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
        As in :func:`genlab.runs.execute.sweep`.

    Returns
    -------
    EpochWiseCurve
    """
    from ..runs.execute import sweep

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
                dask=dask, progress=progress)
    # time constants 1 / (lr * curvature): the fast block's curvatures spread over
    # (1 ± sqrt(n_fast / n_train))^2 (Marchenko-Pastur), the slow block's sit near slow_variance
    lam_fast_min = max((1 - math.sqrt(min(n_fast / n_train, 1.0))) ** 2, 1e-3)
    values = dict(slow_variance=slow_variance, lr=lr, n_fast=n_fast, n_train=n_train, t_fast=1 / lr,
                  t_noise=1 / (lr * lam_fast_min), t_slow=1 / (lr * slow_variance))
    cause = EPOCH_WISE_CAUSE.format(**values)
    config = dict(base, seeds=seeds, seed=seed, max_steps=max_steps)
    del config["steps"]
    return EpochWiseCurve(np.array(steps), np.stack(res.series("test")), np.stack(res.series("train")),
                          noise ** 2, cause, config, res.elapsed_s, values)


# --------------------------------------------------------------------------- regularizers

@dataclass
class RegularizerComparison:
    """Test error of each regularizer on one noisy task, each at the strength its validation error picks.

    ``test_error``, ``val_error``, ``train_error`` and ``strength`` have shape
    (n_repeats, n_methods) in the order of ``methods``; ``strength`` is the
    chosen penalty (l1, l2), drop probability (dropout), stopping epoch
    (early_stopping) or 0 (none). ``grid_val_error`` and ``grid_test_error``
    map a method to (n_repeats, n_strengths) over ``grids[method]``.
    """

    methods: list
    test_error: np.ndarray
    val_error: np.ndarray
    train_error: np.ndarray
    strength: np.ndarray
    grids: dict
    grid_val_error: dict
    grid_test_error: dict
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

    to_frame = summary

    def to_dict(self) -> dict:
        return {"width": self.width, "n_train": self.n_train, "label_noise": self.label_noise,
                "n_repeats": int(self.test_error.shape[0]), "grids": {k: list(v) for k, v in self.grids.items()},
                "config": self.config,
                "by_method": self.summary().to_dict(orient="records"),
                "chosen": {m: self.strength[:, i].tolist() for i, m in enumerate(self.methods)}}

    def plot(self, ax=None, *, title=None):
        """Test error per method: each repeat as a dot, mean ± s.e. as a bar, median as a tick."""
        from ..plots.helpers import axes

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


def regularizers_side_by_side(data: str = "digits", *, width: int = 48, methods=METHODS, grids=None,
                              n_train: int = 200, n_val: int = 300, label_noise: float = 0.2,
                              epochs: int | None = None, seeds: int | None = None, patience: int = 20,
                              depth: int = 1, loss: str = "squared", optimizer: str = "adam", lr: float = 1e-3,
                              batch_size: int | None = None, eval_every: int = 10, quick: bool = False, store=None,
                              seed: int = 0, jobs: int | None = 1, dask=None,
                              progress: bool = False) -> RegularizerComparison:
    """No regularization, L1, L2, early stopping and dropout on one noisy task, side by side.

    The task is :func:`mlp_width_sweep`'s (digits, 20% label noise) at a width
    near its peak (48 units). For L1, L2 and dropout each repeat trains one
    network per strength in ``grids`` and keeps the one with the lowest
    validation error (validation labels are noisy too); early stopping trains
    without a penalty, evaluates every ``eval_every`` epochs and stops after
    ``patience`` evaluations without a better validation error, restoring the
    best epoch's weights. Test error is then measured once, on clean labels.

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
        2000, as the width sweep.
    seeds : int, optional
        Repeats: 5 (2 with ``quick``).
    patience, eval_every : int
        Early stopping's patience (in evaluations) and evaluation interval (epochs).
    other parameters
        As in :func:`mlp_width_sweep`.

    Returns
    -------
    RegularizerComparison
    """
    width = _check_int(width, "width")
    methods = list(methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods or len(set(methods)) != len(methods):
        raise GenlabError(f"methods {methods!r}: choose distinct names among {', '.join(METHODS)}")
    patience = _check_int(patience, "patience")
    epochs = epochs if epochs is not None else 2000
    seeds = _check_int(seeds if seeds is not None else (2 if quick else 5), "seeds")
    base = _data_settings(data, n_train, n_val, label_noise, seed)
    if base["n_val"] < 1:
        raise GenlabError("choosing strengths and early stopping need a validation set; give n_val >= 1")
    base.update(_train_settings(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size,
                                eval_every=eval_every, depth=depth, loss=loss))
    base.update(width=width, dropout=0.0, weight_decay=0.0, l1=0.0, patience=None)
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
    keys = {"l1": "l1", "l2": "weight_decay", "dropout": "dropout"}
    settings = []  # (method, strength, overrides)
    for m in methods:
        if m == "none":
            settings.append((m, 0.0, {}))
        elif m == "early_stopping":
            settings.append((m, 0.0, {"patience": patience}))
        else:
            settings += [(m, v, {keys[m]: v}) for v in use[m]]
    configs = [dict(base, repeat=r, **over) for r in range(seeds) for _, _, over in settings]
    res = _run(configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)
    shape = (seeds, len(settings))
    te, va, tr = (_stack(res, f"{k}_error", shape) for k in ("test", "val", "train"))
    stop = _stack(res, "best_epoch", shape)
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
    config = dict(base, methods=methods, seeds=seeds, quick=quick, early_stopping_patience=patience)
    return RegularizerComparison(methods, out["test"], out["val"], out["train"], out["strength"],
                                 {m: use[m] for m in methods if m in GRIDS}, grid_val, grid_test, width,
                                 base["n_train"], base["label_noise"], config, res.elapsed_s)
