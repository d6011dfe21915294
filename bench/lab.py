"""Latency of the lab's interactions (not a test: these machines are noisy).

Calls the Dash callbacks of ``genlab lab`` in this process, as the server does for a request, and prints the
p50 and p95 wall time of each interaction against the goal of issue 18:

* §2 one fit: the degree slider moves (the capacity curve of the setting is cached): goal 0.3 s;
* §2 capacity curve over 200 datasets: a new setting (a new seed: nothing cached): goal 1 s;
* §3 decomposition of 10,000 datasets x 30 degrees, a new setting each time: goal 1 s;
* §3 100,000 datasets: started as a job, polled to the end (one run): a progress bar, no goal;
* §4.2 ridge slider on the α grid (curves cached), and off the grid (one α's decomposition): goal 0.3 s;
* §4.3 scaling fit with 200 bootstrap resamples, a new seed each time: goal 5 s.

A last line compares the two ways of building a figure of the lab's size (two panels, 400-point curves, a
band, points): the report's plotly objects (``to_dict(figure(...))``, the baseline) and the lab's
``figure_dict``, in this process.

Each figure includes building the page's plotly figures and numbers (what a request returns). The first call
of each interaction is a warm-up (imports, compiled kernels) and is not counted.

    .venv/bin/python bench/lab.py [--repeat 20] [--repeat-slow 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from genlab.lab.app import make_app  # noqa: E402
from genlab.lab.pages import biasvar, overfitting, ridge, scaling  # noqa: E402

PAGES = {m.KEY: m for m in (overfitting, biasvar, ridge, scaling)}


def caller(app, key: str):
    fn = app.genlab["callbacks"][key]
    defaults = {f.name: f.default for f in PAGES[key].FIELDS}
    if key == "scaling":
        defaults["csv"] = scaling.sample()
    special = {"_lang": "en", "_fit": 0, "_uploaded": 0, "_job": None}

    def call(**raw):
        args = [raw[n] if n in raw else special[n] if n in special else defaults[n] for n in fn.arg_names]
        out = dict(zip(fn.output_ids, fn(*args)))
        general = out.get(f"{key}-general.children")
        if general:
            raise RuntimeError(general)
        return out

    return call


def timed(fn, settings) -> list[float]:
    fn(**settings[0])  # warm-up, not counted
    out = []
    for kw in settings[1:]:
        t = time.perf_counter()
        fn(**kw)
        out.append(time.perf_counter() - t)
    return out


def job_seconds(app) -> float:
    call = caller(app, "biasvar")
    poll = app.genlab["callbacks"]["biasvar-poll"]
    values = [{"datasets": 100_000, "seed": 12345}.get(f.name, f.default) for f in biasvar.FIELDS]
    t = time.perf_counter()
    job = call(datasets=100_000, seed=12345)["biasvar-job.data"]
    while True:
        res = poll(1, job, "en", *values)
        if res[-6] is None:
            return time.perf_counter() - t
        time.sleep(0.05)


def figure_ratio(repeat: int) -> tuple[float, float]:
    """Median seconds of ``to_dict(figure(panels))`` and of ``figure_dict(panels)`` for one lab-sized figure."""
    from genlab.article.report.interactive import Panel, Trace, figure, figure_dict, to_dict

    x = np.linspace(0, 1, 400)
    panels = [Panel([Trace("fit", x, np.sin(5 * x)), Trace("band", x, (np.sin(5 * x) - 0.1, np.sin(5 * x) + 0.1),
                                                           kind="band"),
                     Trace("data", x[::20], np.cos(x[::20]), kind="points")], xlabel="x", ylabel="y"),
              Panel([Trace("error", x + 1, x ** 2 + 0.1)], xlabel="α", ylabel="error", logx=True, logy=True)]
    out = []
    for build in (lambda: to_dict(figure(panels)), lambda: figure_dict(panels)):
        out.append(float(np.median(timed(build, [{}] * (repeat + 1)))))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20, help="timed calls of the fast interactions")
    ap.add_argument("--repeat-slow", type=int, default=3, help="timed calls of the scaling fit")
    a = ap.parse_args()
    app = make_app("en")
    fit, bv, rg, sc = (caller(app, k) for k in ("overfitting", "biasvar", "ridge", "scaling"))
    r, slow = a.repeat, a.repeat_slow
    rows = [
        ("§2 one fit (degree slider)", 0.3, timed(fit, [dict(degree=d % 31) for d in range(r + 1)])),
        ("§2 capacity curve, 200 datasets", 1.0, timed(fit, [dict(repeats=200, seed=1000 + i) for i in range(r + 1)])),
        ("§3 10,000 datasets x 30 degrees", 1.0, timed(bv, [dict(datasets=10_000, seed=2000 + i)
                                                           for i in range(r + 1)])),
        ("§4.2 ridge slider, on the α grid", 0.3, timed(rg, [dict(log_alpha=-12 + 0.5 * (i % 29)) for i in range(r + 1)])),
        ("§4.2 ridge slider, off the grid", 0.3, timed(rg, [dict(log_alpha=-11.8 + 0.37 * i) for i in range(r + 1)])),
        ("§4.3 scaling fit, 200 bootstrap", 5.0, timed(sc, [dict(bootstrap=200, seed=3000 + i)
                                                           for i in range(slow + 1)])),
    ]
    print(f"{'interaction':36s} {'calls':>5s} {'p50 s':>8s} {'p95 s':>8s} {'goal s':>7s}  met")
    for name, goal, times in rows:
        p50, p95 = np.percentile(times, [50, 95])
        print(f"{name:36s} {len(times):5d} {p50:8.3f} {p95:8.3f} {goal:7.1f}  {'yes' if p95 <= goal else 'NO'}")
    print(f"{'§3 100,000 datasets (a job, 1 run)':36s} {1:5d} {job_seconds(app):8.3f} {'':8s} {'':7s}  "
          "(progress bar)")
    slow, fast = figure_ratio(r)
    print(f"figure build: plotly objects {slow * 1e3:.1f} ms, figure_dict {fast * 1e3:.1f} ms "
          f"({slow / fast:.1f}x faster)")
    print(f"cores: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}, "
          f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
