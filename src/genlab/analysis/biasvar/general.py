"""The general engine: any scikit-learn estimator, cloned per dataset; squared, 0-1 and log loss."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from ...data.sources import ClassificationSource, SyntheticSource
from ...core.errors import GenlabError
from ...core.limits import biasvar_bytes, check_memory
from ...core.stats import summarize
from .compare import check_one_kind, degenerate_notes, kind
from .blocks import (Block, LOSSES, N_FIRST, SHRINK, block_size, blocks_of, check_common, checks,
                     draw_block, draw_test_noise, fresh, run_items, scatter, scatter_arrays, scatter_from,
                     workers)
from .results import BiasVariance, finish

# -- the general engine: any estimator -------------------------------------------

def _quiet(fn, *args):
    """``fn(*args)`` with the estimators' warnings silenced (``catch_warnings`` is not thread-safe: the
    threads of :func:`~.blocks.run_items` run under the one their caller set)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def _blocks_of_job(job, start: int, stop: int) -> list:
    """Blocks ``start .. stop-1`` of a block job, warnings silenced (what a worker process runs)."""
    return _quiet(lambda: [job.block(k) for k in range(start, stop)])


@dataclass
class _EstimatorBlockJob:
    source: SyntheticSource
    n: int
    seed: int
    sizes: list[int]
    estimators: list
    x_test: np.ndarray
    sbar: np.ndarray

    def __call__(self, k: int) -> Block:
        return _quiet(self.block, k)

    def block(self, k: int, keep_dev: bool = False) -> Block:
        """Block k's statistics (warnings as the caller has them; fits as :func:`~.blocks.checks` says); with
        ``keep_dev``, the deviations behind its scatter too (for a store, :func:`~.blocks.scatter_arrays`)."""
        size, m = self.sizes[k], self.x_test.size
        x, y = draw_block(self.source, self.n, self.seed, k, size)
        eps = draw_test_noise(self.source, m, self.seed, k, size)
        H = np.empty((size, m, len(self.estimators)))
        Xt = self.x_test[:, None]
        makers = [fresh(e) for e in self.estimators]
        for b in range(size):
            with checks(b == 0):
                for i, make in enumerate(makers):
                    H[b, :, i] = make().fit(x[b][:, None], y[b]).predict(Xt)
        dev = H - self.sbar[None, :, None]
        dist = np.mean(dev ** 2, axis=1)
        error = np.mean((dev - eps[:, :, None]) ** 2, axis=1)
        noise = np.mean(eps ** 2, axis=1)
        mean = H.mean(axis=0)                                        # (m, M)
        dev = H - mean
        m2 = np.einsum("btm,btm->tm", dev, dev)
        return Block(size, mean, m2, scatter(dev), dist, error, noise, H[:N_FIRST] if k == 0 else None,
                     dev if keep_dev else None)


@dataclass
class _ClassBlock:
    count: int
    tally: np.ndarray         # (m, M, K): 0-1: how many fits predicted class k; log loss: sum of log q_k
    loss: np.ndarray          # (b, M): expected loss of each fit over y ~ P(y|x), averaged over x
    first: np.ndarray | None  # (k, m, M): labels (0-1) or P(y = 1) / max probability (log loss)
    clipped: int = 0
    constant: np.ndarray | None = None  # (M,): fits that predict one class for every test point (None: not kept)


LOG_EPS = 1e-15  # probabilities are clipped here before the log


