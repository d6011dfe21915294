"""Benchmark of the random-features double-descent sweep (not a test: these machines are noisy).

Prints the wall time of the default digits sweep — n = 400 training points,
1000 test points, about 40 model sizes p from 10 to 20n = 8000, 5 seeds,
minimum-norm least squares on one-hot targets — run through the executor
on ``--jobs`` workers, and the figures it measures (peak, minima). Then, in
this process on one thread, the same work for one seed done by the shared
nested factorization (:func:`genlab.linalg.minnorm.nested_least_squares`) and
by one ``np.linalg.pinv`` per p, and their ratio.

    .venv/bin/python bench/double_descent.py [--jobs 2] [--seeds 5] [--baseline-seeds 1] [--more]

``--more`` adds Fourier features, 10% and 20% label noise and a tuned ridge.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from genlab.analysis.double_descent import default_ps, random_features_sweep  # noqa: E402
from genlab.analysis.double_descent.random_features import rf_data, rf_job  # noqa: E402
from genlab.runs.worker import job_seed  # noqa: E402
from genlab.runs.records import canonical_json, config_hash  # noqa: E402

N_TRAIN, N_TEST = 400, 1000


def _config(ps, repeat):
    return {"data": "digits", "kind": "relu", "n_train": N_TRAIN, "n_test": N_TEST, "ps": ps, "ridge": 0.0,
            "scale": 1.0, "n_val": 0, "label_noise": 0.0, "repeat": repeat, "draw_seed": 0}


def pinv_seed(config, seed) -> tuple[float, np.ndarray]:
    """The same seed's work with one pseudo-inverse per p: seconds (features excluded) and test errors."""
    d = rf_data(config, seed)  # the job's own split, features and targets
    F_tr, F_te, Y_tr, Y_te = d["F_tr"], d["F_te"], d["Y_tr"], d["Y_te"]
    out = []
    t = time.perf_counter()
    for p in config["ps"]:
        coef = np.linalg.pinv(F_tr[:, :p]) @ Y_tr
        out.append(float(np.mean(np.sum((F_te[:, :p] @ coef - Y_te) ** 2, axis=1))))
        np.mean(np.sum((F_tr[:, :p] @ coef - Y_tr) ** 2, axis=1))
        np.linalg.norm(coef)
    return time.perf_counter() - t, np.array(out)


def report(curve, name):
    pk, mn = curve.find_peak(), curve.minimum
    print(f"  {name}: peak at p = {pk['at']:g} (median test MSE {pk['value']:.4g}); "
          f"classical minimum {mn['classical']['value']:.4g} at p = {mn['classical']['at']:g}; "
          f"after the peak {mn['after_peak']['value']:.4g} at p = {mn['after_peak']['at']:g} "
          f"({mn['ratio']:.3g}x the classical minimum)")
    if curve.test_error is not None:
        e = curve.median("test_error")
        i0 = list(curve.values).index(mn["classical"]["at"])
        i1 = list(curve.values).index(mn["after_peak"]["at"])
        print(f"    0-1 error (median): {e[i0]:.3f} at the classical minimum, {e[i1]:.3f} after the peak, "
              f"{e[int(np.argmax(curve.median()))]:.3f} at the peak")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--baseline-seeds", type=int, default=1)
    ap.add_argument("--more", action="store_true")
    args = ap.parse_args()
    ps = default_ps(N_TRAIN)
    print(f"digits, relu features, n = {N_TRAIN}, {N_TEST} test points, {len(ps)} values of p from {ps[0]} to "
          f"{ps[-1]}, {args.seeds} seeds, {os.cpu_count()} cores")

    random_features_sweep(n_train=50, n_test=100, ps=[10, 50, 100], seeds=args.jobs, jobs=args.jobs)  # start workers
    t = time.perf_counter()
    curve = random_features_sweep(n_train=N_TRAIN, n_test=N_TEST, seeds=args.seeds, jobs=args.jobs)
    wall = time.perf_counter() - t
    print(f"default sweep through the executor on {args.jobs} workers: {wall:.2f} s (target <= 30 s on 2 cores)")
    report(curve, "relu, no label noise")
    past = curve.median("train_mse")[curve.values > N_TRAIN]
    print(f"  largest median training error past the threshold: {past.max():.2e}")

    # the same work in this process, one thread: nested engine vs one pinv per p
    eng, base, agree = [], [], []
    for r in range(args.baseline_seeds):
        cfg = _config(ps, r)
        seed = job_seed(0, config_hash(canonical_json(cfg)))
        t = time.perf_counter()
        res = rf_job(cfg, seed)
        eng.append(time.perf_counter() - t)
        tb, errs = pinv_seed(cfg, job_seed(0, config_hash(canonical_json(cfg))))
        base.append(tb)
        mine = np.array(res["series"]["test_mse"])
        agree.append(float(np.max(np.abs(mine - errs) / errs)))
    e, b_ = float(np.mean(eng)), float(np.mean(base))
    print(f"one seed, one thread: nested factorization {e:.2f} s (whole job: data, features, fits, metrics); "
          f"one pinv per p {b_:.2f} s (fits and errors only) -> ratio {b_ / e:.1f}x")
    print(f"  largest relative difference of the test errors, engine vs pinv: {max(agree):.1e}")
    print(f"  pinv for the whole sweep on {args.jobs} cores would take about {b_ * args.seeds / args.jobs:.1f} s "
          f"vs {wall:.2f} s measured ({b_ * args.seeds / args.jobs / wall:.1f}x)")

    if args.more:
        for name, kw in (("fourier", {"kind": "fourier"}), ("10% label noise", {"label_noise": 0.1}),
                         ("20% label noise", {"label_noise": 0.2}), ("tuned ridge", {"ridge": "tuned", "n_test": 900})):
            t = time.perf_counter()
            c = random_features_sweep(**{"n_train": N_TRAIN, "n_test": N_TEST, "seeds": args.seeds,
                                         "jobs": args.jobs, **kw})
            print(f"{name}: {time.perf_counter() - t:.2f} s")
            if name == "tuned ridge":
                med = c.median()
                rise = float(np.max(med / np.minimum.accumulate(med)) - 1)
                print(f"  median test MSE from {med[0]:.4g} to {med[-1]:.4g}; largest rise over the best so far: "
                      f"{rise:.1%}")
            else:
                report(c, name)


if __name__ == "__main__":
    main()
