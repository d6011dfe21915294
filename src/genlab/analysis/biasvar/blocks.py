"""Blocks of datasets: each with its own random stream, statistics per block, merged in block order
(the numbers depend on the seed only, not on the number of workers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data.sources import ClassificationSource, SyntheticSource, check_n
from ...core.errors import GenlabError
from ...core.seeding import check_seed, rng as make_rng

N_FIRST = 100  # fits kept for the "first 100 datasets" figures
SHRINK = "give fewer datasets, training points, test points or degrees (--datasets, --n, --n-test, --degrees)"
LOSSES = ("squared", "zero_one", "cross_entropy")


def block_size(n_datasets: int) -> int:
    """Datasets per block: at least 20 blocks (for batch-means errors), at most 500 per block."""
    return max(1, min(500, n_datasets // 20))


def draw_block(source, n: int, seed: int, k: int, size: int):
    """Block k of datasets: x of shape (size, n), y of shape (size, n)."""
    g = make_rng(seed, "biasvar-datasets", k)
    x = source.x_dist.sample((size, n), g)
    if isinstance(source, ClassificationSource):
        return x, source.sample_labels(x, g)
    y = source.mean(x) + g.normal(0.0, source.noise, (size, n))
    return x, y


def draw_test_noise(source: SyntheticSource, m: int, seed: int, k: int, size: int):
    """Fresh noise at the test points for each dataset of block k (for the measured error)."""
    return make_rng(seed, "biasvar-test-noise", k).normal(0.0, source.noise, (size, m))


# -- per-block statistics -----------------------------------------------------

@dataclass
class Block:
    """Statistics of one block of datasets, in some coordinates of the predictions."""

    count: int
    mean: np.ndarray          # (K, M): mean coordinates per model
    m2: np.ndarray            # (K, M): sum of squared deviations from the block mean
    cov: np.ndarray           # (M, K, K) full scatter (for per-x variance and bias s.e.)
    dist: np.ndarray          # (b, M): mean_x (h_b - ȳ)^2 per dataset
    error: np.ndarray         # (b, M): mean_x (h_b - y)^2 with fresh y per dataset
    noise: np.ndarray         # (b,):   mean_x (y - ȳ)^2 per dataset
    first: np.ndarray | None  # (k, K, M) coordinates of the block's first datasets


def merge_blocks(blocks: list[Block]):
    """Chan et al.'s pairwise merge of means and scatters, in block order."""
    n, mean, m2, cov = 0, None, None, None
    for b in blocks:
        if n == 0:
            n, mean, m2, cov = b.count, b.mean.copy(), b.m2.copy(), b.cov.copy()
            continue
        tot = n + b.count
        delta = b.mean - mean
        mean = mean + delta * (b.count / tot)
        m2 = m2 + b.m2 + delta ** 2 * (n * b.count / tot)
        dT = delta.T  # (M, K)
        cov = cov + b.cov + np.einsum("mk,ml->mkl", dT, dT) * (n * b.count / tot)
        n = tot
    return n, mean, m2, cov


def check_common(source, n, n_datasets, n_test, seed):
    if not isinstance(source, (SyntheticSource, ClassificationSource)):
        raise GenlabError("a decomposition against a known source needs a SyntheticSource; "
                          "for a dataset use decompose_data")
    n = check_n(n)
    if isinstance(n_datasets, bool) or not isinstance(n_datasets, (int, np.integer)) or n_datasets < 2:
        raise GenlabError(f"the decomposition needs at least 2 datasets, got {n_datasets!r}")
    if isinstance(n_test, bool) or not isinstance(n_test, (int, np.integer)) or n_test < 1:
        raise GenlabError(f"the test grid needs at least 1 point, got {n_test!r}")
    return n, int(n_datasets), int(n_test), check_seed(seed)


def run_blocks(fn, n_blocks: int, jobs: int, progress=None, threads: bool = False):
    """Run ``fn(k)`` for every block, in parallel over processes (or threads) when ``jobs > 1``; results in
    block order."""
    if threads and jobs and jobs > 1 and n_blocks > 1:
        from concurrent.futures import ThreadPoolExecutor

        out = []
        pool = ThreadPoolExecutor(jobs)
        try:
            for res in pool.map(fn, range(n_blocks)):
                out.append(res)
                if progress:
                    progress(1)
        finally:  # on an error or Ctrl-C, blocks not started are dropped rather than waited for
            pool.shutdown(wait=True, cancel_futures=True)
        return out
    if jobs is None or jobs == 1 or n_blocks == 1:
        out = []
        for k in range(n_blocks):
            out.append(fn(k))
            if progress:
                progress(1)
        return out
    from joblib import Parallel, delayed

    out = []
    for res in Parallel(n_jobs=jobs, return_as="generator")(delayed(fn)(k) for k in range(n_blocks)):
        out.append(res)
        if progress:
            progress(1)
    return out


def blocks_of(n_datasets: int) -> tuple[int, list[int]]:
    bs = block_size(n_datasets)
    return bs, [bs] * (n_datasets // bs) + ([n_datasets % bs] if n_datasets % bs else [])