@dataclass
class _ClassifierBlockJob:
    source: ClassificationSource
    n: int
    seed: int
    sizes: list[int]
    estimators: list
    x_test: np.ndarray
    p_test: np.ndarray  # (m, K)
    loss: str

    def __call__(self, k: int) -> _ClassBlock:
        return _quiet(self.block, k)

    def block(self, k: int) -> _ClassBlock:
        """Block k's tallies (warnings as the caller has them; fits as :func:`~.blocks.checks` says)."""
        size, m = self.sizes[k], self.x_test.size
        K, M = self.p_test.shape[1], len(self.estimators)
        x, y = draw_block(self.source, self.n, self.seed, k, size)
        Xt = self.x_test[:, None]
        tally = np.zeros((m, M, K))
        loss = np.empty((size, M))
        first = np.empty((min(size, N_FIRST), m, M)) if k == 0 else None
        clipped = 0
        constant = np.zeros(M)
        rows = np.arange(m)
        makers = [fresh(e) for e in self.estimators]
        for b in range(size):
            with checks(b == 0):
                for i, make in enumerate(makers):
                    fitted = make().fit(x[b][:, None], y[b])
                    if self.loss == "zero_one":
                        h = np.asarray(fitted.predict(Xt)).astype(int)
                        np.add.at(tally, (rows, i, h), 1.0)
                        loss[b, i] = np.mean(1.0 - self.p_test[rows, h])
                        pred = h
                        constant[i] += bool((h == h[0]).all())
                    else:
                        q = np.zeros((m, K))
                        q[:, np.asarray(fitted.classes_, dtype=int)] = fitted.predict_proba(Xt)
                        clipped += int(np.count_nonzero(q < LOG_EPS))
                        logq = np.log(np.maximum(q, LOG_EPS))
                        tally[:, i, :] += logq
                        loss[b, i] = np.mean(-(self.p_test * logq).sum(axis=1))
                        pred = q[:, 1] if K == 2 else q.max(axis=1)
                        top = np.argmax(q, axis=1)
                        constant[i] += bool((top == top[0]).all())
                    if first is not None and b < first.shape[0]:
                        first[b, :, i] = pred
        return _ClassBlock(size, tally, loss, first, clipped, constant)


DEFINITIONS = ("domingos", "kohavi_wolpert")  # of the 0-1 decomposition


def check_definition(loss: str, definition) -> str | None:
    """The 0-1 decomposition to use: ``"domingos"`` (the default) or ``"kohavi_wolpert"``; None for other losses."""
    if definition is not None and definition not in DEFINITIONS:
        raise GenlabError(f"unknown definition {definition!r}; choose one of {', '.join(DEFINITIONS)}")
    if loss != "zero_one":
        if definition is not None:
            raise GenlabError(f"definition= chooses the 0-1 decomposition ({', '.join(DEFINITIONS)}); "
                              f"drop it for {loss} loss or use loss='zero_one'")
        return None
    return definition or "domingos"


