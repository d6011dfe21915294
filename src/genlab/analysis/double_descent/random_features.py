"""Model-wise double descent of random features on a bundled dataset.

* :func:`random_features_sweep` — random ReLU / Fourier features, minimum-norm
  least squares (or ridge, fixed or tuned per p) on one-hot targets;
* :func:`label_noise_sweep` — the same at several label-noise rates, in one sweep.

Every seed is one job (:func:`rf_job`) returning its whole curve as series.
"""

from __future__ import annotations

import math

import numpy as np

from ...core.checks import check_int as _check_int
from ...core.errors import GenlabError
from ...core.seeding import check_seed, child, seed_sequence
from ...linalg.minnorm import nested_least_squares
from ._common import (Y_UNITS, check_feature_memory, check_label_noise, check_rate, check_ridge, check_sizes,
                      column_standardizer, curve_arrays, data_key, data_name, dataset, default_ps, run_sweep, sq_err,
                      stack, standardizer, targets)
from .results import CurveFamily, DoubleDescentCurve

__all__ = ["RIDGE_GRID", "label_noise_sweep", "random_features_sweep", "rf_data", "rf_job"]

#: Relative ridge penalties tried per p when ``ridge="tuned"`` (times trace(ΦΦᵀ)/n), plus 0.
RIDGE_GRID = np.concatenate([[0.0], np.logspace(-8, 2, 41)])


def _rf_split(ds, n_train, n_test, n_val, g):
    perm = g.permutation(ds.n)
    tr = perm[:n_train]
    te = perm[n_train:n_train + n_test]
    va = perm[n_train + n_test:n_train + n_test + n_val]
    return tr, te, va


def rf_data(config: dict, seed: np.random.SeedSequence) -> dict:
    """One seed's split, noisy training labels, targets and features (training, test, validation).

    Returns
    -------
    dict
        ``classify`` (one-hot targets), the raw features ``F_tr``, ``F_te``,
        ``F_va`` and the targets ``Y_tr``, ``Y_te``, ``Y_va`` (validation: None
        unless the ridge is tuned).
    """
    from ...data.sources import flip_labels
    from ...models.random_features import draw_weights, features_from_weights

    ds = dataset(config["data"])   # a bundled set's name, or a CSV's origin (see _common.data_key)
    draws = seed_sequence(int(config["draw_seed"]), "rf-draw", int(config["repeat"]))
    ss_split, ss_feat = child(draws, 0), child(draws, 1)
    g_split, g_noise = np.random.default_rng(ss_split), np.random.default_rng(child(seed, 0))
    n_val = int(config.get("n_val") or 0) if config["ridge"] == "tuned" else 0
    tr, te, va = _rf_split(ds, int(config["n_train"]), int(config["n_test"]), n_val, g_split)
    std = column_standardizer(ds.X[tr]) if config.get("standardize") == "columns" else standardizer(ds.X[tr])
    y_tr = ds.y[tr]
    classify = ds.task == "classification"
    if classify and config["label_noise"] > 0:
        y_tr, _ = flip_labels(y_tr, config["label_noise"], g_noise, classes=np.unique(ds.y))
    if not classify:  # standardized targets
        mu, sd = float(ds.y[tr].mean()), float(ds.y[tr].std()) or 1.0
        tgt = lambda y: (np.asarray(y, dtype=np.float64) - mu) / sd  # noqa: E731
    else:
        tgt = lambda y: y  # noqa: E731
    W, b = draw_weights(ds.X.shape[1], int(config["ps"][-1]), kind=config["kind"], scale=config["scale"],
                        seed=ss_feat)
    feats = lambda rows: features_from_weights(std(ds.X[rows]), W, b, kind=config["kind"], normalize=False)  # noqa: E731
    return {"classify": classify, "F_tr": feats(tr), "F_te": feats(te), "F_va": feats(va) if n_val else None,
            "Y_tr": targets(ds, tgt(y_tr)), "Y_te": targets(ds, tgt(ds.y[te])),
            "Y_va": targets(ds, tgt(ds.y[va])) if n_val else None}


def _penalties(ridge, n):
    """The ``alphas`` of :func:`nested_least_squares` for a ridge setting (on the raw features)."""
    if ridge == "tuned":  # the grid relative to trace(ΦΦᵀ)/n = Σ s² / n, per p
        return lambda p, s: RIDGE_GRID * float(np.sum(s ** 2)) / n
    if ridge:  # the penalty of the normalized features sqrt(2/p)·φ = raw / sqrt(p) is α·p on the raw ones
        return lambda p, s: np.array([float(ridge) * p])
    return None


