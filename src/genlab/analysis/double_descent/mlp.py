"""Model-wise double descent of a network: test error of an MLP against its width on a bundled
classification set with label noise (Nakkiran et al. 2019), :func:`mlp_width_sweep`.

One job per (width, repeat) through :func:`genlab.runs.sweep.sweep`
(:func:`mlp_job`, shared with :func:`genlab.analysis.regularize.regularizers_side_by_side`);
a repeat is one noisy split (:func:`genlab.data.splits.noisy_splits`) shared by
all widths. torch is imported by the jobs, not by ``import genlab`` nor by this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...core.checks import check_fraction as _check_fraction, check_int as _check_int
from ...core.errors import GenlabError
from ...core.results import Result
from ...core.seeding import torch_seed
from ...core.stats import find_peak, summarize, summary_frame
from ...data.splits import classification_set, noisy_splits, split_settings
from ...plots.helpers import axes, quartile_band

__all__ = ["QUICK_WIDTHS", "WIDTHS", "WidthSweep", "mlp_job", "mlp_width_sweep", "run_mlp_jobs", "train_settings"]

#: Widths of the default sweep: dense around the peak (about 30-60 units on
#: digits with n_train = 200), sparse far from it.
WIDTHS = (2, 4, 6, 8, 12, 16, 24, 32, 40, 48, 64, 96, 128, 256, 512, 1024, 2048)
QUICK_WIDTHS = (4, 8, 12, 16, 24, 32, 48, 64, 128, 512)
#: Epochs of every training (full, and with ``quick``: half, enough to interpolate the small widths).
EPOCHS, QUICK_EPOCHS = 2000, 1000


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


def mlp_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """Train one MLP on one repeat's noisy split (a job of :func:`genlab.runs.sweep.sweep`).

    Parameters
    ----------
    config : dict
        ``data``, ``n_train``, ``n_val``, ``label_noise``, ``seed`` and
        ``repeat`` (the data, see :func:`genlab.data.splits.noisy_splits`); ``width``, ``depth``,
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

    from ...models.mlp import MLP, MLPConfig, train

    torch.set_num_threads(1)
    c = config
    data = noisy_splits(c["data"], n_train=c["n_train"], n_val=c["n_val"], label_noise=c["label_noise"],
                        seed=c["seed"], repeat=c["repeat"])
    model_config = MLPConfig(n_inputs=data["n_inputs"], width=c["width"], depth=c["depth"],
                             n_classes=data["n_classes"], dropout=c["dropout"], loss=c["loss"])
    s = torch_seed(seed)
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


def _mlp_cost(config: dict) -> float:
    """Rough seconds of :func:`mlp_job` on one core (measured on digits, full batch: 0.27 ms an epoch
    plus 1.9 µs an epoch and hidden unit per 200 samples); only the order of a plan depends on it."""
    per_epoch = 2.7e-4 + 1.9e-6 * config["width"] * max(1, config["depth"]) * config["n_train"] / 200
    return config["epochs"] * per_epoch


mlp_job.cost = _mlp_cost


def train_settings(*, epochs, lr, optimizer, batch_size, eval_every, depth, loss) -> dict:
    """Check the training options of :func:`mlp_job` now (not in a worker); return them as config entries."""
    from ...models.mlp import LOSSES, check_train_args

    check_train_args(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size, weight_decay=0.0, l1=0.0,
                     eval_every=eval_every, patience=None, monitor="val_error")
    _check_int(depth, "depth", 0)
    if loss not in LOSSES:
        raise GenlabError(f"unknown loss {loss!r}; choose {' or '.join(LOSSES)}")
    return {"epochs": int(epochs), "lr": float(lr), "optimizer": optimizer,
            "batch_size": None if batch_size is None else int(batch_size), "eval_every": int(eval_every),
            "depth": int(depth), "loss": loss}


def run_mlp_jobs(configs, *, store, seed, jobs, dask, progress, label=None):
    """:func:`mlp_job` over ``configs`` through :func:`genlab.runs.sweep.sweep` (``label`` names the
    experiment on the progress bar)."""
    from ...runs.sweep import sweep

    return sweep(mlp_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress, label=label)


def metric_grid(result, name: str, shape) -> np.ndarray:
    """Metric ``name`` of the jobs as an array of ``shape`` (repeats × settings)."""
    return result.metric(name).reshape(shape)


@dataclass
class WidthSweep(Result):
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
    elapsed_s: float = math.nan

    def summary(self):
        """One row per width: mean, s.e., median, quantiles and heavy-tail flag of each error and loss."""
        return summary_frame({"width": self.widths, "n_params": self.n_params},
                             {"train_error": self.train_error, "test_error": self.test_error,
                              "train_loss": self.train_loss, "test_loss": self.test_loss})

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
        p = find_peak(med)
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
        return np.array([self.widths[max(find_peak(r)["peak"], 0)] for r in self.test_error])

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
        ax = axes(ax, (6.4, 4.2))
        quartile_band(ax, self.widths, self.train_error, color="tab:blue", label="training (noisy labels)",
                      alpha=0.18, mean=True)
        quartile_band(ax, self.widths, self.test_error, color="tab:orange", label="test (clean labels)",
                      alpha=0.18, mean=True)
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
    epochs : int, optional
        :data:`EPOCHS` (2000), or :data:`QUICK_EPOCHS` (1000) with ``quick``.
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
        As in :func:`genlab.runs.sweep.sweep`.

    Returns
    -------
    WidthSweep
    """
    widths = _check_widths(widths if widths is not None else (QUICK_WIDTHS if quick else WIDTHS))
    epochs = _check_int(epochs if epochs is not None else (QUICK_EPOCHS if quick else EPOCHS), "epochs")
    seeds = _check_int(seeds if seeds is not None else (2 if quick else 5), "seeds")
    eval_every = eval_every if eval_every is not None else max(1, epochs // 50)
    base = split_settings(data, n_train, n_val, label_noise, seed)
    base.update(train_settings(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size,
                               eval_every=eval_every, depth=depth, loss=loss))
    base.update(dropout=0.0, weight_decay=0.0, l1=0.0, patience=None)
    tol = 1.0 / base["n_train"] if interpolation_tol is None else _check_fraction(interpolation_tol,
                                                                                  "interpolation_tol")
    configs = [dict(base, width=w, repeat=r) for r in range(seeds) for w in widths]
    res = run_mlp_jobs(configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                       label=f"MLP width sweep on {data}")
    shape = (seeds, len(widths))
    ep = res.series("epochs")[0]
    by = {name: np.stack(res.series(name)).reshape(shape + (-1,)) for name in ("train_error", "test_error")}
    errors = {name: metric_grid(res, name, shape) for name in ("train_error", "test_error", "train_loss", "test_loss")}
    return WidthSweep(np.array(widths), metric_grid(res, "n_params", shape)[0].astype(int), **errors,
                      epochs=ep.astype(int), train_error_by_epoch=by["train_error"],
                      test_error_by_epoch=by["test_error"], n_train=base["n_train"],
                      n_classes=classification_set(data)[2], label_noise=base["label_noise"], interpolation_tol=tol,
                      config=dict(base, widths=widths, seeds=seeds, quick=quick), elapsed_s=res.elapsed_s)
