"""The lottery sweep: one repeat's IMP trajectory and its controls as a job, the settings, the sweep."""

from __future__ import annotations

import math

import numpy as np

from ...core.checks import check_fraction as _check_fraction, check_int as _check_int
from ...core.errors import GenlabError
from ...core.seeding import torch_seed
from .masks import layer_rates, magnitude_masks, random_masks, rewind, state, target_counts
from .results import VARIANTS, LotteryResult
from .train import train_masked

#: Which weights the next round prunes: "final" (the end of training; Frankle & Carbin 2019), "best" (the
#: early-stopped ones, those of the lowest validation loss).
PRUNE_FROM = ("final", "best")

#: The figures of a training (:class:`~genlab.analysis.lottery.train.MaskedRun`) kept per round and variant.
RUN_FIGURES = ("test_acc", "val_acc", "train_acc", "stop_step")


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


def check_prune_from(prune_from) -> str:
    """The weights the next round prunes: "final" or "best" (a one-line GenlabError otherwise)."""
    if not isinstance(prune_from, str) or prune_from.strip() not in PRUNE_FROM:
        raise GenlabError(f"prune_from must be 'final' (prune the weights at the end of training, as Frankle & "
                          f"Carbin) or 'best' (the early-stopped weights), got {prune_from!r}")
    return prune_from.strip()


def _check_alpha(alpha) -> float:
    """The familywise level of the tests "below dense": a number in (0, 1)."""
    try:
        v = float(alpha)
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(alpha, bool) or not 0.0 < v < 1.0:
        raise GenlabError(f"alpha must be a level in (0, 1) (the familywise level of the tests over rounds), "
                          f"got {alpha!r}")
    return v


def _check_variants(variants) -> list[str]:
    if isinstance(variants, str):
        variants = [v for v in variants.split(",") if v.strip()]
    variants = [str(v).strip() for v in variants]
    bad = [v for v in variants if v not in VARIANTS]
    if bad or not variants or len(set(variants)) != len(variants):
        raise GenlabError(f"variants {variants!r}: choose distinct names among {', '.join(VARIANTS)}")
    return [v for v in VARIANTS if v in variants]


def _seeds(seed: np.random.SeedSequence) -> dict:
    init, reinit, order, masks = seed.spawn(4)
    return {"init": torch_seed(init), "reinit": torch_seed(reinit), "order": order, "masks": masks}