def _pick(fit, ridge, d, n):
    """The coefficients of one fit and their penalty: tuned on the validation split, fixed, or none."""
    p = fit.p
    if ridge == "tuned":
        lams = RIDGE_GRID * float(np.sum(fit.singular_values ** 2)) / n
        pv = np.einsum("ij,jkl->ikl", d["F_va"][:, :p], fit.coef, optimize=True)   # (n_val, k, L)
        val = np.mean(np.sum((pv - d["Y_va"][:, :, None]) ** 2, axis=1), axis=0)
        j = int(np.argmin(val))
        return fit.coef[:, :, j], lams[j]
    if ridge:
        return fit.coef[:, :, 0], float(ridge) * p
    return fit.coef, 0.0


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
    d = rf_data(config, seed)
    ps = [int(p) for p in config["ps"]]
    ridge = config["ridge"]
    F_tr, F_te, Y_tr, Y_te = d["F_tr"], d["F_te"], d["Y_tr"], d["Y_te"]
    n = F_tr.shape[0]
    out = {k: [] for k in ("test_mse", "train_mse", "coef_norm", "sigma_min")}
    if d["classify"]:
        out["test_error"] = []
    if ridge != 0:
        out["ridge_lambda"] = []
    for fit in nested_least_squares(F_tr, Y_tr, ps, alphas=_penalties(ridge, n)):
        p = fit.p
        coef, lam = _pick(fit, ridge, d, n)
        pred_te = F_te[:, :p] @ coef
        out["train_mse"].append(sq_err(F_tr[:, :p] @ coef, Y_tr))
        out["test_mse"].append(sq_err(pred_te, Y_te))
        if d["classify"]:
            out["test_error"].append(float(np.mean(np.argmax(pred_te, axis=1) != np.argmax(Y_te, axis=1))))
        # normalized features sqrt(2/p)·φ = raw/sqrt(p): coef × sqrt(p), σ / sqrt(p), λ / p
        out["coef_norm"].append(float(np.linalg.norm(coef)) * math.sqrt(p))
        out["sigma_min"].append(fit.sigma_min / math.sqrt(p))
        if ridge != 0:
            out["ridge_lambda"].append(lam / p)
    return {"series": out, "metrics": {"n_train": n, "p_max": ps[-1]}}


def _rf_cost(config: dict) -> float:
    """Rough seconds of :func:`rf_job` (features of every row at every p); only the order of a plan
    depends on it."""
    rows = int(config["n_train"]) + int(config["n_test"]) + int(config.get("n_val") or 0)
    return 1.3e-7 * rows * sum(int(p) for p in config["ps"])


rf_job.cost = _rf_cost


def _check_n_val(n_val, n_train, left):
    """The validation points of a tuned ridge: 10 to what n_train + n_test leave."""
    n_val = min(n_train, left) if n_val is None else _check_int(n_val, "n_val")
    if n_val < 10 or n_val > left:
        raise GenlabError(f"a tuned ridge needs a validation split of 10 to {left} points left over from "
                          f"n_train + n_test; got {n_val} — lower n_train or n_test")
    return n_val


def _rf_configs(data, *, kind, n_train, n_test, ps, seeds, label_noise, ridge, scale, n_val, seed):
    """Check the options; return the dataset, one config per (rate, repeat), the rates and the sizes."""
    from ...models.random_features import check_kind, check_scale

    key = data_key(data)
    ds = dataset(key)
    check_kind(kind)
    scale = check_scale(scale)
    n_train = _check_int(n_train, "n_train")
    n_test = _check_int(n_test, "n_test")
    seeds = _check_int(seeds, "seeds")
    rates = [check_rate(r) for r in (label_noise if isinstance(label_noise, (list, tuple)) else [label_noise])]
    check_label_noise(ds, data_name(key), rates)
    ridge = check_ridge(ridge)
    ps = default_ps(n_train) if ps is None else check_sizes(ps, "ps")
    left = ds.n - n_train - n_test
    if left < 0:
        raise GenlabError(f"dataset {data_name(key)!r} has {ds.n} points: n_train + n_test = {n_train + n_test} do "
                          "not fit; lower n_train or n_test")
    n_val = _check_n_val(n_val, n_train, left) if ridge == "tuned" else 0
    check_feature_memory(n_train + n_test + n_val, ps[-1])
    base = {"data": key, "kind": kind, "n_train": n_train, "n_test": n_test, "ps": ps, "ridge": ridge,
            "scale": scale, "n_val": n_val, "draw_seed": check_seed(seed)}
    if isinstance(key, dict):  # a user's columns come in their own units: each standardized (bundled sets as always)
        base["standardize"] = "columns"
    return ds, [{**base, "label_noise": r, "repeat": s} for r in rates for s in range(seeds)], rates, ps


