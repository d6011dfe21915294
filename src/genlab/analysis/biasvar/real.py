"""Real data, no known source: disjoint training subsets or bootstrap resamples of a dataset."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from ...data.sources import check_n
from ...core.errors import GenlabError
from ...core.seeding import check_seed, rng as make_rng
from ...core.stats import summarize
from .blocks import N_FIRST, blocks_of, checks, fresh, run_items, workers
from .compare import check_one_kind, constant_fits, degenerate_notes
from .general import _label, check_definition, kw_terms
from .results import BiasVariance

# -- real data: no known source ------------------------------------------------------

DATA_METHODS = ("disjoint", "bootstrap")
#: Rounds below which a dataset's decomposition is flagged unreliable: its standard errors rest on too few
#: rounds, and Hill's tail index (top √R rounds) on a handful.
MIN_ROUNDS = 30


@dataclass
class _RoundJob:
    X_pool: np.ndarray
    y_pool: np.ndarray
    X_test: np.ndarray
    estimators: list
    indices: np.ndarray  # (rounds, n_train): the training rows of each round, into the pool

    @functools.cached_property
    def makers(self) -> list:
        """Each estimator's maker of fresh unfitted copies (:func:`~.blocks.fresh`), shared by the threads."""
        return [fresh(e) for e in self.estimators]

    def rounds(self, start: int, stop: int) -> np.ndarray:
        """The test predictions of rounds ``start .. stop-1``, shape (stop - start, m, M): each estimator
        cloned (:func:`~.blocks.fresh`) and fitted on the round's training rows, scikit-learn's parameter
        checks skipped after the first round (:func:`~.blocks.checks`); warnings as the caller has them."""
        makers = self.makers
        out = np.empty((stop - start, self.X_test.shape[0], len(makers)))
        for r in range(start, stop):
            idx = self.indices[r]
            X, y = self.X_pool[idx], self.y_pool[idx]
            with checks(r == start):
                for i, make in enumerate(makers):
                    out[r - start, :, i] = make().fit(X, y).predict(self.X_test)
        return out