def lottery_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """One repeat's IMP trajectory, with its controls (a job of :func:`genlab.runs.sweep.sweep`).

    All variants of a repeat run in one job: they share the data split, the
    dense network of round 0, the rewinding point and the training seed of
    every round, so their differences are paired; and the ``reinit`` control
    needs the ticket's masks, which only the IMP trajectory makes.

    Parameters
    ----------
    config : dict
        ``data``, ``n_train``, ``n_val``, ``seed``, ``repeat`` (the split, see
        :func:`genlab.data.splits.noisy_splits`, without label noise); ``width``,
        ``depth`` (the MLP); ``rounds``, ``rate``, ``rewind``, ``variants``, ``prune_from``
        (the ticket's last training's weights the next round prunes: ``"final"``, those at the end of
        training, or ``"best"``, the early-stopped ones; a config without it is ``"best"``, as before
        the option existed); ``epochs``, ``lr``, ``batch_size``, ``patience`` (each training).
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

    from ...models.mlp import MLP, MLPConfig, as_tensors
    from ...data.splits import noisy_splits

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
    final = c.get("prune_from", "best") == "final"

    model = MLP(mc, seed=s["init"])
    sizes = [w.numel() for w in model.weights()]
    rates = layer_rates(len(sizes), c["rate"])
    full = [torch.ones(w.shape, dtype=torch.bool) for w in model.weights()]
    dense = train_masked(model, data, full, seed=order[0], snapshot_step=c["rewind"], keep_final=final, **fit)
    source = _prune_source(model, dense, final)          # what round 1 prunes
    starts = {"rewound": dense.snapshot,                  # θ_k: where tickets and random masks are rewound to
              "fresh": state(MLP(mc, seed=s["reinit"]))}  # the re-initialization control's θ'_0
    variants = c["variants"]
    series = {"fraction": [1.0], "nonzero": [sum(sizes)]}
    for v in variants:
        for key in RUN_FIGURES:
            series[f"{v}_{key}"] = [getattr(dense, key)]
    masks = {"ticket": full, "random": full}
    for r in range(1, c["rounds"] + 1):
        counts = target_counts(sizes, rates, r)
        runs = _round(model, data, variants, masks, counts, source=source, starts=starts, mask_rng=mask_rng,
                      seed=order[r], fit=fit, keep_final=final)
        if "ticket" in runs:
            source = _prune_source(model, runs["ticket"], final)
        series["fraction"].append(sum(counts) / sum(sizes))
        series["nonzero"].append(sum(counts))
        for v in variants:
            for key in RUN_FIGURES:
                series[f"{v}_{key}"].append(getattr(runs[v], key))
    metrics = {"dense_test_acc": dense.test_acc, "dense_val_acc": dense.val_acc, "dense_train_acc": dense.train_acc,
               "dense_stop_step": dense.stop_step, "dense_count": sum(sizes), "n_params": mc.n_params,
               "n_test": int(data["test"][0].shape[0]),
               "final_fraction": series["fraction"][-1]}
    return {"metrics": metrics, "series": series}


def _lottery_cost(config: dict) -> float:
    """Rough seconds of :func:`lottery_job` on one core (measured: about 24 µs per sample, epoch and
    round); only the order of a plan depends on it."""
    return 2.4e-5 * (config["rounds"] + 1) * config["epochs"] * config["n_train"]


lottery_job.cost = _lottery_cost


def _prune_source(model, run, final: bool) -> list:
    """The weights the next round prunes after the ticket's training ``run`` of ``model``: those at the end
    of training (``final``, kept by ``train_masked(keep_final=True)``) or the early-stopped ones, which
    ``model`` holds after the training."""
    return run.final_weights if final else [w.detach().clone() for w in model.weights()]


def _round(model, data: dict, variants, masks: dict, counts, *, source, starts: dict, mask_rng, seed: int, fit: dict,
           keep_final: bool) -> dict:
    """One pruning round of :func:`lottery_job`: each variant's masks for ``counts`` weights per layer
    and its training (with seed ``seed``); returns ``{variant: MaskedRun}``.

    ``model`` holds the last round's ticket (it is pruned, rewound and trained
    into this round's); ``source`` holds the weight matrices of its training
    that are pruned (:func:`_prune_source`: at the end of training, or the
    early-stopped ones); ``keep_final`` asks the ticket's training for its
    final weights; ``masks`` (``ticket`` and ``random``, last round's) is
    updated in place; ``starts`` holds ``rewound`` (θ_k) and ``fresh`` (the
    re-initialization's θ'_0). The ticket is trained whenever ``reinit`` is
    asked for too, since its masks come from the ticket's weights.
    """
    from ...models.mlp import MLP

    runs, kept = {}, []
    if "ticket" in variants or "reinit" in variants:
        masks["ticket"] = magnitude_masks(source, masks["ticket"], counts)   # source: last round's ticket
        kept.append(masks["ticket"])
        rewind(model, starts["rewound"], masks["ticket"])
        runs["ticket"] = train_masked(model, data, masks["ticket"], seed=seed, keep_final=keep_final, **fit)
    if "reinit" in variants:
        other = MLP(model.config, seed=0)   # overwritten by rewind; seeded so the global stream is untouched
        rewind(other, starts["fresh"], masks["ticket"])
        runs["reinit"] = train_masked(other, data, masks["ticket"], seed=seed, **fit)
    if "random" in variants:
        masks["random"] = random_masks(masks["random"], counts, mask_rng)
        kept.append(masks["random"])
        other = MLP(model.config, seed=0)   # overwritten by rewind; seeded so the global stream is untouched
        rewind(other, starts["rewound"], masks["random"])
        runs["random"] = train_masked(other, data, masks["random"], seed=seed, **fit)
    nonzero = {sum(int(m.sum()) for m in ms) for ms in kept}     # exact, from the masks
    assert nonzero == {sum(counts)}, (nonzero, counts)
    return runs


# --------------------------------------------------------------------------- the sweep

#: Defaults of :func:`lottery_sweep`: (full, quick).
DEFAULTS = {"rounds": (15, 5), "rate": (0.2, 0.5), "seeds": (5, 3), "epochs": (60, 60)}


def lottery_settings(data: str = "digits", *, rounds: int = 15, rate: float = 0.2, rewind: int = 0,
                     width: int = 100, depth: int = 2, n_train: int = 800, n_val: int = 300, epochs: int = 60,
                     lr: float = 3e-3, batch_size: int = 128, patience: int | None = None, variants=VARIANTS,
                     prune_from: str = "final", seed: int = 0) -> dict:
    """Check the options of :func:`lottery_sweep` (a one-line GenlabError naming the one to change)
    and return the config shared by its jobs (without ``repeat``)."""
    from ...models.mlp import check_train_args
    from ...data.splits import split_settings

    rounds = _check_int(rounds, "rounds")
    rate = check_rate(rate)
    prune_from = check_prune_from(prune_from)
    rewind = _check_int(rewind, "rewind", 0)
    width = _check_int(width, "width")
    depth = _check_int(depth, "depth")
    base = split_settings(data, n_train, n_val, 0.0, seed)
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
                variants=_check_variants(variants), prune_from=prune_from)


def lottery_sweep(data: str = "digits", *, rounds: int | None = None, rate: float | None = None, rewind: int = 0,
                  seeds: int | None = None, width: int = 100, depth: int = 2, n_train: int = 800, n_val: int = 300,
                  epochs: int | None = None, lr: float = 3e-3, batch_size: int = 128, patience: int | None = None,
                  variants=VARIANTS, prune_from: str = "final", margin: float = 0.01, alpha: float = 0.05,
                  quick: bool = False, store=None, seed: int = 0, jobs: int | None = 1, dask=None,
                  progress: bool = False) -> LotteryResult:
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
    prune_from : {"final", "best"}, default="final"
        Which weights of the ticket's training the next round prunes by
        magnitude: "final", those at the end of training (Frankle & Carbin
        2019, whose early stopping only picks the iteration and accuracy they
        report), or "best", the early-stopped ones (lowest validation loss;
        the accuracies reported are those of the early-stopped weights either
        way). Part of every job's config, so the two never share a store row.
    margin : float, default=0.01
        The smallest mean drop of accuracy from dense that counts as falling
        below it (see :meth:`LotteryResult.below_dense`); analysis only.
    alpha : float, default=0.05
        Familywise level of the tests "below dense" over a variant's rounds
        (one-sided paired t-tests, Holm's step-down; see
        :meth:`LotteryResult.below_dense`); analysis only.
    quick : bool
        Smaller defaults (rounds, rate, seeds).
    store, seed, jobs, dask, progress
        As in :func:`genlab.runs.sweep.sweep`.

    Returns
    -------
    LotteryResult
    """
    from ...runs.sweep import sweep

    i = 1 if quick else 0
    rounds = DEFAULTS["rounds"][i] if rounds is None else rounds
    rate = DEFAULTS["rate"][i] if rate is None else rate
    seeds = _check_int(DEFAULTS["seeds"][i] if seeds is None else seeds, "seeds")
    epochs = DEFAULTS["epochs"][i] if epochs is None else epochs
    margin = _check_fraction(margin, "margin")
    alpha = _check_alpha(alpha)
    base = lottery_settings(data, rounds=rounds, rate=rate, rewind=rewind, width=width, depth=depth, n_train=n_train,
                            n_val=n_val, epochs=epochs, lr=lr, batch_size=batch_size, patience=patience,
                            variants=variants, prune_from=prune_from, seed=seed)
    res = sweep(lottery_job, [dict(base, repeat=r) for r in range(seeds)], store=store, seed=seed, jobs=jobs,
                dask=dask, progress=progress, label=f"lottery tickets on {data}")
    names = base["variants"]
    get = {key: {v: np.stack(res.series(f"{v}_{key}")) for v in names}
           for key in ("test_acc", "val_acc", "train_acc", "stop_step")}
    first = res.records[0]["metrics"]
    return LotteryResult(
        fraction=res.series("fraction")[0], nonzero=res.series("nonzero")[0].astype(np.int64),
        dense_count=int(first["dense_count"]), n_params=int(first["n_params"]), test_acc=get["test_acc"],
        val_acc=get["val_acc"], train_acc=get["train_acc"], stop_step=get["stop_step"],
        n_test=int(first["n_test"]), config=dict(base, seeds=seeds, quick=quick), elapsed_s=res.elapsed_s,
        n_ran=res.n_ran, n_cached=res.n_cached, margin=margin, alpha=alpha)