def kw_terms(P, target, N):
    """Kohavi & Wolpert's (1996) 0-1 terms at each point: ``(bias2, variance, noise)``.

    ``P`` (..., K) are the shares of the N fits predicting each class, ``target`` (..., K) the
    class probabilities P(Y = y | x) (or the observed label, one-hot). With the plug-in shares,
    ½ Σ_y (target − P)² is biased upward by ½ Σ_y Var(P_y) = ½ Σ_y P_y(1 − P_y)/N; as Weka's
    ``weka.classifiers.BVDecompose.decompose()`` (Trigg, 1999), each class's term subtracts
    P_y(1 − P_y)/(N − 1), an unbiased estimate of that variance:

        bias2    = ½ Σ_y [(target_y − P_y)² − P_y(1 − P_y)/(N − 1)]
        variance = ½ (1 − Σ_y P_y²) · N/(N − 1)       (unbiased for ½(1 − Σ_y E[P_y]²))
        noise    = ½ (1 − Σ_y target_y²)

    Weka keeps the plug-in variance ½(1 − Σ P_y²), which is biased low by the same amount; here
    it carries the same correction (Σ_y P_y(1 − P_y) = 1 − Σ_y P_y²), so the two corrections cancel
    and bias2 + variance + noise = 1 − Σ_y target_y P_y — the fits' mean expected 0-1 error — exactly.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inflate = N / (N - 1) if N > 1 else np.nan
        spread = 1.0 - (P ** 2).sum(axis=-1)                             # Σ_y P_y(1 − P_y)
        bias2 = 0.5 * (((target - P) ** 2).sum(axis=-1) - spread * (inflate - 1))
        return bias2, 0.5 * spread * inflate, 0.5 * (1.0 - (target ** 2).sum(axis=-1))


def _class_terms(tally, N, p, loss, definition=None):
    """Per-x and averaged terms from the summed tally of N datasets (see decompose)."""
    K = p.shape[1]
    ystar = np.argmax(p, axis=1)                                         # (m,)
    if definition == "kohavi_wolpert":
        P = tally / N                                                    # (m, M, K) P_D(h = k)
        b2, v, s = kw_terms(P, p[:, None, :], N)                         # (m, M), (m, M), (m, 1)
        return {"bias": b2.mean(0), "variance": v.mean(0), "net_variance": None,
                "noise": np.full(b2.shape[1], s.mean()), "total": (b2 + v + s).mean(0),
                "main": np.argmax(P, axis=2).T.astype(float), "var_x": v.T, "truth": ystar.astype(float)}
    noise_x = np.where(loss == "zero_one", 1.0 - p.max(axis=1), 0.0)
    if loss == "zero_one":
        P = tally / N                                                    # (m, M, K) P_D(h = k)
        ym = np.argmax(P, axis=2)                                        # (m, M) main prediction (mode)
        p_ym = np.take_along_axis(P, ym[..., None], 2)[..., 0]
        p_star = P[np.arange(P.shape[0]), :, ystar]                      # (m, M) P_D(h = y*)
        B = (ym != ystar[:, None]).astype(float)
        V = 1.0 - p_ym
        other = np.where(np.arange(K)[None, :] == ystar[:, None], 0.0, p)  # p_k for k != y*
        denom = 1.0 - p.max(axis=1)
        cond = np.divide(other, denom[:, None], out=np.zeros_like(other), where=denom[:, None] > 0)
        c1 = p_star - np.einsum("tmk,tk->tm", P, cond)
        with np.errstate(divide="ignore", invalid="ignore"):
            c2 = np.where(B == 0, 1.0, -np.where(V > 0, p_star / V, 0.0))
        N_x = noise_x[:, None]
        return {"bias": B.mean(0), "variance": V.mean(0), "net_variance": (c2 * V).mean(0),
                "noise": np.full(B.shape[1], noise_x.mean()), "total": (c1 * N_x + B + c2 * V).mean(0),
                "main": ym.T.astype(float), "var_x": V.T, "truth": ystar.astype(float)}
    mean_log = tally / N                                                 # E_D log q_k
    logZ = np.logaddexp.reduce(mean_log, axis=2)                         # (m, M)
    log_qbar = mean_log - logZ[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)                      # (m, K)
    H = -plogp.sum(axis=1)                                               # entropy: the noise
    kl = (plogp[:, None, :] - p[:, None, :] * log_qbar).sum(axis=2)      # KL(p || q̄): bias
    var = -logZ                                                          # E_D KL(q̄ || q_D): variance
    qbar = np.exp(log_qbar)
    main = qbar[..., 1] if K == 2 else qbar.max(axis=2)
    return {"bias": kl.mean(0), "variance": var.mean(0), "net_variance": None,
            "noise": np.full(kl.shape[1], H.mean()), "total": H.mean() + kl.mean(0) + var.mean(0),
            "main": main.T, "var_x": var.T, "truth": p[:, 1] if K == 2 else p.max(axis=1)}


def _finish_classification(blocks, *, p, loss, labels, knob, values, x_test, n, config) -> BiasVariance:
    tally = sum(b.tally for b in blocks)
    N = sum(b.count for b in blocks)
    definition = config.get("definition")
    terms = _class_terms(tally, N, p, loss, definition)
    # delete-a-block jackknife for the standard errors of the plug-in terms
    keys = ("bias", "variance", "total")
    reps = {k: [] for k in keys}
    if len(blocks) > 1:
        for b in blocks:
            t = _class_terms(tally - b.tally, N - b.count, p, loss, definition)
            for k in keys:
                reps[k].append(t[k])
    K = len(blocks)

    def jk(k):
        if K < 2:
            return np.full_like(terms[k], np.nan)
        r = np.array(reps[k])
        return np.sqrt((K - 1) / K * ((r - r.mean(0)) ** 2).sum(0))

    err = np.concatenate([b.loss for b in blocks])
    es = summarize(err)
    first = np.concatenate([b.first for b in blocks if b.first is not None])[:N_FIRST]
    clipped = sum(b.clipped for b in blocks)
    if clipped:
        config = {**config, "probabilities_clipped": clipped, "clip": LOG_EPS}
    degenerate = None
    if all(b.constant is not None for b in blocks):  # stores written before it was kept have no count
        degenerate = sum(np.asarray(b.constant, dtype=float) for b in blocks) / N
        notes = degenerate_notes(degenerate, labels)
        if notes:
            config = {**config, "notes": [*config.get("notes", []), *notes]}
    M = len(labels)
    return BiasVariance(
        labels=list(labels), knob=knob, values=np.asarray(values), x_test=x_test, ybar=terms["truth"],
        n_datasets=N, n=n, bias2=terms["bias"], bias2_se=jk("bias"), variance=terms["variance"],
        variance_se=jk("variance"), noise=terms["noise"], noise_se=np.zeros(M), error=es["mean"],
        error_se=es["se"], error_median=es["median"], error_trimmed=es["trimmed"], heavy_tail=es["heavy_tail"],
        drift_z=np.zeros(M), hbar=terms["main"], var_x=terms["var_x"], first_fits=first.transpose(0, 2, 1),
        per_dataset_error=err, per_dataset_dist=err, config=config, loss=loss,
        net_variance=terms["net_variance"], sum_terms=None if definition == "kohavi_wolpert" else terms["total"],
        degenerate=degenerate)


# -- the general engine's blocks as store jobs -------------------------------------------

def decompose_block_job(config: dict, seed) -> dict:
    """One block of datasets of :func:`decompose`, as a job of the sweep executor.

    The config names everything the block needs — the source and the
    estimators as exact JSON (:meth:`SyntheticSource.to_config`,
    :func:`genlab.core.estimators.to_spec`), ``n``, ``n_test``, the loss, the
    decomposition's seed, the block index and its size — so a store can resume
    a decomposition and a Dask cluster can run one. The datasets are drawn from
    ``(config["seed"], block)`` as in the in-process path (the job's own stream
    is not used), so the two paths see the same datasets.
    """
    from ...data.sources import source_from_config
    from ...core.estimators import from_spec

    source = source_from_config(config["source"])
    ests = [from_spec(spec) for spec in config["estimators"]]
    x_test = source.x_dist.quantiles(config["n_test"])
    k, sizes = config["block"], {config["block"]: config["size"]}
    if config["loss"] == "squared":
        job = _EstimatorBlockJob(source, config["n"], config["seed"], sizes, ests, x_test, source.mean(x_test))
        b = _quiet(job.block, k, True)
        # the scatter in its smallest exact form (the deviations, for small blocks): 100 datasets of 4 models
        # on 200 test points store 0.9 MB instead of 26 MB, and give back the same bits
        arrays = dict(mean=b.mean, m2=b.m2, **scatter_arrays(b.dev, b.cov), dist=b.dist, error=b.error,
                      noise=b.noise)
        metrics = {"count": b.count}
    else:
        c = _ClassifierBlockJob(source, config["n"], config["seed"], sizes, ests, x_test, source.proba(x_test),
                                config["loss"])(k)
        arrays, metrics, b = (dict(tally=c.tally, loss=c.loss, constant=c.constant),
                              {"count": c.count, "clipped": c.clipped}, c)
    if b.first is not None:
        arrays["first"] = b.first
    return {"metrics": metrics, "arrays": arrays}


def _block_configs(source, ests, *, n, n_test, loss, seed, sizes):
    """The blocks' job configs, or the reason they cannot be written as JSON."""
    from ...core.estimators import NotDescribable, to_spec

    src = source.to_config()
    if src is None:
        return None, "the source's target is a Python callable, not an expression"
    try:
        specs = [to_spec(e) for e in ests]
    except NotDescribable as exc:
        return None, str(exc)
    return [{"engine": "general", "source": src, "estimators": specs, "n": n, "n_test": n_test, "loss": loss,
             "seed": seed, "block": k, "size": size} for k, size in enumerate(sizes)], None


