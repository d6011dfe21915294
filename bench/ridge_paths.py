"""Benchmark of the ridge path of the bias-variance engine (not a test: these machines are noisy).

``decompose_polynomial(..., alphas=...)`` fits one degree at many ridge strengths from one SVD per dataset.
It now fits a block of datasets at once (:func:`genlab.linalg.solvers.ridge_paths`: one stacked SVD, array
products); before, a Python loop called :func:`~genlab.linalg.solvers.ridge_path` per dataset. Both are timed
in this process, interleaved, medians shown, on the lab's §4.2 setting (degree 30, n = 30, 1,000 datasets):

* the solver alone, for one alpha (the lab's typed link off its grid) and for the page's 29;
* the whole decomposition, with the engine's per-dataset loop patched back in as the baseline, and the
  largest difference between the two engines' numbers.

    .venv/bin/python bench/ridge_paths.py [--repeat 5] [--datasets 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from unittest import mock

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from genlab.analysis.biasvar import decompose_polynomial  # noqa: E402
from genlab.analysis.biasvar.polynomial import _PolyBlockJob  # noqa: E402
from genlab.data.sources import ARTICLE_SOURCE  # noqa: E402
from genlab.linalg.bases import vander  # noqa: E402
from genlab.linalg.solvers import ridge_path, ridge_paths  # noqa: E402

GRID = 10.0 ** np.arange(-12, 2.5, 0.5)
DEGREE, N = 30, 30


def loop_paths(A, y, alphas):
    """The baseline: one ridge_path per dataset."""
    return np.stack([ridge_path(A[i], y[i], alphas)[0] for i in range(A.shape[0])])


def loop_fit(self, x, y):
    """_PolyBlockJob._fit in ridge mode as it was: a loop of ridge_path."""
    V, Rt = self.tb.design(x), self.tb.R
    with np.errstate(all="ignore"):
        return np.stack([Rt @ ridge_path(V[i], y[i], self.alphas)[0] for i in range(V.shape[0])])


def medians(fns: dict, repeat: int) -> dict:
    for f in fns.values():
        f()  # warm-up
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--datasets", type=int, default=1000)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (a.datasets, N))
    A = np.stack([vander(xi, DEGREE, "legendre") for xi in x])
    y = rng.standard_normal((a.datasets, N))
    print(f"ridge path, degree {DEGREE}, n = {N}, {a.datasets:,} datasets (median of {a.repeat})")
    print(f"{'workload':42s} {'loop s':>8s} {'stacked s':>10s} {'ratio':>6s}")
    for name, alphas in (("solver, 1 alpha", [0.3]), ("solver, 29 alphas", GRID)):
        t = medians({"loop": lambda al=alphas: loop_paths(A, y, al),
                     "stacked": lambda al=alphas: ridge_paths(A, y, al)}, a.repeat)
        print(f"{name:42s} {t['loop']:8.3f} {t['stacked']:10.3f} {t['loop'] / t['stacked']:5.1f}x")
    for name, alphas in (("decompose_polynomial, 1 alpha", [0.3]), ("decompose_polynomial, 29 alphas", GRID)):
        def run(al=alphas):
            return decompose_polynomial(ARTICLE_SOURCE, [DEGREE], alphas=al, n=N, n_datasets=a.datasets, seed=1)

        def old(al=alphas):
            with mock.patch.object(_PolyBlockJob, "_fit", loop_fit):
                return run(al)

        t = medians({"loop": old, "stacked": run}, a.repeat)
        new, ref = run(), old()
        diff = max(float(np.max(np.abs(getattr(new, k) - getattr(ref, k)) / np.maximum(np.abs(getattr(ref, k)),
                                                                                     1e-300)))
                   for k in ("bias2", "variance", "error"))
        print(f"{name:42s} {t['loop']:8.3f} {t['stacked']:10.3f} {t['loop'] / t['stacked']:5.1f}x   "
              f"largest relative difference of bias², variance, error: {diff:.1e}")
    print(f"load average: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
