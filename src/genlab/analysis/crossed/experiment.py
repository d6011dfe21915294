"""The crossed experiment: :func:`crossed_sweep` trains every (value, data draw, seed[, noise draw]) of a
knob through the store and the executor, and splits each value's variance (:class:`CrossedDecomposition`).

One job per (value, data draw i), :func:`crossed_job`: it trains the S seeds (and K noise draws) on data
draw i and returns their predictions at the test points. Jobs are resumable (the store keeps what is
done) and their numbers depend on their config only — the data from :mod:`.data`, seed j's
``random_state`` from ``(seed, "crossed-init", j)`` — so one worker or many give the same result.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from ...core.checks import check_fraction, check_int
from ...core.errors import GenlabError
from ...core.seeding import check_seed
from ..biasvar.compare import kind
from .anova import check_finite, check_seed_used
from .data import design, init_seed, onehot, training_set
from .result import CrossedDecomposition
from .losses import n_clipped
from .table import assemble, clip_config, decompose_table

__all__ = ["crossed_job", "crossed_sweep", "seed_params"]


def seed_params(est) -> list[str]:
    """The parameters that seed ``est``: ``random_state`` and every nested ``…__random_state``."""
    return sorted(k for k in est.get_params(deep=True) if k == "random_state" or k.endswith("__random_state"))


def crossed_job(config: dict, seed) -> dict:
    """Train the S seeds (× K noise draws) of one value on data draw ``config["row"]`` (a sweep job).

    Returns
    -------
    dict
        ``arrays``: ``pred`` (S, K, n_test, d) — predictions, or class probabilities — and
        ``train_error`` (S, K), the squared error on the fit's own training targets.
    """
    from sklearn.base import clone

    from ...core.estimators import from_spec

    proto = from_spec(config["estimator"])
    if "torch" in sys.modules:  # one thread per worker (the workers' environment says so already)
        sys.modules["torch"].set_num_threads(1)
    d = design(config)
    S, K, i = int(config["S"]), int(config["K"]), int(config["row"])
    pred = np.empty((S, K, d.X_test.shape[0], d.n_classes))
    train_error = np.empty((S, K))
    names = seed_params(proto)
    sets = [training_set(config, i, k) for k in range(K)]
    for j in range(S):
        for k, (X, y) in enumerate(sets):
            est = clone(proto).set_params(**{p: init_seed(int(config["seed"]), j) for p in names})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(X, y)
                pred[j, k], fitted = _outputs(est, d, d.X_test), _outputs(est, d, X)
            target = onehot(y, d.n_classes) if d.task == "classification" else np.asarray(y, dtype=float)[:, None]
            train_error[j, k] = float(np.mean(((fitted - target) ** 2).sum(axis=1)))
    return {"arrays": {"pred": pred, "train_error": train_error}}



def _crossed_cost(config: dict) -> float:
    """Rough seconds of :func:`crossed_job`: S (× K) trainings of its estimator; for genlab's torch MLPs
    about 0.3 ms an epoch plus 2 µs an epoch and hidden unit per 100 samples, else a second each. Only the
    order of a plan depends on it."""
    params = (config.get("estimator") or {}).get("params") or {}
    fits = int(config.get("S", 1)) * int(config.get("K", 1) or 1)
    if "width" in params and "epochs" in params:
        width, epochs = float(params["width"]), float(params["epochs"])
        return fits * epochs * (3e-4 + 2e-6 * width * float(config.get("n_train", 100)) / 100)
    return float(fits)


crossed_job.cost = _crossed_cost

def _outputs(est, d, X) -> np.ndarray:
    """Predictions (n, 1), or class probabilities (n, C) over every class of the task."""
    if d.task == "regression":
        return np.asarray(est.predict(X), dtype=np.float64).reshape(-1, 1)
    out = np.zeros((X.shape[0], d.n_classes))
    out[:, np.asarray(est.classes_, dtype=int)] = est.predict_proba(X)
    return out


# -- the experiment ----------------------------------------------------------------------------------

def _models(estimator, knob, values, labels):
    """(knob, values, estimators, labels) from an estimator and a knob, a list of estimators, or a factory."""
    from sklearn.base import clone

    is_est = lambda e: hasattr(e, "fit") and hasattr(e, "get_params")  # noqa: E731
    if isinstance(estimator, (list, tuple)):
        ests = list(estimator)
        values = list(range(len(ests))) if values is None else list(values)
        if len(values) != len(ests):
            raise GenlabError(f"{len(ests)} estimators but {len(values)} values; give one value per estimator")
        knob = knob or "model"
        default = [type(e).__name__ for e in ests]
    else:
        if values is None:
            raise GenlabError("give values= (the settings of the knob to sweep)")
        values = list(values)
        if is_est(estimator):
            if not knob:
                raise GenlabError("give knob= (the estimator's parameter to sweep, e.g. knob='width')")
            if knob not in estimator.get_params(deep=True):
                raise GenlabError(f"{type(estimator).__name__} has no parameter {knob!r}; choose one of "
                                  f"{', '.join(sorted(estimator.get_params(deep=True)))}")
            ests = [clone(estimator).set_params(**{knob: v}) for v in values]
        elif callable(estimator):
            ests = [estimator(v) for v in values]
            knob = knob or "value"
        else:
            raise GenlabError(f"give an estimator, a list of estimators or a function value -> estimator, "
                              f"got {type(estimator).__name__}")
        default = [f"{knob}={v}" for v in values]
    if not values:
        raise GenlabError("values is empty; give at least one")
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    if not all(isinstance(v, (int, float, str)) for v in values):
        raise GenlabError(f"values must be numbers, strings or booleans (they name the jobs), got {values!r}")
    if len(set(values)) != len(values):
        raise GenlabError(f"values repeat: {values!r}; give each once")
    for e in ests:
        if not is_est(e) or not callable(getattr(e, "predict", None)):
            raise GenlabError(f"{type(e).__name__} is not a scikit-learn estimator (fit, predict, get_params)")
        if not seed_params(e):
            raise GenlabError(f"{type(e).__name__} has no random_state parameter, so its seed cannot be varied; "
                              "give a randomized estimator (a network, a forest, random features) or use "
                              "genlab.decompose for a deterministic one")
    return knob, values, ests, list(labels) if labels is not None else default


def _data(data, label_noise, K):
    """The job config's data entry, and the task."""
    from ...data.sources import ARTICLE_SOURCE, ClassificationSource, SyntheticSource

    data = ARTICLE_SOURCE if data is None else data
    if isinstance(data, (SyntheticSource, ClassificationSource)):
        cfg = data.to_config()
        if cfg is None:
            raise GenlabError("the source's target is a Python callable, which workers cannot rebuild; "
                              "write it as an expression")
        if label_noise:
            raise GenlabError("label_noise flips the labels of a real dataset; a source has its own noise "
                              "(SyntheticSource(noise=...), ClassificationSource(label_noise=...))")
        if K > 1 and isinstance(data, SyntheticSource) and data.noise == 0:
            raise GenlabError("noise_draws > 1 makes label noise a factor, but the source has noise 0; "
                              "give the source noise or use noise_draws=1")
        task = "regression" if isinstance(data, SyntheticSource) else "classification"
        return {"source": cfg}, task, None
    from ..double_descent._common import data_key, dataset

    key = data_key(data)
    ds = dataset(key)
    if ds.task != "classification" and label_noise:
        raise GenlabError(f"label noise flips class labels; dataset {data!r} is a regression set (use 0)")
    if K > 1 and not (ds.task == "classification" and label_noise > 0):
        raise GenlabError("noise_draws > 1 makes label noise a factor: it needs a classification set with "
                          "label_noise > 0, or a known source")
    return {"dataset": key}, ds.task, ds


