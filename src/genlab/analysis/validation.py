"""Error curves of any estimator over repeated datasets: against one of its parameters
(:func:`validation_curve`, scikit-learn's ``validation_curve`` with fresh data per repeat) and against
the size of its training set (:func:`learning_curve`).

Where the data come from decides what a repeat is:

* a known source (:class:`~genlab.data.sources.SyntheticSource`, :class:`~genlab.data.sources.ClassificationSource`):
  every repeat draws a fresh training set and a fresh validation set, so the repeats are
  independent and their spread is the spread over datasets;
* a :class:`~genlab.data.sources.Dataset` (a CSV, a bundled set, arrays): ``method="disjoint"`` holds a
  validation set out once and trains each repeat on its own disjoint subset of the rest (independent
  draws from the data's distribution, as many as fit); ``method="shuffle"`` draws a new random split per
  repeat (any number of repeats, but the training sets overlap, so the spread understates the
  variance over fresh datasets; the result says so).

Every setting of a repeat sees the same data (and the same ``random_state`` where the estimator's is
None), so the differences between settings are paired. Errors are per-dataset numbers; the summary
gives medians and quartiles beside the mean and its standard error, and Hill's tail index of the
validation errors with its verdict (:func:`genlab.core.stats.tail_verdict`): a mean over datasets is
only trustworthy where the verdict says "finite variance".

The fits of the repeats are shared out by :func:`genlab.analysis.biasvar.blocks.run_items` (threads or
worker processes only where they pay); the numbers depend on ``seed`` only, never on ``jobs``.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

import numpy as np

from ..core.checks import check_int
from ..core.errors import GenlabError
from ..core.seeding import check_seed, rng as make_rng
from .estimator_curve import METRICS, EstimatorCurve

__all__ = ["EstimatorCurve", "learning_curve", "parse_values", "validation_curve"]

DATA_METHODS = ("disjoint", "shuffle")
MAX_VALUES = 10_000
_RANGE = re.compile(r"^(\d{1,18})\s*-\s*(\d{1,18})(?:\s*:\s*(\d{1,18}))?$")
_INT = re.compile(r"^[+-]?\d{1,18}$")
_WORDS = {"none": None, "true": True, "false": False}


def parse_values(text) -> list:
    """A parameter's values from text: ranges ``1-20`` (or ``1-20:2``, a step), lists ``1,2,5,10``,
    numbers ``1e-3,1e-2,0.5``, ``None``/``True``/``False`` and bare words (``uniform,distance``).

    Returns
    -------
    list
        ints, floats, None, bools or strings; numbers sorted and without repeats, words in the order given.
    """
    if not isinstance(text, str):
        return list(text)
    out: list = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise GenlabError(f"values {text!r} have an empty item; write a range like 1-20 or a list like 1,2,5")
        if _INT.match(part):
            out.append(int(part))
        elif (m := _RANGE.match(part)) is not None:
            lo, hi, step = int(m[1]), int(m[2]), int(m[3] or 1)
            if hi < lo or step < 1:
                raise GenlabError(f"range {part!r} is empty; write low-high with low <= high")
            if (hi - lo) // step + 1 > MAX_VALUES:
                raise GenlabError(f"range {part!r} has more than {MAX_VALUES:,} values; give a step (1-1000:10)")
            out.extend(range(lo, hi + 1, step))
        elif part.lower() in _WORDS:
            out.append(_WORDS[part.lower()])
        else:
            try:
                v = float(part)
            except ValueError:
                if not re.fullmatch(r"[A-Za-z_][\w.\-]*", part):
                    raise GenlabError(f"value {part!r} is malformed; give numbers, a range like 1-20, "
                                      "None/True/False or plain words") from None
                v = part
            if isinstance(v, float) and not math.isfinite(v):
                raise GenlabError(f"value {part!r} is not a finite number")
            out.append(v)
    if len(out) > MAX_VALUES:
        raise GenlabError(f"{len(out):,} values are more than {MAX_VALUES:,}; give fewer")
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in out)
    if numeric:
        return sorted(set(out))
    return [h.value for h in dict.fromkeys(map(_Hashable, out))]  # words: in the order given, once each


@dataclass(frozen=True)
class _Hashable:
    """A value with a type-aware identity (so 1 and True stay two values)."""

    value: object

    def __hash__(self):
        return hash((type(self.value).__name__, self.value))

    def __eq__(self, other):
        return type(self.value) is type(other.value) and self.value == other.value


# -- estimators and their parameter ---------------------------------------------------------------

def _label(est) -> str:
    """``Class(param=value, ...)`` with the parameters that differ from the class's defaults."""
    import inspect

    try:
        defaults = {k: p.default for k, p in inspect.signature(type(est).__init__).parameters.items()}
    except (TypeError, ValueError):
        defaults = {}
    parts = []
    for k, v in est.get_params(deep=False).items():
        if hasattr(v, "get_params"):
            parts.append(f"{k}={type(v).__name__}(...)")
        elif k not in defaults or repr(v) != repr(defaults[k]):
            parts.append(f"{k}={v!r}")
    return f"{type(est).__name__}({', '.join(parts)})"


