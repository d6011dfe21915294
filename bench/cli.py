"""Whole-process timings of the main commands, run as a user runs them (not a test: these machines are noisy).

Each command runs ``--repeat`` times in a fresh process (the first run of each is discarded as a warm-up of
the page cache); the best and median wall times are printed beside a baseline measured in the same run:

- ``python -c pass`` and ``python -c "import numpy"``: the floor any command pays;
- for ``genlab biasvar --degrees 0-29 --datasets 100000 --jobs 2 --json`` (the article's §3), the same
  decomposition done the obvious way, a per-dataset ``np.polyfit`` loop in a fresh process, timed on a
  subset and scaled to 100,000 datasets; the ratio is how much faster the whole genlab process is.

    .venv/bin/python bench/cli.py [--repeat 3] [--only biasvar,fit,...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENLAB = str(Path(sys.executable).with_name("genlab"))

POLYFIT = """
import time, warnings
import numpy as np
t = time.perf_counter()
g = np.random.default_rng(0)
x_test = (np.arange(200) + 0.5) / 200
s1 = np.zeros((30, 200)); s2 = np.zeros((30, 200))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _ in range({n}):
        x = g.uniform(0, 1, 30)
        y = 2 * x ** 2 + 1 + g.normal(0, 0.1, 30)
        for d in range(30):
            h = np.polyval(np.polyfit(x, y, d), x_test)
            s1[d] += h; s2[d] += h * h
"""

COMMANDS = {
    "help": ["--help"],
    "fit": ["fit", "--degree", "3", "--json"],
    "curve": ["curve", "capacity", "--degrees", "0-12", "--json"],
    "biasvar": ["biasvar", "--degrees", "0-29", "--datasets", "100000", "--jobs", "2", "--json"],
    "biasvar-tree": ["biasvar", "--estimator", "sklearn.tree.DecisionTreeRegressor(max_depth=4)",
                     "--datasets", "2000", "--jobs", "2", "--json"],
    "scaling-plan": ["scaling", "plan", "--flops", "1e21", "--json"],
}


def wall(argv, cwd) -> float:
    t = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=dict(os.environ, COLUMNS="120"))
    return time.perf_counter() - t


def timed(argv, repeat: int, cwd) -> tuple[float, float]:
    wall(argv, cwd)                                                   # warm the page cache
    runs = [wall(argv, cwd) for _ in range(repeat)]
    return min(runs), statistics.median(runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=",".join(COMMANDS))
    ap.add_argument("--baseline-datasets", type=int, default=1000)
    args = ap.parse_args()
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = [c for c in only if c not in COMMANDS]
    if unknown:
        sys.exit(f"unknown command {unknown[0]!r}; choose from {', '.join(COMMANDS)}")
    with tempfile.TemporaryDirectory() as cwd:
        py_pass = timed([sys.executable, "-c", "pass"], args.repeat, cwd)
        py_numpy = timed([sys.executable, "-c", "import numpy"], args.repeat, cwd)
        print(f"{'command':<60} {'best s':>8} {'median s':>9}")
        print(f"{'python -c pass':<60} {py_pass[0]:8.2f} {py_pass[1]:9.2f}")
        label = 'python -c "import numpy"'
        print(f"{label:<60} {py_numpy[0]:8.2f} {py_numpy[1]:9.2f}")
        results = {}
        for name in only:
            argv = [GENLAB, *COMMANDS[name]]
            results[name] = timed(argv, args.repeat, cwd)
            shown = "genlab " + " ".join(COMMANDS[name])
            print(f"{shown[:60]:<60} {results[name][0]:8.2f} {results[name][1]:9.2f}")
        if "biasvar" in results:
            n = args.baseline_datasets
            loop = timed([sys.executable, "-c", POLYFIT.format(n=n)], 1, cwd)[0] * 100_000 / n
            best, median = results["biasvar"]
            print(f"\nbaseline: np.polyfit loop in a fresh process, {n:,} datasets scaled to 100,000: {loop:.0f} s")
            print(f"genlab biasvar (whole process) is {loop / median:.0f}x faster (median; best {loop / best:.0f}x); "
                  f"goal: whole process <= 2.5 s, now {median:.2f} s median")


if __name__ == "__main__":
    main()
