"""decompose_data against the loops a user would otherwise write (issue 15, goal 4).

Two workloads, each call in a fresh Python process (cold: no warm worker pool, no
cache; the imports are done first and timed apart, the call is timed inside the
process with perf_counter, as a user's script would see it):

* cheap rounds: mlxtend's ``bias_variance_decomp`` (a serial loop; its user guide's
  split, ``train_test_split(test_size=0.3, random_state=123)``) against
  ``decompose_data(..., method="bootstrap", test_fraction=0.3)`` with ``jobs=1``
  and ``jobs=2``: the same work, 300 bootstrap resamples of the 309 training
  rows of diabetes, a depth-6 ``DecisionTreeRegressor(random_state=123)`` fitted
  on each and predicting the 133 held-out rows. Targets: ``jobs=1`` at most 1.0x
  mlxtend's time; ``jobs=2`` at least 1.5x faster than mlxtend.
* slow rounds (about ``--slow-seconds`` of work each): a bare loop (clone, fit,
  predict on each bootstrap resample) against ``decompose_data`` with ``jobs=1``
  (overhead = time / loop - 1, target at most 5%) and ``jobs=2`` (speed-up = time
  with 1 / time with 2, target at least 1.8x). Two estimators: a random forest
  of 200 trees on diabetes (its many small trees hold the GIL: worker processes)
  and a deep tree on 20,000 x 20 synthetic rows (the GIL is released: threads).

The calls are interleaved repeat after repeat, and each ratio is the median over
the repeats. ``decompose_data`` also reports how it shared out the rounds
(``genlab.analysis.biasvar.blocks.last_way``). mlxtend is a bench-only extra
(``pip install -e '.[bench]'``); genlab does not import it. Not a timed test: it
prints what it measures.

    .venv/bin/python bench/general.py [--repeats 3] [--slow-seconds 20] [--slow-repeats 3] [--skip-slow]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CHEAP_ROUNDS = 300
TEST_SIZE = 0.3
SPLIT_SEED = 123


def _child(spec: dict) -> dict:
    """Run one timed call in this (fresh) process and return what was measured."""
    t0 = time.perf_counter()
    import numpy as np

    kind = spec["kind"]
    if kind == "mlxtend":
        from mlxtend.evaluate import bias_variance_decomp
        from sklearn.datasets import load_diabetes
        from sklearn.model_selection import train_test_split
        from sklearn.tree import DecisionTreeRegressor

        t1 = time.perf_counter()
        X, y = load_diabetes(return_X_y=True)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=TEST_SIZE, random_state=SPLIT_SEED)
        loss, bias2, var = bias_variance_decomp(DecisionTreeRegressor(max_depth=6, random_state=SPLIT_SEED), X_tr,
                                                y_tr, X_te, y_te, loss="mse", num_rounds=CHEAP_ROUNDS,
                                                random_seed=SPLIT_SEED)
        t2 = time.perf_counter()
        return {"import_s": t1 - t0, "s": t2 - t1, "bias2": float(bias2), "variance": float(var),
                "shape": [len(y_tr), len(y_te)]}
    from sklearn.base import clone

    import sklearn.datasets  # noqa: F401 - load_dataset's loader, imported before the clock as mlxtend's is

    from genlab.analysis.biasvar import blocks, decompose_data
    from genlab.data.sources import load_dataset

    est = _estimator(spec["estimator"])
    t1 = time.perf_counter()
    data = load_dataset("diabetes") if spec["data"] == "diabetes" else _synthetic()
    if kind == "loop":  # the loop a user writes: a held-out test set, a bootstrap resample per round
        g = np.random.default_rng(0)
        perm = g.permutation(data.n)
        n_test = int(round(data.n * TEST_SIZE))
        test, pool = perm[:n_test], perm[n_test:]
        X, y, X_te = data.X[pool], data.y[pool], data.X[test]
        preds = np.empty((spec["rounds"], n_test))
        for r in range(spec["rounds"]):
            idx = g.integers(0, pool.size, pool.size)
            preds[r] = clone(est).fit(X[idx], y[idx]).predict(X_te)
        t2 = time.perf_counter()
        return {"import_s": t1 - t0, "s": t2 - t1, "variance": float(preds.var(axis=0, ddof=1).mean())}
    res = decompose_data(est, data, method="bootstrap",
                         rounds=spec["rounds"], test_fraction=TEST_SIZE, jobs=spec["jobs"], seed=0)
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "s": t2 - t1, "bias2": float(res.bias2[0]), "variance": float(res.variance[0]),
            "shape": [res.n, len(res.ybar)], "way": dict(blocks.last_way)}


def _estimator(name: str):
    if name == "tree6":
        from sklearn.tree import DecisionTreeRegressor

        return DecisionTreeRegressor(max_depth=6, random_state=SPLIT_SEED)
    if name == "forest":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=200, random_state=0)
    from sklearn.tree import DecisionTreeRegressor

    return DecisionTreeRegressor(random_state=0)  # "deep": grown to the leaves


def _synthetic():
    """20,000 x 20 rows of a smooth target with noise, made in memory (so the rounds run in process)."""
    import numpy as np

    from genlab.data.sources import Dataset

    g = np.random.default_rng(7)
    X = g.normal(size=(20_000, 20))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * g.normal(size=20_000)
    return Dataset(X, y, tuple(f"x{j}" for j in range(20)), "y", "regression", "synthetic")


def run(spec: dict) -> dict:
    """One call in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"{spec} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _per_round_s(estimator: str, data: str) -> float:
    """Seconds per round of the slow estimators, from three fits here (to size their workloads)."""
    spec = {"kind": "loop", "estimator": estimator, "data": data, "rounds": 3}
    return run(spec)["s"] / 3


