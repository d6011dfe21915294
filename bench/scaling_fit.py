"""Benchmark of the scaling-law fit with bootstrap intervals (not a test: these machines are noisy).

Times :func:`genlab.analysis.scaling.fit` (the fast engine) against
``genlab.analysis.scaling.fits._fit_reference`` (the engine genlab ran before: ``scipy.optimize.minimize``
per start, the grid screened point by point) in the same process, on one thread, the calls interleaved
repeat after repeat (medians shown), and checks that both give the same fit (every number of its JSON
record, the bootstrap replicates included). Workloads:

* the lab's §4.3 sample runs (16: Chinchilla's law on a 4 x 4 grid, 1% noise), 200 resamples, as the lab
  calls ``fit`` (``genlab.lab.pages.scaling.fit_of``);
* 40 runs (8 N x 5 D, 1% noise), 200 resamples, the Chinchilla and the Kaplan form;
* the lab's §4.3 callback itself (the page's figures and numbers included; a new seed each call, nothing
  cached), with the fit's old engine patched in for the comparison.

Per resample: (time with ``--bootstrap`` resamples - time with none) / resamples.

    .venv/bin/python bench/scaling_fit.py [--repeat 3] [--bootstrap 200] [--skip-lab]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import genlab.analysis.scaling as sc  # noqa: E402
from genlab.analysis.scaling import fits  # noqa: E402

ENGINES = {"reference": fits._fit_reference, "fast": sc.fit}


def lab_runs():
    """``(N, D, loss, seeds)`` of the lab's sample CSV, read as the lab reads it."""
    import pandas as pd

    from genlab.lab.pages import scaling as page

    frame = pd.read_csv(io.StringIO(page.sample()), skipinitialspace=True)
    return frame["N"].to_numpy(float), frame["D"].to_numpy(float), frame["loss"].to_numpy(float), \
        frame["seed"].to_numpy()


def forty_runs():
    runs = sc.synthetic_runs("chinchilla", Ns=np.geomspace(1e6, 1e9, 8), Ds=np.geomspace(1e8, 1e11, 5),
                             noise=0.01, seed=0)
    return runs["N"].to_numpy(), runs["D"].to_numpy(), runs["loss"].to_numpy(), runs["seed"].to_numpy()


def compare(name: str, runs, form: str, bootstrap: int, repeat: int) -> None:
    N, D, loss, seeds = runs
    times = {(e, b): [] for e in ENGINES for b in (0, bootstrap)}
    records = {}
    for _ in range(repeat):
        for engine, fn in ENGINES.items():
            for b in (0, bootstrap):
                t = time.perf_counter()
                r = fn(N=N, D=D, loss=loss, form=form, seeds=seeds, bootstrap=b, seed=0)
                times[engine, b].append(time.perf_counter() - t)
                if b:
                    records[engine] = r.to_dict()
    med = {k: statistics.median(v) for k, v in times.items()}
    per = {e: (med[e, bootstrap] - med[e, 0]) / bootstrap * 1e3 for e in ENGINES}
    same = records["reference"] == records["fast"]
    print(f"{name} ({len(loss)} runs, {form}, {bootstrap} resamples): reference {med['reference', bootstrap]:.2f} s "
          f"({per['reference']:.1f} ms per resample, {med['reference', 0]:.2f} s without), fast "
          f"{med['fast', bootstrap]:.2f} s ({per['fast']:.1f} ms per resample, {med['fast', 0]:.2f} s without) "
          f"-> ratio {med['reference', bootstrap] / med['fast', bootstrap]:.1f}x "
          f"(per resample {per['reference'] / per['fast']:.1f}x); same fit, bit for bit: {'yes' if same else 'NO'}")


def lab_callback(bootstrap: int, repeat: int) -> None:
    """The §4.3 page's callback as ``bench/lab.py`` calls it, a new seed each call, with each engine."""
    from genlab.lab.app import make_app
    from genlab.lab.pages import scaling as page

    fn = make_app("en").genlab["callbacks"]["scaling"]
    defaults = {f.name: f.default for f in page.FIELDS}
    defaults["csv"] = page.sample()
    special = {"_lang": "en", "_fit": 0, "_uploaded": 0, "_job": None}

    def call(seed):
        raw = {**defaults, "bootstrap": bootstrap, "seed": seed}
        args = [raw[n] if n in raw else special[n] for n in fn.arg_names]
        out = dict(zip(fn.output_ids, fn(*args)))
        if out.get("scaling-general.children"):
            raise RuntimeError(out["scaling-general.children"])

    times = {e: [] for e in ENGINES}
    seed = 5000
    call(seed)   # warm-up: imports, the figures' first build
    for _ in range(repeat):
        for engine, fn_ in ENGINES.items():
            seed += 1
            sc.fit = fn_              # fit_of imports genlab.analysis.scaling.fit when called
            try:
                t = time.perf_counter()
                call(seed)
                times[engine].append(time.perf_counter() - t)
            finally:
                sc.fit = ENGINES["fast"]
    med = {e: statistics.median(v) for e, v in times.items()}
    print(f"lab §4.3 callback (sample runs, {bootstrap} resamples, page included, a new seed each call): "
          f"reference {med['reference']:.2f} s, fast {med['fast']:.2f} s -> ratio "
          f"{med['reference'] / med['fast']:.1f}x (the lab's goal: 5 s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="interleaved calls of each engine (medians shown)")
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--skip-lab", action="store_true", help="leave out the lab callback (it imports Dash)")
    a = ap.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        compare("lab sample", lab_runs(), "chinchilla", a.bootstrap, a.repeat)
        compare("40 runs", forty_runs(), "chinchilla", a.bootstrap, a.repeat)
        compare("40 runs", forty_runs(), "kaplan", a.bootstrap, a.repeat)
        if not a.skip_lab:
            lab_callback(a.bootstrap, a.repeat)
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
