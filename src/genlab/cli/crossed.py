"""`genlab biasvar --model mlp`: a network's bias², and its variance split by where it comes from — the
data, the initialization seed and their interaction (:func:`genlab.analysis.crossed.crossed_sweep`) —
across width, with the interpolation threshold and the error of seed ensembles. With ``--noise-draws K``
the label noise is a third factor (data × seed × noise: seven parts); for class labels the same fits'
0-1 and cross-entropy decompositions get a table of their own; ``--device`` says where the networks train.

:mod:`.biasvar` calls :func:`crossed_command` when ``--model`` is given; every option is checked here
before any store or file exists.
"""

from __future__ import annotations

import sys

import typer

from ..core.errors import GenlabError
from ..analysis.crossed.networks import LR, mlp_estimator, parse_widths  # noqa: F401 - parse_widths: the lab's too
from ._common import emit, output_stem, refuse_ignored, say, sweep_kwargs

#: --model names the command knows
MODELS = ("mlp",)
#: how the tables name the parts of a three-way design (label noise a factor): Adlam & Pennington's X, P, ε
PART_LABELS = {"x": "V_data", "init": "V_init", "eps": "V_noise", "x:init": "V_data×init",
               "x:eps": "V_data×noise", "init:eps": "V_init×noise", "x:init:eps": "V_data×init×noise"}
#: the defaults of the crossed sweep: ~2 minutes on 2 cores (bench/crossed.py measures it)
WIDTHS, R_DEFAULT, S_DEFAULT, EPOCHS, N_TRAIN = "2-2048", 4, 8, 300, 100
DATA = "digits"
WIDTHS_HELP = ("Hidden widths: a range a-b is the doubling ladder a, 2a, 4a, … up to b (b itself included), "
               "a list 2,8,100, or both (2-64,100).")


def _value(value):
    """An option's value, an empty list (``--estimator`` not given) as None."""
    return None if isinstance(value, (list, tuple)) and not value else value


def _given(name: str) -> bool:
    """Whether the running command line gave option ``name`` (False outside a command line)."""
    from ._common import _current_context

    ctx = _current_context()
    if ctx is None:
        return False
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _data(data, csv, x_col, y_col, label_noise):
    """(what crossed_sweep takes as data, its task, a name for titles) for --data/--csv."""
    from ..data.sources import ARTICLE_SOURCE, load_csv, load_dataset

    if data is not None and csv is not None:
        raise GenlabError("give either --data or --csv, not both")
    if csv is not None:
        ds = load_csv(csv, x=None if x_col is None else tuple(c.strip() for c in x_col.split(",")), y=y_col)
        name = csv.name
    elif data == "source":
        if label_noise:
            raise GenlabError("--label-noise flips class labels; the synthetic source is a regression (its noise "
                              "is --noise)")
        return ARTICLE_SOURCE, "regression", "the synthetic source"
    else:
        ds = load_dataset(data or DATA)
        name = ds.name
    if ds.task != "classification" and label_noise:
        raise GenlabError(f"--label-noise flips class labels; {name} is a regression set (use 0)")
    return ds, ds.task, name


def _source(target: str, noise: float, x_dist: str):
    from ._common import synthetic_source

    return synthetic_source(target, noise, x_dist)


def check_noise_draws(K, *, task: str, data, label_noise: float, noise: float, allow_large: bool) -> int:
    """``--noise-draws``: 1 (two-way), or K >= 2 label-noise draws where the labels have noise to redraw."""
    from ..core.limits import check_cap

    if isinstance(K, bool) or not isinstance(K, int) or K < 1:
        raise GenlabError(f"--noise-draws must be an integer >= 1 (K >= 2 makes label noise a factor), got {K}")
    if K > 1 and data == "source" and not noise > 0:
        raise GenlabError("--noise-draws > 1 redraws the source's noise, but --noise is 0; give --noise > 0")
    if K > 1 and data != "source" and not (task == "classification" and label_noise > 0):
        raise GenlabError("--noise-draws > 1 redraws the flipped labels: give --label-noise > 0 (a classification "
                          "set), or use --noise-draws 1")
    return check_cap(K, "seeds", allow_large=allow_large, option="--noise-draws")



#: the options of `genlab biasvar`'s other modes, refused with --model: (parameter, flag, default)
OTHER_MODES = (("degrees", "--degrees", "0-29"), ("n", "--n", 30), ("basis", "--basis", "legendre"),
               ("solver", "--solver", None), ("alpha", "--alpha", 0.0), ("alphas", "--alphas", None),
               ("estimator", "--estimator", None), ("loss", "--loss", "squared"), ("kohavi_wolpert", "--kw", False),
               ("probs", "--probs", "0.5 + 0.4*sin(2*pi*x)"), ("method", "--method", "disjoint"),
               ("rounds", "--rounds", 200))


