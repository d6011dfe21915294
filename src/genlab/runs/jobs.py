"""Job functions for :func:`genlab.runs.sweep.run_sweep` that ship with genlab.

:func:`demo_job` is a small deterministic job for trying sweeps (``genlab runs
demo``), for the tests and for ``bench/sweep.py``: its numbers depend only on
its config and its seed, it can take a set time, and it can be told to fail.
"""

from __future__ import annotations

import os
import time

import numpy as np


def demo_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """A deterministic numeric job.

    Parameters
    ----------
    config : dict
        ``x`` (float, default 0): shifts the draws; ``n`` (int, default 256):
        draws; ``steps`` (int, default 20): length of the ``loss`` series;
        ``work`` (int, default 0): rounds of a fixed CPU-bound computation
        (a thousand float operations in plain Python, some 50 µs); ``sleep`` (seconds, default 0): idle time;
        ``fail`` (bool): raise ``RuntimeError``; ``crash`` (bool): end the
        worker process abruptly, as a segfault would.
    seed : numpy.random.SeedSequence
        The job's random stream.

    Returns
    -------
    dict
        ``metrics``: ``mean`` and ``std`` of the draws, ``checksum`` of the
        CPU work; ``series``: ``loss``, a noisy decaying curve.
    """
    rng = np.random.default_rng(seed)
    x = float(config.get("x", 0.0))
    draws = rng.standard_normal(int(config.get("n", 256))) + x
    if config.get("sleep"):
        time.sleep(float(config["sleep"]))
    if config.get("fail"):
        raise RuntimeError(f"demo job told to fail (x = {x})")
    if config.get("crash"):
        os._exit(13)
    checksum = float(draws[0])
    for _ in range(int(config.get("work", 0))):  # plain Python: scales with cores, as a real job's CPU work
        for i in range(1000):
            checksum = (checksum * 1.000001 + i) % 997.0
    steps = int(config.get("steps", 20))
    loss = (1.0 + x * x) * np.exp(-np.arange(steps) / 5.0) + 0.01 * rng.standard_normal(steps)
    return {"metrics": {"mean": float(draws.mean()), "std": float(draws.std(ddof=1)) if draws.size > 1 else 0.0,
                        "checksum": checksum},
            "series": {"loss": loss}}
