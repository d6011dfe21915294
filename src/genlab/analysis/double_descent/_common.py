"""What the double-descent experiments share: the checks of their options, the bundled data,
the sweep that runs their jobs and the arrays they gather from it."""

from __future__ import annotations

import functools
import json
import math
import os

import numpy as np

from ...core.checks import check_fraction
from ...core.errors import GenlabError

#: What the squared errors of a user's regression data are in: the target standardized by the training split.
Y_UNITS = "standardized y: 1 = training mean"
#: Largest feature matrices (training, test and validation rows × max p, float64) one job may hold.
MAX_FEATURE_GB = 4.0


@functools.lru_cache(maxsize=8)
def _bundled(name: str):
    from ...data.sources import load_dataset

    return load_dataset(name)


@functools.lru_cache(maxsize=4)
def _loaded(key: str):
    """The data a job config's origin names (a user's CSV), checked against its fingerprint."""
    from ...data.sources import dataset_from_origin

    origin = json.loads(key)
    data = dataset_from_origin({k: v for k, v in origin.items() if k != "fingerprint"})
    if origin.get("fingerprint") not in (None, data.fingerprint()):
        raise GenlabError(f"the data at {origin.get('csv', origin)} changed since the sweep started (its fingerprint "
                          "differs); use another store to start again")
    return data


def dataset(data):
    """A bundled dataset by name, or the data a :func:`data_key` dict names, loaded once per process."""
    if isinstance(data, dict):
        return _loaded(json.dumps(data, sort_keys=True))
    return _bundled(data)


def check_data(data):
    """The bundled dataset named ``data`` (a GenlabError for anything else)."""
    if not isinstance(data, str):
        raise GenlabError(f"data must name a bundled dataset (digits, diabetes, wine, breast_cancer), got {data!r}")
    return dataset(data)


def data_key(data):
    """What a job config names its data by: a bundled set's name (as always), or a loaded
    :class:`~genlab.data.sources.Dataset`'s origin (a CSV's path and columns) with its fingerprint, so that
    a worker loads the same numbers or fails with a clear message."""
    from ...data.sources import Dataset

    if not isinstance(data, Dataset):
        check_data(data)
        return data
    if data.origin is None:
        raise GenlabError(f"dataset {data.name!r} was made in memory; load it with load_csv (or name a bundled "
                          "set) so that the sweep's workers can load it again")
    if set(data.origin) == {"dataset"}:
        return data.origin["dataset"]
    return {**data.origin, "fingerprint": data.fingerprint()}


def data_name(key) -> str:
    """A data key's name for labels: the bundled set's, or the CSV file's."""
    if isinstance(key, dict):
        return key.get("dataset") or os.path.basename(str(key.get("csv", "data")))
    return str(key)


def column_standardizer(X_ref):
    """Centre and scale every column by the reference rows' mean and standard deviation (a user's columns
    come in their own units; constant columns are only centred), so that E‖x‖² = d as :func:`standardizer`'s."""
    mu, sd = X_ref.mean(axis=0), X_ref.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return lambda X: (X - mu) / sd


def check_rate(rate) -> float:
    return check_fraction(rate, "label noise")


def check_label_noise(ds, data, rates) -> None:
    """Label noise flips class labels: refuse it on a regression set."""
    if ds.task != "classification" and any(rates):
        raise GenlabError(f"label noise flips class labels; dataset {data!r} is a regression set (use noise 0)")


def check_sizes(values, what: str = "ps", lo: int = 1) -> list[int]:
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


def check_ridge(ridge):
    """A ridge penalty >= 0, or ``"tuned"``."""
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


def check_feature_memory(rows: int, p_max: int) -> None:
    """Refuse feature matrices over :data:`MAX_FEATURE_GB` per job."""
    gb = rows * p_max * 8 / 1e9
    if gb > MAX_FEATURE_GB:
        raise GenlabError(f"the largest p = {p_max} needs {gb:.1f} GB of features per job (limit "
                          f"{MAX_FEATURE_GB:g} GB); lower max(ps) or n_test")


def run_sweep(fn, configs, *, store, seed, jobs, dask, progress, label=None):
    """:func:`genlab.runs.sweep.sweep` of ``fn`` over ``configs``; ``label`` names the experiment on the
    progress bar (never part of a job)."""
    from ...runs.sweep import sweep

    return sweep(fn, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress, label=label)


def stack(result, name: str, rows=None) -> np.ndarray | None:
    """Series ``name`` of the sweep's jobs (all, or those at index ``rows``) as one array (n_jobs, length)."""
    series = result.series(name)
    series = series if rows is None else [series[i] for i in rows]
    if any(r is None for r in series):
        return None
    return np.vstack(series)


def curve_arrays(result, prefix: str = "", rows=None) -> dict:
    """The four metrics every double-descent job returns, stacked: keyword arguments of a curve."""
    return {k: stack(result, prefix + k, rows) for k in ("test_mse", "train_mse", "coef_norm", "sigma_min")}


def targets(ds, y):
    """One-hot rows for class labels (over the dataset's classes), else the values as one column."""
    if ds.task == "classification":
        classes = np.unique(ds.y)
        return (np.asarray(y)[:, None] == classes[None, :]).astype(np.float64)
    return np.asarray(y, dtype=np.float64)[:, None]


def sq_err(pred, Y) -> float:
    """Squared error summed over the outputs, averaged over the points."""
    return float(np.mean(np.sum((pred - Y) ** 2, axis=1)))


def standardizer(X_ref):
    """Centre by the reference rows' mean, divide by one scalar so that E‖x‖² = d
    (zero-variance inputs such as digits' blank corner pixels stay harmless)."""
    mu = X_ref.mean(axis=0)
    r = math.sqrt(float(np.mean(np.sum((X_ref - mu) ** 2, axis=1))) / X_ref.shape[1])
    r = r if r > 0 else 1.0
    return lambda X: (X - mu) / r
