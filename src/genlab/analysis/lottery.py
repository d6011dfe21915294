"""Lottery tickets: iterative magnitude pruning with rewinding, and its two controls.

The article closes (§5) on redundancy: trained networks hold parameters they
do not need, and the *lottery-ticket hypothesis* (Frankle & Carbin 2019) says
that a randomly initialized network contains a small subnetwork — a winning
ticket — that, trained alone from the same initial values, matches the whole
network. This module finds such tickets in an MLP on scikit-learn's digits and
checks them against the controls of the paper.

Iterative magnitude pruning (IMP), one repeat:

1. Initialize the network, θ_0; train it densely (round 0), keeping θ_k, the
   weights after k optimizer steps (``rewind=k``; k = 0 is θ_0 itself).
2. Prune: in each layer remove the smallest-magnitude surviving *weights*
   (biases are never pruned) so that after round r a hidden layer keeps
   ``round(n (1 - rate)^r)`` of its n weights and the output layer
   ``round(n (1 - rate/2)^r)``: ``rate`` of the remaining weights per round,
   the output layer at half the rate, as Frankle & Carbin do for their
   fully-connected nets (it is small, and every class needs its inputs).
3. Rewind: set the surviving weights (and all biases) back to θ_k, the pruned
   weights to exactly zero, and retrain with the mask held fixed (the
   gradients of pruned weights are zeroed before every step and the weights
   re-zeroed after it, so they are exactly 0 throughout).
4. Repeat from 2 for ``rounds`` rounds.

Controls, on the same per-layer sparsity and the same data, training seed and
budget in every round:

* ``reinit`` — the ticket's mask with a fresh random initialization (the same
  distribution, an independent draw; trained from step 0): does the ticket
  need its *initial values*?
* ``random`` — a random mask with the ticket's per-layer counts (pruned
  iteratively at random, so the masks are nested like IMP's), rewound to the
  original θ_k: does it need its *structure*?

Each training keeps the weights of its lowest validation loss (evaluated
every epoch; Frankle & Carbin's early-stopping criterion) and reports that
evaluation's optimizer step as the early-stop iteration, and the test
accuracy of those weights. By default every training runs all its epochs
(``patience=None``).

All variants of a repeat run in one job (:func:`lottery_job`): they share the
split, the dense network and the rewinding point, so their differences from
dense are paired, and ``reinit`` needs the ticket's masks anyway.

Measured with the defaults (64-100-100-10 MLP, 17,400 weights, n_train = 800,
rate 0.2, 15 rounds, 5 repeats; seed 0): dense test accuracy 0.961 ± 0.003;
the ticket keeps it down to 4.5% of the weights (0.955 ± 0.001 there); the
re-initialized ticket down to 9.9% (0.927 ± 0.004 at 4.5%); the random mask
down to 18.3% (0.832 ± 0.011 at 4.5%). See :attr:`LotteryResult.thresholds`
for what "keeps" means.

torch is imported by the jobs and the building blocks, not by ``import genlab``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.checks import check_fraction as _check_fraction, check_int as _check_int
from ..core.errors import GenlabError
from ..core.stats import summarize

VARIANTS = ("ticket", "reinit", "random")
LABELS = {"ticket": "winning ticket (IMP, rewound)", "reinit": "same mask, random re-init",
          "random": "random mask, same init"}
COLORS = {"ticket": "tab:blue", "reinit": "tab:orange", "random": "tab:green"}


# --------------------------------------------------------------------------- checks

def check_rate(rate) -> float:
    """The share of remaining weights pruned per round: a number in (0, 1)."""
    try:
        v = float(rate)
    except (TypeError, ValueError):
        raise GenlabError(f"rate must be a fraction in (0, 1), got {rate!r}") from None
    if isinstance(rate, bool) or not 0.0 < v < 1.0:
        raise GenlabError(f"rate must be a fraction in (0, 1) (the share of remaining weights pruned per round), "
                          f"got {rate!r}")
    return v


def _check_variants(variants) -> list[str]:
    if isinstance(variants, str):
        variants = [v for v in variants.split(",") if v.strip()]
    variants = [str(v).strip() for v in variants]
    bad = [v for v in variants if v not in VARIANTS]
    if bad or not variants or len(set(variants)) != len(variants):
        raise GenlabError(f"variants {variants!r}: choose distinct names among {', '.join(VARIANTS)}")
    return [v for v in VARIANTS if v in variants]


# --------------------------------------------------------------------------- masks

def layer_rates(n_layers: int, rate: float) -> list[float]:
    """Per weight matrix: ``rate`` for the hidden layers, ``rate / 2`` for the output layer (the last)."""
    return [rate] * (n_layers - 1) + [rate / 2]


def target_counts(sizes, rates, r: int) -> list[int]:
    """Weights each layer keeps after ``r`` rounds: ``round(n (1 - rate)^r)``, at least 1."""
    return [max(1, int(round(n * (1.0 - p) ** r))) for n, p in zip(sizes, rates)]


def magnitude_masks(weights, masks, counts) -> list:
    """Keep the ``counts[i]`` largest-magnitude weights of layer i among those ``masks[i]`` keeps.

    Parameters
    ----------
    weights : list of Tensor
        Trained weight matrices, e.g. ``model.weights()``.
    masks : list of bool Tensor
        The current masks (same shapes); a pruned weight stays pruned.
    counts : list of int
        Weights to keep per layer (at most the current number kept).

    Returns
    -------
    list of bool Tensor
        The new masks, nested in the old ones, with exactly ``counts[i]`` True entries.
    """
    import torch

    out = []
    for w, m, k in zip(weights, masks, counts):
        if k > int(m.sum()):
            raise GenlabError(f"cannot keep {k} weights of a layer that has {int(m.sum())} left")
        score = torch.where(m, w.detach().abs(), torch.tensor(-1.0)).flatten()   # pruned: below any |w|
        keep = torch.topk(score, k, sorted=False).indices                      # ties: torch's order
        new = torch.zeros(score.numel(), dtype=torch.bool)
        new[keep] = True
        out.append(new.view_as(m))
    return out


def random_masks(masks, counts, generator) -> list:
    """Keep ``counts[i]`` entries of ``masks[i]`` chosen uniformly at random (``generator``: numpy)."""
    import torch

    out = []
    for m, k in zip(masks, counts):
        alive = np.flatnonzero(m.flatten().numpy())
        if k > alive.size:
            raise GenlabError(f"cannot keep {k} weights of a layer that has {alive.size} left")
        new = np.zeros(m.numel(), dtype=bool)
        new[generator.choice(alive, size=k, replace=False)] = True
        out.append(torch.from_numpy(new).view_as(m))
    return out


def apply_masks(model, masks) -> None:
    """Set the pruned weights of ``model`` to exactly 0 (in place)."""
    import torch

    with torch.no_grad():
        for w, m in zip(model.weights(), masks):
            w.masked_fill_(~m, 0.0)


def rewind(model, state: dict, masks) -> None:
    """Load ``state`` (the weights at the rewinding point) into ``model``, then zero the pruned weights."""
    model.load_state_dict(state)
    apply_masks(model, masks)


def _flatten(model, masks):
    """Make every parameter of ``model`` a view of one flat buffer; return it and the flat 0/1 mask.

    Adam then updates all parameters in a handful of vector operations
    (1.3-1.6x faster per step than ``torch.optim.Adam`` on this small MLP, and
    without the seconds that its fused kernels take to load in each process).
    """
    import torch

    params = list(model.parameters())
    flat = torch.cat([p.detach().reshape(-1) for p in params])       # (P,)
    keep = torch.ones_like(flat)
    by_id = {id(w): m for w, m in zip(model.weights(), masks)}
    offset = 0
    for p in params:
        k = p.numel()
        if id(p) in by_id:
            keep[offset:offset + k] = by_id[id(p)].reshape(-1).to(flat.dtype)
        p.data = flat[offset:offset + k].view_as(p)                   # the parameter now lives in flat
        offset += k
    return flat, keep


def _state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------- training with a fixed mask

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


def train_masked(model, data: dict, masks, *, epochs: int, lr: float, batch_size: int, patience: int | None,
                 seed: int, snapshot_step: int | None = None) -> MaskedRun:
    """Adam on mini-batches with the pruned weights held at exactly zero; early stopping on validation loss.

    The loop of :func:`genlab.models.mlp.train` with a mask, and Adam
    (torch's defaults: betas 0.9 and 0.999, eps 1e-8, no weight decay)
    written out on one flat vector of all parameters: before each step the
    gradients of pruned weights are zeroed (so Adam's moments for them stay
    0), after it the pruned weights are set to 0 again. The validation
    loss is evaluated after every epoch (and at step 0); the weights of the
    lowest one are restored at the end.

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

    Returns
    -------
    MaskedRun
    """
    import torch

    from ..models.mlp import evaluate

    X, y = data["train"]                                   # (n, n_inputs), (n,)
    n = X.shape[0]
    B = min(int(batch_size), n)
    weights = model.weights()
    assert len(weights) == len(masks) and all(w.shape == m.shape for w, m in zip(weights, masks))
    apply_masks(model, masks)
    flat, keep = _flatten(model, masks)                    # (P,) all parameters; (P,) 1 kept, 0 pruned
    params = list(model.parameters())
    m1, m2 = torch.zeros_like(flat), torch.zeros_like(flat)   # Adam's moments
    beta1, beta2, eps = 0.9, 0.999, 1e-8                  # torch.optim.Adam's defaults
    gen = torch.Generator().manual_seed(int(seed))
    snapshot = _state(model) if snapshot_step == 0 else None
    model.train()
    best = (evaluate(model, {"val": data["val"]})["val"][0], 0)
    best_state, since, step = _state(model), 0, 0
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, B):
            idx = perm[start:start + B]
            _, loss = model(X[idx], y[idx])
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                g = torch.cat([gr.reshape(-1) for gr in grads]).mul_(keep)   # (P,) pruned: no gradient
                t = step + 1
                m1.mul_(beta1).add_(g, alpha=1 - beta1)
                m2.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = (m2 / (1 - beta2 ** t)).sqrt_().add_(eps)
                flat.addcdiv_(m1, denom, value=-lr / (1 - beta1 ** t))
                flat.mul_(keep)                            # pruned weights: exactly 0 again
            step += 1
            if step == snapshot_step:
                snapshot = _state(model)
        val_loss = evaluate(model, {"val": data["val"]})["val"][0]
        if not math.isfinite(val_loss):
            raise GenlabError(f"training diverged at step {step} (validation loss is not finite); lower lr")
        if val_loss < best[0]:
            best, best_state, since = (val_loss, step), _state(model), 0
        else:
            since += 1
            if patience is not None and since >= patience:
                break
    if snapshot_step is not None and snapshot is None:
        raise GenlabError(f"rewind = {snapshot_step} steps is past the end of training ({step} steps); "
                          "lower rewind")
    model.load_state_dict(best_state)
    model.eval()
    ev = evaluate(model, data)
    assert all(int((w[~m] != 0).sum()) == 0 for w, m in zip(model.weights(), masks))
    return MaskedRun(test_acc=1.0 - ev["test"][1], val_acc=1.0 - ev["val"][1], train_acc=1.0 - ev["train"][1],
                     val_loss=ev["val"][0], stop_step=int(best[1]), steps=step, snapshot=snapshot)


# --------------------------------------------------------------------------- one repeat

def _seeds(seed: np.random.SeedSequence) -> dict:
    init, reinit, order, masks = seed.spawn(4)
    as_int = lambda s: int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))  # noqa: E731
    return {"init": as_int(init), "reinit": as_int(reinit), "order": order, "masks": masks}


def lottery_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One repeat's IMP trajectory, with its controls (a job of :func:`genlab.runs.execute.sweep`).

    All variants of a repeat run in one job: they share the data split, the
    dense network of round 0, the rewinding point and the training seed of
    every round, so their differences are paired; and the ``reinit`` control
    needs the ticket's masks, which only the IMP trajectory makes.

    Parameters
    ----------
    config : dict
        ``data``, ``n_train``, ``n_val``, ``seed``, ``repeat`` (the split, see
        :func:`genlab.analysis.neural.noisy_splits`, without label noise); ``width``,
        ``depth`` (the MLP); ``rounds``, ``rate``, ``rewind``, ``variants``;
        ``epochs``, ``lr``, ``batch_size``, ``patience`` (each training).
    seed : numpy.random.SeedSequence
        Seeds the initializations, the batch orders and the random masks.

    Returns
    -------
    dict
        ``metrics``: dense accuracies, ``dense_count``, ``n_test``;
        ``series`` (one entry per round 0..rounds, round 0 the dense network):
        ``fraction``, ``nonzero`` and, per variant, ``{variant}_test_acc``,
        ``{variant}_val_acc``, ``{variant}_train_acc``, ``{variant}_stop_step``.
    """
    import torch

    from ..models.mlp import MLP, MLPConfig, as_tensors
    from .neural import noisy_splits

    torch.set_num_threads(1)
    c = config
    split = noisy_splits(c["data"], n_train=c["n_train"], n_val=c["n_val"], label_noise=0.0, seed=c["seed"],
                         repeat=c["repeat"])
    data = as_tensors({k: split[k] for k in ("train", "val", "test")})
    mc = MLPConfig(n_inputs=split["n_inputs"], width=c["width"], depth=c["depth"], n_classes=split["n_classes"])
    s = _seeds(seed)
    order = [int(v >> 1) for v in s["order"].generate_state(c["rounds"] + 1, dtype=np.uint64)]
    mask_rng = np.random.default_rng(s["masks"])
    fit = dict(epochs=c["epochs"], lr=c["lr"], batch_size=c["batch_size"], patience=c["patience"])

    model = MLP(mc, seed=s["init"])
    sizes = [w.numel() for w in model.weights()]
    rates = layer_rates(len(sizes), c["rate"])
    full = [torch.ones(w.shape, dtype=torch.bool) for w in model.weights()]
    dense = train_masked(model, data, full, seed=order[0], snapshot_step=c["rewind"], **fit)
    start = dense.snapshot                     # θ_k: where tickets and random masks are rewound to
    fresh = _state(MLP(mc, seed=s["reinit"]))   # the re-initialization control's θ'_0
    variants = c["variants"]
    series = {"fraction": [1.0], "nonzero": [sum(sizes)]}
    for v in variants:
        for key in ("test_acc", "val_acc", "train_acc", "stop_step"):
            series[f"{v}_{key}"] = [getattr(dense, key)]
    ticket_masks, random_m = full, full
    need_ticket = "ticket" in variants or "reinit" in variants
    for r in range(1, c["rounds"] + 1):
        counts = target_counts(sizes, rates, r)
        runs, kept = {}, []
        if need_ticket:
            ticket_masks = magnitude_masks(model.weights(), ticket_masks, counts)   # model: last round's ticket
            kept.append(ticket_masks)
            rewind(model, start, ticket_masks)
            runs["ticket"] = train_masked(model, data, ticket_masks, seed=order[r], **fit)
        if "reinit" in variants:
            other = MLP(mc, seed=0)   # overwritten by rewind; seeded so the global stream is untouched
            rewind(other, fresh, ticket_masks)
            runs["reinit"] = train_masked(other, data, ticket_masks, seed=order[r], **fit)
        if "random" in variants:
            random_m = random_masks(random_m, counts, mask_rng)
            kept.append(random_m)
            other = MLP(mc, seed=0)   # overwritten by rewind; seeded so the global stream is untouched
            rewind(other, start, random_m)
            runs["random"] = train_masked(other, data, random_m, seed=order[r], **fit)
        nonzero = {sum(int(m.sum()) for m in masks) for masks in kept}     # exact, from the masks
        assert nonzero == {sum(counts)}, (nonzero, counts)
        series["fraction"].append(sum(counts) / sum(sizes))
        series["nonzero"].append(sum(counts))
        for v in variants:
            for key in ("test_acc", "val_acc", "train_acc", "stop_step"):
                series[f"{v}_{key}"].append(getattr(runs[v], key))
    metrics = {"dense_test_acc": dense.test_acc, "dense_val_acc": dense.val_acc, "dense_train_acc": dense.train_acc,
               "dense_stop_step": dense.stop_step, "dense_count": sum(sizes), "n_params": mc.n_params,
               "n_test": int(data["test"][0].shape[0]),
               "final_fraction": series["fraction"][-1]}
    return {"metrics": metrics, "series": series}


# --------------------------------------------------------------------------- the sweep

#: Defaults of :func:`lottery_sweep`: (full, quick).
DEFAULTS = {"rounds": (15, 5), "rate": (0.2, 0.5), "seeds": (5, 3)}


def lottery_settings(data: str = "digits", *, rounds: int = 15, rate: float = 0.2, rewind: int = 0,
                     width: int = 100, depth: int = 2, n_train: int = 800, n_val: int = 300, epochs: int = 60,
                     lr: float = 3e-3, batch_size: int = 128, patience: int | None = None, variants=VARIANTS,
                     seed: int = 0) -> dict:
    """Check the options of :func:`lottery_sweep` (a one-line GenlabError naming the one to change)
    and return the config shared by its jobs (without ``repeat``)."""
    from ..models.mlp import check_train_args
    from .neural import _data_settings

    rounds = _check_int(rounds, "rounds")
    rate = check_rate(rate)
    rewind = _check_int(rewind, "rewind", 0)
    width = _check_int(width, "width")
    depth = _check_int(depth, "depth")
    base = _data_settings(data, n_train, n_val, 0.0, seed)
    del base["label_noise"]
    if base["n_val"] < 1:
        raise GenlabError("early stopping needs a validation set; give n_val >= 1")
    batch_size = _check_int(batch_size, "batch_size")
    check_train_args(epochs=epochs, lr=lr, optimizer="adam", batch_size=batch_size, weight_decay=0.0, l1=0.0,
                     eval_every=1, patience=patience, monitor="val_loss")
    steps = int(epochs) * math.ceil(base["n_train"] / min(batch_size, base["n_train"]))
    if rewind > steps:
        raise GenlabError(f"rewind = {rewind} steps is past the end of training ({steps} steps: {epochs} epochs of "
                          f"{math.ceil(base['n_train'] / min(batch_size, base['n_train']))}); lower rewind")
    return dict(base, rounds=rounds, rate=rate, rewind=rewind, width=width, depth=depth, epochs=int(epochs),
                lr=float(lr), batch_size=batch_size, patience=None if patience is None else int(patience),
                variants=_check_variants(variants))


def lottery_sweep(data: str = "digits", *, rounds: int | None = None, rate: float | None = None, rewind: int = 0,
                  seeds: int | None = None, width: int = 100, depth: int = 2, n_train: int = 800, n_val: int = 300,
                  epochs: int = 60, lr: float = 3e-3, batch_size: int = 128, patience: int | None = None,
                  variants=VARIANTS, margin: float = 0.01, quick: bool = False, store=None, seed: int = 0,
                  jobs: int | None = 1, dask=None, progress: bool = False) -> "LotteryResult":
    """Lottery tickets on digits: IMP with rewinding, against random re-initialization and random pruning.

    One job per repeat (see :func:`lottery_job`); a repeat draws its own
    split of the data and its own initialization.

    Parameters
    ----------
    data : str, default="digits"
        A bundled classification set (digits, wine, breast_cancer).
    rounds : int, optional
        Pruning rounds after the dense training: 15 (5 with ``quick``).
        With rate 0.2, 15 rounds leave 3.5% of the hidden layers' weights
        (20.6% of the output layer's, 4.5% of all).
    rate : float, optional
        Share of the remaining weights pruned per round in each hidden layer
        (the output layer at half of it): 0.2 (0.5 with ``quick``).
    rewind : int, default=0
        Rewinding point in optimizer steps: 0 rewinds to the initialization
        (Frankle & Carbin 2019), k > 0 to the weights after k steps of the
        dense training (Frankle et al. 2020). One epoch is
        ``ceil(n_train / batch_size)`` steps (7 by default).
    seeds : int, optional
        Repeats: 5 (3 with ``quick``).
    width, depth : int, default 100 and 2
        Hidden units per layer and hidden layers (64-100-100-10 by default:
        17,400 weights, 210 biases).
    n_train, n_val : int, default 800 and 300
        Training and validation images; the rest (697) is the test set.
    epochs, lr, batch_size : default 60, 3e-3, 128
        Every training (dense and pruned): Adam, at most ``epochs`` epochs.
    patience : int, optional
        Stop a training after this many epochs without a lower validation
        loss. Default None: every training runs all its epochs (a fixed
        budget, as in the paper; sparse networks can start with a plateau
        that a short patience mistakes for the end).
    variants : sequence of str
        Any of "ticket", "reinit", "random".
    margin : float, default=0.01
        The smallest drop of accuracy from dense that counts as falling
        below it (see :attr:`LotteryResult.thresholds`); analysis only.
    quick : bool
        Smaller defaults (rounds, rate, seeds).
    store, seed, jobs, dask, progress
        As in :func:`genlab.runs.execute.sweep`.

    Returns
    -------
    LotteryResult
    """
    from ..runs.execute import sweep

    i = 1 if quick else 0
    rounds = DEFAULTS["rounds"][i] if rounds is None else rounds
    rate = DEFAULTS["rate"][i] if rate is None else rate
    seeds = _check_int(DEFAULTS["seeds"][i] if seeds is None else seeds, "seeds")
    margin = _check_fraction(margin, "margin")
    base = lottery_settings(data, rounds=rounds, rate=rate, rewind=rewind, width=width, depth=depth, n_train=n_train,
                            n_val=n_val, epochs=epochs, lr=lr, batch_size=batch_size, patience=patience,
                            variants=variants, seed=seed)
    res = sweep(lottery_job, [dict(base, repeat=r) for r in range(seeds)], store=store, seed=seed, jobs=jobs,
                dask=dask, progress=progress)
    names = base["variants"]
    get = {key: {v: np.stack(res.series(f"{v}_{key}")) for v in names}
           for key in ("test_acc", "val_acc", "train_acc", "stop_step")}
    first = res.records[0]["metrics"]
    return LotteryResult(
        fraction=res.series("fraction")[0], nonzero=res.series("nonzero")[0].astype(np.int64),
        dense_count=int(first["dense_count"]), n_params=int(first["n_params"]), test_acc=get["test_acc"],
        val_acc=get["val_acc"], train_acc=get["train_acc"], stop_step=get["stop_step"],
        n_test=int(first["n_test"]), config=dict(base, seeds=seeds, quick=quick), elapsed_s=res.elapsed_s,
        n_ran=res.n_ran, n_cached=res.n_cached, margin=margin)


# --------------------------------------------------------------------------- the result

@dataclass
class LotteryResult:
    """Accuracy of pruned networks against the fraction of weights they keep, over repeats.

    ``fraction`` and ``nonzero`` have one entry per round (0 = the dense
    network, then each pruning round): the share and the number of weights
    kept, exact from the masks (the same in every repeat). ``test_acc``,
    ``val_acc``, ``train_acc`` and ``stop_step`` map a variant to an array
    of shape (n_repeats, n_rounds + 1); column 0 is the dense network, the
    same for every variant. Biases (``n_params - dense_count``) are never pruned.
    ``margin`` is the smallest drop from the dense accuracy that counts as
    falling below it (:meth:`below_dense`, :attr:`thresholds`).
    """

    fraction: np.ndarray
    nonzero: np.ndarray
    dense_count: int
    n_params: int
    test_acc: dict
    val_acc: dict
    train_acc: dict
    stop_step: dict
    n_test: int
    config: dict = field(default_factory=dict)
    elapsed_s: float = float("nan")
    n_ran: int = 0
    n_cached: int = 0
    margin: float = 0.01     # a drop smaller than this (1 percentage point) does not count as falling below

    @property
    def variants(self) -> list[str]:
        return list(self.test_acc)

    @property
    def dense(self) -> np.ndarray:
        """Test accuracy of the dense network, one per repeat."""
        return next(iter(self.test_acc.values()))[:, 0]

    def _diff(self, v: str):
        """Paired difference from dense over repeats: mean and s.e. per round (s.e. from the binomial
        spread of two test accuracies when there is one repeat)."""
        d = self.test_acc[v] - self.dense[:, None]
        mean = d.mean(axis=0)
        if d.shape[0] > 1:
            se = d.std(axis=0, ddof=1) / math.sqrt(d.shape[0])
        else:
            a, b = self.test_acc[v][0], self.dense[0]
            se = np.sqrt((a * (1 - a) + b * (1 - b)) / self.n_test)
        return mean, se

    def below_dense(self, v: str) -> np.ndarray:
        """Per round, whether variant ``v`` is below the dense network: its mean paired difference from the
        dense accuracy (same repeat: same data, same dense network) is below ``-max(2 se, margin)`` —
        a drop that is both clear of the repeat-to-repeat noise (two standard errors of the
        difference) and large enough to matter (``margin``, default 1 percentage point). Round 0: False."""
        mean, se = self._diff(v)
        out = mean < -np.maximum(2 * se, self.margin)
        out[0] = False
        return out

    @property
    def thresholds(self) -> dict:
        """Down to what fraction of its weights each variant matches the dense network.

        ``falls_below_at`` is the fraction of weights remaining from which on
        the variant is below dense (:meth:`below_dense`) in every later round
        — the first round of the final run of rounds below dense; None if the
        last round is not below. ``holds_down_to`` is the fraction of the round
        before it (the last round, if it never falls): the sparsity down to
        which the variant keeps the dense accuracy. A round below dense
        followed by one that is not is counted as noise, not as the fall.
        ``compression`` is ``1 / holds_down_to``; ``isolated_dips`` lists the
        rounds before the fall that were below dense.
        """
        out = {}
        n = len(self.fraction)
        for v in self.variants:
            below = self.below_dense(v)
            r = n
            while r > 1 and below[r - 1]:
                r -= 1                                     # r: first round of the final run below dense
            fall = r if r < n else None
            h = (fall if fall is not None else n) - 1      # the last round that holds
            out[v] = {"falls_below_at": None if fall is None else float(self.fraction[fall]),
                      "falls_below_round": fall, "holds_down_to": float(self.fraction[h]), "holds_round": h,
                      "nonzero_at_hold": int(self.nonzero[h]), "compression": float(1.0 / self.fraction[h]),
                      "isolated_dips": [int(i) for i in np.flatnonzero(below[:h + 1])], "margin": self.margin}
        return out

    def summary(self):
        """One row for the dense network (round 0), then one per variant and round: fraction and number of
        weights remaining, test / validation / training accuracy (mean, s.e.; test also median), the early-stop
        iteration (mean, s.e.), the paired difference from dense (mean, s.e.) and whether it is below
        (see :attr:`thresholds`)."""
        import pandas as pd

        rows = []
        for v in ["dense"] + self.variants:
            src = self.variants[0] if v == "dense" else v
            mean_d, se_d = self._diff(src)
            below = self.below_dense(src) if v != "dense" else np.zeros(len(self.fraction), dtype=bool)
            st = {k: summarize(getattr(self, k)[src]) for k in ("test_acc", "val_acc", "train_acc", "stop_step")}
            for r in ([0] if v == "dense" else range(1, len(self.fraction))):
                row = {"variant": v, "round": r, "fraction_remaining": float(self.fraction[r]),
                       "nonzero_weights": int(self.nonzero[r]), "dense_weights": self.dense_count}
                for k in ("test_acc", "val_acc", "train_acc", "stop_step"):
                    row[f"{k}_mean"], row[f"{k}_se"] = float(st[k]["mean"][r]), float(st[k]["se"][r])
                row["test_acc_median"] = float(st["test_acc"]["median"][r])
                row["diff_vs_dense_mean"], row["diff_vs_dense_se"] = float(mean_d[r]), float(se_d[r])
                row["below_dense"] = bool(below[r])
                rows.append(row)
        return pd.DataFrame(rows)

    to_frame = summary

    def size_table(self):
        """Apparent vs effective size (§4.2): per round, the weights the network has (dense count) and those
        that are non-zero, all parameters with the (never pruned) biases, the compression factor, and the
        ticket's test accuracy (mean, s.e.) when it was run."""
        import pandas as pd

        biases = self.n_params - self.dense_count
        t = {"round": np.arange(len(self.fraction)), "fraction_remaining": self.fraction,
             "dense_weights": np.full(len(self.fraction), self.dense_count), "nonzero_weights": self.nonzero,
             "biases": np.full(len(self.fraction), biases), "apparent_params": np.full(len(self.fraction),
                                                                                      self.n_params),
             "effective_params": self.nonzero + biases, "compression": self.dense_count / self.nonzero}
        if "ticket" in self.test_acc:
            s = summarize(self.test_acc["ticket"])
            t["ticket_test_acc_mean"], t["ticket_test_acc_se"] = s["mean"], s["se"]
        return pd.DataFrame(t)

    def to_dict(self) -> dict:
        s = summarize(self.dense[:, None])
        return {"n_repeats": int(self.dense.shape[0]), "n_test": self.n_test, "dense_count": self.dense_count,
                "n_params": self.n_params, "dense_test_acc_mean": float(s["mean"][0]),
                "dense_test_acc_se": float(s["se"][0]), "thresholds": self.thresholds, "config": self.config,
                "by_round": self.summary().to_dict(orient="records"),
                "sizes": self.size_table().to_dict(orient="records")}

    def plot(self, ax=None, *, what: str = "test_acc", title=None):
        """Mean test accuracy (or ``what="stop_step"``: the early-stop iteration) against the percentage of
        weights remaining, on a log axis that decreases to the right; bands are ± 1 s.e. over repeats; the
        dense network is the grey line and band; a dotted line marks where a variant falls below dense."""
        from matplotlib.ticker import NullFormatter

        from ..plots.helpers import axes

        if what not in ("test_acc", "val_acc", "stop_step"):
            raise GenlabError(f"what must be test_acc, val_acc or stop_step, got {what!r}")
        ax = axes(ax, (6.4, 4.2))
        x = 100 * self.fraction
        arrays = getattr(self, what)
        d = summarize(next(iter(arrays.values()))[:, [0]])
        m0, se0 = float(d["mean"][0]), float(np.nan_to_num(d["se"][0]))
        ax.axhspan(m0 - se0, m0 + se0, color="0.5", alpha=0.2, lw=0)
        ax.axhline(m0, color="0.35", lw=1, label=f"dense ({self.dense_count:,} weights)")
        lows, highs = [m0 - se0], [m0 + se0]
        th = self.thresholds
        for v, arr in arrays.items():
            s = summarize(arr)
            se = np.nan_to_num(s["se"])
            ax.fill_between(x, s["mean"] - se, s["mean"] + se, color=COLORS[v], alpha=0.2, lw=0)
            ax.plot(x, s["mean"], color=COLORS[v], marker="o", ms=3, label=LABELS[v])   # from the dense point
            lows.append(float(np.min(s["mean"][1:] - se[1:])))
            highs.append(float(np.max(s["mean"][1:] + se[1:])))
            if what == "test_acc" and th[v]["falls_below_at"] is not None:
                ax.axvline(100 * th[v]["falls_below_at"], color=COLORS[v], ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlim(100 * 1.15, 100 * self.fraction[-1] / 1.15)   # decreasing: pruning goes right
        ticks = [t for t in (100, 50, 20, 10, 5, 2, 1, 0.5) if 100 * self.fraction[-1] / 1.15 <= t <= 115]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("weights remaining (%)")
        if what == "stop_step":
            ax.set_ylabel("early-stop iteration (optimizer steps)")
        else:
            ax.set_ylabel(f"{'test' if what == 'test_acc' else 'validation'} accuracy")
            ax.set_ylim(max(0.0, min(lows) - 0.02), min(1.0, max(highs) + 0.01))
        ax.legend(fontsize="small", loc="lower left")
        ax.set_title(title or f"Lottery tickets: {self.config.get('data', 'digits')}, "
                              f"{self.config.get('depth', '?')}×{self.config.get('width', '?')} MLP, "
                              f"{self.dense.shape[0]} repeats")
        return ax
