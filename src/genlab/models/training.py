"""The one training loop of genlab's torch models, in nanoGPT's style.

:func:`train_loop` is the plain loop that the MLP (:func:`genlab.models.mlp.train`),
the language models (:func:`genlab.analysis.scaling.lm.train`) and the pruned
networks of the lottery tickets (:func:`genlab.analysis.lottery.train_masked`)
all train with. One step is

1. set the learning rate of the step (``lr``, a schedule; optional);
2. draw the next batch ``(x, targets)`` from ``batches``;
3. ``_, loss = model(x, targets)``, plus the penalties of ``penalize`` (optional);
4. ``optimizer.zero_grad(set_to_none=True)``, ``loss.backward()``;
5. zero the gradients of the weights that ``masks`` prune (optional);
6. clip the gradient norm at ``grad_clip`` (optional);
7. ``optimizer.step()`` (any :class:`torch.optim.Optimizer`);
8. set the pruned weights back to exactly 0, then call ``after_step`` (optional).

``evaluate`` is called at the step counts of ``eval_at`` (before the step of
that index, or after the last one) and stops the loop by returning True:
periodic evaluation, early stopping and the check for divergence live there,
in the caller, as in nanoGPT's ``train.py``.

:func:`epoch_batches` makes the shuffled mini-batches of a data set, epoch
after epoch; :class:`FlatAdam` is Adam on one flat vector of all parameters
(see why there).

:func:`train_model` is the supervised training that the MLP (:func:`genlab.models.mlp.train`)
and genlab's scikit-learn estimators of torch networks (:mod:`genlab.models.torch_estimators`)
share: the optimizer, L1 and L2 penalties, seeded batches and dropout, evaluations of every
split (:func:`evaluate`), early stopping on the validation split, and a :class:`TrainResult`.

Like every module that trains, this one imports torch; ``import genlab`` does not.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..core.checks import check_int as _check_int
from ..core.errors import GenlabError
from ..core.results import Result

OPTIMIZERS = ("sgd", "adam")
MONITORS = ("val_error", "val_loss")
SPLITS = ("train", "val", "test")

#: Held by the estimators' ``fit`` (:mod:`genlab.models.torch_estimators`) while they seed torch's global
#: stream and train: two fits in threads of one process would otherwise draw from it in turn and their
#: numbers would depend on the threads' timing. Worker processes give the parallelism.
FIT_LOCK = threading.RLock()


def check_float(value, name: str, low: float = 0.0, high: float = math.inf, *, open_high=False) -> float:
    """``value`` as a float in [low, high] (or [low, high) with ``open_high``); GenlabError naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise GenlabError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not (low <= v <= high) or (open_high and v == high) or math.isnan(v):
        bound = f"[{low:g}, {high:g}{')' if open_high else ']'}" if math.isfinite(high) else f">= {low:g}"
        raise GenlabError(f"{name} must be {'in ' if math.isfinite(high) else ''}{bound}, got {value!r}")
    return v


@dataclass
class LoopStats:
    """What :func:`train_loop` did.

    Attributes
    ----------
    steps : int
        Optimizer steps taken (fewer than asked when ``evaluate`` stopped the loop).
    losses : ndarray of shape (steps,)
        The loss of each training batch, before its step and without penalties.
    lrs : ndarray of shape (steps,)
        The learning rate of each step (of the first parameter group).
    samples : int
        Training samples seen (the sum of the batches' first dimensions).
    step_s : float
        Seconds spent in the training steps, evaluations excluded (on a GPU,
        until the last step has finished).
    stopped : bool
        Whether ``evaluate`` stopped the loop (possibly at its last evaluation).
    """

    steps: int
    losses: np.ndarray
    lrs: np.ndarray
    samples: int
    step_s: float
    stopped: bool