def _estimators(estimator, labels) -> tuple[list, list[str]]:
    ests = list(estimator) if isinstance(estimator, (list, tuple)) else [estimator]
    if not ests:
        raise GenlabError("give at least one estimator")
    for est in ests:
        if not callable(getattr(est, "fit", None)) or not callable(getattr(est, "predict", None)) \
                or not callable(getattr(est, "get_params", None)):
            raise GenlabError(f"{type(est).__name__} has no fit/predict/get_params; give a scikit-learn estimator")
    names = list(labels) if labels is not None else [_label(e) for e in ests]
    if len(names) != len(ests):
        raise GenlabError(f"{len(names)} labels for {len(ests)} estimators; give one label per estimator")
    count: dict = {}
    unique = []
    for name in names:  # the same model twice: numbered, so that the table tells them apart
        count[name] = count.get(name, 0) + 1
        unique.append(name if names.count(name) == 1 else f"{name} #{count[name]}")
    return ests, unique


def _metric(ests, labels, metric) -> str:
    from sklearn.base import is_classifier

    kinds = {is_classifier(e) for e in ests}
    if len(kinds) > 1:
        cls = [lab for e, lab in zip(ests, labels) if is_classifier(e)]
        raise GenlabError(f"{cls[0]} is a classifier and the others are not: one comparison takes "
                          "classifiers only or regressors only")
    if metric is None:
        return "error" if kinds == {True} else "mse"
    if metric not in METRICS:
        raise GenlabError(f"unknown metric {metric!r}; choose {', '.join(METRICS)}")
    if (metric == "error") != (kinds == {True}):
        raise GenlabError(f"metric {metric} is for {'classifiers' if metric == 'error' else 'regressors'}; "
                          f"choose {'error' if kinds == {True} else 'mse or rmse'}")
    return metric


def check_param(estimator, param: str, label: str | None = None) -> None:
    """A GenlabError unless ``param`` is a parameter of ``estimator`` (``step__alpha`` for nested ones)."""
    names = estimator.get_params(deep=True)
    if not isinstance(param, str) or param not in names:
        top = sorted(estimator.get_params(deep=False))
        shown = ", ".join(top[:25]) + (", ..." if len(top) > 25 else "")
        raise GenlabError(f"{label or type(estimator).__name__} has no parameter {param!r}; its parameters are "
                          f"{shown or '(none)'} (nested ones as step__name)")


def with_param(estimator, param: str, value, label: str | None = None):
    """An unfitted copy of ``estimator`` with ``param`` set to ``value``, checked by scikit-learn's own
    parameter validation (of every nested estimator too) before any fit."""
    from sklearn.base import clone

    est = clone(estimator)
    try:
        est.set_params(**{param: value})
        for part in [est, *(v for v in est.get_params(deep=True).values() if hasattr(v, "get_params"))]:
            validate = getattr(part, "_validate_params", None)
            if callable(validate) and hasattr(type(part), "_parameter_constraints"):
                validate()
    except (TypeError, ValueError) as exc:
        raise GenlabError(f"{param}={value!r} is not a valid value for {label or type(estimator).__name__}: "
                          f"{' '.join(str(exc).split()).rstrip('.')}; change the values") from None
    return est


def _random_state_keys(est) -> list[str]:
    """The ``random_state`` parameters left None: set per repeat, so that the same seed gives the same fits."""
    return [k for k, v in est.get_params(deep=True).items()
            if (k == "random_state" or k.endswith("__random_state")) and v is None]


# -- the work: one item per repeat ----------------------------------------------------------------

