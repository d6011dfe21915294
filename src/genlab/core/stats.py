"""Summaries that carry their uncertainty and say when a mean cannot be trusted."""

from __future__ import annotations

import math

import numpy as np

#: A sample is flagged heavy-tailed when its largest 1% of values carry more
#: than this share of the total, or when the mean exceeds this many medians.
TOP_SHARE = 0.25
MEAN_OVER_MEDIAN = 3.0


def trim_mean(a: np.ndarray, proportion: float = 0.1) -> np.ndarray:
    """The mean of ``a`` along its last axis with ``proportion`` cut from each end.

    The same computation as ``scipy.stats.trim_mean(a, proportion, axis=-1)`` (one partition at the
    two cut points, then the mean of the middle), without importing scipy.stats, which costs a
    command about 1.5 s of start-up.
    """
    m = a.shape[-1]
    if m == 0:
        return np.full(a.shape[:-1], np.nan)
    low = int(proportion * m)
    high = m - low
    return np.partition(a, (low, high - 1), axis=-1)[..., low:high].mean(axis=-1)


def summarize(samples, axis: int = 0) -> dict[str, np.ndarray]:
    """Mean with its standard error, median, quantiles, 10%-trimmed mean and a heavy-tail flag.

    Parameters
    ----------
    samples : ndarray
        Independent draws along ``axis`` (non-negative for the heavy-tail test).

    Returns
    -------
    dict of ndarray with keys mean, se, median, q10, q25, q75, q90, trimmed,
    heavy_tail, each reduced over ``axis``.
    """
    # reduced along the last axis of a contiguous copy: sorting and partitioning rows is several times
    # faster than columns (100,000 datasets x 30 degrees: 0.30 s -> 0.20 s, measured)
    a = np.ascontiguousarray(np.moveaxis(np.asarray(samples, dtype=np.float64), axis, -1))
    m = a.shape[-1]
    mean = a.mean(axis=-1)
    se = a.std(axis=-1, ddof=1) / np.sqrt(m) if m > 1 else np.full_like(mean, np.nan)
    q10, q25, median, q75, q90 = np.quantile(a, [0.1, 0.25, 0.5, 0.75, 0.9], axis=-1)
    top = max(1, int(np.ceil(0.01 * m)))
    absa = np.abs(a)
    total = absa.sum(axis=-1)
    top_sum = np.partition(absa, m - top, axis=-1)[..., m - top:].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, top_sum / total, 0.0)
        ratio = np.where(np.abs(median) > 0, mean / np.abs(median), np.inf)
    heavy = (m >= 20) & ((share > TOP_SHARE) | (ratio > MEAN_OVER_MEDIAN))
    return {"mean": mean, "se": se, "median": median, "q10": q10, "q25": q25, "q75": q75,
            "q90": q90, "trimmed": trim_mean(a, 0.1), "heavy_tail": heavy}


#: The verdicts of :func:`tail_verdict`, from the lightest tail to the heaviest.
VERDICTS = ("finite variance", "finite mean, variance borderline", "finite mean, infinite variance",
            "infinite variance, mean borderline", "infinite mean", "undetermined")


def hill_k(m: int) -> int:
    """The number of top values Hill's estimate uses for a sample of ``m``: ⌊√m⌋, at least 10, at
    most m − 1 (the rule of thumb k = √m: it grows without bound while k/m → 0, as consistency needs).
    """
    return int(min(max(math.isqrt(max(m, 0)), 10), max(m - 1, 1)))


