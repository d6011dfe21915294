"""Benchmark of the bias-variance engines (not a test: these machines are noisy).

Prints the wall time of the article's full decomposition — 100,000 datasets x
degrees 0-29, n = 30, 200 test points — and its ratio to two baselines measured
in the same process on a subset and scaled to the same workload: a per-dataset
``np.polyfit`` loop and a scikit-learn Pipeline loop. Then the general engine
on 1 and 2 workers.

    .venv/bin/python bench/biasvar.py [--datasets 100000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from genlab import PolynomialRegression  # noqa: E402
from genlab.data.sources import ARTICLE_SOURCE  # noqa: E402
from genlab.analysis.biasvar import decompose, decompose_polynomial  # noqa: E402

DEGREES = range(30)
N, M = 30, 200


def polyfit_loop(n_datasets: int) -> float:
    """Seconds for the same decomposition done the obvious way: np.polyfit per dataset and degree."""
    g = np.random.default_rng(0)
    x_test = ARTICLE_SOURCE.x_dist.quantiles(M)
    s1 = np.zeros((len(DEGREES), M))
    s2 = np.zeros((len(DEGREES), M))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_datasets):
            x = g.uniform(0, 1, N)
            y = 2 * x ** 2 + 1 + g.normal(0, 0.1, N)
            for d in DEGREES:
                h = np.polyval(np.polyfit(x, y, d), x_test)
                s1[d] += h
                s2[d] += h * h
    return time.perf_counter() - t


def pipeline_loop(n_datasets: int) -> float:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    g = np.random.default_rng(0)
    x_test = ARTICLE_SOURCE.x_dist.quantiles(M)[:, None]
    s1 = np.zeros((len(DEGREES), M))
    t = time.perf_counter()
    for _ in range(n_datasets):
        x = g.uniform(0, 1, N)
        y = 2 * x ** 2 + 1 + g.normal(0, 0.1, N)
        for d in DEGREES:
            s1[d] += make_pipeline(PolynomialFeatures(d), LinearRegression()).fit(x[:, None], y).predict(x_test)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--baseline-datasets", type=int, default=300)
    args = ap.parse_args()

    decompose_polynomial(ARTICLE_SOURCE, [1], n_datasets=400, jobs=args.jobs)  # start the workers
    t = time.perf_counter()
    res = decompose_polynomial(ARTICLE_SOURCE, DEGREES, n=N, n_datasets=args.datasets, n_test=M,
                               jobs=args.jobs)
    fast = time.perf_counter() - t
    t = time.perf_counter()
    decompose_polynomial(ARTICLE_SOURCE, DEGREES, n=N, n_datasets=args.datasets // 10, n_test=M, jobs=1)
    fast1 = (time.perf_counter() - t) * 10
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    scale = args.datasets / args.baseline_datasets
    poly = polyfit_loop(args.baseline_datasets) * scale
    pipe = pipeline_loop(max(args.baseline_datasets // 5, 20)) * args.datasets / max(args.baseline_datasets // 5, 20)
    print(f"fast engine: {args.datasets:,} datasets x {len(DEGREES)} degrees, {args.jobs} workers: {fast:.2f} s "
          f"(1 worker, scaled from a tenth: {fast1:.2f} s); peak RSS of one process {rss:.0f} MiB")
    print(f"np.polyfit loop (scaled from {args.baseline_datasets} datasets): {poly:.1f} s -> ratio {poly / fast:.0f}x "
          f"({poly / fast1:.0f}x on one worker)")
    print(f"sklearn Pipeline loop (scaled): {pipe:.1f} s -> ratio {pipe / fast:.0f}x")
    print(f"bias²(1) = {res.bias2[1]:.5f} ± {res.bias2_se[1]:.1g}, variance(2) = {res.variance[2]:.6f} "
          f"± {res.variance_se[2]:.1g}; not converged: degrees {list(np.flatnonzero(~res.converged))}")

    est = [PolynomialRegression(d, domain=(0, 1)) for d in (1, 2, 5)]
    times = {}
    for jobs in (1, 2):
        decompose(est, ARTICLE_SOURCE, n_datasets=40, jobs=jobs)  # start the workers
        t = time.perf_counter()
        decompose(est, ARTICLE_SOURCE, n_datasets=2000, jobs=jobs)
        times[jobs] = time.perf_counter() - t
    print(f"general engine, 2,000 datasets x 3 estimators: 1 worker {times[1]:.2f} s, 2 workers {times[2]:.2f} s "
          f"-> speed-up {times[1] / times[2]:.2f}x")

    # the same blocks through the sweep executor + store (the default) vs in this process's joblib
    # (forced by a callable target, which JSON cannot carry): the price of resumability
    from genlab.data.sources import SyntheticSource

    in_process_source = SyntheticSource(lambda x: 2 * x ** 2 + 1)
    store_t, joblib_t = [], []
    for _ in range(3):  # interleaved rounds: this machine's speed drifts
        t = time.perf_counter()
        decompose(est, ARTICLE_SOURCE, n_datasets=2000, jobs=2)
        store_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        decompose(est, in_process_source, n_datasets=2000, jobs=2)
        joblib_t.append(time.perf_counter() - t)
    s_med, j_med = float(np.median(store_t)), float(np.median(joblib_t))
    print(f"general engine through executor + store: {s_med:.2f} s vs joblib in-process {j_med:.2f} s "
          f"(median of 3) -> overhead {100 * (s_med / j_med - 1):+.1f}%")


if __name__ == "__main__":
    main()