def _rf_curve(ds, result, rows, ps, config, label) -> DoubleDescentCurve:
    rows = list(rows)
    return DoubleDescentCurve(
        knob="p", values=np.array(ps), threshold=float(config["n_train"]), **curve_arrays(result, rows=rows),
        test_error=stack(result, "test_error", rows) if ds.task == "classification" else None,
        extra={"ridge_lambda": stack(result, "ridge_lambda", rows)} if config["ridge"] != 0 else {},
        label=label, config=config)


def _curve_config(configs, seeds, seed, **update) -> dict:
    config = {k: v for k, v in configs[0].items() if k not in ("repeat", "ps")}
    config.update(**update, seeds=seeds, seed=check_seed(seed))
    return config


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
    data : str or Dataset, default="digits"
        A bundled dataset: digits, wine, breast_cancer (one-hot targets, 0-1
        error too) or diabetes (regression); or your own data loaded with
        :func:`~genlab.data.sources.load_csv` (regression: targets standardized
        by the training split, every column standardized on its own; the
        workers load the file again and check its fingerprint).
    kind : {"relu", "fourier"}
    n_train, n_test : int
        Training and test points per seed (they must fit in the data together).
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
        As :func:`genlab.runs.sweep.sweep`: one job per seed.

    Returns
    -------
    DoubleDescentCurve
        Knob ``"p"``, threshold n_train; metrics ``test_mse``, ``train_mse``,
        ``test_error``, ``coef_norm``, ``sigma_min`` (for the normalized
        features sqrt(2/p)·φ), and ``ridge_lambda`` when a ridge is used.

    Notes
    -----
    Performance: all p of one seed share one factorization
    (:func:`genlab.linalg.minnorm.nested_least_squares`): the leading blocks of
    one QR below n and a row-appended R factor above n, so each p costs one SVD
    of a min(n, p)² triangle plus the products with Φ — never a pseudo-inverse
    of the n × p block (``bench/double_descent.py`` measures the ratio).
    """
    ds, configs, _, ps = _rf_configs(data, kind=kind, n_train=n_train, n_test=n_test, ps=ps, seeds=seeds,
                                     label_noise=label_noise, ridge=ridge, scale=scale, n_val=n_val, seed=seed)
    result = run_sweep(rf_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                       label=f"random {kind} features on {data_name(data_key(data))}")
    config = _curve_config(configs, seeds, seed)
    if isinstance(config["data"], dict):
        config["y_units"] = Y_UNITS
    label = f"{kind} features" + (f", {label_noise:.0%} label noise" if label_noise else "") \
        + (", tuned ridge" if ridge == "tuned" else f", ridge {ridge:g}" if ridge else "")
    return _rf_curve(ds, result, range(len(configs)), ps, config, label)


def _noise_verdicts(curves, n_train) -> dict:
    """Per rate: the peak against the first curve's, the error near the threshold, the far end."""
    def near(c):  # the threshold's neighbourhood: the exact peak is one heavy-tailed point
        v = c.median()[(c.values >= 0.8 * n_train) & (c.values <= 1.25 * n_train)]
        return float(np.exp(np.mean(np.log(v)))) if v.size else float("nan")

    first = next(iter(curves.values()))
    base, base_near = first.find_peak()["value"], near(first)
    verdicts = {}
    for key, c in curves.items():
        pk, mn = c.find_peak(), c.minimum
        ratio = f"{mn['ratio']:.2g}x the classical minimum" if mn["ratio"] is not None else "n/a"
        verdicts[key] = (f"peak {pk['value']:.3g} at p = {pk['at']:g} ({pk['value'] / base:.2g}x the first curve's); "
                         f"geometric mean of the median error over 0.8n-1.25n {near(c):.3g} "
                         f"({near(c) / base_near:.2g}x); far past the peak the error reaches {ratio}")
    return verdicts


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
    name = data_name(data_key(data))
    result = run_sweep(rf_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                       label=f"label noise: random {kind} features on {name}")
    curves = {f"{r:.0%}": _rf_curve(ds, result, range(i * seeds, (i + 1) * seeds), ps,
                                    _curve_config(configs, seeds, seed, label_noise=r), f"{r:.0%} label noise")
              for i, r in enumerate(rates)}
    return CurveFamily(curves, _noise_verdicts(curves, n_train), title=f"Random {kind} features on {name}: label noise",
                       caption="Label noise on the training labels raises the peak at p = n: the interpolant must "
                               "fit the flipped labels, and near the threshold it does so with a huge norm.",
                       config={"data": name, "kind": kind, "rates": rates, "n_train": n_train, "seeds": seeds,
                               "seed": check_seed(seed)})