@dataclass
class _CurveJob:
    X: np.ndarray
    y: np.ndarray
    train_rows: list     # [repeat][point] -> row indices into X, or None (no such dataset)
    val_rows: list       # [repeat] -> row indices
    grid: list           # [estimator][point] -> unfitted estimator
    metric: str
    random_states: list  # [repeat] -> int
    where: list          # [point] -> words naming the setting, for a message

    def rounds(self, start: int, stop: int) -> list:
        """Per repeat ``start .. stop-1``: (train errors, validation errors), each (n_estimators, n_points)."""
        from sklearn.base import clone

        out = []
        E, V = len(self.grid), len(self.where)
        for r in range(start, stop):
            tr, va = np.full((E, V), np.nan), np.full((E, V), np.nan)
            vr = self.val_rows[r]
            Xv, yv = self.X[vr], self.y[vr]
            for e in range(E):
                for v in range(V):
                    rows = self.train_rows[r][v]
                    if rows is None:
                        continue
                    est = clone(self.grid[e][v])
                    keys = _random_state_keys(est)
                    if keys:
                        est.set_params(**{k: self.random_states[r] for k in keys})
                    Xt, yt = self.X[rows], self.y[rows]
                    try:
                        est.fit(Xt, yt)
                        tr[e, v] = _score(yt, est.predict(Xt), self.metric)
                        va[e, v] = _score(yv, est.predict(Xv), self.metric)
                    except Exception as exc:  # noqa: BLE001 - scikit-learn's way: a failed fit is a NaN ...
                        if r == 0:  # ... except on the first dataset, where it is the settings that fail
                            raise GenlabError(f"{type(self.grid[e][v]).__name__} with {self.where[v]} failed to "
                                              f"fit: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}; "
                                              "change the settings") from None
            out.append((tr, va))
        return out


def _quiet(job: _CurveJob, start: int, stop: int) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return job.rounds(start, stop)


def _score(y, pred, metric: str) -> float:
    pred = np.asarray(pred)
    if metric == "error":
        return float(np.mean(pred.reshape(np.shape(y)) != y))
    with np.errstate(all="ignore"):
        mse = float(np.mean((pred.reshape(np.shape(y)).astype(np.float64) - y) ** 2))
    return math.sqrt(mse) if metric == "rmse" else mse


def _as_data(data):
    from ..data.sources import ClassificationSource, Dataset, SyntheticSource

    if isinstance(data, (SyntheticSource, ClassificationSource, Dataset)):
        return data
    if isinstance(data, tuple) and len(data) == 2:
        X, y = np.asarray(data[0], dtype=np.float64), np.asarray(data[1])
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] < 2:
            raise GenlabError(f"data (X, y) needs X of shape (n, n_features) and y of shape (n,), n >= 2; got "
                              f"{X.shape} and {y.shape}")
        return Dataset(X, y, tuple(f"x{j}" for j in range(X.shape[1])), "y", "regression", "arrays")
    raise GenlabError("data must be a source (SyntheticSource, ClassificationSource), a Dataset (load_csv, "
                      "load_dataset) or a pair (X, y)")