def crossed_command(*, model: str, widths: str, datasets: int, seeds: int | None, epochs: int | None,
                    n_train: int | None, n_test: int, data, csv, x_col, y_col, label_noise: float, target: str,
                    noise: float, x_dist: str, seed: int, jobs, store, dask, allow_large: bool, as_json: bool, out,
                    noise_draws: int = 1, device: str = "auto", **other) -> None:
    """Run the crossed width sweep, print its table and write its figure, CSV and JSON.

    ``other`` are the values of `genlab biasvar`'s other options (:data:`OTHER_MODES`), refused when given.
    """
    from matplotlib.figure import Figure

    from ..analysis.crossed import crossed_sweep
    from ..core.limits import check_cap
    from ..core.seeding import check_seed

    if model not in MODELS:
        raise GenlabError(f"--model {model!r} is unknown; choose {', '.join(MODELS)} (any other randomized "
                          "estimator: genlab.analysis.crossed.crossed_sweep in Python)")
    refuse_ignored(True, "--model sweeps an MLP's width (training points: --n-train)",
                   *((flag, _value(other.get(name, default)), default) for name, flag, default in OTHER_MODES))
    check_seed(seed)
    R = datasets if _given("datasets") else R_DEFAULT
    S = S_DEFAULT if seeds is None else seeds
    epochs = EPOCHS if epochs is None else epochs
    n_train = N_TRAIN if n_train is None else n_train
    for value, flag in ((R, "--datasets"), (S, "--seeds")):
        if isinstance(value, bool) or value < 2:
            raise GenlabError(f"{flag} must be at least 2 (a variance between draws needs two), got {value}")
    if epochs < 1 or n_train < 2 or n_test < 1:
        raise GenlabError("--epochs and --n-test must be at least 1 and --n-train at least 2")
    check_cap(R, "datasets", allow_large=allow_large)
    check_cap(S, "seeds", allow_large=allow_large)
    check_cap(epochs, "epochs", allow_large=allow_large)
    check_cap(n_test, "n_test", allow_large=allow_large)
    if not 0 <= label_noise < 1:
        raise GenlabError(f"--label-noise must be in [0, 1), got {label_noise}")
    values = parse_widths(widths, allow_large=allow_large)
    refuse_ignored(data != "source" or csv is not None, "these shape the synthetic source; add --data source",
                   ("--target", target, "2*x**2 + 1"), ("--noise", noise, 0.1), ("--x", x_dist, "uniform(0, 1)"))
    from ..models.torch_estimators import resolve_device

    device = resolve_device(device, option="--device")  # before any file: cuda without a GPU is refused here
    source, task, name = _data(data, csv, x_col, y_col, label_noise)
    K = check_noise_draws(noise_draws, task=task, data=data, label_noise=label_noise, noise=noise,
                          allow_large=allow_large)
    if data == "source":
        source = _source(target, noise, x_dist)
    elif source.n < n_train + n_test:
        raise GenlabError(f"{name} has {source.n} rows: --n-train {n_train} + --n-test {n_test} do not fit")
    kw = sweep_kwargs(out=out, store=store, jobs=jobs, dask=dask)
    res = crossed_sweep(mlp_estimator(task, epochs, device), knob="width", values=values, data=source, R=R, S=S,
                        n_train=n_train, n_test=n_test, label_noise=label_noise, noise_draws=K, seed=seed,
                        progress=not as_json and sys.stderr.isatty(), **kw)
    record = {"command": "biasvar", "model": model, "data": name, "epochs": epochs, "lr": LR, "device": device,
              **res.to_dict()}
    rows = 2 if res.classification else 1  # class labels: the 0-1 and cross-entropy splits below
    fig = Figure(figsize=(12.8, 4.4 * rows))
    axes = fig.subplots(rows, 2, squeeze=False)
    what = f"{name}, n = {n_train}" + (f", {label_noise:g} label noise" if label_noise else "")
    design = f"{R} data draws × {S} seeds" + (f" × {K} noise draws" if K > 1 else "")
    res.plot(axes[0, 0], title=f"MLP width: {design} ({what})")
    res.plot_ensembles(axes[0, 1], title="ensembles of k seeds")
    if res.classification:
        res.plot_loss("zero_one", axes[1, 0], title="0-1 loss (Domingos)")
        res.plot_loss("cross_entropy", axes[1, 1], title="cross-entropy (Bregman)")
    fig.tight_layout()
    frame = res.summary()
    frame["device"] = device
    files = emit(out, output_stem("biasvar", model, ignore=("model",)), fig, frame, record, as_json)
    if not as_json:
        print_table(res, name=what, epochs=epochs)
        if res.classification:
            print_losses(res)
    say(f"wrote {', '.join(str(p) for p in files)}", as_json)



