"""Training one small language model: nanoGPT's ``train.py`` as a function (§4.3).

:func:`train` runs the shared loop (:func:`genlab.models.training.train_loop`)
with AdamW (betas 0.9, 0.95; weight decay on the 2-D weights only), a linear
warmup then a cosine decay to ``min_lr`` that ends exactly when the token
budget D has been seen (:func:`lr_at`), gradient clipping at norm 1, random
training windows from a seeded generator, and the validation loss (nats per
token) on a fixed set of windows evenly spaced over the held-out tail
(:func:`evaluate`: the same windows for every run, so runs are compared on
the same text). It returns a :class:`LMRun`.

Sweeps of such runs over model sizes and token budgets, and what they give
(the scaling laws, iso-FLOP curves, the compute-optimal frontier), are in
:mod:`genlab.analysis.scaling.sweep`.

torch is imported inside the functions that train; ``import genlab.analysis.scaling.lm`` does not import it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ...core.checks import check_int, check_positive
from ...core.errors import GenlabError
from ...core.results import Result
from ...core.seeding import check_seed

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
class LMRun(Result):
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

    def summary(self):
        """One row per optimizer step, and one for the end: ``step`` (steps done before it), ``tokens``
        (seen before it), ``lr`` and ``train_loss`` (its batch's loss, before the step; NaN in the end
        row) and ``val_loss`` (where the run was evaluated, else NaN)."""
        import pandas as pd

        steps = np.arange(self.steps + 1)
        val = np.full(self.steps + 1, np.nan)
        val[self.eval_steps] = self.eval_loss
        return pd.DataFrame({"step": steps, "tokens": steps * (self.tokens // self.steps),
                             "lr": np.append(self.lr, np.nan), "train_loss": np.append(self.train_loss, np.nan),
                             "val_loss": val})

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}

    def plot(self, ax=None, **kw):
        """Training loss per step (light) and validation loss at the evaluations, against tokens seen;
        ``kw`` goes to the validation line."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        per = self.tokens / self.steps
        ax.plot((np.arange(self.steps) + 1) * per, self.train_loss, color="tab:blue", alpha=0.4, lw=0.8,
                label="training batches")
        ax.plot(self.eval_steps * per, self.eval_loss, "o-", **{"color": "tab:orange", "ms": 3,
                                                                 "label": "validation", **kw})
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
        Seeds the initialization and the training windows: same seed, same run (bitwise on the CPU).
    device : {"auto", "cpu", "cuda"}
        On the CPU, torch is set to one thread (oversubscribed threads on small machines are many times slower).
    model : GPT, optional
        Train this model (in place) instead of a fresh one seeded by ``seed``.

    Returns
    -------
    LMRun
    """
    import torch

    from ...data.corpora import load_corpus
    from ...models.training import train_loop
    from ...models.transformer import GPT

    t_start = time.perf_counter()
    corpus = load_corpus(corpus)
    steps, dev = _check_run(config, corpus, tokens=tokens, batch_size=batch_size, device=device)
    batch_size, T, grad_clip = int(batch_size), config.block_size, float(grad_clip)
    eval_batches, n_evals = check_int(eval_batches, "eval_batches"), check_int(n_evals, "n_evals", 0)
    seed = check_seed(seed)
    if torch.get_num_threads() != 1 and dev == "cpu":
        torch.set_num_threads(1)   # one thread per process (see the design notes)

    model = GPT(config, seed=seed) if model is None else model
    model.to(dev)
    N = model.n_params(non_embedding=True)
    lr, min_lr, warmup = _schedule(N, steps, lr=lr, min_lr=min_lr, warmup=warmup)
    val_data = torch.as_tensor(corpus.val, device=dev)
    evals = {}                                           # steps done -> validation loss

    def record(done: int) -> None:                       # None: the run never stops early
        evals[done] = evaluate(model, val_data, block_size=T, batch_size=batch_size, n_batches=eval_batches)

    gen = torch.Generator(device="cpu").manual_seed(seed)
    stats = train_loop(model, model.optimizer(lr, weight_decay=weight_decay),
                       random_windows(torch.as_tensor(corpus.train, device=dev), T, batch_size, gen),
                       steps=steps, lr=lambda step: lr_at(step, steps=steps, warmup=warmup, lr=lr, min_lr=min_lr),
                       grad_clip=grad_clip, evaluate=record, eval_at=eval_points(steps, n_evals))
    final = evals[steps]
    if not (math.isfinite(final) and np.isfinite(stats.losses).all()):
        raise GenlabError(f"training diverged (the loss is not finite); lower lr (it was {lr:g})")
    D = steps * batch_size * T
    settings = {"model": config.to_dict(), "batch_size": batch_size, "lr": lr, "min_lr": min_lr, "warmup": warmup,
                "weight_decay": weight_decay, "grad_clip": grad_clip, "eval_batches": eval_batches, "seed": seed,
                "corpus": corpus.name}
    return LMRun(N, model.n_params(non_embedding=False), D, steps, 6.0 * N * D, final, stats.losses, stats.lrs,
                 np.asarray(list(evals), dtype=np.int64), np.asarray(list(evals.values()), dtype=np.float64),
                 time.perf_counter() - t_start, D / stats.step_s if stats.step_s > 0 else math.nan, dev, settings)


def _check_run(config, corpus, *, tokens, batch_size, device) -> tuple[int, str]:
    """Check a run's model, budget and texts; return its number of steps and its device."""
    from ...models.transformer import GPTConfig

    if not isinstance(config, GPTConfig):
        raise GenlabError(f"config must be a GPTConfig, got {type(config).__name__}")
    if config.vocab_size != corpus.vocab_size:
        raise GenlabError(f"the model's vocab_size {config.vocab_size} is not the corpus's {corpus.vocab_size}")
    batch_size = check_int(batch_size, "batch_size")
    steps = check_budget(tokens, batch_size=batch_size, block_size=config.block_size)
    dev = resolve_device(device)
    _windows(corpus.train.size, config.block_size, 1), _windows(corpus.val.size, config.block_size, 1)  # long enough
    return steps, dev