def _plan(data, sizes: list[int], *, n_val, repeats: int, method: str, seed: int):
    """The rows of every repeat: ``(X, y, train_rows[r][size index], val_rows[r], notes, n_val)``.

    A source draws ``max(sizes) + n_val`` points per repeat (a size uses the first ones: nested training
    sets); a dataset is split as :mod:`this module <genlab.analysis.validation>` says.
    """
    from ..data.sources import Dataset

    top = max(sizes)
    if not isinstance(data, Dataset):
        n_val = check_int(1000 if n_val is None else n_val, "n_val")
        Xs, ys = [], []
        for r in range(repeats):
            ds = data.sample(top + n_val, make_rng(seed, "estimator-curve", r))
            Xs.append(ds.X)
            ys.append(ds.y)
        X, y = np.concatenate(Xs), np.concatenate(ys)
        w = top + n_val
        train = [[np.arange(r * w, r * w + s) for s in sizes] for r in range(repeats)]
        val = [np.arange(r * w + top, (r + 1) * w) for r in range(repeats)]
        return X, y, train, val, [], n_val
    N = data.n
    n_val = max(1, int(round(N / 4))) if n_val is None else check_int(n_val, "n_val")
    if n_val >= N:
        raise GenlabError(f"n_val = {n_val} leaves no training rows in {data.name or 'the data'} ({N} rows); "
                          "lower it")
    if method == "shuffle":
        if top + n_val > N:
            raise GenlabError(f"{top} training + {n_val} validation rows do not fit in {N} rows; lower them")
        perms = [make_rng(seed, "estimator-curve-split", r).permutation(N) for r in range(repeats)]
        train = [[p[n_val:n_val + s] for s in sizes] for p in perms]
        notes = ["shuffled splits of one dataset overlap: their spread understates the variance over fresh datasets"]
        return data.X, data.y, train, [p[:n_val] for p in perms], notes, n_val
    g = make_rng(seed, "estimator-curve-data")
    perm = g.permutation(N)
    val_rows, pool = perm[:n_val], perm[n_val:][g.permutation(N - n_val)]
    fits = [min(repeats, pool.size // s) for s in sizes]
    if min(fits) < 2:
        s = sizes[int(np.argmin(fits))]
        raise GenlabError(f"the {pool.size} rows left after {n_val} validation rows hold fewer than 2 disjoint "
                          f"training sets of {s}; lower the training size or n_val, or split with the "
                          "'shuffle' method")
    train = [[pool[r * s:(r + 1) * s] if r < k else None for s, k in zip(sizes, fits)] for r in range(repeats)]
    notes = []
    if max(fits) < repeats or min(fits) < repeats:
        notes.append(f"disjoint training sets: {min(fits)} to {max(fits)} of the {repeats} repeats fit in the "
                     f"{pool.size} rows left after the validation set")
    return data.X, data.y, train, [val_rows] * repeats, notes, n_val


def _run(ests, labels, grid, data, sizes, *, where, n_val, repeats, method, metric, seed, jobs, progress):
    from .biasvar.blocks import run_items, workers

    seed = check_seed(seed)
    repeats = check_int(repeats, "repeats", 2)
    if method not in DATA_METHODS:
        raise GenlabError(f"unknown method {method!r}; choose {' or '.join(DATA_METHODS)}")
    X, y, train, val, notes, n_val = _plan(data, sizes, n_val=n_val, repeats=repeats, method=method, seed=seed)
    states = [int(make_rng(seed, "estimator-curve-random-state", r).integers(2**31 - 1)) for r in range(repeats)]
    job = _CurveJob(X, y, train, val, grid, metric, states, where)
    done = None if progress is None else (lambda a, b: progress(b - a))
    import functools

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = run_items(job.rounds, repeats, workers(jobs), done=done, remote=functools.partial(_quiet, job))
    tr = np.stack([r[0] for r in rows], axis=1)   # (E, R, V)
    va = np.stack([r[1] for r in rows], axis=1)
    planned = np.array([[rows_ is not None for rows_ in t] for t in train]).sum(axis=0)   # (V,)
    failed = int(planned.sum() * len(ests) - np.isfinite(va).sum())
    if failed:
        warnings.warn(f"{failed} fits failed; their errors are NaN and left out of the summaries", stacklevel=3)
        notes.append(f"{failed} fits failed (NaN, left out)")
    return tr, va, planned, notes, n_val, repeats


def _source_config(data) -> dict:
    from ..data.sources import Dataset, SyntheticSource

    if isinstance(data, Dataset):
        return {"data": data.name, "rows": data.n, "features": list(data.feature_names), "target": data.target_name}
    out = {"source": data.describe()}
    if isinstance(data, SyntheticSource):
        out["noise_var"] = data.noise_var
    return out


def validation_curve(estimator, data, *, param: str, values, n: int | None = None, n_val: int | None = None,
                     repeats: int = 20, method: str = "disjoint", metric: str | None = None, seed: int = 0,
                     jobs: int = 1, labels=None, progress=None) -> EstimatorCurve:
    """Training and validation error against one parameter of an estimator, over repeated datasets.

    Parameters
    ----------
    estimator : estimator or list of estimators
        scikit-learn API; several give one curve each (all must have ``param``).
    data : SyntheticSource, ClassificationSource, Dataset or (X, y)
        A source draws fresh data per repeat; a dataset is split (see ``method``).
    param : str
        The parameter that varies (``step__name`` inside a pipeline).
    values : sequence or str
        Its values; text as :func:`parse_values` reads it (``"1-20"``, ``"1e-3,1e-2"``).
    n : int, optional
        Training points per repeat (default: 100 from a source, a tenth of a dataset's rows).
    n_val : int, optional
        Validation points per repeat (default: 1000 from a source, a quarter of a dataset's rows).
    repeats : int, default=20
        Datasets (or splits); with ``method="disjoint"``, as many as fit, at most this many.
    method : {"disjoint", "shuffle"}
        How a dataset is split (ignored for a source).
    metric : {"mse", "rmse", "error"}, optional
        Default: the 0-1 error for classifiers, the mean squared error for regressors.
    seed, jobs, labels, progress
        The seed (same seed, same numbers whatever ``jobs``), worker count, curve names, and a callable
        ``progress(k)`` called as k more repeats are done.

    Returns
    -------
    EstimatorCurve
    """
    from ..data.sources import Dataset

    data = _as_data(data)
    ests, labels = _estimators(estimator, labels)
    metric = _metric(ests, labels, metric)
    for est, lab in zip(ests, labels):
        check_param(est, param, lab)
    values = parse_values(values)
    if not values:
        raise GenlabError("give at least one value")
    grid = [[with_param(est, param, v, lab) for v in values] for est, lab in zip(ests, labels)]
    if n is None:
        n = max(2, (data.n - (n_val or int(round(data.n / 4)))) // 10) if isinstance(data, Dataset) else 100
    n = check_int(n, "n")
    tr, va, planned, notes, n_val, repeats = _run(
        ests, labels, grid, data, [n] * len(values), where=[f"{param}={v!r}" for v in values], n_val=n_val,
        repeats=repeats, method=method, metric=metric, seed=seed, jobs=jobs, progress=progress)
    config = {"n": n, "n_val": n_val, "repeats": repeats, "method": method if isinstance(data, Dataset) else "fresh",
              "seed": check_seed(seed), **_source_config(data), "notes": notes}
    return EstimatorCurve("validation", param, values, labels, tr, va, metric, planned, n, n_val, config)


def learning_curve(estimator, data, *, sizes=None, n_val: int | None = None, repeats: int = 20,
                   method: str = "disjoint", metric: str | None = None, seed: int = 0, jobs: int = 1,
                   labels=None, progress=None) -> EstimatorCurve:
    """Training and validation error against the number of training points, over repeated datasets.

    Parameters
    ----------
    sizes : sequence of int or str, optional
        Training-set sizes (``"10,20,50,100"``); default 8 sizes from 10 (or 2) up to 1000 from a
        source, or up to half a dataset's rows. From a source each repeat's training sets are nested
        (the first ``s`` of its draw); from a dataset with ``method="disjoint"`` every size gets as
        many disjoint training sets as fit (at least 2), at most ``repeats``.
    estimator, data, n_val, repeats, method, metric, seed, jobs, labels, progress
        As :func:`validation_curve`.

    Returns
    -------
    EstimatorCurve
        Knob ``"n_train"``.
    """
    from ..data.sources import Dataset

    data = _as_data(data)
    ests, labels = _estimators(estimator, labels)
    metric = _metric(ests, labels, metric)
    if sizes is None:
        top = 1000 if not isinstance(data, Dataset) else (data.n - (n_val or int(round(data.n / 4)))) // 2
        sizes = np.unique(np.geomspace(min(10, max(2, top // 4)), max(top, 2), 8).round().astype(int)).tolist()
    sizes = parse_values(sizes) if isinstance(sizes, str) else sorted(set(sizes))
    sizes = [int(s) if isinstance(s, float) and s.is_integer() else s for s in sizes]  # 1e3 is a size
    if not sizes or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise GenlabError(f"sizes must be integers >= 1, like 10,20,50,100; got {sizes!r}")
    sizes = [int(s) for s in sizes]
    from sklearn.base import clone

    grid = [[clone(est) for _ in sizes] for est in ests]
    tr, va, planned, notes, n_val, repeats = _run(
        ests, labels, grid, data, sizes, where=[f"{s} training points" for s in sizes], n_val=n_val,
        repeats=repeats, method=method, metric=metric, seed=seed, jobs=jobs, progress=progress)
    config = {"sizes": sizes, "n_val": n_val, "repeats": repeats,
              "method": method if isinstance(data, Dataset) else "fresh", "seed": check_seed(seed),
              **_source_config(data), "notes": notes}
    return EstimatorCurve("learning", "n_train", sizes, labels, tr, va, metric, planned, None, n_val, config)

