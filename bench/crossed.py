"""The crossed data × seed width sweep: the wall time of ``genlab biasvar --model mlp`` with its defaults,
and the speed-up of 2 workers over 1 on a smaller sweep (not a test: machines are noisy).

Each run is a fresh subprocess with a fresh store (nothing resumed); on a shared machine, run it when
nothing else is (a busy neighbour halves what 2 workers can gain). The issue's targets: the default
command within 5 minutes on 2 cores, and 2 workers at least 1.7 times as fast as 1. The article's
crossed sweep (§4.1, ``genlab.article.sections.double_descent.crossed_mlp``) is timed too, full and quick.

    .venv/bin/python bench/crossed.py [--skip-default] [--skip-article] [--device auto|cpu|cuda]

``--device`` goes to every command (default: the command's own, auto); the article's sweep runs on the CPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENLAB = [str(Path(sys.executable).with_name("genlab"))]
#: the sweep of the scaling check: the default ladder's widths up to 512, fewer fits
SCALING = ("--widths", "2-512", "--datasets", "4", "--seeds", "8", "--epochs", "300")
#: a sweep of next to no work: the fixed cost of a run (start-up, workers, the figure), the same for any --jobs
TRIVIAL = ("--widths", "2", "--datasets", "2", "--seeds", "2", "--epochs", "1")


#: options every command gets (``--device`` when given)
EXTRA: list[str] = []


def timed(args, jobs: int) -> float:
    """Seconds of one fresh ``genlab biasvar --model mlp ARGS --jobs JOBS`` (its own output folder and store)."""
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run([*GENLAB, "biasvar", "--model", "mlp", *args, *EXTRA, "--jobs", str(jobs), "--json",
                        "--out", tmp], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return time.perf_counter() - t


def article(quick: bool) -> float:
    """Seconds of §4.1's crossed sweep on 2 workers, fresh store."""
    from genlab.article.sections.double_descent import crossed_mlp

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        crossed_mlp(quick=quick, jobs=2, store=Path(tmp) / "runs.sqlite")
        return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-default", action="store_true")
    ap.add_argument("--skip-article", action="store_true")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"))
    args = ap.parse_args()
    if args.device:
        EXTRA[:] = ["--device", args.device]
    print(f"{os.cpu_count()} cores" + (f", --device {args.device}" if args.device else ""))
    if not args.skip_default:
        t = timed((), 2)
        print(f"default command (widths 2-2048, R = 4, S = 8, 300 epochs, n = 100 digits), 2 workers: {t:.0f} s "
              f"({'within' if t <= 300 else 'OVER'} the 5-minute target)")
    one, two, fixed = timed(SCALING, 1), timed(SCALING, 2), timed(TRIVIAL, 2)
    print(f"{' '.join(SCALING)}: 1 worker {one:.1f} s, 2 workers {two:.1f} s, speed-up {one / two:.2f}x "
          f"(target >= 1.7x); less the fixed cost of a run ({fixed:.1f} s: start-up, workers, figure) "
          f"{(one - fixed) / (two - fixed):.2f}x")
    if not args.skip_article:
        for quick in (True, False):
            print(f"article §4.1 crossed sweep{' (quick)' if quick else ''}, 2 workers: {article(quick):.1f} s")


if __name__ == "__main__":
    main()
