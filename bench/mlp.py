"""Throughput of genlab's MLP training loop against a bare torch loop (not a test: machines are noisy).

Both train the same model (same config, same initial weights) on the same
digits split, one thread, in this process, alternating so that drift in the
machine's load hits both: ``genlab.models.mlp.train`` (evaluation every
``--eval-every`` epochs, penalties off) against the shortest loop that takes
the same steps. Prints samples/s of each and the ratio, for full-batch and
mini-batch training at a few widths, and the time of one width-sweep job.

    .venv/bin/python bench/mlp.py [--epochs 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from genlab.models.mlp import MLP, MLPConfig, as_tensors, train  # noqa: E402
from genlab.data.splits import noisy_splits  # noqa: E402


def bare_loop(model, X, y, *, epochs, lr, batch_size, seed) -> float:
    """Samples per second of plain Adam steps on the same model: no evaluation, no checks."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    seen = 0
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen) if batch_size < n else None
        for start in range(0, n, batch_size):
            idx = None if perm is None else perm[start:start + batch_size]
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            _, loss = model(xb, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += xb.shape[0]
    return seen / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--eval-every", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(1)
    s = noisy_splits("digits", n_train=200, n_val=300, label_noise=0.2, seed=0, repeat=0)
    data = {k: s[k] for k in ("train", "val", "test")}
    X, y = as_tensors(data)["train"]
    print(f"torch {torch.__version__}, 1 thread; digits n_train = 200, {args.epochs} epochs, "
          f"evaluation every {args.eval_every} epochs (train + val + test = {X.shape[0] + 300 + s['test'][0].shape[0]}"
          " points); best of repeats")
    print(f"{'width':>6} {'batch':>6} {'genlab samples/s':>17} {'bare samples/s':>15} {'ratio':>6}")
    for width in (16, 48, 512):
        for batch in (200, 32):
            cfg = MLPConfig(width=width, loss="squared")
            ours, bare = [], []
            for r in range(args.repeats):
                m = MLP(cfg, seed=r)
                res = train(m, data, epochs=args.epochs, lr=1e-3, batch_size=batch, eval_every=args.eval_every,
                            seed=r)
                ours.append(res.samples_per_s)
                bare.append(bare_loop(MLP(cfg, seed=r), X, y, epochs=args.epochs, lr=1e-3, batch_size=batch,
                                      seed=r))
            print(f"{width:>6} {batch:>6} {max(ours):>17,.0f} {max(bare):>15,.0f} {max(ours) / max(bare):>6.2f}")
    from genlab.analysis.double_descent.mlp import mlp_job

    config = dict(data="digits", n_train=200, n_val=300, label_noise=0.2, seed=0, repeat=0, width=48, depth=1,
                  dropout=0.0, loss="squared", epochs=2000, lr=1e-3, optimizer="adam", batch_size=None,
                  weight_decay=0.0, l1=0.0, eval_every=40, patience=None)
    t = time.perf_counter()
    out = mlp_job(config, np.random.SeedSequence(0))
    print(f"one width-sweep job (width 48, 2000 full-batch epochs): {time.perf_counter() - t:.2f} s, "
          f"{out['metrics']['samples_per_s']:,.0f} samples/s")


if __name__ == "__main__":
    main()