def _run_general(job, configs, why, *, store, dask, seed, jobs, progress, classify: bool):
    """The blocks of the general engine: in this process without a store or Dask (threads or worker
    processes where they pay, :func:`~.blocks.run_items`), else through the sweep executor and its store
    (the configs must be written as JSON)."""
    if store is None and dask is None:  # in this process, with threads or workers where they pay
        done = None if progress is None else (lambda a, b: progress(b - a))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run_items(lambda a, b: [job.block(k) for k in range(a, b)], len(job.sizes), workers(jobs),
                             done=done, remote=functools.partial(_blocks_of_job, job))
    if configs is None:
        raise GenlabError(f"this decomposition cannot run through a store or Dask: {why}; "
                          "use an expression and estimators importable from a module, or drop store/dask")
    from ...runs.sweep import sweep

    names = ", ".join(dict.fromkeys(type(e).__name__ for e in job.estimators))
    res = sweep(decompose_block_job, configs, store=store, seed=seed, jobs=jobs, dask=dask,
                progress=progress, label=f"bias-variance: {names}")
    blocks = []
    for rec in res.records:
        a, m = rec["arrays"], rec["metrics"]
        if classify:
            blocks.append(_ClassBlock(int(m["count"]), a["tally"], a["loss"], a.get("first"), int(m["clipped"]),
                                      a.get("constant")))
        else:
            blocks.append(Block(int(m["count"]), a["mean"], a["m2"], scatter_from(a), a["dist"], a["error"],
                                a["noise"], a.get("first")))
    return blocks


