"""Throughput of genlab's language-model training loop against a bare torch loop (not a test: machines are noisy).

Both train the same transformer (same config, same initial weights) on the
python corpus with the same batch shape, one thread, in this process,
alternating round by round so that drift in the machine's load hits all:
``genlab.analysis.scaling.lm.train`` (warmup + cosine schedule, gradient clipping, loss
recorded per step, no evaluation until the end) against the same algorithm
written plainly as nanoGPT's train.py does (schedule, clipping, AdamW: the
ratio that measures genlab's own overhead), and against the shortest loop
(no schedule, no clipping: what clipping itself costs a tiny model). Prints tokens/s of each
(median over rounds) and the ratio, for a few sizes; then the wall time of
the quick and the default sweeps of ``genlab scaling train`` (``--sweeps``).

    .venv/bin/python bench/train.py [--steps 100] [--rounds 9] [--sweeps quick,default] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from genlab.data.corpora import load_corpus  # noqa: E402
from genlab.analysis.scaling.lm import BATCH_SIZE, BLOCK_SIZE, default_lr, lr_at, train  # noqa: E402
from genlab.analysis.scaling.sweep import scaling_sweep  # noqa: E402
from genlab.models.transformer import GPT, config_for_size  # noqa: E402


def bare_loop(model, data, *, steps, batch_size, block_size, lr, seed) -> float:
    """Tokens per second of plain AdamW steps on random windows: no schedule, no clipping, no records."""
    opt = model.optimizer(lr)
    gen = torch.Generator().manual_seed(seed)
    offs = torch.arange(block_size + 1)
    high = data.numel() - block_size - 1
    t = time.perf_counter()
    for _ in range(steps):
        ix = torch.randint(high + 1, (batch_size,), generator=gen)
        win = data[ix[:, None] + offs]
        _, loss = model(win[:, :-1], win[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * batch_size * block_size / (time.perf_counter() - t)


def nanogpt_loop(model, data, *, steps, batch_size, block_size, lr, seed) -> float:
    """The same algorithm as genlab's step, written plainly as nanoGPT's train.py does: the learning rate
    set every step (warmup + cosine), gradients clipped at 1.0, AdamW. Nothing recorded."""
    opt = model.optimizer(lr)
    params = list(model.parameters())
    gen = torch.Generator().manual_seed(seed)
    offs = torch.arange(block_size + 1)
    high = data.numel() - block_size - 1
    warmup = max(1, min(100, steps // 10))
    t = time.perf_counter()
    for step in range(steps):
        rate = lr_at(step, steps=steps, warmup=warmup, lr=lr, min_lr=lr / 10)
        for group in opt.param_groups:
            group["lr"] = rate
        ix = torch.randint(high + 1, (batch_size,), generator=gen)
        win = data[ix[:, None] + offs]
        _, loss = model(win[:, :-1], win[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0, foreach=True)
        opt.step()
    return steps * batch_size * block_size / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--sizes", default="1e3,1.6e4,2.5e5")
    ap.add_argument("--sweeps", default="quick", help="comma-separated: quick, default (or none)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    corpus = load_corpus("python")
    data = torch.as_tensor(corpus.train)
    B, T = BATCH_SIZE, BLOCK_SIZE
    print(f"torch {torch.__version__}, 1 thread; python corpus, batch {B} x {T} tokens, {args.steps} steps per "
          f"round, {args.rounds} rounds alternating, medians")
    print(f"{'N':>9} {'genlab tok/s':>13} {'end-to-end':>11} {'nanoGPT-style':>14} {'ratio':>6} "
          f"{'bare (no clip, no schedule)':>28} {'ratio':>6}")
    for size in (float(s) for s in args.sizes.split(",")):
        cfg = config_for_size(size, vocab_size=corpus.vocab_size, block_size=T)
        ours, ours_wall, nano, bare = [], [], [], []
        for r in range(args.rounds):
            m = GPT(cfg, seed=r)
            lr = default_lr(m.n_params())
            run = train(cfg, corpus, tokens=args.steps * B * T, batch_size=B, lr=lr, seed=r, device="cpu",
                        n_evals=0, eval_batches=1, model=m)
            ours.append(run.tokens_per_s)
            ours_wall.append(run.tokens / run.wall_s)
            kw = dict(steps=args.steps, batch_size=B, block_size=T, lr=lr, seed=r)
            nano.append(nanogpt_loop(GPT(cfg, seed=r), data, **kw))
            bare.append(bare_loop(GPT(cfg, seed=r), data, **kw))
        o, ow = statistics.median(ours), statistics.median(ours_wall)
        n, b = statistics.median(nano), statistics.median(bare)
        print(f"{run.n_params:>9,} {o:>13,.0f} {ow:>11,.0f} {n:>14,.0f} {o / n:>6.2f} {b:>28,.0f} {o / b:>6.2f}")
    for name in [s for s in args.sweeps.split(",") if s and s != "none"]:
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            res = scaling_sweep(quick=(name == "quick"), store=Path(d) / "runs.sqlite", jobs=args.jobs)
            wall = time.perf_counter() - t
        fr = res.to_frame()
        print(f"{name} sweep: {len(fr)} runs ({fr['N'].nunique()} sizes x {fr['D'].nunique()} budgets) in "
              f"{wall:.1f} s wall on {args.jobs} workers; sum of job times {fr['wall_s'].sum():.1f} s, longest "
              f"{fr['wall_s'].max():.1f} s")


if __name__ == "__main__":
    main()