def _quiet_rounds(job: _RoundJob, start: int, stop: int) -> np.ndarray:
    """:meth:`_RoundJob.rounds` with the estimators' warnings silenced (in a worker process)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return job.rounds(start, stop)


def _data_plan(n_total: int, *, method: str, n_train, rounds: int, test_fraction: float, seed: int):
    """The held-out test rows, the pool and each round's training rows (indices into the pool)."""
    g = make_rng(seed, "biasvar-data")
    perm = g.permutation(n_total)
    n_test = int(round(n_total * test_fraction))
    test, pool = perm[:n_test], perm[n_test:]
    if n_test < 1 or pool.size < 2:
        raise GenlabError(f"{n_total} points are too few to hold out {test_fraction:g} and still train; "
                          "change test_fraction or use more data")
    if method == "disjoint":
        n_train = n_train or max(1, pool.size // 10)
        k = min(pool.size // n_train, check_n(rounds, "rounds"))
        if k < 2:
            raise GenlabError(f"the pool of {pool.size} points holds fewer than 2 disjoint training sets of "
                              f"{n_train}; lower n_train")
        indices = g.permutation(pool.size)[:k * n_train].reshape(k, n_train)
    else:
        n_train = n_train or pool.size
        k = check_n(rounds, "rounds")
        if k < 2:
            raise GenlabError("the bootstrap needs at least 2 rounds")
        indices = np.stack([g.integers(0, pool.size, n_train) for _ in range(k)])
    return test, pool, indices


def _round_configs(data, ests, *, method, n_train, rounds, test_fraction, seed, k):
    """The job configs of the blocks of rounds (:func:`blocks_of`), or the reason they cannot be written as JSON."""
    from ...core.estimators import NotDescribable, to_spec

    if data.origin is None:
        return None, "the data was made in memory (load it with load_dataset or load_csv)"
    try:
        specs = [to_spec(e) for e in ests]
    except NotDescribable as exc:
        return None, str(exc)
    plan = {"data": data.origin, "fingerprint": data.fingerprint(), "estimators": specs, "method": method,
            "n_train": n_train, "rounds": rounds, "test_fraction": test_fraction, "seed": seed}
    bs, sizes = blocks_of(k)
    return [{**plan, "first": b * bs, "size": size} for b, size in enumerate(sizes)], None


@functools.lru_cache(maxsize=4)
def _round_setup(plan_json: str):
    """A worker's data and split for one decomposition (cached: its blocks of rounds arrive one by one)."""
    import json

    from ...data.sources import dataset_from_origin

    plan = json.loads(plan_json)
    data = dataset_from_origin(plan["data"])
    if data.fingerprint() != plan["fingerprint"]:
        raise GenlabError(f"the data at {plan['data']} changed since the decomposition started "
                          "(its fingerprint differs); use another store to start again")
    test, pool, indices = _data_plan(data.n, method=plan["method"], n_train=plan["n_train"],
                                     rounds=plan["rounds"], test_fraction=plan["test_fraction"], seed=plan["seed"])
    return data.X[pool], data.y[pool], data.X[test], indices


def decompose_round_job(config: dict, seed) -> dict:
    """A block of rounds of :func:`decompose_data` (fit every estimator on each round's training set) as a
    sweep job: ``config["size"]`` rounds from ``config["first"]``, predictions of shape (size, m, M).

    The config names the data by where it can be loaded (:attr:`Dataset.origin`)
    and its fingerprint, so a worker on another machine of a Dask cluster
    refits on the same numbers or fails with a clear message. Each round's
    training rows come from the decomposition's seed and the round's index (the
    job's own stream is not used), so the blocking changes no number. A config
    with ``"round"`` (one round, as stores written before the blocks hold) gives
    that round's predictions, shape (m, M).
    """
    import json

    from ...core.estimators import from_spec

    plan = {k: v for k, v in config.items() if k not in ("round", "first", "size")}
    X_pool, y_pool, X_test, indices = _round_setup(json.dumps(plan, sort_keys=True))
    job = _RoundJob(X_pool, y_pool, X_test, [from_spec(e) for e in config["estimators"]], indices)
    if "round" in config:
        return {"arrays": {"predictions": _quiet_rounds(job, config["round"], config["round"] + 1)[0]}}
    return {"arrays": {"predictions": _quiet_rounds(job, config["first"], config["first"] + config["size"])}}


def _block_progress(progress, k: int):
    """``done(start, stop)`` for :func:`run_items` that calls ``progress(n)`` as n more blocks of rounds
    (:func:`blocks_of`, one store job each) are complete; None without progress."""
    if progress is None:
        return None
    bs, sizes = blocks_of(k)
    left = list(sizes)

    def done(start, stop):
        finished = 0
        for r in range(start, stop):
            left[r // bs] -= 1
            finished += left[r // bs] == 0
        if finished:
            progress(finished)

    return done


def decompose_data(estimators, data, *, method: str = "disjoint", n_train: int | None = None,
                   rounds: int = 200, test_fraction: float = 0.25, loss: str = "squared", seed: int = 0,
                   jobs: int = 1, labels=None, knob: str = "model", values=None, progress=None, store=None,
                   dask=None, definition: str | None = None) -> BiasVariance:
    """Bias and variance from one dataset, where no source is known.

    Long because it is one straight pipeline — check, plan the rounds, run them through the store
    or in process, reduce per loss — whose steps are used nowhere else.

    A test set is held out once; the models are trained on ``"disjoint"``
    subsets of the rest (independent draws from the data's distribution, as
    many as fit) or on ``"bootstrap"`` resamples of it. Without the true
    ȳ(x), the noise cannot be separated: the result reports *bias² + noise*
    (squared loss) or *bias with noise included* (0-1 loss, Domingos or
    Kohavi-Wolpert with the observed label as the target), and says so in
    ``config["notes"]``.
    Bootstrap samples overlap, so their variance is that of resampling this
    dataset — not the variance over fresh datasets, which it underestimates.

    Parameters
    ----------
    estimators : estimator or list of estimators
    data : Dataset
    method : {"disjoint", "bootstrap"}
    n_train : int, optional
        Training points per round (default: a tenth of the pool for disjoint
        subsets, the whole pool for the bootstrap).
    rounds : int
        Bootstrap rounds (disjoint: as many subsets as fit, at most this many).
    test_fraction : float
        Share of the data held out for testing.
    loss : {"squared", "zero_one"}
    definition : {"domingos", "kohavi_wolpert"}, optional
        For ``loss="zero_one"`` (default ``"domingos"``), as in :func:`decompose`,
        with the observed test label as the target. With Kohavi & Wolpert the
        bias term is ½ Σ_y (1[y = y_obs] − P̂(y))² (finite-rounds corrected),
        whose expectation over the label is bias² + noise (½ (1 − Σ_y P(y|x)²)):
        the summary calls it ``bias2_incl_noise``; it plus the variance equals
        the measured error exactly.
    jobs : int
        Workers; the result does not depend on it. Without ``store`` and ``dask``
        the rounds run in this process, as a plain loop would (``jobs=1``), and
        with ``jobs > 1`` only where it pays: after a few timed rounds, ``jobs``
        threads are tried and kept if they beat the loop (estimators that release
        the GIL); otherwise, if the work left pays for starting ``jobs - 1`` worker
        processes, they run rounds beside this one.
    store, dask
        Run the rounds through the sweep executor and a results store (resumable;
        Dask-capable), one job per block of rounds (:func:`~.blocks.blocks_of`).
        Needs data loaded with :func:`~genlab.data.sources.load_dataset` or
        :func:`~genlab.data.sources.load_csv` (so a worker can load it again) and
        estimators that can be rebuilt from JSON.
    progress : callable, optional
        Called as ``progress(n)`` when n more blocks of rounds are done.

    Returns
    -------
    BiasVariance
    """
    from ...data.sources import Dataset

    if not isinstance(data, Dataset):
        raise GenlabError("decompose_data needs a Dataset (load_dataset, load_csv, or a source's draw)")
    if method not in DATA_METHODS:
        raise GenlabError(f"unknown method {method!r}; choose disjoint or bootstrap")
    if loss not in ("squared", "zero_one"):
        raise GenlabError(f"loss {loss!r} is not available on real data; use squared or zero_one")
    if loss == "zero_one" and data.task != "classification":
        raise GenlabError("zero_one loss needs class labels, but the target is continuous; use squared")
    definition = check_definition(loss, definition)
    if not 0 < test_fraction < 1:
        raise GenlabError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    seed = check_seed(seed)
    ests = list(estimators) if isinstance(estimators, (list, tuple)) else [estimators]
    for est in ests:
        if not callable(getattr(est, "fit", None)) or not callable(getattr(est, "predict", None)):
            raise GenlabError(f"{type(est).__name__} has no fit/predict; give a scikit-learn estimator")
    classifiers = check_one_kind(ests, labels) == "classifier"
    test, pool, indices = _data_plan(data.n, method=method, n_train=n_train, rounds=rounds,
                                     test_fraction=test_fraction, seed=seed)
    k, n_train, n_test = len(indices), len(indices[0]), len(test)
    if store is None and dask is None:  # in this process, with threads or workers where they pay
        job = _RoundJob(data.X[pool], data.y[pool], data.X[test], ests, indices)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            H = np.stack(run_items(job.rounds, k, workers(jobs), done=_block_progress(progress, k),
                                   remote=functools.partial(_quiet_rounds, job)))    # (R, m, M)
    else:
        from ...runs.sweep import sweep

        configs, why = _round_configs(data, ests, method=method, n_train=n_train, rounds=rounds,
                                      test_fraction=test_fraction, seed=seed, k=k)
        if configs is None:
            raise GenlabError(f"this decomposition cannot run through a store or Dask: {why}")
        res = sweep(decompose_round_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                    label=f"bias-variance: {', '.join(type(e).__name__ for e in ests)} on {data.name or 'the data'}")
        H = np.concatenate([a[None] if a.ndim == 2 else a for a in res.arrays("predictions")])
    y_t = data.y[test].astype(float)
    R = k
    labels = list(labels) if labels is not None else [_label(e) for e in ests]
    values = np.asarray(values) if values is not None else np.arange(len(ests))
    notes = ["no source is known: noise cannot be separated from bias (it is included in the bias term)"]
    if definition == "kohavi_wolpert":
        notes[0] = ("no source is known: the observed label is the target, so the bias² term estimates "
                    "Kohavi-Wolpert bias² + noise ½(1 - Σ_y P(y|x)²), which cannot be separated")
    if method == "bootstrap":
        notes.append("bootstrap samples overlap: this variance is that of resampling one dataset, "
                     "not of fresh datasets, and usually underestimates it")

    def terms(Hs):
        if loss == "squared":
            hbar = Hs.mean(axis=0)
            var_x = Hs.var(axis=0, ddof=1)
            var = var_x.mean(axis=0)
            bn = ((hbar - y_t[:, None]) ** 2).mean(axis=0) - var / Hs.shape[0]
            return bn, var, bn + var, hbar, var_x
        classes = np.unique(np.concatenate([Hs.ravel(), y_t])).astype(int)
        P = np.stack([(Hs == c).mean(axis=0) for c in classes], axis=-1)  # (m, M, C)
        if definition == "kohavi_wolpert":
            onehot = (classes[None, :] == y_t[:, None]).astype(float)[:, None, :]  # (m, 1, C)
            b2, V, _ = kw_terms(P, onehot, Hs.shape[0])
            return b2.mean(0), V.mean(0), (b2 + V).mean(0), classes[np.argmax(P, axis=-1)].T.astype(float), V
        ym = classes[np.argmax(P, axis=-1)]
        p_ym = P.max(axis=-1)
        p_y = np.take_along_axis(P, np.searchsorted(classes, y_t.astype(int))[:, None, None]
                                 .repeat(P.shape[1], 1), 2)[..., 0]
        B = (ym != y_t[:, None]).astype(float)
        V = 1 - p_ym
        with np.errstate(divide="ignore", invalid="ignore"):
            c2 = np.where(B == 0, 1.0, -np.where(V > 0, p_y / V, 0.0))
        return B.mean(0), V.mean(0), (B + c2 * V).mean(0), ym.T.astype(float), V

    bn, var, total, hbar, var_x = terms(H)
    if loss == "squared":
        per_round = ((H - y_t[None, :, None]) ** 2).mean(axis=1)       # (R, M)
    else:
        per_round = (H != y_t[None, :, None]).mean(axis=1)
    if R <= 2:
        loo = None
    elif loss == "squared":  # leave-one-round-out terms in closed form, (R, M) each
        S1, S2 = H.sum(axis=0), (H ** 2).sum(axis=0)
        m1 = (S1[None] - H) / (R - 1)
        v = (((S2[None] - H ** 2) - (R - 1) * m1 ** 2) / (R - 2)).mean(axis=1)
        loo = (((m1 - y_t[None, :, None]) ** 2).mean(axis=1) - v / (R - 1), v)
    else:
        reps = [terms(np.delete(H, r, axis=0)) for r in range(R)]
        loo = (np.array([t[0] for t in reps]), np.array([t[1] for t in reps]))

    def jk(i):
        if loo is None:
            return np.full(len(ests), np.nan)
        r = loo[i]
        return np.sqrt((R - 1) / R * ((r - r.mean(0)) ** 2).sum(0))

    es = summarize(per_round)
    M = len(ests)
    degenerate = constant_fits(H) / R if classifiers else None
    if degenerate is not None:
        notes += degenerate_notes(degenerate, labels)
    result = BiasVariance(
        labels=labels, knob=knob, values=values, x_test=np.arange(n_test, dtype=float), ybar=y_t,
        n_datasets=R, n=int(n_train), bias2=bn, bias2_se=jk(0), variance=var, variance_se=jk(1),
        noise=np.zeros(M), noise_se=np.zeros(M), error=es["mean"], error_se=es["se"],
        error_median=es["median"], error_trimmed=es["trimmed"], heavy_tail=es["heavy_tail"],
        drift_z=np.zeros(M), hbar=(hbar.T if loss == "squared" else hbar), var_x=var_x.T,
        first_fits=H[:N_FIRST].transpose(0, 2, 1), per_dataset_error=per_round, per_dataset_dist=per_round,
        config={"engine": "real data", "data": data.name, "method": method, "rounds": R, "n_train": int(n_train),
                "n_test": n_test, "seed": seed, "models": labels, "notes": notes,
                **({"definition": definition} if definition else {})},
        mode=f"{method}-splits" if method == "disjoint" else "bootstrap", loss=loss,
        sum_terms=None if definition == "kohavi_wolpert" else total, degenerate=degenerate)
    result.config["reliability"] = reliability(result, requested=rounds, pool=int(pool.size))
    return result


def reliability(result: BiasVariance, *, requested: int, pool: int) -> dict:
    """How far a dataset's decomposition can be trusted, and what would make it more so.

    ``reliable`` is False where it rests on fewer than :data:`MIN_ROUNDS` rounds, a model has no valid
    standard error (the tail verdict of its per-round errors is not *finite variance*), or a bias term is
    within 2 s.e. of 0. ``more`` says what gives more rounds: ``"rounds"`` (more of them) or, for disjoint
    subsets that the pool limits (``pool // n_train`` of them fit), ``"n_train"`` (smaller ones).
    """
    R, labels = result.n_datasets, list(result.labels)
    no_se = [lab for lab, ok in zip(labels, result.se_valid) if not ok]
    squared = result.loss == "squared" or result.config.get("definition") == "kohavi_wolpert"
    unresolved = [lab for lab, ok, v in zip(labels, result.bias2_resolved, result.se_valid)
                  if squared and v and not ok]
    limited = result.config.get("method") == "disjoint" and R < requested
    return {"reliable": R >= MIN_ROUNDS and not no_se and not unresolved, "rounds": R, "min_rounds": MIN_ROUNDS,
            "no_valid_se": no_se, "bias_unresolved": unresolved, "pool": pool, "n_train": result.n,
            "more": "n_train" if limited else "rounds"}
