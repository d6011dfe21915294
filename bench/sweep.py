"""Cost of running a sweep through the executor and the store.

Runs the same CPU-bound 10 ms jobs (genlab.runs.jobs:demo_job) three ways, in this
process, and prints the ratios:

* a bare loop calling the job function (the baseline), run in the very process
  that is the 1-worker pool's worker, so that both run on the same CPU (the
  two virtual CPUs of a shared machine can differ in speed by tens of per
  cent); the same loop in this process is printed too;
* run_sweep with 1 local worker, writing every result to a fresh SQLite store:
  overhead = time / bare loop - 1 (target: at most 10%);
* run_sweep with 2 local workers: speed-up = time with 1 worker / time with 2
  (target: at least 1.7x on 2 cores);
* the same jobs on a bare pool of 2 processes (no genlab executor, no store):
  the speed-up this machine gives two processes at all, for comparison.

Worker pools are started (and timed apart, as "first sweep") before the
measured runs: a command pays that once, not per job. The measurements are
interleaved round after round and each ratio is the median over the rounds.
Not a timed test: it prints what it measures.

    .venv/bin/python bench/sweep.py [--jobs 200] [--ms 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import multiprocessing  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from genlab.runs.executors import LocalExecutor  # noqa: E402
from genlab.runs.sweep import run_sweep  # noqa: E402
from genlab.runs.worker import job_seed  # noqa: E402
from genlab.runs.jobs import demo_job  # noqa: E402
from genlab.runs.records import canonical_json, config_hash  # noqa: E402


def calibrate(ms: float) -> int:
    """Rounds of demo_job's CPU work that take about ``ms`` milliseconds here."""
    probe = 200
    seed = job_seed(0, "0" * 16)
    demo_job({"work": probe, "n": 1000}, seed)  # warm up
    t = min(_timed(lambda: demo_job({"work": probe, "n": 1000}, seed)) for _ in range(5))
    return max(1, round(probe * ms / 1000 / t))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bare_job(config, seed=1):
    return demo_job(config, job_seed(seed, config_hash(canonical_json(config))))


def bare_loop(configs, seed=1):
    for config in configs:
        bare_job(config, seed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=150, help="jobs per sweep")
    parser.add_argument("--ms", type=float, default=10.0, help="CPU time of one job, milliseconds")
    parser.add_argument("--repeats", type=int, default=6, help="rounds of measurements (medians are reported)")
    args = parser.parse_args()

    work = calibrate(args.ms)
    tmp = Path(tempfile.mkdtemp(prefix="genlab-bench-"))
    counter = iter(range(10**6))

    def configs():  # fresh configs each time, so nothing is found already done
        tag = next(counter)
        return [{"x": i / args.jobs, "n": 1000, "work": work, "tag": tag} for i in range(args.jobs)]

    def sweep(n_workers):
        cfgs = configs()
        t = _timed(lambda: run_sweep(demo_job, cfgs, store=tmp / f"s{next(counter)}.sqlite", seed=1,
                                     jobs=n_workers, progress=False))
        return t

    # Each worker count has its own pool, kept warm between the sweeps of a process; the first
    # sweeps start them (timed apart as "first sweep"). The measurements are interleaved, round
    # after round, in alternating order, so that a machine whose speed drifts (shared virtual
    # CPUs) affects them alike; each ratio is taken within a round and the median is reported.
    def warm(n_workers):
        """Wait until each worker of the pool has run a job: one still importing would steal CPU."""
        for _ in range(50):
            cfgs = [{"warm": next(counter), "sleep": 0.05, "x": i} for i in range(2 * n_workers)]
            result = run_sweep(demo_job, cfgs, store=tmp / f"w{next(counter)}.sqlite", seed=1, jobs=n_workers,
                               progress=False)
            if len({r["pid"] for r in result.records}) == n_workers:
                return
        raise RuntimeError(f"the pool never showed {n_workers} workers")

    first = {n: sweep(n) for n in (1, 2)}
    for n_workers in (1, 2):
        warm(n_workers)
    pool = multiprocessing.get_context("fork").Pool(2)  # the machine's own ceiling: 2 bare processes
    pool.map(bare_job, configs()[:4], chunksize=1)
    one_pool = LocalExecutor(1)._ex  # the process that runs the 1-worker sweeps
    steps = {
        "bare": lambda cfgs: bare_loop(cfgs),
        "bare_w": lambda cfgs: one_pool.submit(bare_loop, cfgs).result(),
        "pair": lambda cfgs: pool.map(bare_job, cfgs, chunksize=1),
        "one": lambda cfgs: run_sweep(demo_job, cfgs, store=tmp / f"s{next(counter)}.sqlite", seed=1, jobs=1,
                                      progress=False),
        "two": lambda cfgs: run_sweep(demo_job, cfgs, store=tmp / f"s{next(counter)}.sqlite", seed=1, jobs=2,
                                      progress=False),
    }
    rounds = []
    for r in range(args.repeats):
        order = list(steps) if r % 2 == 0 else list(reversed(steps))
        times = {}
        for name in order:
            cfgs = configs()
            times[name] = _timed(lambda: steps[name](cfgs))
        rounds.append(times)
    pool.terminate()
    med = {k: float(np.median([t[k] for t in rounds])) for k in steps}
    overhead = float(np.median([t["one"] / t["bare_w"] for t in rounds])) - 1
    overhead_here = float(np.median([t["one"] / t["bare"] for t in rounds])) - 1
    speedup = float(np.median([t["one"] / t["two"] for t in rounds]))
    ceiling = float(np.median([t["bare"] / t["pair"] for t in rounds]))
    bare_t, pair_t, one_t, two_t = med["bare"], med["pair"], med["one"], med["two"]
    per_job = bare_t / args.jobs * 1e3
    print(f"{args.jobs} jobs of {per_job:.1f} ms (demo_job, work={work}); cpu count {os.cpu_count()}; "
          f"median of {args.repeats} interleaved rounds")
    print(f"  bare loop            {med['bare_w']:7.3f} s   (in the worker process of the 1-worker sweeps)")
    print(f"  sweep, 1 worker      {one_t:7.3f} s   overhead {overhead:+.1%}   (target <= +10%)")
    print(f"  bare loop here       {bare_t:7.3f} s   (in this process: sweep overhead {overhead_here:+.1%}; "
          "the two CPUs of a VM need not run alike)")
    print(f"  sweep, 2 workers     {two_t:7.3f} s   speed-up {speedup:.2f}x  (target >= 1.70x)")
    print(f"  2 bare processes     {pair_t:7.3f} s   speed-up {ceiling:.2f}x  (what this machine gives two "
          "processes, without genlab)")
    print(f"  first sweep (starts its pool): 1 worker {first[1]:.2f} s, 2 workers {first[2]:.2f} s")
    print(f"overhead ratio {1 + overhead:.3f}; speed-up ratio {speedup:.2f} "
          f"(machine ceiling {ceiling:.2f}, sweep reaches {speedup / ceiling:.0%} of it)")


if __name__ == "__main__":
    main()