def tail_index(samples, axis: int = 0, k: int | None = None, level: float = 0.95) -> dict[str, np.ndarray]:
    """Hill's estimate of the tail index α of non-negative draws (P(X > s) ≈ C s^(−α) far out).

    Uses the k largest values over the (k+1)-th, ``X_(k+1)``: 1/α̂ = (1/k) Σ_{i≤k} log(X_(i) / X_(k+1)).
    The interval is exact if the values above ``X_(k+1)`` follow a Pareto law: then k/(α α̂) ~ Gamma(k, 1),
    so α ∈ [α̂ g_lo/k, α̂ g_hi/k] with g the Gamma(k, 1) quantiles; it does not cover the bias of a tail
    that is Pareto only asymptotically. The mean of X is finite when α > 1 and its variance when α > 2.

    Parameters
    ----------
    samples : ndarray
        Independent draws along ``axis``.
    k : int, optional
        Top values used; :func:`hill_k` of the sample size by default.
    level : float
        Coverage of the interval.

    Returns
    -------
    dict with ``index``, ``lo``, ``hi`` (arrays reduced over ``axis``) and ``k`` (int). Where the
    (k+1)-th largest value is not positive the index is NaN.
    """
    from scipy.special import gammaincinv

    a = np.ascontiguousarray(np.moveaxis(np.asarray(samples, dtype=np.float64), axis, -1))
    m = a.shape[-1]
    k = hill_k(m) if k is None else int(k)
    if not 1 <= k < m:
        nan = np.full(a.shape[:-1], np.nan)
        return {"index": nan, "lo": nan.copy(), "hi": nan.copy(), "k": k}
    top = np.partition(a, m - k - 1, axis=-1)[..., m - k - 1:]        # the k + 1 largest, smallest first
    base = top.min(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(base > 0, (np.log(np.where(top > 0, top, 1.0)).sum(axis=-1)
                                - (k + 1) * np.log(np.where(base > 0, base, 1.0))) / k, np.nan)
        index = np.where(h > 0, 1.0 / h, np.where(np.isnan(h), np.nan, np.inf))
    g_lo, g_hi = gammaincinv(k, [(1 - level) / 2, (1 + level) / 2])
    return {"index": index, "lo": index * g_lo / k, "hi": index * g_hi / k, "k": k}


def tail_verdict(lo, hi) -> list[str]:
    """What an interval ``[lo, hi]`` for the tail index says of the mean and the variance.

    Above 2: *finite variance*; inside (1, 2): *finite mean, infinite variance* (the mean converges,
    slowly, and no standard error is valid); below 1: *infinite mean* (no number of draws makes the
    sample mean settle). An interval across 2 or across 1 says so ("... borderline"); one across
    both, or NaN, is *undetermined*.
    """
    out = []
    for l, h in zip(np.atleast_1d(lo), np.atleast_1d(hi)):
        if not (np.isfinite(l) and h == h):
            out.append(VERDICTS[5])
        elif l > 2:
            out.append(VERDICTS[0])
        elif l > 1:
            out.append(VERDICTS[1] if h > 2 else VERDICTS[2])
        elif h < 1:
            out.append(VERDICTS[4])
        else:
            out.append(VERDICTS[3] if h <= 2 else VERDICTS[5])
    return out


def running_means(samples, axis: int = 0, smallest: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Means over the first m/2^j draws, j = J .. 0, from ``smallest`` (or fewer) up to all m.

    Returns ``(counts, means)`` with counts ascending and means of shape (len(counts), ...).
    Where the mean is finite these settle; under an infinite mean they keep jumping.
    """
    a = np.moveaxis(np.asarray(samples, dtype=np.float64), axis, 0)
    m = a.shape[0]
    counts = [m]
    while counts[-1] // 2 >= smallest:
        counts.append(counts[-1] // 2)
    counts = np.array(counts[::-1])
    csum = np.cumsum(a, axis=0)
    return counts, csum[counts - 1] / counts.reshape((-1,) + (1,) * (a.ndim - 1))


def summary_frame(index: dict, arrays: dict, keys=None):
    """A tidy table of :func:`summarize` over repeats, one row per point.

    Parameters
    ----------
    index : dict of array-like
        The first columns (the knob: degree, width, step, ...), one value per point.
    arrays : dict of ndarray of shape (n_repeats, n_points)
        The measured quantities; each gives the columns ``{name}_{key}``.
    keys : sequence of str, optional
        Which of :func:`summarize`'s values to keep, in this order (default: all).

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    cols = dict(index)
    for name, arr in arrays.items():
        s = summarize(arr)
        for key in (s if keys is None else keys):
            cols[f"{name}_{key}"] = s[key]
    return pd.DataFrame(cols)


def find_peak(values) -> dict:
    """The most prominent interior peak of a curve, with the minima on either side.

    For each interior point j, its prominence is ``min(v[j] - min(v[:j]),
    v[j] - min(v[j+1:]))``; the peak is the j with the largest. A positive
    prominence means the curve falls, rises and falls again.

    Parameters
    ----------
    values : array-like of shape (n_points,)

    Returns
    -------
    dict
        ``first_min``, ``peak``, ``second_min`` (indices) and ``prominence``
        (indices -1 and prominence -inf for fewer than 3 points).
    """
    v = np.asarray(values, dtype=np.float64)
    best = {"first_min": -1, "peak": -1, "second_min": -1, "prominence": -math.inf}
    if v.size < 3:
        return best
    left = np.minimum.accumulate(v)                # min(v[:j+1])
    right = np.minimum.accumulate(v[::-1])[::-1]   # min(v[j:])
    prom = np.minimum(v[1:-1] - left[:-2], v[1:-1] - right[2:])  # for j = 1 .. n-2
    j = int(np.argmax(prom)) + 1
    return {"first_min": int(np.argmin(v[:j])), "peak": j, "second_min": j + 1 + int(np.argmin(v[j + 1:])),
            "prominence": float(prom[j - 1])}