def _check_model_kind(ests, task):
    for e in ests:
        k = kind(e)
        if task == "classification" and (k != "classifier" or not callable(getattr(e, "predict_proba", None))):
            raise GenlabError(f"{type(e).__name__} is not a classifier with predict_proba; the data has class "
                              "labels (its squared error is on the class probabilities)")
        if task == "regression" and k == "classifier":
            raise GenlabError(f"{type(e).__name__} is a classifier; the data has a continuous target")


def crossed_sweep(estimator, *, knob: str | None = None, values=None, data=None, R: int = 4, S: int = 4,
                  n_train: int = 50, n_test: int = 100, label_noise: float = 0.0, noise_draws: int = 1,
                  labels=None, store=None, jobs: int | None = 1, dask=None, seed: int = 0,
                  progress: bool = False) -> CrossedDecomposition:
    """Bias², noise and the variance split into data, seed and interaction, for every value of a knob.

    For each value, R data draws × S seeds (× K noise draws): f_ij is trained on data draw i with
    ``random_state`` = seed j, the same seeds for every i and every value. See
    :class:`CrossedDecomposition` for the terms and :mod:`genlab.analysis.crossed.anova` for the estimators.

    Parameters
    ----------
    estimator : estimator, list of estimators, or callable
        An estimator whose parameter ``knob`` takes each of ``values`` (nested names such as
        ``"mlp__width"`` work); or one estimator per value; or a function ``value -> estimator``. It must
        have a ``random_state`` (nested ones are all set to seed j); classifiers need ``predict_proba``
        (their squared error is the Brier score of the class probabilities). Estimators travel to the
        workers as JSON (:func:`genlab.core.estimators.to_spec`).
    knob : str, optional
        The swept parameter's name (required with one estimator).
    values : sequence of numbers or strings
        Its settings (with a list of estimators: their names, default 0, 1, ...).
    data : source, str or Dataset, optional
        A :class:`~genlab.data.sources.SyntheticSource` or ``ClassificationSource`` (known noise; default
        the article's source), a bundled set (``"digits"``) or a loaded CSV (see :mod:`.data`).
    R, S : int
        Data draws and seeds (>= 2 each; >= 3 each for standard errors).
    n_train, n_test : int
        Training points per draw; test points (the source's quantiles, or rows put aside).
    label_noise : float
        Real classification data: the share of training labels flipped to another class.
    noise_draws : int
        K >= 2: K label-noise draws per input draw, the same noise for every i — the three-way design.
    labels : list of str, optional
    store, jobs, dask, seed, progress
        As in :func:`genlab.runs.sweep.sweep`; one job per (value, data draw).

    Returns
    -------
    CrossedDecomposition
        With ``train_error`` (mean over the fits of the squared error on their own training targets) and
        the interpolation ``threshold`` where the model is known (see :func:`threshold`); for class labels
        also the 0-1 and cross-entropy decompositions of the same class probabilities (``zero_one``,
        ``cross_entropy``; :mod:`genlab.analysis.crossed.losses`).
    """
    from ...core.estimators import NotDescribable, to_spec
    from ...runs.sweep import sweep

    R, S = check_int(R, "R", 2), check_int(S, "S", 2)
    K = check_int(noise_draws, "noise_draws", 1)
    n_train, n_test = check_int(n_train, "n_train", 2), check_int(n_test, "n_test", 1)
    rate = check_fraction(label_noise, "label_noise")
    seed = check_seed(seed)
    knob, values, ests, labels = _models(estimator, knob, values, labels)
    data_cfg, task, ds = _data(data, rate, K)
    if ds is not None and n_test + n_train > ds.n:
        raise GenlabError(f"the dataset has {ds.n} rows: n_train + n_test = {n_train + n_test} do not fit")
    _check_model_kind(ests, task)
    try:
        specs = [to_spec(e) for e in ests]
    except NotDescribable as exc:
        raise GenlabError(f"the estimator cannot travel to the workers: {exc}") from None
    base = {"data": data_cfg, "R": R, "S": S, "K": K, "n_train": n_train, "n_test": n_test, "label_noise": rate,
            "seed": seed}
    configs = [{**base, "estimator": spec, "value": v, "row": i} for v, spec in zip(values, specs) for i in range(R)]
    res = sweep(crossed_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                label=f"crossed data x seed: {knob or 'estimators'}")
    preds, trains = res.arrays("pred"), res.arrays("train_error")
    d = design(base)
    y, noise = d.y, (d.noise if d.mode == "source" else float("nan"))
    out, train_error, clipped = [], [], 0
    classes = task == "classification"
    for a, (v, label) in enumerate(zip(values, labels)):
        T = np.stack([np.asarray(p, dtype=np.float64) for p in preds[a * R:(a + 1) * R]])  # (R, S, K, n, d)
        check_finite(T, f" of {label}")
        check_seed_used(T, f"{label} ({type(ests[a]).__name__})")
        out.append(decompose_table(T, y, noise, d.mode, classes))
        train_error.append(float(np.mean([np.mean(t) for t in trains[a * R:(a + 1) * R]])))
        clipped += n_clipped(T) if classes else 0
    config = {"task": task, "n_train": n_train, "n_test": n_test, "label_noise": rate, "seed": seed,
              "data": data_cfg, "estimator": specs[0]["estimator"], "n_inputs": int(d.X_test.shape[1]),
              "n_outputs": int(d.n_classes), **(clip_config(clipped) if classes else {})}
    return assemble(out, knob=knob, values=values, labels=labels, shape=(R, S, K, n_test), mode=d.mode,
                    train_error=train_error,
                    threshold=threshold(ests[0], knob, n_inputs=d.X_test.shape[1], n_outputs=d.n_classes,
                                        n_train=n_train),
                    config=config)


def threshold(est, knob: str, *, n_inputs: int, n_outputs: int, n_train: int) -> float | None:
    """The knob value where the model's parameters reach n_train · n_outputs (the interpolation threshold),
    where the model is known: genlab's torch MLPs swept by width (solving the parameter count
    (d + 1)w + (depth − 1)(w + 1)w + (w + 1)C = n·C for w), random features swept by ``n_features``
    (p = n_train, least squares per output). None elsewhere. The final step of a pipeline counts."""
    from ...models.random_features import RandomFeaturesRegressor

    final, name = est, knob
    while hasattr(final, "steps") and "__" in name:
        step, _, name = name.partition("__")
        final = dict(final.steps).get(step)
    if final is None:
        return None
    if isinstance(final, RandomFeaturesRegressor) and name == "n_features":
        return float(n_train)
    if type(final).__name__ in ("TorchMLPRegressor", "TorchMLPClassifier") and name == "width":
        D, d, C = int(final.depth), n_inputs, n_outputs
        if D < 1:
            return None
        a, b, c = D - 1, d + 1 + (D - 1) + C, C - n_train * C       # a w² + b w + c = 0
        return float(-c / b) if a == 0 else float((-b + np.sqrt(b * b - 4 * a * c)) / (2 * a))
    return None
