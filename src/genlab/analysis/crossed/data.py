"""The data of a crossed sweep: the fixed test set and its targets, and training set i with noise draw k.

Every array is a function of the job config alone (the sweep's ``seed``, ``row`` i, noise draw k), so
all the values of a knob see the same data draws (paired) and the numbers do not depend on the
workers. Two kinds of data:

* a known source (:class:`~genlab.data.sources.SyntheticSource`, :class:`~genlab.data.sources.ClassificationSource`):
  inputs x_i from ``(seed, "crossed-x", i)``, test inputs at the quantiles of the x distribution, the targets
  E[y | x] (or P(y | x)) with their known noise;
* a real dataset (a bundled set or a loaded CSV): one permutation from ``(seed, "crossed-design")`` puts
  ``n_test`` rows aside for the test (clean labels), and training set i is the i-th disjoint block of the
  rest when the R blocks fit, else a random subset; digits' pixels are divided by 16, other inputs
  standardized by the pool's columns, a regression target by the pool's mean and standard deviation.

Label noise draw k comes from ``(seed, "crossed-noise", k)`` — the *same* noise vector (normal deviates,
or the uniforms that pick labels or flip them) for every i, so that noise is crossed with the inputs
(three-way design); with one draw (K = 1) each dataset has its own noise, ``(seed, "crossed-noise-row", i)``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np

from ...core.seeding import rng as make_rng, seed_sequence


def init_seed(seed: int, j: int) -> int:
    """The ``random_state`` of seed j: the same for every data draw and value (crossed), < 2**32 (sklearn's bound)."""
    return int(seed_sequence(seed, "crossed-init", j).generate_state(1)[0])


@dataclass(frozen=True)
class Design:
    """What every job of one sweep shares: the task, the test inputs and targets, and where training rows come from."""

    task: str                  # "regression" or "classification"
    n_classes: int             # outputs d: 1 for regression
    X_test: np.ndarray         # (n_test, n_features)
    y: np.ndarray              # (n_test, d): E[y | x] (source) or the observed test labels (data)
    noise: float               # the known noise (source), NaN against observed labels
    mode: str                  # "source" or "data"
    X: np.ndarray | None = None   # real data: every row, transformed
    y_all: np.ndarray | None = None  # real data: targets (standardized) or class indices
    pool: np.ndarray | None = None   # real data: rows training sets come from


def source_of(data: dict):
    from ...data.sources import source_from_config

    return source_from_config(data["source"])


def onehot(idx, C: int) -> np.ndarray:
    return (np.asarray(idx)[:, None] == np.arange(C)[None, :]).astype(np.float64)


@functools.lru_cache(maxsize=8)
def _design(key: str) -> Design:
    c = json.loads(key)
    data, n_test, seed = c["data"], int(c["n_test"]), int(c["seed"])
    if "source" in data:
        src = source_of(data)
        x = src.x_dist.quantiles(n_test)
        if data["source"]["type"] == "regression":
            return Design("regression", 1, x[:, None], src.mean(x)[:, None], float(src.noise_var), "source")
        p = src.proba(x)
        return Design("classification", p.shape[1], x[:, None], p, float(np.mean(1.0 - (p ** 2).sum(axis=1))),
                      "source")
    from ..double_descent._common import column_standardizer, dataset

    ds = dataset(data["dataset"])
    perm = make_rng(seed, "crossed-design").permutation(ds.n)
    test, pool = perm[:n_test], perm[n_test:]
    name = data["dataset"] if isinstance(data["dataset"], str) else data["dataset"].get("dataset")
    X = ds.X / 16.0 if name == "digits" else column_standardizer(ds.X[pool])(ds.X)
    if ds.task == "classification":
        classes, idx = np.unique(ds.y, return_inverse=True)
        return Design("classification", classes.size, X[test], onehot(idx[test], classes.size), float("nan"),
                      "data", X, idx, pool)
    y = np.asarray(ds.y, dtype=np.float64)
    mu, sd = float(y[pool].mean()), float(y[pool].std()) or 1.0
    ys = (y - mu) / sd
    return Design("regression", 1, X[test], ys[test][:, None], float("nan"), "data", X, ys, pool)


def design(config: dict) -> Design:
    """The sweep's shared design (cached per process)."""
    keys = ("data", "n_test", "seed")
    return _design(json.dumps({k: config[k] for k in keys}, sort_keys=True))


def _noise_rng(config: dict, i: int, k: int):
    if int(config["K"]) > 1:
        return make_rng(int(config["seed"]), "crossed-noise", k)
    return make_rng(int(config["seed"]), "crossed-noise-row", i)


def training_set(config: dict, i: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n_train, n_features) and targets of training set i with noise draw k: values for a
    regression, class indices for a classification."""
    d, n, seed = design(config), int(config["n_train"]), int(config["seed"])
    data = config["data"]
    if "source" in data:
        src = source_of(data)
        x = src.x_dist.sample(n, make_rng(seed, "crossed-x", i))
        g = _noise_rng(config, i, k)
        if d.task == "regression":
            return x[:, None], src.mean(x) + src.noise * g.standard_normal(n)
        return x[:, None], src.sample_labels(x, g)
    R = int(config["R"])
    if R * n <= d.pool.size:
        rows = d.pool[i * n:(i + 1) * n]
    else:
        rows = make_rng(seed, "crossed-x", i).choice(d.pool, n, replace=False)
    y = d.y_all[rows]
    rate = float(config["label_noise"])
    if d.task == "classification" and rate > 0:
        from ...data.sources import flip_labels

        y, _ = flip_labels(y, rate, _noise_rng(config, i, k), classes=np.arange(d.n_classes))
    return d.X[rows], y
