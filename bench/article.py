"""Whole-article timings: the sections' sweeps as one plan against the sections one after another.

Each variant runs in a fresh process into a fresh folder (nothing cached), as ``genlab article`` does,
with 2 workers; both give the same report. Not a test: these machines are noisy, so only the ratio
measured in one run means much. Per job function, the summed job seconds say where the work is.

    .venv/bin/python bench/article.py [--full] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

RUN = """
import sys
from genlab.article.build import write
write(sys.argv[1], quick={quick}, jobs=2, planned={planned})
"""


def one(quick: bool, planned: bool) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory(prefix="genlab-bench-article-") as tmp:
        out = Path(tmp) / "report"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", RUN.format(quick=quick, planned=planned), str(out)], check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        con = sqlite3.connect(out / "runs.sqlite")
        work: dict = defaultdict(float)
        for kind, seconds in con.execute("SELECT kind, duration_s FROM jobs WHERE status = 'done'"):
            work[kind.rpartition(":")[2]] += seconds
        con.close()
        json.loads((out / "results.json").read_text())  # a whole report was written
    return wall, dict(work)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the whole article (minutes) instead of --quick")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    quick = not args.full
    rows = []
    for r in range(args.repeat):
        for planned in (False, True):
            wall, work = one(quick, planned)
            rows.append((planned, wall, work))
            top = sorted(work.items(), key=lambda kv: -kv[1])[:4]
            print(f"{'plan' if planned else 'one section after another':>28s}: {wall:6.1f} s wall, "
                  f"{sum(work.values()):6.1f} s of jobs ({', '.join(f'{k} {v:.0f}' for k, v in top)})", flush=True)
    serial = min(w for p, w, _ in rows if not p)
    plan = min(w for p, w, _ in rows if p)
    print(f"genlab article{' --quick' if quick else ''}, 2 workers: plan {plan:.1f} s, one section after another "
          f"{serial:.1f} s: {serial / plan:.2f}x")


if __name__ == "__main__":
    main()
