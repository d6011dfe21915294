"""How heavy the tail of the per-dataset error is: what theory says for polynomial least squares, and
what a run measured.

**Theory** (polynomial least squares of degree d on n points, x uniform on an interval, noise σ > 0).
All n points fall in a window of relative width a with probability

    P(R < a) = n a^(n−1) − (n−1) a^n          (R: the range of the x's over the interval's width)

and a degree-d polynomial fitted to noise on that window is O(σ) there but grows like the Chebyshev
polynomial T_d(2/a − 1) at the far end of the interval, ≈ (4/a)^d as a → 0. So the per-dataset
squared error exceeds s with probability ∝ s^(−(n−1)/(2d)) far out: the tail index is
α = (n−1)/(2d); the expected error is infinite for d ≥ (n−1)/2 and its variance for d ≥ (n−1)/4
(n = 30: d ≥ 15 and d ≥ 8). A configuration with j points outside a window that holds the rest costs
less probability but gains less growth: its index (n−1−j)/(2(d−j)) is larger, so the single window
sets the tail. Interpolation (d = n − 1) has α = 1/2 (two close points suffice).

**What N datasets can see.** That α holds only for windows a ≪ 1, whose probability ~ a^(n−1) is
astronomically small; the N datasets of a run reach windows down to the a with P(R < a) ≈ 1/N. At a
window a, the local index is the ratio of the log-slopes of the probability and of T_d(2/a − 1)²:

    α_local(a) = [(n−1) − (n−1)a/(n − (n−1)a)] · √(1 − a) / (2d)

which is about half the asymptotic α at the a that 10⁴–10⁶ datasets reach (a ≈ 0.6–0.8 for n = 30).
:func:`polynomial_tail_theory` gives both: the asymptotic index (what is true of the mean) and the
local index over the windows this run sampled (what the Hill estimate of the run should show).
"""

from __future__ import annotations

import math

import numpy as np

from ...core.stats import VERDICTS


def _window_probability(a: float, n: int) -> float:
    return n * a ** (n - 1) - (n - 1) * a ** n


def window_for(p: float, n: int) -> float:
    """The relative width a with P(all n uniform points within a window of width a) = p."""
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _window_probability(mid, n) < p else (lo, mid)
    return 0.5 * (lo + hi)


def local_index(a: float, n: int, d: int) -> float:
    """The tail index that windows of width ≈ a produce (see the module's notes)."""
    if d <= 0:
        return math.inf
    slope_p = (n - 1) - (n - 1) * a / (n - (n - 1) * a)
    return slope_p * math.sqrt(max(1.0 - a, 0.0)) / (2 * d)


def asymptotic_index(n: int, d: int) -> float:
    """(n − 1)/(2d) for 1 ≤ d ≤ n − 2, 1/2 for interpolation (d = n − 1), ∞ for d = 0; NaN for d ≥ n
    (a minimum-norm fit: no result here)."""
    if d <= 0:
        return math.inf
    if d == n - 1:
        return 0.5
    if d >= n:
        return math.nan
    return (n - 1) / (2 * d)


def verdict_of(alpha: float) -> str:
    """The verdict a known tail index gives: variance finite for α > 2, mean finite for α > 1."""
    if alpha != alpha:
        return VERDICTS[5]
    return VERDICTS[0] if alpha > 2 else VERDICTS[2] if alpha > 1 else VERDICTS[4]


def polynomial_tail_theory(degrees, *, n: int, n_datasets: int, k: int) -> dict:
    """Theory for least-squares polynomials of each degree on ``n`` uniform points.

    Returns arrays over degrees: ``index`` (asymptotic), ``verdict`` (from it), and ``local_lo``,
    ``local_hi``: the local index over the windows between the k-th and the first of ``n_datasets``
    (P(R < a) from k/N down to 1/N), the range a Hill estimate on the top k should fall in when the
    window mechanism dominates the sampled tail.
    """
    a_wide, a_narrow = window_for(k / n_datasets, n), window_for(1 / n_datasets, n)
    degrees = [int(d) for d in degrees]
    index = np.array([asymptotic_index(n, d) for d in degrees])
    ok = np.array([1 <= d <= n - 2 for d in degrees])
    lo = np.array([local_index(a_wide, n, d) if o else np.nan for d, o in zip(degrees, ok)])
    hi = np.array([local_index(a_narrow, n, d) if o else np.nan for d, o in zip(degrees, ok)])
    return {"index": index, "verdict": [verdict_of(a) for a in index], "local_lo": lo, "local_hi": hi,
            "windows": (a_narrow, a_wide)}


def extrapolation_share(result, source, *, seed: int, margin: float = 0.1) -> dict:
    """How much of each model's total error comes from datasets with no training point within ``margin``
    (a fraction of the interval) of one of its ends: the fits extrapolate there.

    Redraws the x of every dataset of ``result`` from its seed (the engines' own streams, block by
    block), so the shares are of the very datasets measured. Returns ``fraction`` (of the datasets) and
    ``share`` (M,), the part of the summed per-dataset error they carry.
    """
    from .blocks import blocks_of, draw_block

    lo, hi = source.x_dist.support
    width = hi - lo
    _, sizes = blocks_of(result.n_datasets)
    far = np.concatenate([
        (lambda x: (x.min(axis=1) - lo > margin * width) | (hi - x.max(axis=1) > margin * width))(
            draw_block(source, result.n, seed, k, size)[0]) for k, size in enumerate(sizes)])
    err = result.per_dataset_error
    return {"fraction": float(far.mean()), "share": err[far].sum(axis=0) / err.sum(axis=0), "margin": margin}