def train_loop(model, optimizer, batches, *, steps: int, lr=None, penalize=None, masks=None,
               grad_clip: float = 0.0, after_step=None, evaluate=None, eval_at=()) -> LoopStats:
    """Train ``model`` in place for ``steps`` optimizer steps (fewer if ``evaluate`` says stop).

    Parameters
    ----------
    model : torch.nn.Module
        ``model(x, targets)`` returns ``(output, mean loss)``.
    optimizer : torch.optim.Optimizer
        Over (some of) the model's parameters.
    batches : iterator
        Yields ``(x, targets)`` pairs, one per step (e.g. :func:`epoch_batches`).
    steps : int
        Optimizer steps to take.
    lr : callable, optional
        ``lr(step) -> float``, the learning rate of step ``step`` (0-based),
        set on every parameter group before the step. None: the optimizer's own.
    penalize : callable, optional
        ``penalize(loss) -> loss`` adds penalties (L1, L2, ...) to the batch
        loss before the backward pass.
    masks : sequence of (Parameter, Tensor) pairs, optional
        Parameters held sparse: ``keep`` (same shape, 1 kept, 0 pruned; float)
        multiplies the parameter's gradient before the step and the parameter
        after it, so that pruned entries stay exactly 0 and get no gradient.
    grad_clip : float
        Clip the global gradient norm at this value (0: no clipping).
    after_step : callable, optional
        ``after_step(done)`` after each step, with the number of steps done.
    evaluate : callable, optional
        ``evaluate(done) -> bool`` at every step count ``done`` in ``eval_at``
        (0 is before the first step, ``steps`` after the last); True stops the loop.
    eval_at : iterable of int
        When to call ``evaluate``.

    Returns
    -------
    LoopStats
    """
    eval_at = set(eval_at) if evaluate is not None else set()
    masks = [(p, keep) for p, keep in (masks or ())]
    params = list(model.parameters())
    losses, lrs = [], []
    samples, step_s, done, stopped = 0, 0.0, 0, False
    model.train()
    for step in range(steps):
        if step in eval_at and evaluate(step):
            stopped = True
            break
        t0 = time.perf_counter()
        if lr is not None:
            rate = lr(step)
            for group in optimizer.param_groups:
                group["lr"] = rate
        lrs.append(optimizer.param_groups[0]["lr"])
        x, targets = next(batches)
        _, loss = model(x, targets)
        losses.append(loss.detach())
        if penalize is not None:
            loss = penalize(loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for p, keep in masks:
            p.grad.mul_(keep)                       # pruned entries: no gradient (Adam's moments stay 0)
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, grad_clip, foreach=True)
        optimizer.step()
        with torch.no_grad():
            for p, keep in masks:
                p.mul_(keep)                        # pruned entries: exactly 0 again
        samples += x.shape[0]
        done = step + 1
        step_s += time.perf_counter() - t0
        if after_step is not None:
            after_step(done)
    step_s += _wait_for_gpu(params)
    if not stopped and steps in eval_at:
        stopped = bool(evaluate(steps))
    losses = torch.stack(losses).cpu().numpy().astype(np.float64) if losses else np.zeros(0)
    return LoopStats(steps=done, losses=losses, lrs=np.asarray(lrs, dtype=np.float64), samples=samples,
                     step_s=step_s, stopped=stopped)


