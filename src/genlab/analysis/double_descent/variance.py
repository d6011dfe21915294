"""The variance across the random-features curve, split by the law of total variance into
the part due to the training data and the part due to the random features
(:func:`random_features_variance_split`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.checks import check_int as _check_int
from ...core.errors import GenlabError
from ...core.results import Result
from ...core.seeding import check_seed, rng as make_rng
from ...linalg.minnorm import nested_least_squares
from ...plots.helpers import axes
from ._common import (check_data, check_label_noise, check_rate, check_sizes, dataset, default_ps, run_sweep, sq_err,
                      stack, standardizer, targets)

__all__ = ["VarianceSplit", "random_features_variance_split", "rf_variance_job"]


def _variance_design(config):
    """The dataset, the test rows, the pool of training rows and the ``data_seeds`` training sets."""
    ds = dataset(config["data"])
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


def _training_targets(ds, config, tr, i, mu, sd):
    """Targets of training set ``i`` (rows ``tr``): label noise from the data seed, one-hot or standardized."""
    from ...data.sources import flip_labels

    y = ds.y[tr]
    if ds.task != "classification":
        return targets(ds, (y - mu) / sd)
    if config["label_noise"] > 0:
        y, _ = flip_labels(y, config["label_noise"], make_rng(int(config["data_seed"]), "rf-variance-labels", i),
                           classes=np.unique(ds.y))
    return targets(ds, y)


def rf_variance_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One feature draw of :func:`random_features_variance_split`, fitted on every training set.

    The training sets and the test set come from ``config["data_seed"]`` (the
    same in every job); the features from the job's own stream. Returns per
    p: ``data_var`` (mean over test points of Σ_k Var_D h, population
    variance over the training sets), ``second`` (mean of Σ_k E_D h²),
    ``mse``, and ``mean`` (E_D h at every test point and output, flattened
    p-major), which the driver needs for the variance across feature draws.
    """
    from ...models.random_features import draw_weights, features_from_weights

    ds, test, pool, trains = _variance_design(config)
    std = standardizer(ds.X[pool])
    ps = [int(p) for p in config["ps"]]
    W, b = draw_weights(ds.X.shape[1], ps[-1], kind=config["kind"], scale=config["scale"], seed=seed)
    F_te = features_from_weights(std(ds.X[test]), W, b, kind=config["kind"], normalize=False)
    mu, sd = (float(ds.y[pool].mean()), float(ds.y[pool].std()) or 1.0) if ds.task != "classification" else (0, 1)
    Y_te = targets(ds, ds.y[test]) if ds.task == "classification" else targets(ds, (ds.y[test] - mu) / sd)
    m, k = Y_te.shape
    S1 = np.zeros((len(ps), m, k))
    S2 = np.zeros((len(ps), m, k))
    mse = np.zeros(len(ps))
    for i, tr in enumerate(trains):
        Y = _training_targets(ds, config, tr, i, mu, sd)
        F = features_from_weights(std(ds.X[tr]), W, b, kind=config["kind"], normalize=False)
        for j, fit in enumerate(nested_least_squares(F, Y, ps)):
            H = F_te[:, :fit.p] @ fit.coef
            S1[j] += H
            S2[j] += H * H
            mse[j] += sq_err(H, Y_te)
    D = len(trains)
    mean, second = S1 / D, S2 / D
    return {"series": {"mean": mean.ravel(), "second": second.sum(axis=2).mean(axis=1),
                       "data_var": (second - mean ** 2).sum(axis=2).mean(axis=1), "mse": mse / D}}


@dataclass
class VarianceSplit(Result):
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
        """One row per p: bias² (with the noise), the variance and its two parts, the error."""
        import pandas as pd

        return pd.DataFrame({"p": self.values, "bias2_incl_noise": self.bias2, "variance": self.total,
                             "variance_data": self.data, "variance_features": self.features,
                             "features_share": self.features / self.total, "error": self.error})

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "peak": self.peak, "identity_gap": self.identity_gap,
                "config": self.config, "points": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, log: bool = True, title=None):
        """bias², total variance and its two parts against p, threshold marked."""
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


def _split(result, base, ds, ps) -> dict:
    """The variance split from the jobs' moments: total, data part, features part, bias², error."""
    _, test, pool, _ = _variance_design(base)
    if ds.task == "classification":
        Y_te = targets(ds, ds.y[test])
    else:
        Y_te = targets(ds, (ds.y[test] - ds.y[pool].mean()) / (ds.y[pool].std() or 1.0))
    m, k = Y_te.shape
    means = np.stack([a.reshape(len(ps), m, k) for a in result.series("mean")])  # (J, P, m, k)
    second = stack(result, "second").mean(axis=0)                                # (P,)
    grand = means.mean(axis=0)                                                    # (P, m, k)
    return {"total": second - (grand ** 2).sum(axis=2).mean(axis=1),
            "data": stack(result, "data_var").mean(axis=0),
            "features": means.var(axis=0).sum(axis=2).mean(axis=1),
            "bias2": ((grand - Y_te[None]) ** 2).sum(axis=2).mean(axis=1),
            "error": stack(result, "mse").mean(axis=0)}


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
        As :func:`~genlab.analysis.double_descent.random_features_sweep`; label
        noise is part of the data draw.
    ps : sequence of int, optional
        Default: :func:`~genlab.analysis.double_descent.default_ps` up to 4n (the
        variance has settled by then).
    data_seeds, feature_seeds : int
        The grid's sides (>= 2 each).
    store, jobs, dask, progress, seed
        As :func:`genlab.runs.sweep.sweep`.

    Returns
    -------
    VarianceSplit
    """
    from ...models.random_features import check_kind, check_scale

    ds = check_data(data)
    check_kind(kind)
    scale = check_scale(scale)
    n_train, n_test = _check_int(n_train, "n_train"), _check_int(n_test, "n_test")
    D, J = _check_int(data_seeds, "data_seeds", 2), _check_int(feature_seeds, "feature_seeds", 2)
    rate = check_rate(label_noise)
    check_label_noise(ds, data, [rate])
    if n_train + n_test > ds.n:
        raise GenlabError(f"dataset {data!r} has {ds.n} points: n_train + n_test = {n_train + n_test} do not fit")
    ps = default_ps(n_train, factor=4, count=16) if ps is None else check_sizes(ps, "ps")
    seed = check_seed(seed)
    base = {"data": data, "kind": kind, "n_train": n_train, "n_test": n_test, "ps": ps, "data_seeds": D,
            "data_seed": seed, "label_noise": rate, "scale": scale}
    configs = [{**base, "feature_seed": j} for j in range(J)]
    result = run_sweep(rf_variance_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                       label=f"variance split: random {kind} features on {data}")
    parts = _split(result, base, ds, ps)
    return VarianceSplit(np.array(ps), float(n_train), **parts,
                         config={**{k_: v for k_, v in base.items() if k_ != "ps"}, "feature_seeds": J,
                                 "training_sets": "disjoint" if D * n_train <= ds.n - n_test else "random subsets"})