def _pm(value: float, se: float) -> str:
    return f"{value:.3g}" if se != se else f"{value:.3g} ±{se:.1g}"


def _parts(res) -> list[tuple]:
    """(column name, values, s.e.) of the variance's parts: data, init, data×init; or the seven of a three-way
    design, without their s.e. (NaN: not shown, to keep the table narrow; the CSV and JSON have them)."""
    import numpy as np

    if res.K > 1:
        return [(PART_LABELS[p], res.parts[p], np.full(len(res.values), np.nan)) for p in res.part_names]
    return [("V_data", res.v_data, res.v_data_se), ("V_init", res.v_init, res.v_init_se),
            ("V_data×init", res.v_interaction, res.v_interaction_se)]


def _console():
    import shutil

    from rich.console import Console

    return Console(width=max(shutil.get_terminal_size().columns, 160))


def print_table(res, *, name: str, epochs: int) -> None:
    """One row per width: bias², the parts of the variance (three, or the seven of a three-way design), their
    total, the error (each ± s.e.), the error of 4 seeds' and all S seeds' average, and the training error;
    the threshold and peak below."""
    import numpy as np
    from rich.table import Table

    bias = "bias²" if res.mode == "source" else "bias² (incl. noise)"
    k4 = min(4, res.S)
    three = res.K > 1
    table = Table(title=f"crossed data × seed{' × label noise' if three else ''} decomposition ({name}, {epochs} "
                  f"epochs{f', {res.K} noise draws' if three else ''}; squared error"
                  f"{' of the class probabilities' if res.config.get('task') == 'classification' else ''})",
                  caption="the seven parts' standard errors are in the CSV and JSON" if three else None)
    ks = sorted({k4, res.S})
    parts = _parts(res)
    for col in ("width", bias, *(p for p, _, _ in parts), "variance", "error",
                *(f"ensemble of {k}" for k in ks), "train error"):
        table.add_column(col, justify="right")
    ens, ens_se = res.ensemble, res.ensemble_se
    for a, w in enumerate(res.values):
        table.add_row(str(w), _pm(res.bias2[a], res.bias2_se[a]), *(_pm(v[a], se[a]) for _, v, se in parts),
                      _pm(res.total[a], res.total_se[a]), _pm(res.error[a], res.error_se[a]),
                      *(_pm(ens[a, k - 1], ens_se[a, k - 1]) for k in ks),
                      f"{res.train_error[a]:.3g}")
    _console().print(table)
    at = int(np.nanargmax(res.total))
    shares = ", ".join(f"{p.removeprefix('V_')} {v[at] / res.total[at]:.0%}" for p, v, _ in parts)
    thr = "—" if res.threshold is None else f"{res.threshold:.1f}"
    typer.echo(f"interpolation threshold (parameters = n_train × outputs): width {thr}; the variance peaks at "
               f"width {res.values[at]} ({shares} of it); ensemble of {res.S} seeds there: {ens[at, -1]:.4g} "
               f"against {res.error[at]:.4g} for one network.")


def print_losses(res) -> None:
    """For class probabilities: one row per width of the 0-1 error with Domingos' bias and net variance, and
    the cross-entropy with its Bregman bias and variance (each ± s.e.); where each loss's variance peaks."""
    import numpy as np
    from rich.table import Table

    z, c = res.zero_one, res.cross_entropy
    zs, cs = ({k: res.se[f"{loss}_{k}"] for k in t} for loss, t in (("zero_one", z), ("cross_entropy", c)))
    label = res.mode != "source"
    table = Table(title="the same fits: 0-1 loss (Domingos) and cross-entropy (Bregman, nats)"
                  + ("; the test label is the truth (its noise is inside each bias)" if label else ""))
    for col in ("width", "0-1 error", "bias", "net variance (V_u − V_b)", "cross-entropy", "CE bias", "CE variance"):
        table.add_column(col, justify="right")
    for a, w in enumerate(res.values):
        table.add_row(str(w), *(_pm(t[k][a], se[k][a]) for t, se, k in (
            (z, zs, "error"), (z, zs, "bias"), (z, zs, "net_variance"),
            (c, cs, "error"), (c, cs, "bias"), (c, cs, "variance"))))
    _console().print(table)
    a, b = (int(np.nanargmax(v)) for v in (z["net_variance"], c["variance"]))
    typer.echo(f"0-1 loss: the net variance peaks at width {res.values[a]} (V_u {z['v_unbiased'][a]:.3g} − V_b "
               f"{z['v_biased'][a]:.3g}; P(f ≠ main prediction) {z['variance'][a]:.3g}; error {z['error'][a]:.3g}).")
    typer.echo(f"cross-entropy: the variance (mean KL from the fits' geometric mean) peaks at width {res.values[b]} "
               f"({c['variance'][b]:.3g} of {c['error'][b]:.3g} nats).")