def cheap(repeats: int) -> None:
    print(f"cheap rounds: {CHEAP_ROUNDS} bootstrap rounds, DecisionTreeRegressor(max_depth=6), diabetes "
          f"(309 train / 133 test rows); each call in a fresh process, imports timed apart")
    rows = []
    for rep in range(repeats):
        m = run({"kind": "mlxtend"})
        g1 = run({"kind": "genlab", "estimator": "tree6", "data": "diabetes", "rounds": CHEAP_ROUNDS, "jobs": 1})
        g2 = run({"kind": "genlab", "estimator": "tree6", "data": "diabetes", "rounds": CHEAP_ROUNDS, "jobs": 2})
        assert m["shape"] == g1["shape"] == [309, 133], (m["shape"], g1["shape"])
        assert (g1["bias2"], g1["variance"]) == (g2["bias2"], g2["variance"]), "jobs changed the numbers"
        rows.append((m, g1, g2))
        print(f"  repeat {rep + 1}: mlxtend {m['s']:.3f} s | jobs=1 {g1['s']:.3f} s ({g1['s'] / m['s']:.2f}x) | "
              f"jobs=2 {g2['s']:.3f} s ({m['s'] / g2['s']:.2f}x faster; {g2['way'].get('way')}, threads "
              f"{g2['way'].get('threads_speedup', float('nan')):.2f}x)")
    med = statistics.median
    r1 = med(g1["s"] / m["s"] for m, g1, _ in rows)
    r2 = med(m["s"] / g2["s"] for m, _, g2 in rows)
    print(f"  {'':<30}{'median s':>10}{'vs mlxtend':>14}{'target':>14}")
    print(f"  {'mlxtend bias_variance_decomp':<30}{med(m['s'] for m, _, _ in rows):>10.3f}{'1.00x time':>14}")
    print(f"  {'decompose_data jobs=1':<30}{med(g1['s'] for _, g1, _ in rows):>10.3f}{r1:>9.2f}x time"
          f"{'<= 1.0x':>14}  {'met' if r1 <= 1.0 else 'MISSED'}")
    print(f"  {'decompose_data jobs=2':<30}{med(g2['s'] for _, _, g2 in rows):>10.3f}{r2:>8.2f}x faster"
          f"{'>= 1.5x':>13}  {'met' if r2 >= 1.5 else 'MISSED'}")
    print(f"  imports (median): mlxtend.evaluate + sklearn {med(m['import_s'] for m, _, _ in rows):.2f} s, "
          f"genlab.analysis.biasvar + sklearn {med(g1['import_s'] for _, g1, _ in rows):.2f} s (not in the times)")
    print(f"  numbers: mlxtend bias2 {rows[0][0]['bias2']:.1f} variance {rows[0][0]['variance']:.1f} | genlab "
          f"bias2+noise {rows[0][1]['bias2']:.1f} variance {rows[0][1]['variance']:.1f} (other resamples, "
          "unbiased variance; jobs=1 and 2 equal)")


def slow(seconds: float, repeats: int) -> None:
    for estimator, data, label in (("forest", "diabetes", "RandomForestRegressor(200), diabetes"),
                                   ("deep", "synthetic", "DecisionTreeRegressor(), 20,000 x 20 synthetic")):
        per = _per_round_s(estimator, data)
        rounds = max(4, round(seconds / per))
        print(f"slow rounds: {label}: {rounds} bootstrap rounds of ~{per:.2f} s (~{rounds * per:.0f} s of work)")
        rows = []
        for rep in range(repeats):
            base = {"estimator": estimator, "data": data, "rounds": rounds}
            loop = run({"kind": "loop", **base})
            g1 = run({"kind": "genlab", **base, "jobs": 1})
            g2 = run({"kind": "genlab", **base, "jobs": 2})
            assert (g1["bias2"], g1["variance"]) == (g2["bias2"], g2["variance"]), "jobs changed the numbers"
            rows.append((loop, g1, g2))
            print(f"  repeat {rep + 1}: loop {loop['s']:.2f} s | jobs=1 {g1['s']:.2f} s "
                  f"({100 * (g1['s'] / loop['s'] - 1):+.1f}%) | jobs=2 {g2['s']:.2f} s "
                  f"({g1['s'] / g2['s']:.2f}x; {g2['way'].get('way')}, threads "
                  f"{g2['way'].get('threads_speedup', float('nan')):.2f}x)")
        med = statistics.median
        over = med(g1["s"] / loop["s"] - 1 for loop, g1, _ in rows)
        speed = med(g1["s"] / g2["s"] for _, g1, g2 in rows)
        print(f"  median: overhead of jobs=1 over the bare loop {100 * over:+.1f}% (target <= +5%: "
              f"{'met' if over <= 0.05 else 'MISSED'}); jobs=2 speed-up over jobs=1 {speed:.2f}x "
              f"(target >= 1.8x: {'met' if speed >= 1.8 else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slow-seconds", type=float, default=20.0)
    parser.add_argument("--slow-repeats", type=int, default=3)
    parser.add_argument("--skip-slow", action="store_true")
    parser.add_argument("--skip-cheap", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at the start")
    if not args.skip_cheap:
        cheap(args.repeats)
    if not args.skip_slow:
        slow(args.slow_seconds, args.slow_repeats)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