def _label(est) -> str:
    params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    if "degree" in params:
        return f"degree {params['degree']}"
    return type(est).__name__


def decompose(estimators, source: SyntheticSource | ClassificationSource | None = None, *, n: int = 30, n_datasets: int = 1000,
              n_test: int = 200, loss: str = "squared", seed: int = 0, jobs: int = 1, labels=None,
              knob: str = "model", values=None, progress=None, store=None, dask=None,
              definition: str | None = None) -> BiasVariance:
    """Bias-variance decomposition of any scikit-learn estimator(s), each cloned per dataset.

    Parameters
    ----------
    estimators : estimator or list of estimators
        Unfitted; each is cloned and fitted on every dataset (one input feature).
    source : SyntheticSource, default: the article's
    n, n_datasets, n_test, seed
        As in :func:`decompose_polynomial`; the same seed draws the same datasets,
        so the two engines can be compared dataset by dataset.
    loss : {"squared", "zero_one", "cross_entropy"}
        Squared loss for a :class:`SyntheticSource`. For a
        :class:`ClassificationSource`: ``"zero_one"`` decomposes as Domingos
        (2000) — main prediction = the mode over datasets, bias = [mode ≠ optimal
        class], variance = P(h ≠ mode), net variance with the sign rule, noise =
        1 − max P(y | x), error = c1·noise + bias + net variance exactly;
        ``"cross_entropy"`` as Heskes (1998) — main prediction = the normalized
        geometric mean q̄, bias = KL(p ‖ q̄), variance = E_D KL(q̄ ‖ q_D), noise =
        the entropy of P(y | x). Standard errors by a delete-a-block jackknife.
    definition : {"domingos", "kohavi_wolpert"}, optional
        For ``loss="zero_one"`` only (default ``"domingos"``, above).
        ``"kohavi_wolpert"``: Kohavi & Wolpert (1996) — with P̂(y|x) the share
        of datasets whose fit predicts y, bias² = ½ Σ_y (P(y|x) − P̂(y|x))²,
        variance = ½ (1 − Σ_y P̂(y|x)²), noise = ½ (1 − Σ_y P(y|x)²), each
        averaged over x; bias² and variance carry the finite-N correction of
        :func:`kw_terms` (Weka's BVDecompose), and bias² + variance + noise =
        the measured error (``sum_terms`` is None: ``total`` is the plain sum).
        Recorded in ``config["definition"]``; the stored blocks are the same
        for both definitions.
    jobs : int
        Workers over blocks of datasets; the result does not depend on it.
        Without ``store`` and ``dask`` the blocks run in this process, as a
        plain loop would (``jobs=1``), and with ``jobs > 1`` only where it pays
        (:func:`~.blocks.run_items`): after a timed block, ``jobs`` threads are
        tried and kept if they beat the loop; otherwise, if the work left pays
        for starting ``jobs - 1`` worker processes, they run blocks beside this one.
    store : str or Path, optional
        A results store (:mod:`genlab.runs.store`): each block of datasets is one
        job of the sweep executor's worker processes, so an interrupted
        decomposition resumes where it stopped and a finished one is read back
        instead of refitted.
    dask : str, optional
        Run the blocks on Dask (``"local"`` or a scheduler address), as
        :func:`genlab.runs.sweep.run_sweep`.

    A store or Dask needs a source that is an expression and estimators that
    can be rebuilt from JSON (scikit-learn estimators, pipelines, genlab's,
    your own classes in an importable module); a lambda target or a class
    defined in ``__main__`` runs in this process only.

    Returns
    -------
    BiasVariance
    """
    source = source if source is not None else SyntheticSource()
    n, n_datasets, n_test, seed = check_common(source, n, n_datasets, n_test, seed)
    classify = isinstance(source, ClassificationSource)
    if loss not in LOSSES:
        raise GenlabError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if classify and loss == "squared":
        raise GenlabError("squared loss needs a regression source; for class labels use zero_one or cross_entropy")
    if not classify and loss != "squared":
        raise GenlabError(f"{loss} loss needs class labels, but the target is continuous; "
                          "use a ClassificationSource or squared loss")
    definition = check_definition(loss, definition)
    ests = list(estimators) if isinstance(estimators, (list, tuple)) else [estimators]
    needs = ("fit", "predict_proba" if loss == "cross_entropy" else "predict", "get_params")
    for est in ests:
        for method in needs:
            if not callable(getattr(est, method, None)):
                raise GenlabError(f"{type(est).__name__} has no {method}(); give a scikit-learn "
                                  f"{'classifier' if classify else 'regressor'}")
    check_one_kind(ests, labels)
    for est in ests:
        if classify and kind(est) != "classifier":
            raise GenlabError(f"{type(est).__name__} is not a classifier; {loss} loss needs class predictions "
                              "(a class of your own: add sklearn.base.ClassifierMixin to its bases)")
        if not classify and kind(est) != "regressor":
            raise GenlabError(f"{type(est).__name__} is not a regressor; squared loss needs numeric predictions "
                              "(a class of your own: add sklearn.base.RegressorMixin to its bases)")
    check_memory(biasvar_bytes(n_datasets=n_datasets, block=block_size(n_datasets), n=n, n_test=n_test, n_params=1, n_models=len(ests),
                               jobs=jobs or 1, engine="estimator"), "this decomposition", SHRINK)
    x_test = source.x_dist.quantiles(n_test)
    labels = list(labels) if labels is not None else [_label(e) for e in ests]
    values = np.asarray(values) if values is not None else np.arange(len(ests))
    bs, sizes = blocks_of(n_datasets)
    if classify:
        p = source.proba(x_test)
        job = _ClassifierBlockJob(source, n, seed, sizes, ests, x_test, p, loss)
        configs, why = _block_configs(source, ests, n=n, n_test=n_test, loss=loss, seed=seed, sizes=sizes)
        blocks = _run_general(job, configs, why, store=store, dask=dask, seed=seed, jobs=jobs, progress=progress,
                              classify=True)
        return _finish_classification(
            blocks, p=p, loss=loss, labels=labels, knob=knob, values=values, x_test=x_test, n=n,
            config={"engine": "general", "source": source.describe(), "n": n, "n_datasets": n_datasets,
                    "n_test": n_test, "seed": seed, "block": bs, "models": labels, "loss": loss,
                    **({"definition": definition} if definition else {})})
    sbar = source.mean(x_test)
    job = _EstimatorBlockJob(source, n, seed, sizes, ests, x_test, sbar)
    configs, why = _block_configs(source, ests, n=n, n_test=n_test, loss=loss, seed=seed, sizes=sizes)
    blocks = _run_general(job, configs, why, store=store, dask=dask, seed=seed, jobs=jobs, progress=progress,
                          classify=False)

    def to_points(mean, cov):
        return mean.T, (None if cov is None else np.diagonal(cov, axis1=1, axis2=2))

    return finish(blocks, weight=1.0 / n_test, g=sbar[:, None], r=np.zeros(len(ests)), to_points=to_points,
                   labels=labels, knob=knob, values=values, x_test=x_test, ybar=sbar, n=n,
                   config={"engine": "general", "source": source.describe(), "n": n, "n_datasets": n_datasets,
                           "n_test": n_test, "seed": seed, "block": bs, "models": labels})
