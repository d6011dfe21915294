"""`genlab lottery`: the article's §5 — lottery tickets found by iterative magnitude pruning — as a command.

The sweep runs through the results store (``OUT/runs.sqlite`` by default,
``--store``): run the same command again to resume; ``--jobs``/``--dask``
choose the executor. Every option is checked before anything runs or is
written. Heavy modules are imported inside the command.
"""

from __future__ import annotations

import os
from typing import Optional

import typer

from ._common import SweepArgs, emit, option_group, output_stem, say


@option_group("sweep")
def lottery(
    rounds: Optional[int] = typer.Option(None, help="Pruning rounds after the dense training (default 15; 5 with "
                                         "--quick)."),
    rate: Optional[float] = typer.Option(None, help="Share of the remaining weights pruned per round, in (0, 1); "
                                         "the output layer at half of it (default 0.2; 0.5 with --quick)."),
    rewind: int = typer.Option(0, help="Rewind the surviving weights to their values after this many optimizer "
                               "steps of the dense training (0: to the initialization)."),
    seeds: Optional[int] = typer.Option(None, help="Repeats (default 5; 3 with --quick)."),
    width: int = typer.Option(100, help="Hidden units per layer."),
    depth: int = typer.Option(2, help="Hidden layers."),
    epochs: int = typer.Option(60, help="Epochs of every training (early stopping picks the lowest validation "
                               "loss)."),
    variants: str = typer.Option("ticket,reinit,random", help="Comma-separated: ticket (IMP), reinit (same mask, "
                                 "fresh init), random (random mask, same init)."),
    prune_from: str = typer.Option("final", "--prune-from", help="Which weights of a ticket's training the next "
                                   "round prunes by magnitude: final (at the end of training, as Frankle & Carbin) "
                                   "or best (the early-stopped ones, lowest validation loss)."),
    quick: bool = typer.Option(False, help="Smaller sweep (rounds, rate, seeds)."),
    sweep: SweepArgs = SweepArgs(),
):
    """Lottery tickets: prune an MLP on digits iteratively by magnitude, rewind, retrain; compare with controls.

    A round is "below dense" when a one-sided paired t-test over the repeats (n - 1 degrees of freedom),
    Holm-corrected over the rounds (familywise 5%), shows a drop and the mean drop exceeds 1 point.
    """
    import matplotlib.pyplot as plt
    from ..core.limits import announce, check_cap, mlp_seconds
    from ..analysis.lottery import DEFAULTS, lottery_settings, lottery_sweep

    for value, name in ((rounds, "rounds"), (seeds, "seeds"), (width, "width"), (depth, "depth"),
                        (epochs, "epochs")):
        check_cap(value, name, allow_large=sweep.allow_large)
    i = 1 if quick else 0
    opts = dict(rounds=DEFAULTS["rounds"][i] if rounds is None else rounds,
                rate=DEFAULTS["rate"][i] if rate is None else rate, rewind=rewind, width=width, depth=depth,
                epochs=epochs, variants=variants, prune_from=prune_from)
    lottery_settings(seed=sweep.seed, **opts)    # every mistake stops here, before a store or a file exists
    kw = sweep.sweep_kwargs()
    k = DEFAULTS["seeds"][i] if seeds is None else seeds
    trainings = 1 + opts["rounds"] * len([v for v in variants.split(",") if v.strip()])
    weights = 64 * width + (depth - 1) * width ** 2 + 10 * width       # digits: 64 inputs, 10 classes
    announce(mlp_seconds(seeds=k, trainings=trainings, epochs=epochs, steps_per_epoch=7, weights=weights,
                         batch_size=128) / min(kw["jobs"] or os.cpu_count() or 1, max(k, 1)),
             f"{k:,} seeds x {trainings:,} trainings x {epochs:,} epochs of a {depth} x {width:,} MLP")
    res = lottery_sweep(seeds=seeds, quick=quick, **opts, **kw)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12.4, 4.2))
    res.plot(a1)
    res.plot(a2, what="stop_step", title="Early-stop iteration")
    record = {"command": "lottery", **res.to_dict()}
    files = emit(sweep.out, output_stem("lottery"), fig, res.summary(), record, sweep.as_json,
                 tables={"sizes": res.size_table()})
    if not sweep.as_json:
        typer.echo(_headline(res))
    say(f"wrote {', '.join(str(p) for p in files)}", sweep.as_json)


def _headline(res) -> str:
    """Two lines for a person: the dense accuracy and down to what fraction each variant keeps up with it
    (with the pruning rule), then what "below dense" means."""
    d = res.to_dict()
    rule = d["below_dense_rule"]
    test = (f"one-sided paired t-test over {rule['df'] + 1} repeats ({rule['df']} d.f.)" if rule["df"] is not None
            else "one-sided z-test with the binomial s.e. (1 repeat)")
    return res.headline() + (
        f"\nbelow dense = {test}, Holm-corrected over the {rule['rounds_tested']} rounds (familywise "
        f"{rule['alpha']:.0%}), and a mean drop over {100 * rule['margin']:g} point; not below is no proof of a match")