def _schedule(n_params: int, steps: int, *, lr, min_lr, warmup) -> tuple[float, float, int]:
    """The peak learning rate (default :func:`default_lr`), where the cosine ends (default lr / 10)
    and the warmup steps (default a tenth of the steps, at least 1, at most 100) of a run."""
    lr = default_lr(n_params) if lr is None else check_positive(lr, "lr")
    min_lr = lr / 10 if min_lr is None else float(min_lr)
    warmup = max(1, min(100, steps // 10)) if warmup is None else check_int(warmup, "warmup", 0)
    return lr, min_lr, warmup


def eval_points(steps: int, n_evals: int) -> list[int]:
    """When a run of ``steps`` steps is evaluated: ``n_evals`` + 1 step counts spread evenly from 0
    (the initialization), and ``steps`` (the end; the only one when ``n_evals`` is 0)."""
    inner = np.unique(np.linspace(0, steps, n_evals + 2).round().astype(int)[:-1]).tolist() if n_evals else []
    return inner + [steps]


def random_windows(data, block_size: int, batch_size: int, generator):
    """Training batches: ``batch_size`` windows of ``block_size + 1`` tokens of ``data`` at uniformly
    random starts (drawn on the CPU from ``generator``), as ``(inputs, next tokens)``, forever."""
    import torch

    offs = torch.arange(block_size + 1, device=data.device)
    high = int(data.numel()) - block_size - 1
    while True:
        ix = torch.randint(high + 1, (batch_size,), generator=generator).to(data.device, non_blocking=True)
        win = data[ix[:, None] + offs]                                # (B, T + 1)
        yield win[:, :-1], win[:, 1:]