def _wait_for_gpu(params) -> float:
    """Seconds until the steps queued on a GPU are done (they run asynchronously); 0 on the CPU."""
    if not params or params[0].device.type != "cuda":
        return 0.0
    t0 = time.perf_counter()
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def epoch_batches(X, y, batch_size: int, generator, *, shuffle_full_batch: bool = False):
    """Mini-batches of ``(X, y)``, epoch after epoch, in an order drawn anew each epoch.

    Each epoch is ``ceil(n / batch_size)`` batches over a permutation drawn
    from ``generator`` (a :class:`torch.Generator`); the last batch of an
    epoch may be smaller.

    Parameters
    ----------
    X, y : Tensor
        Inputs of shape (n, ...) and targets of shape (n, ...).
    batch_size : int
        Samples per batch; ``>= n`` is the whole set in every step.
    generator : torch.Generator
        Draws the order of each epoch.
    shuffle_full_batch : bool
        With a single batch per epoch, permute it all the same (the batch
        holds the same samples; only the order of the terms of the loss
        changes, which the lottery's training has always done). Default:
        the whole set in its order, and no draw.

    Yields
    ------
    (Tensor, Tensor)
        ``(X[idx], y[idx])``.
    """
    n = X.shape[0]
    B = min(int(batch_size), n)
    while True:
        if B >= n and not shuffle_full_batch:
            yield X, y
            continue
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n, B):
            idx = perm[start:start + B]
            yield X[idx], y[idx]


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in one epoch of :func:`epoch_batches`: ``ceil(n / min(batch_size, n))``."""
    return -(-n // min(int(batch_size), n))


class FlatAdam(torch.optim.Optimizer):
    """Adam (Kingma & Ba 2015) on one flat vector that holds every parameter.

    Building it makes each parameter a view of one buffer (``p.data`` is
    moved there, values unchanged), so a step updates all of them in a
    handful of vector operations: 1.3-1.6x faster per step than
    :class:`torch.optim.Adam` on the lottery's small MLP, and without the
    seconds its fused kernels take to load in each worker process.

    The arithmetic is that of genlab's lottery tickets since they were
    measured, and differs from :class:`torch.optim.Adam`'s in the last bits
    (torch updates the first moment by ``lerp`` and divides ``sqrt(v)`` by
    ``sqrt(1 - beta2^t)``, where this takes ``sqrt(v / (1 - beta2^t))``).
    The differences grow over a training and change the article's numbers:
    with torch's Adam, single runs of the §5 sweeps move by up to 14 of 697
    test images and 91 early-stop steps, and the full sweep finds the
    re-initialized ticket holding the dense accuracy down to 14.9% of the
    weights instead of 9.9%. Per step t, with gradient g::

        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g²
        θ = θ - lr / (1 - beta1^t) · m / (sqrt(v / (1 - beta2^t)) + eps)

    No weight decay, no AMSGrad; one parameter group. A parameter without a
    gradient counts as a zero gradient. The moments are attributes
    (``exp_avg``, ``exp_avg_sq``, flat like the parameters), not part of
    ``state_dict()``.

    Parameters
    ----------
    params : iterable of Parameter
    lr : float
    betas : (float, float)
    eps : float
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        params = list(params)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})
        if len(self.param_groups) != 1:
            raise ValueError("FlatAdam takes one parameter group")
        flat = torch.cat([p.detach().reshape(-1) for p in params])      # (P,)
        offset = 0
        for p in params:
            p.data = flat[offset:offset + p.numel()].view_as(p)           # the parameter now lives in flat
            offset += p.numel()
        self.flat = flat
        self.exp_avg, self.exp_avg_sq = torch.zeros_like(flat), torch.zeros_like(flat)
        self.t = 0

    @torch.no_grad()
    def step(self, closure=None):
        """One Adam step on the gradients in ``p.grad``."""
        assert closure is None, "FlatAdam takes no closure"
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        g = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                       for p in group["params"]])                          # (P,)
        self.t += 1
        self.exp_avg.mul_(beta1).add_(g, alpha=1 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        denom = (self.exp_avg_sq / (1 - beta2 ** self.t)).sqrt_().add_(group["eps"])
        self.flat.addcdiv_(self.exp_avg, denom, value=-group["lr"] / (1 - beta1 ** self.t))


# --------------------------------------------------------------------------- supervised training

@dataclass
class TrainResult(Result):
    """What :func:`train_model` measured, one entry per evaluation.

    ``epochs[k]`` is the number of epochs done at evaluation k (0 is the
    initialization); ``train_loss``, ``val_loss`` ... hold the mean data loss
    (without penalties) and the error of the model in eval mode — the 0-1
    error for class labels, the mean squared error for real targets — NaN for
    a split that was not given. ``best_epoch`` is the epoch with the lowest
    monitored validation figure; with early stopping the model returned is the
    one of that epoch. ``samples_per_s`` counts training samples over the
    whole loop's time, evaluations included.
    """

    epochs: np.ndarray
    train_loss: np.ndarray
    train_error: np.ndarray
    val_loss: np.ndarray
    val_error: np.ndarray
    test_loss: np.ndarray
    test_error: np.ndarray
    best_epoch: int
    stopped_epoch: int
    stopped_early: bool
    restored: bool
    elapsed_s: float
    samples_per_s: float
    settings: dict = field(default_factory=dict)

    def final(self) -> dict:
        """The figures of the model ``train`` returned (the best epoch's when restored, else the last)."""
        k = int(np.flatnonzero(self.epochs == self.best_epoch)[0]) if self.restored else -1
        return {name: float(getattr(self, name)[k]) for name in
                ("train_loss", "train_error", "val_loss", "val_error", "test_loss", "test_error")}

    def summary(self):
        """One row per evaluation: ``epochs`` done, then the loss and error of every split."""
        import pandas as pd

        return pd.DataFrame({name: getattr(self, name) for name in
                             ("epochs", "train_loss", "train_error", "val_loss", "val_error",
                              "test_loss", "test_error")})

    def to_dict(self) -> dict:
        return {"best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch,
                "stopped_early": self.stopped_early, "restored": self.restored, "elapsed_s": self.elapsed_s,
                "samples_per_s": self.samples_per_s, "settings": self.settings, "final": self.final(),
                "by_epoch": self.to_frame().to_dict(orient="list")}

    def plot(self, ax=None, *, what: str = "error", **kw):
        """The error (``what="error"``) or the loss (``"loss"``) of every measured split against
        epochs; a dotted line marks the best epoch. ``kw`` goes to every line."""
        from ..plots.helpers import axes

        if what not in ("error", "loss"):
            raise GenlabError(f"what must be error or loss, got {what!r}")
        ax = axes(ax, (6.4, 4.2))
        for split, color in zip(SPLITS, ("tab:blue", "tab:orange", "tab:green")):
            values = getattr(self, f"{split}_{what}")
            if np.isfinite(values).any():
                ax.plot(self.epochs, values, marker="o", ms=2.5, color=color, label=split, **kw)
        if np.isfinite(self.val_loss).any():
            ax.axvline(self.best_epoch, color="0.5", ls=":", lw=1, label=f"best epoch ({self.best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(("0-1 error" if self.settings.get("targets", "classes") == "classes" else "squared error")
                      if what == "error" else "loss")
        ax.legend(fontsize="small")
        return ax


def check_train_args(*, epochs, lr, optimizer, batch_size, weight_decay, l1, eval_every, patience, monitor):
    """Validate :func:`train_model`'s options (GenlabError naming the one to change)."""
    _check_int(epochs, "epochs", 1)
    check_float(lr, "lr", 0.0)
    if not lr > 0:
        raise GenlabError(f"lr must be > 0, got {lr!r}")
    if optimizer not in OPTIMIZERS:
        raise GenlabError(f"unknown optimizer {optimizer!r}; choose {' or '.join(OPTIMIZERS)}")
    if batch_size is not None:
        _check_int(batch_size, "batch_size", 1)
    check_float(weight_decay, "weight_decay", 0.0)
    check_float(l1, "l1", 0.0)
    _check_int(eval_every, "eval_every", 1)
    if patience is not None:
        _check_int(patience, "patience", 1)
    if monitor not in MONITORS:
        raise GenlabError(f"unknown monitor {monitor!r}; choose {' or '.join(MONITORS)}")


@torch.no_grad()
def evaluate(model, data: dict) -> dict:
    """Mean loss and error of ``model`` (in eval mode: no dropout) on every split.

    The error is the 0-1 error (argmax of the outputs against integer class
    labels) or, for floating-point targets, the mean squared error of the
    outputs (over samples and outputs).

    Returns
    -------
    dict
        ``{split: (loss, error)}`` as Python floats.
    """
    was_training = model.training
    model.eval()
    out = {}
    for name, (X, y) in data.items():
        output, loss = model(X, y)                      # (n, n_outputs), scalar
        if y.dtype.is_floating_point:
            error = ((output.reshape(y.shape) - y) ** 2).mean()
        else:
            error = (output.argmax(dim=1) != y).float().mean()
        out[name] = (float(loss), float(error))
    model.train(was_training)
    return out


def rng_devices(device) -> list:
    """The CUDA devices whose random streams a seeded run on ``device`` touches (for :func:`torch.random.fork_rng`)."""
    device = torch.device(device)
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def train_model(model, data: dict, *, epochs: int = 100, lr: float = 1e-3, optimizer: str = "adam",
                batch_size: int | None = 128, weight_decay: float = 0.0, l1: float = 0.0, eval_every: int = 1,
                patience: int | None = None, monitor: str = "val_error", seed: int = 0,
                settings: dict | None = None) -> TrainResult:
    """Train ``model`` in place by mini-batch steps of :func:`train_loop`; evaluate every ``eval_every`` epochs.

    Parameters
    ----------
    model : torch.nn.Module
        ``model(x, targets) -> (output, mean loss)``; its ``weights()``, where
        it has one, lists what the penalties act on (else every parameter
        with two dimensions or more: weight matrices and kernels, not biases).
    data : dict
        ``{"train": (X, y), "val": (X, y), "test": (X, y)}`` (val and test
        optional) as tensors on the model's device: X of shape (n, ...), y
        int64 class indices of shape (n,) or floating-point targets.
    epochs, lr, optimizer, batch_size, weight_decay, l1, eval_every, patience, monitor, seed
        As in :func:`genlab.models.mlp.train`.
    settings : dict, optional
        Added to the result's ``settings``.

    Returns
    -------
    TrainResult
    """
    check_train_args(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size,
                     weight_decay=weight_decay, l1=l1, eval_every=eval_every, patience=patience, monitor=monitor)
    if patience is not None and "val" not in data:
        raise GenlabError("early stopping (patience) needs a 'val' split")
    X, y = data["train"]                                  # (n, ...), (n, ...)
    n = X.shape[0]
    B = n if batch_size is None else min(int(batch_size), n)
    settings = dict(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=B, weight_decay=weight_decay, l1=l1,
                    eval_every=eval_every, patience=patience, monitor=monitor, seed=seed, **(settings or {}))
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=lr)
    per_epoch = steps_per_epoch(n, B)
    history = _History(model, data, patience=patience, monitor=monitor, per_epoch=per_epoch)
    eval_at = [0] + [e * per_epoch for e in range(1, epochs + 1) if e % eval_every == 0 or e == epochs]
    weights = (model.weights() if callable(getattr(model, "weights", None))
               else [p for p in model.parameters() if p.ndim >= 2])
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=rng_devices(X.device)):
        torch.manual_seed(seed)                         # dropout masks
        gen = torch.Generator().manual_seed(seed)       # batch order
        stats = train_loop(model, opt, epoch_batches(X, y, B, gen), steps=epochs * per_epoch,
                           penalize=_penalties(weights, weight_decay, l1), evaluate=history.record,
                           eval_at=eval_at)
    elapsed = time.perf_counter() - t0
    model.eval()
    restored = history.best_state is not None
    if restored:
        model.load_state_dict(history.best_state)
    return TrainResult(**history.arrays(), best_epoch=int(history.best_epoch),
                       stopped_epoch=stats.steps // per_epoch, stopped_early=stats.stopped, restored=restored,
                       elapsed_s=elapsed, samples_per_s=stats.samples / elapsed if elapsed > 0 else math.nan,
                       settings=settings)


