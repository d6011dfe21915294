"""Training small language models, and sweeps of them for scaling laws (§4.3).

:func:`train` is nanoGPT's ``train.py`` as a function: AdamW (betas 0.9, 0.95;
weight decay on the 2-D weights only), a linear warmup then a cosine decay to
``min_lr`` that ends exactly when the token budget D has been seen
(:func:`lr_at`), gradient clipping at norm 1, random training windows from a
seeded generator, and the validation loss (nats per token) on a fixed set of
windows evenly spaced over the held-out tail (the same windows for every run,
so runs are compared on the same text). It returns a :class:`LMRun`.

:func:`lm_job` is the job function of :func:`genlab.runs.execute.sweep`, and
:func:`scaling_sweep` runs model sizes × token budgets through it (resumable
with a store, parallel with ``jobs`` or Dask) into a :class:`ScalingSweep`:
one row per run with N (non-embedding parameters), D (tokens), C = 6ND and
the final validation loss, ready for :func:`genlab.analysis.scaling.laws.fit`, and the
figures of the section: Kaplan's L(N) (the article's Fig. 15,
:func:`plot_kaplan`), our measured L(N) with its fitted law, the loss curves,
iso-FLOP curves and the compute-optimal frontier beside Chinchilla's and
Kaplan's.

Within a sweep, the runs of one model size share their initialization and
their stream of training windows (seeded by the sweep seed and the size): the
runs at different budgets differ only by the length of their schedule, so
the D-direction of the grid is paired.

torch is imported inside the functions that train; ``import genlab.analysis.scaling.lm`` does not import it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ...core.checks import check_int, check_positive
from ...core.errors import GenlabError
from ...core.seeding import check_seed, seed_sequence

#: Non-embedding sizes of the default sweep (the ladder of :func:`genlab.models.transformer.size_ladder`).
SIZES = (1e3, 4e3, 1.6e4, 6.4e4, 2.5e5, 1e6)
#: Token budgets of the default sweep.
#: (Budgets span 30x so that, with sizes 4x apart, every compute level in the middle of the
#: grid is reached by at least three sizes: the iso-FLOP curves need them.)
TOKENS = (3e4, 1e5, 3e5, 1e6)
QUICK_SIZES = (1e3, 4e3, 1.6e4, 6.4e4, 2.5e5)
QUICK_TOKENS = (1e4, 3e4, 1e5, 3e5)
BATCH_SIZE = 8          # sequences per step
BLOCK_SIZE = 64         # tokens per sequence (the context)
EVAL_BATCHES = 8        # validation windows: EVAL_BATCHES * BATCH_SIZE windows of BLOCK_SIZE tokens
MIN_STEPS = 10          # the smallest sensible run: fewer optimizer steps than this is an error
N_EVALS = 8             # validation losses recorded along a run (besides the last)
DEVICES = ("auto", "cpu", "cuda")


def default_lr(n_params: float) -> float:
    """Peak learning rate for a model of ``n_params`` non-embedding parameters.

    Kaplan et al. (2020, eq. D.1) found LR(N) ≈ 0.003239 − 0.0001395 ln N good for
    their 250k-step runs; our runs are 100–1000x shorter, for which a rate 3x as
    large trains better (measured on the python corpus: see ``bench/train.py``).
    """
    return 3.0 * max(0.003239 - 0.0001395 * math.log(max(n_params, 1.0)), 5e-4)


def lr_at(step: int, *, steps: int, warmup: int, lr: float, min_lr: float) -> float:
    """The learning rate of optimizer step ``step`` (0-based) of ``steps``.

    Linear warmup from lr/warmup to lr over the first ``warmup`` steps, then a
    cosine from lr to ``min_lr``, which the last step (``steps - 1``) reaches
    exactly: the schedule ends when the token budget does.
    """
    if step < warmup:
        return lr * (step + 1) / warmup
    span = steps - 1 - warmup
    if span <= 0:
        return min_lr if step >= steps - 1 and steps > warmup else lr
    progress = min(1.0, (step - warmup) / span)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


def resolve_device(device: str = "auto") -> str:
    """``"cuda"`` when asked for (or available, with ``"auto"``), else ``"cpu"``."""
    if device not in DEVICES:
        raise GenlabError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise GenlabError("device cuda asked for but torch sees no CUDA device; use --device cpu or auto")
    return "cpu"


def check_budget(tokens, *, batch_size: int, block_size: int) -> int:
    """The number of optimizer steps for ``tokens``, or an error below :data:`MIN_STEPS`."""
    tokens = check_positive(tokens, "token budget")
    per_step = batch_size * block_size
    steps = int(round(tokens / per_step))
    if steps < MIN_STEPS:
        raise GenlabError(f"token budget {tokens:g} is below the smallest sensible run ({MIN_STEPS} steps of "
                          f"{batch_size} x {block_size} tokens = {MIN_STEPS * per_step}); give at least "
                          f"{MIN_STEPS * per_step} tokens")
    return steps


# --------------------------------------------------------------------------- one run

@dataclass
class LMRun:
    """What :func:`train` measured.

    Attributes
    ----------
    n_params, n_params_total : int
        Non-embedding (Kaplan's N) and all parameters.
    tokens : int
        Tokens seen in training, D = steps × batch_size × block_size.
    steps : int
    flops : float
        6·N·D.
    val_loss : float
        Final validation loss, nats per token.
    train_loss : ndarray of shape (steps,)
        The loss of each training batch (before its step).
    lr : ndarray of shape (steps,)
    eval_steps, eval_loss : ndarray of shape (n_evals,)
        Steps done (0 = initialization) and validation loss at each evaluation.
    wall_s : float
        The whole call, evaluations included.
    tokens_per_s : float
        Training tokens per second of the training steps alone.
    """

    n_params: int
    n_params_total: int
    tokens: int
    steps: int
    flops: float
    val_loss: float
    train_loss: np.ndarray
    lr: np.ndarray
    eval_steps: np.ndarray
    eval_loss: np.ndarray
    wall_s: float
    tokens_per_s: float
    device: str
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}

    def plot(self, ax=None):
        """Training loss per step (light) and validation loss at the evaluations, against tokens seen."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        per = self.tokens / self.steps
        ax.plot((np.arange(self.steps) + 1) * per, self.train_loss, color="tab:blue", alpha=0.4, lw=0.8,
                label="training batches")
        ax.plot(self.eval_steps * per, self.eval_loss, "o-", color="tab:orange", ms=3, label="validation")
        ax.set_xlabel("tokens seen")
        ax.set_ylabel("loss (nats/token)")
        ax.legend(fontsize="small")
        return ax


def _windows(n: int, block_size: int, count: int) -> np.ndarray:
    """``count`` start positions evenly spaced over a text of ``n`` tokens (deterministic)."""
    last = n - block_size - 1
    if last < 0:
        raise GenlabError(f"the text has {n} tokens, fewer than block_size + 1 = {block_size + 1}; "
                          "lower block_size or give more text")
    return np.linspace(0, last, count).round().astype(np.int64)


def evaluate(model, data, *, block_size: int, batch_size: int = BATCH_SIZE, n_batches: int = EVAL_BATCHES) -> float:
    """Mean validation loss (nats per token) over ``n_batches`` batches of fixed windows of ``data``.

    Parameters
    ----------
    model : GPT
    data : LongTensor of shape (n,)
        Token ids (on the model's device).
    """
    import torch

    starts = torch.as_tensor(_windows(int(data.numel()), block_size, n_batches * batch_size), device=data.device)
    offs = torch.arange(block_size + 1, device=data.device)
    was = model.training
    model.eval()
    total = torch.zeros((), device=data.device, dtype=torch.float64)
    with torch.no_grad():
        for b in range(n_batches):
            win = data[starts[b * batch_size:(b + 1) * batch_size, None] + offs]     # (B, T + 1)
            _, loss = model(win[:, :-1], win[:, 1:])
            total += loss.double()
    model.train(was)
    return float(total) / n_batches


def eval_floor(corpus, *, block_size: int = BLOCK_SIZE, batch_size: int = BATCH_SIZE,
               n_batches: int = EVAL_BATCHES) -> tuple[float, float, int]:
    """The true chain's loss on exactly the held-out tokens :func:`evaluate` scores (Markov corpora).

    Every run is scored on the same few thousand tokens, so their sampling error is
    common to all runs and invisible to a bootstrap over runs: the measured losses,
    and an E fitted to them, should be compared with this number rather than with
    the entropy rate H. Returns (mean nats/token, its standard error as an estimate of
    H, number of tokens).
    """
    from ...data.corpora import load_corpus

    c = load_corpus(corpus)
    if c.chain is None:
        raise GenlabError(f"corpus {c.name!r} has no known chain; the floor is known for a Markov corpus only")
    starts = _windows(int(c.val.size), block_size, n_batches * batch_size)
    nll = np.concatenate([c.chain.nll(c.val[s:s + block_size + 1]) for s in starts])
    return float(nll.mean()), float(nll.std(ddof=1) / math.sqrt(nll.size)), int(nll.size)


def train(config, corpus, *, tokens: float, batch_size: int = BATCH_SIZE, lr: float | None = None,
          min_lr: float | None = None, warmup: int | None = None, weight_decay: float = 0.1,
          grad_clip: float = 1.0, eval_batches: int = EVAL_BATCHES, n_evals: int = N_EVALS, seed: int = 0,
          device: str = "auto", model=None) -> LMRun:
    """Train a :class:`~genlab.models.transformer.GPT` on ``corpus`` for ``tokens`` tokens.

    Parameters
    ----------
    config : GPTConfig
        Its ``vocab_size`` must be the corpus's; its ``block_size`` is the context.
    corpus : Corpus or str
        A :class:`genlab.data.corpora.Corpus`, or what :func:`genlab.data.corpora.load_corpus` takes.
    tokens : float
        The budget D: ``round(D / (batch_size · block_size))`` steps are taken.
    batch_size : int
        Sequences per step.
    lr : float, optional
        Peak learning rate (default :func:`default_lr` of the model's N).
    min_lr : float, optional
        Where the cosine ends (default lr / 10).
    warmup : int, optional
        Warmup steps (default: a tenth of the steps, at most 100).
    weight_decay : float
        AdamW's, on the 2-D weights only.
    grad_clip : float
        Maximum gradient norm (0: no clipping).
    eval_batches : int
        Batches of the fixed validation windows.
    n_evals : int
        Evaluations spread over the run besides the one at initialization (step 0) and the
        final one (0: only the final one).
    seed : int
        Seeds the initialization and the training windows: same seed, same run
        (bitwise on the CPU).
    device : {"auto", "cpu", "cuda"}
        On the CPU, torch is set to one thread (``torch.set_num_threads(1)``, the
        project's rule: oversubscribed threads on small machines are many times slower).
    model : GPT, optional
        Train this model (in place) instead of a fresh one seeded by ``seed``.

    Returns
    -------
    LMRun
    """
    import torch

    from ...data.corpora import load_corpus
    from ...models.transformer import GPT, GPTConfig

    t_start = time.perf_counter()
    corpus = load_corpus(corpus)
    if not isinstance(config, GPTConfig):
        raise GenlabError(f"config must be a GPTConfig, got {type(config).__name__}")
    if config.vocab_size != corpus.vocab_size:
        raise GenlabError(f"the model's vocab_size {config.vocab_size} is not the corpus's {corpus.vocab_size}")
    batch_size = check_int(batch_size, "batch_size")
    T = config.block_size
    steps = check_budget(tokens, batch_size=batch_size, block_size=T)
    eval_batches = check_int(eval_batches, "eval_batches")
    n_evals = check_int(n_evals, "n_evals", 0)
    seed = check_seed(seed)
    grad_clip = float(grad_clip)
    dev = resolve_device(device)
    _windows(corpus.train.size, T, 1), _windows(corpus.val.size, T, 1)   # texts long enough for a window
    if torch.get_num_threads() != 1 and dev == "cpu":
        torch.set_num_threads(1)   # one thread per process (see the design notes)

    model = GPT(config, seed=seed) if model is None else model
    model.to(dev)
    N = model.n_params(non_embedding=True)
    lr = default_lr(N) if lr is None else check_positive(lr, "lr")
    min_lr = lr / 10 if min_lr is None else float(min_lr)
    warmup = max(1, min(100, steps // 10)) if warmup is None else check_int(warmup, "warmup", 0)
    opt = model.optimizer(lr, weight_decay=weight_decay)

    train_data = torch.as_tensor(corpus.train, device=dev)
    val_data = torch.as_tensor(corpus.val, device=dev)
    offs = torch.arange(T + 1, device=dev)
    high = corpus.train.size - T - 1
    gen = torch.Generator(device="cpu").manual_seed(seed)
    eval_at = set(np.unique(np.linspace(0, steps, n_evals + 2).round().astype(int)[:-1]).tolist()) if n_evals else set()
    eval_steps, eval_loss = [], []
    losses = torch.empty(steps, device=dev)
    lrs = np.empty(steps)
    params = [p for p in model.parameters()]
    model.train()
    t_steps = 0.0
    for step in range(steps):
        if step in eval_at:
            eval_steps.append(step)
            eval_loss.append(evaluate(model, val_data, block_size=T, batch_size=batch_size, n_batches=eval_batches))
        t0 = time.perf_counter()
        rate = lr_at(step, steps=steps, warmup=warmup, lr=lr, min_lr=min_lr)
        for group in opt.param_groups:
            group["lr"] = rate
        lrs[step] = rate
        ix = torch.randint(high + 1, (batch_size,), generator=gen).to(dev, non_blocking=True)
        win = train_data[ix[:, None] + offs]                                # (B, T + 1)
        _, loss = model(win[:, :-1], win[:, 1:])
        losses[step] = loss.detach()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, grad_clip, foreach=True)
        opt.step()
        t_steps += time.perf_counter() - t0
    if dev == "cuda":                       # the steps run asynchronously: count until they are done
        t0 = time.perf_counter()
        torch.cuda.synchronize()
        t_steps += time.perf_counter() - t0
    final = evaluate(model, val_data, block_size=T, batch_size=batch_size, n_batches=eval_batches)
    eval_steps.append(steps)
    eval_loss.append(final)
    train_loss = losses.cpu().numpy().astype(np.float64)
    if not (math.isfinite(final) and np.isfinite(train_loss).all()):
        raise GenlabError(f"training diverged (the loss is not finite); lower lr (it was {lr:g})")
    D = steps * batch_size * T
    settings = {"model": config.to_dict(), "batch_size": batch_size, "lr": lr, "min_lr": min_lr, "warmup": warmup,
                "weight_decay": weight_decay, "grad_clip": grad_clip, "eval_batches": eval_batches, "seed": seed,
                "corpus": corpus.name}
    return LMRun(N, model.n_params(non_embedding=False), D, steps, 6.0 * N * D, final, train_loss, lrs,
                 np.asarray(eval_steps, dtype=np.int64), np.asarray(eval_loss, dtype=np.float64),
                 time.perf_counter() - t_start, D / t_steps if t_steps > 0 else math.nan, dev, settings)


# --------------------------------------------------------------------------- the job and the sweep

def _run_seed(seed: int, n_layer: int, n_embd: int, repeat: int) -> int:
    """The torch seed of a model size in a sweep: shared by the runs of that size at every budget."""
    s = seed_sequence(seed, "lm", n_layer, n_embd, repeat)
    return int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def lm_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """Train one language model (a job of :func:`genlab.runs.execute.sweep`).

    Parameters
    ----------
    config : dict
        ``corpus`` (a spec of :func:`genlab.data.corpora.load_corpus`), ``model`` (the
        fields of :class:`GPTConfig`), ``tokens``, ``batch_size``, ``lr`` (None:
        :func:`default_lr`), ``eval_batches``, ``n_evals``, ``device``, ``seed`` and
        ``repeat`` (with the model's shape they seed the run; the job's own
        ``seed`` argument is not used, so that a size's runs at every budget
        share their initialization and data order).

    Returns
    -------
    dict
        ``metrics``: ``N``, ``N_total``, ``D``, ``C`` (6ND), ``loss`` (final
        validation loss), ``train_loss`` (mean of the last tenth of the batches),
        ``steps``, ``lr``, ``wall_s``, ``tokens_per_s``; ``series``:
        ``train_loss`` (per step), ``eval_steps``, ``eval_loss``.
    """
    import torch

    from ...models.transformer import GPTConfig

    torch.set_num_threads(1)
    c = config
    mc = GPTConfig(**c["model"])
    s = _run_seed(c["seed"], mc.n_layer, mc.n_embd, c.get("repeat", 0))
    run = train(mc, c["corpus"], tokens=c["tokens"], batch_size=c["batch_size"], lr=c.get("lr"),
                eval_batches=c["eval_batches"], n_evals=c["n_evals"], seed=s, device=c.get("device", "cpu"))
    tail = run.train_loss[-max(1, run.steps // 10):]
    metrics = {"N": run.n_params, "N_total": run.n_params_total, "D": run.tokens, "C": run.flops,
               "loss": run.val_loss, "train_loss": float(tail.mean()), "steps": run.steps,
               "lr": run.settings["lr"], "wall_s": run.wall_s, "tokens_per_s": run.tokens_per_s}
    return {"metrics": metrics,
            "series": {"train_loss": run.train_loss, "eval_steps": run.eval_steps, "eval_loss": run.eval_loss}}


def _check_list(values, what: str) -> list[float]:
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        values = [values]
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise GenlabError(f"{what} must be numbers > 0, got {values!r}") from None
    if not out or any(not (math.isfinite(v) and v > 0) for v in out):
        raise GenlabError(f"{what} must be numbers > 0, got {values!r}")
    if len(set(out)) != len(out):
        raise GenlabError(f"{what} repeat a value: {values!r}")
    return sorted(out)


def plan_sweep(sizes=None, token_budgets=None, *, corpus="python", quick: bool = False,
               batch_size: int = BATCH_SIZE, block_size: int = BLOCK_SIZE, lr: float | None = None,
               eval_batches: int = EVAL_BATCHES, n_evals: int = N_EVALS, repeats: int = 1,
               device: str = "auto", seed: int = 0) -> list[dict]:
    """The job configs of :func:`scaling_sweep` (checked; largest runs first, so that the
    longest jobs start first and the sweep's wall time is near the longest job's)."""
    from ...data.corpora import corpus_spec, load_corpus
    from ...models.transformer import size_ladder

    sizes = _check_list(sizes if sizes is not None else (QUICK_SIZES if quick else SIZES), "model sizes")
    budgets = _check_list(token_budgets if token_budgets is not None else (QUICK_TOKENS if quick else TOKENS),
                          "token budgets")
    batch_size = check_int(batch_size, "batch_size")
    block_size = check_int(block_size, "block_size", 2)
    for b in budgets:
        check_budget(b, batch_size=batch_size, block_size=block_size)
    if lr is not None:
        lr = check_positive(lr, "lr")
    repeats = check_int(repeats, "repeats")
    seed = check_seed(seed)
    spec = corpus_spec(corpus)
    c = load_corpus(spec)
    _windows(c.val.size, block_size, 1)
    dev = resolve_device(device)
    models = size_ladder(sizes, vocab_size=c.vocab_size, block_size=block_size)
    base = {"corpus": spec, "batch_size": batch_size, "lr": lr, "eval_batches": check_int(eval_batches, "eval_batches"),
            "n_evals": check_int(n_evals, "n_evals", 0), "device": dev, "seed": seed}
    configs = [dict(base, model=m.to_dict(), target=s, tokens=b, repeat=r)
               for r in range(repeats) for s, m in zip(sizes, models) for b in budgets]
    from ...models.transformer import non_embedding_params

    return sorted(configs, key=lambda k: -non_embedding_params(k["model"]["n_layer"], k["model"]["n_embd"])
                  * k["tokens"])


def scaling_sweep(sizes=None, token_budgets=None, *, corpus="python", quick: bool = False,
                  batch_size: int = BATCH_SIZE, block_size: int = BLOCK_SIZE, lr: float | None = None,
                  eval_batches: int = EVAL_BATCHES, n_evals: int = N_EVALS, repeats: int = 1,
                  device: str = "auto", store=None, seed: int = 0, jobs: int | None = None, dask=None,
                  progress: bool = False) -> "ScalingSweep":
    """Train every model size on every token budget; the runs of a scaling law.

    Parameters
    ----------
    sizes : sequence of float, optional
        Target non-embedding parameter counts; each becomes the nearest transformer
        of the ladder (:func:`genlab.models.transformer.config_for_size`). Default
        :data:`SIZES` (1e3 to 1e6), or :data:`QUICK_SIZES` with ``quick``.
    token_budgets : sequence of float, optional
        Training tokens D of each run. Default :data:`TOKENS`, or :data:`QUICK_TOKENS`.
    corpus : str, Path, dict or Corpus
        ``"python"`` (Python's bundled docs), ``"markov"`` (known entropy rate), a text file.
    quick : bool
        The small defaults (about a minute on 2 cores).
    batch_size, block_size, lr, eval_batches, n_evals
        As in :func:`train` (``block_size`` is the models' context).
    repeats : int
        Seeds per (size, budget).
    device : {"auto", "cpu", "cuda"}
    store, seed, jobs, dask, progress
        As in :func:`genlab.runs.execute.sweep`; with a store, a second call runs no new job.

    Returns
    -------
    ScalingSweep
    """
    from ...data.corpora import load_corpus
    from ...runs.execute import sweep

    configs = plan_sweep(sizes, token_budgets, corpus=corpus, quick=quick, batch_size=batch_size,
                         block_size=block_size, lr=lr, eval_batches=eval_batches, n_evals=n_evals, repeats=repeats,
                         device=device, seed=seed)
    res = sweep(lm_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress)
    c = load_corpus(configs[0]["corpus"])
    rows, curves = [], []
    for cfg, rec in zip(configs, res.records):
        m, s = rec["metrics"], rec["series"]
        rows.append({"target": cfg["target"], "N": m["N"], "N_total": m["N_total"], "D": m["D"], "C": m["C"],
                     "loss": m["loss"], "train_loss": m["train_loss"], "steps": m["steps"], "lr": m["lr"],
                     "n_layer": cfg["model"]["n_layer"], "n_embd": cfg["model"]["n_embd"],
                     "n_head": cfg["model"]["n_head"], "seed": cfg["seed"], "repeat": cfg["repeat"],
                     "wall_s": m["wall_s"], "tokens_per_s": m["tokens_per_s"], "job": rec["id"]})
        curves.append({k: np.asarray(s[k]) for k in ("train_loss", "eval_steps", "eval_loss")})
    import pandas as pd

    frame = pd.DataFrame(rows)
    order = np.lexsort((frame["repeat"].to_numpy(), frame["D"].to_numpy(), frame["N"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    curves = [curves[i] for i in order]
    config = {"sizes": sorted({float(k["target"]) for k in configs}), "token_budgets": sorted({float(k["tokens"]) for k in configs}),
              "batch_size": batch_size, "block_size": block_size, "lr": lr, "repeats": repeats, "seed": seed,
              "device": configs[0]["device"], "quick": quick, "corpus": configs[0]["corpus"]}
    return ScalingSweep(frame, curves, c.to_dict(), config, res.elapsed_s, res.n_ran, res.n_cached)


# --------------------------------------------------------------------------- the result

def plot_kaplan(ax=None, *, n_range=(1e3, 1e12), measured=None):
    """The article's Fig. 15: Kaplan et al.'s L(N) = (N_c/N)^α_N (α_N = 0.076, N_c = 8.8e13) on
    semi-log axes (log N), with GPT-2 (1.5e9) and, off the fit's range, GPT-3 (1.75e11) marked;
    ``measured``, a (N, loss) pair of arrays, adds points."""
    from ...plots.helpers import axes
    from .laws import preset

    law = preset("kaplan_N")
    ax = axes(ax, (6.4, 4.2))
    grid = np.geomspace(n_range[0], n_range[1], 200)
    p = law.params
    ax.plot(grid, law.predict(N=grid), color="tab:blue", lw=1.8,
            label=f"Kaplan et al. 2020: L = ({p['N_c']:.2g}/N)^{p['alpha']:g}")
    ax.axvspan(n_range[0], 1.5e9, color="0.92", lw=0, zorder=0, label="range they measured (≤ 1.5e9)")
    for n, name in ((1.5e9, "GPT-2"), (1.75e11, "GPT-3")):
        ax.plot([n], [law.predict(N=n)], "o", color="tab:red", ms=4)
        ax.annotate(name, (n, law.predict(N=n)), textcoords="offset points", xytext=(4, 4), fontsize="small")
    if measured is not None:
        ax.scatter(*measured, color="k", s=12, zorder=3, label="our runs")
    ax.set_xscale("log")
    ax.set_xlabel("non-embedding parameters N (log scale)")
    ax.set_ylabel("test loss L(N) (nats/token)")
    ax.set_title("Fig. 15 — L(N) = (N_c/N)^α_N", fontsize="small")
    ax.legend(fontsize="small")
    return ax


def _interp_isoflop(frame, C: float) -> tuple[np.ndarray, np.ndarray]:
    """(N, loss) at compute C for every size whose budgets bracket D = C / 6N, interpolated
    linearly in (log D, log loss) between the size's runs."""
    Ns, Ls = [], []
    for n, g in frame.groupby("N"):
        g = g.groupby("D")["loss"].mean()
        d = C / (6.0 * n)
        D = g.index.to_numpy(dtype=float)
        if len(D) < 2 or not (D.min() <= d * (1 + 1e-9) and d <= D.max() * (1 + 1e-9)):
            continue
        Ns.append(float(n))
        Ls.append(float(np.exp(np.interp(np.log(d), np.log(D), np.log(g.to_numpy(dtype=float))))))
    return np.asarray(Ns), np.asarray(Ls)


@dataclass
class ScalingSweep:
    """Runs of model sizes × token budgets, and the scaling laws they give.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per run: ``N`` (non-embedding parameters), ``N_total``, ``D`` (tokens),
        ``C`` (6ND), ``loss`` (final validation loss, nats/token), ``train_loss``,
        ``n_layer``, ``n_embd``, ``n_head``, ``steps``, ``lr``, ``wall_s``, ``tokens_per_s``, …
    curves : list of dict
        Per row: ``train_loss`` (per step), ``eval_steps``, ``eval_loss``.
    corpus : dict
        The corpus (name, vocab size, sizes, entropy rate when known).
    """

    frame: object
    curves: list
    corpus: dict
    config: dict
    elapsed_s: float = math.nan
    n_ran: int = 0
    n_cached: int = 0

    def to_frame(self):
        return self.frame.copy()

    summary = to_frame

    @property
    def entropy_rate(self):
        return self.corpus.get("entropy_rate")

    def fit(self, form: str = "chinchilla", *, bootstrap: int = 200, seed: int = 0, **kwargs):
        """:func:`genlab.analysis.scaling.laws.fit` on every run (``chinchilla``, ``kaplan``, ``power_D``, …)."""
        from .laws import fit, get_form

        f = get_form(form)
        if f.variables == ("N",):
            return self.fit_size(form, bootstrap=bootstrap, seed=seed, **kwargs)
        fr = self.frame
        return fit(fr["N"], fr["D"], fr["loss"], f.name, C=fr["C"], seeds=fr["repeat"], bootstrap=bootstrap,
                   seed=seed, **kwargs)

    def size_curve(self, budget=None):
        """(N, loss) at one budget (default the largest), the loss averaged over repeats."""
        fr = self.frame
        budget = fr["D"].max() if budget is None else budget
        g = fr[np.isclose(fr["D"], budget)].groupby("N")["loss"].mean()
        if g.empty:
            raise GenlabError(f"no runs at budget {budget:g}; the budgets are {sorted(set(fr['D']))}")
        return g.index.to_numpy(dtype=float), g.to_numpy(dtype=float)

    def fit_size(self, form: str = "power_N", *, budget=None, bootstrap: int = 200, seed: int = 0, **kwargs):
        """L(N) at the largest budget (or ``budget``), fitted with ``power_N`` (Kaplan's
        (N_c/N)^α) or ``saturating`` (E + A N^−α)."""
        from .laws import fit

        N, L = self.size_curve(budget)
        return fit(N, None, L, form, bootstrap=bootstrap, seed=seed, **kwargs)

    def isoflops(self, n: int = 5):
        """Iso-FLOP curves: ``{C: (N, loss)}`` at ``n`` compute levels spread (in log) over those
        the grid covers with at least 3 sizes, interpolated between each size's budgets."""
        fr = self.frame
        lo = (6.0 * fr.groupby("N")["D"].min() * fr.groupby("N")["D"].min().index).to_numpy()
        hi = (6.0 * fr.groupby("N")["D"].max() * fr.groupby("N")["D"].max().index).to_numpy()
        cands = np.geomspace(lo.min(), hi.max(), 60)
        ok = [c for c in cands if len(_interp_isoflop(fr, c)[0]) >= 3]
        if not ok:
            return {}
        levels = np.geomspace(ok[0], ok[-1], n) if len(ok) > 1 else np.array(ok)
        return {float(c): _interp_isoflop(fr, c) for c in levels}

    def frontier(self):
        """The measured compute-optimal frontier: ``(C, N*)`` from the minimum of each iso-FLOP
        curve (at ~30 compute levels; minima at an end of a curve are left out)."""
        out_c, out_n = [], []
        for C, (N, L) in self.isoflops(30).items():
            if len(N) >= 3:
                i = int(np.argmin(L))
                if 0 < i < len(N) - 1:
                    out_c.append(C)
                    out_n.append(N[i])
        return np.asarray(out_c), np.asarray(out_n)

    def to_dict(self) -> dict:
        return {"corpus": self.corpus, "config": self.config, "elapsed_s": self.elapsed_s, "n_ran": self.n_ran,
                "n_cached": self.n_cached, "runs": self.frame.to_dict(orient="records")}

    # -- figures

    def plot_size(self, ax=None, fit=None, *, budget=None):
        """Measured L(N) at the largest budget with the fitted law (``fit``: a power_N or
        saturating fit; default fitted here) and its 95% bootstrap band, on log axes."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        fit = fit if fit is not None else self.fit_size(budget=budget, bootstrap=100)
        N, L = self.size_curve(budget)
        grid = np.geomspace(N.min() / 1.5, N.max() * 1.5, 100)
        ax.scatter(N, L, color="k", s=18, zorder=3, label=f"our runs, D = {self.frame['D'].max() if budget is None else budget:.3g}")
        p = fit.params
        al = p["alpha"]
        iv = fit.intervals.get("alpha")
        lab = f"fit: {fit.form.formula}, α = {al:.3f}" + (f" [{iv[0]:.3f}, {iv[1]:.3f}]" if iv else "")
        ax.plot(grid, fit.predict(N=grid), color="tab:red", lw=1.6, label=lab)
        if len(fit.boot_params):
            lo, hi = fit.band(N=grid)
            ax.fill_between(grid, lo, hi, color="tab:red", alpha=0.2, lw=0, label="95% bootstrap band")
        if self.entropy_rate:
            ax.axhline(self.entropy_rate, color="0.4", ls=":", label=f"entropy rate {self.entropy_rate:.3f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        from matplotlib.ticker import FuncFormatter

        plain = FuncFormatter(lambda v, _: f"{v:.3g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.set_xlabel("non-embedding parameters N")
        ax.set_ylabel("validation loss (nats/token, log scale)")
        ax.set_title(f"measured L(N), {self.corpus.get('name', '')} corpus", fontsize="small")
        ax.legend(fontsize="small")
        return ax

    plot = plot_size

    def plot_curves(self, ax=None, *, budget=None):
        """Validation loss against tokens seen for each size, at the largest budget (or ``budget``)."""
        import matplotlib.pyplot as plt

        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        fr = self.frame
        budget = fr["D"].max() if budget is None else budget
        rows = [i for i in range(len(fr)) if np.isclose(fr["D"].iloc[i], budget) and fr["repeat"].iloc[i] == 0]
        cmap = plt.get_cmap("viridis")
        for k, i in enumerate(rows):
            r, cv = fr.iloc[i], self.curves[i]
            color = cmap(k / max(1, len(rows) - 1))
            per = r["D"] / r["steps"]
            tr = cv["train_loss"]
            w = max(1, len(tr) // 50)
            smooth = np.convolve(tr, np.ones(w) / w, mode="valid")
            ax.plot((np.arange(smooth.size) + w) * per, smooth, color=color, lw=0.8, alpha=0.45)
            ax.plot(np.maximum(cv["eval_steps"], 1) * per, cv["eval_loss"], "o-", color=color, ms=2.5, lw=1.3,
                    label=f"N = {int(r['N']):,}")
        if self.entropy_rate:
            ax.axhline(self.entropy_rate, color="0.4", ls=":", label="entropy rate")
        ax.set_xscale("log")
        ax.set_xlabel("tokens seen")
        ax.set_ylabel("loss (nats/token)")
        ax.set_title(f"loss curves at D = {budget:.3g} (validation: points; training batches: lines)",
                     fontsize="small")
        ax.legend(fontsize="small")
        return ax

    def plot_isoflop(self, ax=None, *, n: int = 5):
        """Loss against N at fixed compute C = 6ND (interpolated between each size's budgets)."""
        import matplotlib.pyplot as plt

        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        curves = self.isoflops(n)
        cmap = plt.get_cmap("plasma")
        for k, (C, (N, L)) in enumerate(curves.items()):
            color = cmap(k / max(1, len(curves) - 1) * 0.85)
            ax.plot(N, L, "o-", color=color, ms=3, label=f"C = {C:.2g} FLOPs")
            i = int(np.argmin(L))
            ax.plot([N[i]], [L[i]], marker="*", color=color, ms=10, ls="none")
        ax.set_xscale("log")
        ax.set_xlabel("non-embedding parameters N")
        ax.set_ylabel("validation loss (nats/token)")
        ax.set_title("iso-FLOP curves (star: the best size at that compute)", fontsize="small")
        if curves:
            ax.legend(fontsize="small")
        return ax

    def plot_frontier(self, ax=None, fit=None):
        """N*(C): ours (the Chinchilla fit of these runs with its band, and the iso-FLOP minima)
        beside Chinchilla's and Kaplan's published laws."""
        from ...plots.helpers import axes
        from .laws import chinchilla_optimum, plan, preset

        ax = axes(ax, (6.4, 4.2))
        fit = fit if fit is not None else self.fit("chinchilla", bootstrap=100)
        C = self.frame["C"].to_numpy()
        grid = np.geomspace(C.min() / 10, C.max() * 10, 60)
        n_ours, _ = chinchilla_optimum(fit.law, grid)
        ax.plot(grid, n_ours, color="tab:red", lw=1.8, label=f"ours (Chinchilla form, a = {fit.derived['a']:.2f})")
        if len(fit.boot_params):
            from .laws import ScalingLaw

            bo = np.array([chinchilla_optimum(ScalingLaw(fit.form, dict(zip(fit.form.names, p))), grid)[0]
                           for p in fit.boot_params])
            ax.fill_between(grid, np.percentile(bo, 2.5, axis=0), np.percentile(bo, 97.5, axis=0),
                            color="tab:red", alpha=0.15, lw=0)
        ch = preset("chinchilla")
        n_ch, _ = chinchilla_optimum(ch, grid)
        a_ch = ch.params["beta"] / (ch.params["alpha"] + ch.params["beta"])
        ax.plot(grid, n_ch, color="tab:green", lw=1.4, ls="--", label=f"Chinchilla (Hoffmann 2022), a = {a_ch:.2f}")
        kp = plan(grid, law="kaplan")
        ax.plot(grid, kp.N, color="tab:blue", lw=1.4, ls="-.", label="Kaplan 2020 L(N, D)")
        fc, fn = self.frontier()
        if fc.size:
            ax.scatter(fc, fn, color="k", s=14, zorder=3, label="our iso-FLOP minima")
        ax.scatter(C, self.frame["N"], color="0.6", s=8, marker="x", label="runs")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("compute C = 6ND (FLOPs)")
        ax.set_ylabel("compute-optimal N*")
        ax.set_title("compute-optimal model size", fontsize="small")
        ax.legend(fontsize="small")
        return ax
