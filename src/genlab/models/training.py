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

Like every module that trains, this one imports torch; ``import genlab`` does not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch


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