def _penalties(weights: list, weight_decay: float, l1: float):
    """``loss -> loss + penalties`` on the weight matrices (not the biases, as nanoGPT's decay), or None."""
    if weight_decay <= 0 and l1 <= 0:
        return None

    def penalize(loss):
        if weight_decay > 0:
            loss = loss + 0.5 * weight_decay * sum((w * w).sum() for w in weights)
        if l1 > 0:
            loss = loss + l1 * sum(w.abs().sum() for w in weights)
        return loss

    return penalize


class _History:
    """The evaluations of :func:`train_model`, and early stopping on the monitored validation figure."""

    def __init__(self, model, data: dict, *, patience, monitor: str, per_epoch: int):
        self.model, self.data, self.patience, self.per_epoch = model, data, patience, per_epoch
        self.key = 1 if monitor == "val_error" else 0
        self.columns = {k: [] for k in ("epochs", "train_loss", "train_error", "val_loss", "val_error",
                                        "test_loss", "test_error")}
        self.best, self.best_epoch, self.best_state, self.since_best = math.inf, 0, None, 0

    def record(self, steps_done: int) -> bool:
        """Evaluate every split after ``steps_done`` steps; True when early stopping says stop."""
        epoch = steps_done // self.per_epoch
        ev = evaluate(self.model, self.data)
        self.columns["epochs"].append(epoch)
        for split in SPLITS:
            loss, err = ev.get(split, (math.nan, math.nan))
            self.columns[f"{split}_loss"].append(loss)
            self.columns[f"{split}_error"].append(err)
        stop = self._update(ev, epoch)
        if epoch > 0 and not math.isfinite(self.columns["train_loss"][-1]):
            raise GenlabError(f"training diverged at epoch {epoch} (loss is not finite); lower lr")
        return stop

    def _update(self, ev: dict, epoch: int) -> bool:
        if "val" not in ev:
            return False
        score = ev["val"][self.key] + 1e-9 * ev["val"][0] * (self.key == 1)  # error; the loss breaks ties
        if score < self.best:
            self.best, self.best_epoch, self.since_best = score, epoch, 0
            if self.patience is not None:
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.since_best += 1
        return self.patience is not None and self.since_best >= self.patience

    def arrays(self) -> dict:
        return {k: np.asarray(v, dtype=np.float64 if k != "epochs" else np.int64) for k, v in self.columns.items()}
