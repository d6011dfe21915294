"""The arithmetic of a crossed design: random-effects ANOVA of a table of predictions, its standard
errors, and the terms built on it (bias², noise, error, the error of seed ensembles).

A table holds the prediction f of a model trained on data draw i with seed j (and, where the label
noise is a factor of its own, noise draw k) at every test point t and output o, in the internal
layout (R, S, K, n, d); K = 1 is the two-way design data × init. Everything is computed per (t, o),
summed over the outputs and averaged over the test points.

**Components.** For a fully crossed random-effects design without replication, with factor sizes
n_a, the effect of a set A of factors is the inclusion-exclusion of marginal means
e_A = Σ_{B ⊆ A} (−1)^{|A∖B|} mean_{not B} f, its sum of squares SS_A = (Π_{a∉A} n_a) Σ e_A², its mean
square MS_A = SS_A / Π_{a∈A}(n_a − 1). Under f = g(D, θ[, ε]) with independent factors and g's
Hoeffding (functional ANOVA) decomposition, E MS_A = Σ_{B ⊇ A} (Π_{b∉B} n_b) σ²_B, so the Möbius
inversion

    σ̂²_A = Σ_{B ⊇ A} (−1)^{|B∖A|} MS_B / Π_{a∉A} n_a

is unbiased for each σ²_A. Two-way (R data draws × S seeds):

    V_int  = MS_DI,    V_data = (MS_D − MS_DI) / S,    V_init = (MS_I − MS_DI) / R.

Their sum is the unbiased estimate of Var f over one fresh (data, seed) pair: the U-statistic
mean_cells f² − mean_{i≠i', j≠j'[, k≠k']} f f' (computed independently by :func:`u_total`; the two
agree to rounding on any table). It is *not* the plain variance over the R·S cells, which is biased
low because cells in one row (one column) share their data (their seed).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ...core.errors import GenlabError
from .losses import class_terms

#: names of the factors of a two-way and a three-way table, in axis order
FACTORS2 = ("data", "init")
FACTORS3 = ("x", "init", "eps")


def factor_sets(f: int) -> list[tuple[int, ...]]:
    """Every non-empty set of the first ``f`` factor axes, smallest first."""
    return [A for r in range(1, f + 1) for A in itertools.combinations(range(f), r)]


def part_name(A, names) -> str:
    return ":".join(names[a] for a in A)


def _reduce(per_point: np.ndarray) -> float:
    """Sum over outputs (last axis), mean over test points."""
    return float(per_point.sum(axis=-1).mean())


def components(T: np.ndarray, f: int) -> dict:
    """Unbiased variance components σ̂²_A per point (shape T.shape[f:]) of the table ``T`` whose
    first ``f`` axes are crossed random factors (see the module docstring)."""
    ns = T.shape[:f]
    means = {}
    for r in range(f + 1):
        for B in itertools.combinations(range(f), r):
            other = tuple(a for a in range(f) if a not in B)
            means[B] = T.mean(axis=other, keepdims=True) if other else T
    ms = {}
    for A in factor_sets(f):
        e = sum((-1) ** (len(A) - len(B)) * means[B] for r in range(len(A) + 1)
                for B in itertools.combinations(A, r))
        rest = math.prod(ns[a] for a in range(f) if a not in A)
        ms[A] = rest * (e ** 2).sum(axis=tuple(range(f))) / math.prod(ns[a] - 1 for a in A)
    out = {}
    for A in factor_sets(f):
        acc = sum((-1) ** (len(B) - len(A)) * ms[B] for B in factor_sets(f) if set(A) <= set(B))
        out[A] = acc / math.prod(ns[a] for a in range(f) if a not in A)
    return out


def u_total(T: np.ndarray, f: int) -> np.ndarray:
    """The U-statistic of Var f per point: mean of f² over the cells minus the mean of f·f' over the
    pairs of cells that differ in *every* factor (inclusion-exclusion over the factors they share)."""
    ns = T.shape[:f]
    axes = tuple(range(f))
    cross = np.zeros(T.shape[f:])
    for r in range(f + 1):
        for A in itertools.combinations(range(f), r):  # pairs sharing the levels of A
            other = tuple(a for a in axes if a not in A)
            marg = T.sum(axis=other) if other else T
            cross = cross + (-1) ** r * (marg ** 2).reshape(-1, *T.shape[f:]).sum(axis=0)
    return (T ** 2).mean(axis=axes) - cross / math.prod(n * (n - 1) for n in ns)


def seed_axis_parts(names) -> tuple[list[str], list[str]]:
    """The parts that do not involve the seed (they stay in an ensemble) and those that do (divided by k)."""
    keep, divide = [], []
    for A in factor_sets(len(names)):
        (divide if 1 in A else keep).append(part_name(A, names))
    return keep, divide


def table_stats(T: np.ndarray, y: np.ndarray, noise: float, ks, classes: bool = False) -> dict:
    """Every scalar term of one (R, S, K, n, d) table, against targets ``y`` (n, d) — the true mean
    with ``noise`` its known variance, or observed labels with ``noise`` = 0.

    Returns the parts by name, ``v_data``, ``v_init``, ``v_interaction``, ``total`` (their sum),
    ``total_u`` (:func:`u_total`, independent), ``bias2`` (mean (f̄ − y)² less the unbiased Var f̄ of
    the grand mean), ``error`` (mean over cells (f − y)², plus ``noise``; bias2 + total + noise equals
    it exactly, the corrected bias² makes it so), ``ensemble_k`` (bias2 + kept + divided / k + noise for
    k in ``ks``; at every k exactly the mean over all k-subsets of seeds of the error of their average) and the plug-in law-of-total-variance split over the grid (``plugin_total``,
    ``plugin_init`` = Var_θ E_D, ``plugin_data`` = E_θ Var_D, population moments). With ``classes`` (the
    outputs are class probabilities) also the 0-1 and cross-entropy terms of :func:`.losses.class_terms`.
    """
    three = T.shape[2] > 1
    f = 3 if three else 2
    names = FACTORS3 if three else FACTORS2
    Tf = T if three else T[:, :, 0]
    comp = components(Tf, f)
    parts = {part_name(A, names): _reduce(v) for A, v in comp.items()}
    keep, divide = seed_axis_parts(names)
    ns = Tf.shape[:f]
    var_mean = sum(v / math.prod(ns[a] for a in A) for A, v in comp.items())  # unbiased Var of the grand mean
    grand = Tf.mean(axis=tuple(range(f)))
    bias2 = _reduce((grand - y) ** 2 - var_mean)
    err = _reduce(((Tf - y) ** 2).mean(axis=tuple(range(f)))) + noise
    kept, divided = sum(parts[p] for p in keep), sum(parts[p] for p in divide)
    total = kept + divided
    seed_means = T.mean(axis=(0, 2))                                   # (S, n, d): E_D f given the seed
    plugin_total = _reduce(((T - grand) ** 2).mean(axis=(0, 1, 2)))
    plugin_init = _reduce(((seed_means - grand) ** 2).mean(axis=0))
    out = dict(parts)
    out.update(v_data=kept, v_init=parts["init"], v_interaction=divided - parts["init"], total=total,
               total_u=_reduce(u_total(Tf, f)), bias2=bias2, error=err,
               plugin_total=plugin_total, plugin_init=plugin_init, plugin_data=plugin_total - plugin_init)
    for k in ks:
        out[f"ensemble_{k}"] = bias2 + kept + divided / k + noise
    if classes:
        out.update(class_terms(T, y))
    return out


def jackknife(T: np.ndarray, y: np.ndarray, noise: float, ks, classes: bool = False) -> tuple[dict, dict]:
    """The terms of :func:`table_stats` and their standard errors.

    The s.e. is the square root of the sum, over the factors, of the delete-one-level jackknife
    variance along that factor (data draws, seeds, noise draws): (n_a − 1)/n_a Σ_l (θ̂_(−l) − θ̄)².
    Each one-way jackknife sees the sampling of its own factor (and the cells' share of the others);
    their sum is the crossed-design analogue of Owen's (2007) pigeonhole bootstrap and, like it, is
    conservative: the cell-level (interaction) variance is counted once per factor, so for the
    interaction, whose variance is all cell-level, the s.e. runs up to √2 (√3 with three factors)
    too large; for the main effects it is close (see tests/test_crossed.py's coverage check). A
    factor with 2 levels cannot lose one: the s.e. is then NaN. The class terms (``classes``) get theirs
    the same way; the 0-1 bias and variances are non-smooth in the fits, so theirs are rough (:mod:`.losses`).
    """
    est = table_stats(T, y, noise, ks, classes)
    var = {k: 0.0 for k in est}
    f_axes = (0, 1, 2) if T.shape[2] > 1 else (0, 1)
    for ax in f_axes:
        n = T.shape[ax]
        if n < 3:
            var = {k: math.nan for k in est}
            break
        reps = [table_stats(np.delete(T, l, axis=ax), y, noise, ks, classes) for l in range(n)]
        for k in est:
            r = np.array([rep[k] for rep in reps])
            var[k] += (n - 1) / n * float(((r - r.mean()) ** 2).sum())
    return est, {k: math.sqrt(v) if v == v else math.nan for k, v in var.items()}


# -- checks of a table ----------------------------------------------------------------------------------

def as_table(predictions, *, outputs: bool = False) -> np.ndarray:
    """``predictions`` of shape (R, S, n) or (R, S, K, n) — with ``outputs``, one more trailing axis of
    outputs — as a float64 table (R, S, K, n, d); a GenlabError for anything else."""
    try:
        P = np.asarray(predictions, dtype=np.float64)
    except (TypeError, ValueError):
        raise GenlabError("predictions must be a numeric array of shape (R, S, n_test) or (R, S, K, n_test)") \
            from None
    base = P.ndim - (1 if outputs else 0)
    if base not in (3, 4):
        want = "(R, S, n_test, n_outputs) or (R, S, K, n_test, n_outputs)" if outputs else \
            "(R, S, n_test) or (R, S, K, n_test)"
        raise GenlabError(f"predictions have shape {P.shape}; give {want}")
    if not outputs:
        P = P[..., None]
    if base == 3:
        P = P[:, :, None]
    R, S = P.shape[:2]
    if R < 2 or S < 2:
        raise GenlabError(f"a crossed design needs at least 2 data draws and 2 seeds, got R = {R}, S = {S}; "
                          "raise R and S (3 or more each for standard errors)")
    if P.shape[3] < 1 or P.shape[4] < 1:
        raise GenlabError(f"predictions have shape {P.shape[:-1] if not outputs else P.shape}: no test points")
    return P


def check_finite(T: np.ndarray, what: str = "") -> None:
    bad = ~np.isfinite(T)
    if bad.any():
        cells = int(bad.any(axis=(2, 3, 4)).sum())
        raise GenlabError(f"{int(bad.sum())} predictions{what} are not finite (in {cells} of {T.shape[0] * T.shape[1]} "
                          "fits): the training diverged; lower the learning rate or scale the data")


def check_seed_used(T: np.ndarray, what: str = "the estimator") -> None:
    """Refuse a table whose seeds all give the same predictions: V_init = 0 exactly and the split says nothing."""
    if np.array_equal(np.broadcast_to(T[:, :1], T.shape), T):
        raise GenlabError(f"all {T.shape[1]} seeds gave identical predictions, so V_init = 0 exactly: {what} ignores "
                          "its seed; give a randomized estimator (random_state must change the fit), or use "
                          "genlab.decompose for a deterministic one")


def check_targets(y, T: np.ndarray, what: str) -> np.ndarray:
    """``y`` of shape (n,) or (n, d) matching the table's test points and outputs, as (n, d) float64."""
    y = np.asarray(y, dtype=np.float64)
    n, d = T.shape[3], T.shape[4]
    if y.ndim == 1 and d == 1:
        y = y[:, None]
    if y.shape != (n, d):
        raise GenlabError(f"{what} has shape {y.shape}; the predictions have {n} test points and {d} output(s), "
                          f"so give shape ({n},{' ' + str(d) if d > 1 else ''})")
    if not np.all(np.isfinite(y)):
        raise GenlabError(f"{what} has values that are not finite")
    return y
