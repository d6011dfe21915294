"""Training a pruned network: the shared loop with its mask held fixed, and early stopping on validation loss."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...core.errors import GenlabError
from .masks import apply_masks, state


@dataclass
class MaskedRun:
    """One training of a masked network: the figures of the weights kept by early stopping."""

    test_acc: float
    val_acc: float
    train_acc: float
    val_loss: float
    stop_step: int      # optimizer step of the lowest validation loss (the early-stop iteration)
    steps: int          # optimizer steps taken
    snapshot: dict | None = None   # weights after ``snapshot_step`` steps, when asked
    final_weights: list | None = None   # the weight matrices after the last step, when asked (``keep_final``)


def train_masked(model, data: dict, masks, *, epochs: int, lr: float, batch_size: int, patience: int | None,
                 seed: int, snapshot_step: int | None = None, keep_final: bool = False) -> MaskedRun:
    """Adam on mini-batches with the pruned weights held at exactly zero; early stopping on validation loss.

    The steps are those of the shared loop,
    :func:`genlab.models.training.train_loop`, with the masks: before each
    step the gradients of pruned weights are zeroed (so Adam's moments for
    them stay 0), after it the pruned weights are set to 0 again. The
    optimizer is :class:`genlab.models.training.FlatAdam` (torch's defaults:
    betas 0.9 and 0.999, eps 1e-8, no weight decay) on one flat vector of
    all parameters. The mini-batches are a new permutation of the training
    set every epoch (:func:`genlab.models.training.epoch_batches`, permuted
    even when one batch holds them all). The validation loss is evaluated
    after every epoch (and at step 0); the weights of the lowest one are
    restored at the end (``keep_final`` also returns those of the last step,
    the end of training, which the next pruning round of Frankle & Carbin
    prunes).

    Parameters
    ----------
    model : MLP
    data : dict
        ``train``, ``val`` and ``test`` as tensors (:func:`genlab.models.mlp.as_tensors`).
    masks : list of bool Tensor
        One per weight matrix (``model.weights()`` order); True keeps a weight.
    epochs : int
        At most this many passes over the training set.
    lr, batch_size
        Adam's step size and the mini-batch size.
    patience : int or None
        Stop after this many epochs without a lower validation loss (None: train all epochs).
    seed : int
        Seeds the order of the mini-batches.
    snapshot_step : int, optional
        Also return the weights after this many optimizer steps (the rewinding point); 0 is the start.
    keep_final : bool, default=False
        Also return copies of the weight matrices after the last step (``model.weights()`` order), before
        the early-stopped ones are restored: ``MaskedRun.final_weights``.

    Returns
    -------
    MaskedRun
    """
    import torch

    from ...models.mlp import evaluate
    from ...models.training import FlatAdam, epoch_batches, steps_per_epoch, train_loop

    X, y = data["train"]                                   # (n, n_inputs), (n,)
    weights = model.weights()
    assert len(weights) == len(masks) and all(w.shape == m.shape for w, m in zip(weights, masks))
    apply_masks(model, masks)
    optimizer = FlatAdam(model.parameters(), lr=lr)        # every parameter now lives in one flat vector
    keep = [(w, m.to(w.dtype)) for w, m in zip(weights, masks)]   # 1 kept, 0 pruned
    snapshots = {0: state(model)} if snapshot_step == 0 else {}

    def snap(done: int) -> None:
        if done == snapshot_step:
            snapshots[done] = state(model)

    per_epoch = steps_per_epoch(X.shape[0], batch_size)
    best = _BestValidation(model, data["val"], patience, evaluate)
    gen = torch.Generator().manual_seed(int(seed))
    stats = train_loop(model, optimizer, epoch_batches(X, y, batch_size, gen, shuffle_full_batch=True),
                       steps=epochs * per_epoch, masks=keep, after_step=snap, evaluate=best.record,
                       eval_at=range(0, epochs * per_epoch + 1, per_epoch))
    if snapshot_step is not None and not snapshots:
        raise GenlabError(f"rewind = {snapshot_step} steps is past the end of training ({stats.steps} steps); "
                          "lower rewind")
    final = [w.detach().clone() for w in weights] if keep_final else None   # the end of training
    model.load_state_dict(best.state)
    model.eval()
    ev = evaluate(model, data)
    assert all(int((w[~m] != 0).sum()) == 0 for w, m in zip(model.weights(), masks))
    return MaskedRun(test_acc=1.0 - ev["test"][1], val_acc=1.0 - ev["val"][1], train_acc=1.0 - ev["train"][1],
                     val_loss=ev["val"][0], stop_step=int(best.step), steps=stats.steps,
                     snapshot=snapshots.get(snapshot_step), final_weights=final)


class _BestValidation:
    """Early stopping of :func:`train_masked`: the weights of the lowest validation loss so far."""

    def __init__(self, model, val, patience, evaluate):
        self.model, self.val, self.patience, self.evaluate = model, val, patience, evaluate
        self.loss, self.step, self.state, self.since = math.inf, 0, None, 0

    def record(self, done: int) -> bool:
        """Evaluate after ``done`` steps; True when ``patience`` evaluations brought no lower loss."""
        val_loss = self.evaluate(self.model, {"val": self.val})["val"][0]
        if done == 0:                                  # the start: the first best, whatever its loss
            self.loss, self.step, self.state = val_loss, 0, state(self.model)
            return False
        if not math.isfinite(val_loss):
            raise GenlabError(f"training diverged at step {done} (validation loss is not finite); lower lr")
        if val_loss < self.loss:
            self.loss, self.step, self.state, self.since = val_loss, done, state(self.model), 0
            return False
        self.since += 1
        return self.patience is not None and self.since >= self.patience
