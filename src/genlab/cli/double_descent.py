"""`genlab double-descent` and `genlab regularize`: the article's §4.1–§4.2 as commands.

Every sweep runs through the results store (``OUT/runs.sqlite`` by default,
``--store``): run the same command again to resume; ``--jobs``/``--dask`` choose
the executor. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._common import SweepArgs, emit, option_group, output_stem, refuse_ignored, say
from ..core.errors import GenlabError
from ..core.limits import check_cap, check_run, isotropic_bytes, isotropic_seconds
from ..core.seeding import check_seed

KINDS = ("model", "samples", "epochs", "variance", "ablations", "singular")
MODELS = ("poly", "relu", "fourier", "mlp", "linear")
METHODS = ("ridge-cv", "optimal-ridge", "tuned-ridge", "side-by-side", "implicit")


def _rates(text: str) -> list[float]:
    try:
        rates = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GenlabError(f"--label-noise {text!r} must be fractions separated by commas, e.g. 0,0.1,0.2") from None
    if not rates or any(not 0 <= r <= 1 for r in rates):
        raise GenlabError(f"--label-noise {text!r} must be fractions in [0, 1]")
    return rates


def _ridge(text: Optional[str]):
    if text is None:
        return 0.0
    if text in ("tuned", "optimal"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise GenlabError(f"--ridge must be a number >= 0, 'tuned' or 'optimal', got {text!r}") from None
    if value < 0:
        raise GenlabError(f"--ridge must be >= 0, got {value}")
    return value


#: The --data names that are no bundled set: the synthetic sources of polynomials and isotropic samples.
SYNTHETIC = ("article", "hard", "isotropic")
CSV_MODELS = ("relu", "fourier", "mlp")


def _check_data(kind, model, data, csv, x_col, y_col) -> None:
    """--data names a bundled set or a synthetic source; --csv (with --x-col, --y-col) only where a sweep
    takes a user's data."""
    from ..data.sources import BUNDLED

    takes_csv = kind == "model" and model in CSV_MODELS
    if csv is None:
        refuse_ignored(True, "--x-col and --y-col name the columns of a --csv", ("--x-col", x_col, None),
                       ("--y-col", y_col, "y"))
        if data not in BUNDLED and data not in SYNTHETIC:
            hint = " (or your own data: --csv FILE --y-col COLUMN)" if takes_csv else ""
            raise GenlabError(f"unknown dataset {data!r}; choose one of {', '.join(BUNDLED)}{hint}")
        return
    if not takes_csv:
        raise GenlabError(f"--csv is for --kind model with --model {', '.join(CSV_MODELS)}; --kind {kind} "
                          f"--model {model} runs on --data")
    refuse_ignored(True, "--csv gives the data", ("--data", data, "digits"))


def _check_options(kind, model, data, n, noise, label_noise, ridge, seeds, sweep, csv=None, x_col=None,
                   y_col="y") -> tuple:
    """Check the options of ``double-descent`` together, before anything runs: refuse the unknown, the
    out of range and those the chosen sweep would ignore.

    Returns
    -------
    tuple
        The label-noise rates (list of float) and the ridge penalty (float, ``"tuned"`` or ``"optimal"``).
    """
    if kind not in KINDS:
        raise GenlabError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if model not in MODELS:
        raise GenlabError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    _check_data(kind, model, data, csv, x_col, y_col)
    if n is not None:
        if n < 1:
            raise GenlabError(f"--n must be >= 1, got {n}")
        if kind in ("epochs", "ablations", "singular") or (kind == "samples" and data != "isotropic"):
            what = "sweeps the number of training points itself" if kind == "samples" else "has its own data sizes"
            raise GenlabError(f"--kind {kind} {what}; drop --n")
    check_seed(sweep.seed)
    check_cap(n, "dd_n", allow_large=sweep.allow_large)
    check_cap(seeds, "seeds", allow_large=sweep.allow_large)
    isotropic = kind == "samples" and data == "isotropic"
    rf = kind == "model" and model in ("relu", "fourier")
    refuse_ignored(not (isotropic or (kind == "model" and model == "poly")),
                    "--noise is the σ of a synthetic source (--model poly, or --data isotropic samples)",
                    ("--noise", noise, None))
    refuse_ignored(not (isotropic or rf), "--ridge applies to random features and isotropic samples",
                    ("--ridge", ridge, None))
    refuse_ignored(not (rf or kind == "variance" or (kind == "model" and model == "mlp")),
                    "labels are flipped only in the random-features, MLP and variance sweeps",
                    ("--label-noise", label_noise, "0"))
    refuse_ignored(kind == "variance", "--kind variance runs its own repeats", ("--seeds", seeds, None))
    rates = _rates(label_noise)
    if len(rates) > 1 and not rf:
        raise GenlabError("one curve per label-noise rate is drawn for --model relu or fourier; give one rate here")
    if (csv is not None or (kind == "model" and model in CSV_MODELS and _regression(data))) and any(rates):
        what = "a --csv's target" if csv is not None else f"{data}'s target"
        raise GenlabError(f"--label-noise flips class labels; {what} is a regression target (drop it)")
    return rates, _ridge(ridge)


@option_group("sweep")
def double_descent(
    kind: str = typer.Option("model", help="model (size), samples, epochs, variance (data vs features), "
                             "ablations (Schaeffer et al.) or singular (why the peak)."),
    model: str = typer.Option("relu", help="poly, relu, fourier, mlp or linear."),
    data: str = typer.Option("digits", help="digits, diabetes, wine, breast_cancer; 'article' (2x² + 1) or "
                             "'hard' (2x + cos 25x) for poly; 'isotropic' (x ~ N(0, I)) for linear samples. "
                             "Your own data: --csv."),
    n: Optional[int] = typer.Option(None, help="Training points (default per experiment: 400 random features, "
                                    "15 poly, 200 MLP, 100 variance; at most half the rows of a small set or "
                                    "--csv, the rest up to 1000 testing); for isotropic samples, the dimension d "
                                    "(default 100)."),
    noise: Optional[float] = typer.Option(None, help="Noise σ of a synthetic source (default: 0.1 poly, "
                                          "0.5 isotropic samples)."),
    label_noise: str = typer.Option("0", help="Fraction(s) of training labels flipped: 0.2, or 0,0.1,0.2 for "
                                    "one curve per rate."),
    ridge: Optional[str] = typer.Option(None, help="Ridge penalty: a number, 'tuned' (chosen per size on a "
                                        "validation split) or 'optimal' (isotropic samples: dσ²/‖β‖²)."),
    seeds: Optional[int] = typer.Option(None, help="Repeats (default per experiment)."),
    quick: bool = typer.Option(False, help="Smaller sweep."),
    csv: Optional[Path] = typer.Option(None, help="Your own regression data (--kind model, --model relu, fourier "
                                       "or mlp): a CSV with a header row; --n rows train, the rest (up to 1000) "
                                       "test.", show_default=False),
    x_col: Optional[List[str]] = typer.Option(None, "--x-col", help="CSV input columns, repeatable or "
                                              "comma-separated (default: every column except --y-col).",
                                              show_default=False),
    y_col: str = typer.Option("y", "--y-col", help="CSV target column."),
    sweep: SweepArgs = SweepArgs(),
):
    """Double descent, measured: test error against model size, samples or epochs, and why the peak happens."""
    import matplotlib.pyplot as plt

    rates, rdg = _check_options(kind, model, data, n, noise, label_noise, ridge, seeds, sweep, csv, x_col, y_col)
    user = None
    if csv is not None:
        from ..data.sources import column_list, load_csv

        user = load_csv(csv, x=column_list(x_col, y_col), y=y_col)
    isotropic = kind == "samples" and data == "isotropic"
    kw = sweep.sweep_kwargs()
    if kw["jobs"] is None:
        kw["jobs"] = 1 if kind in ("samples", "ablations", "singular") else None
    opt = {} if seeds is None else {"seeds": seeds}
    if isotropic and (n is None or n >= 1) and (seeds is None or seeds >= 1):
        d, k, j = n or 100, seeds or 20, kw["jobs"] or 1
        check_run(isotropic_bytes(d=d, jobs=j), isotropic_seconds(d=d, seeds=k, jobs=j),
                  "this sweep of isotropic samples", "give a smaller --n (the dimension d)",
                  f"{k:,} seeds x 60 least-squares fits of up to {3 * d:,} x {d:,}")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if kind == "model" and model == "poly":
        from ..data.sources import SyntheticSource
        from ..analysis.double_descent import HARD_TARGET, polynomial_model_wise

        target = {"article": "2*x**2 + 1", "hard": HARD_TARGET}.get(data)
        if target is None:
            raise GenlabError("polynomial double descent uses a synthetic source: --data article or hard")
        res = polynomial_model_wise(SyntheticSource(target, 0.1 if noise is None else noise), n=n or 15, **opt, **kw)
    elif kind == "model" and model in CSV_MODELS:
        res = _model_sweep(model, data, user, n=n, rates=rates, ridge=rdg, quick=quick, opt=opt, kw=kw)
    elif kind == "samples" and model == "linear":
        if data == "isotropic":
            from ..analysis.regularize import sample_wise_linear

            if rdg not in (0.0, "optimal") and not isinstance(rdg, float):
                raise GenlabError("isotropic samples take --ridge as a number or 'optimal'")
            res = sample_wise_linear(d=n or 100, sigma=0.5 if noise is None else noise,
                                     ridge="none" if rdg == 0.0 else rdg, **opt, **kw)
        else:
            from ..analysis.double_descent import linear_sample_wise

            res = linear_sample_wise(data, **opt, **kw)
    elif kind == "epochs":
        from ..analysis.double_descent import epoch_wise

        res = epoch_wise(**opt, **kw)
    elif kind == "variance":
        from ..analysis.double_descent import random_features_variance_split

        if model not in ("relu", "fourier"):
            raise GenlabError("--kind variance splits the variance of random features: --model relu or fourier")
        res = random_features_variance_split(data, kind=model, n_train=n or 100, label_noise=rates[0], **kw)
    elif kind in ("ablations", "singular"):
        from ..analysis.double_descent import schaeffer_ablations, singular_value_analysis

        name = data if data != "digits" else "diabetes"
        res = schaeffer_ablations(name, **opt, **kw) if kind == "ablations" else singular_value_analysis(name, **opt, **kw)
    else:
        raise GenlabError(f"--kind {kind} does not take --model {model}; see genlab double-descent --help")
    res.plot(ax)
    record = {"command": "double-descent", "kind": kind, "model": model, "data": data if user is None else user.name,
              **res.to_dict()}
    stem = output_stem("double-descent", kind, model, ignore=("kind", "model"))
    files = emit(sweep.out, stem, fig, res.summary(), record, sweep.as_json)
    if not sweep.as_json:
        typer.echo(_headline(res))
    say(f"wrote {', '.join(str(p) for p in files)}", sweep.as_json)


def _model_sweep(model, data, user, *, n, rates, ridge, quick, opt, kw):
    """Model-wise double descent of random features or an MLP, on a bundled set or the user's data."""
    mine = user if user is not None else data
    if model in ("relu", "fourier"):
        from ..analysis.double_descent import label_noise_sweep, random_features_sweep

        common = dict(kind=model, n_train=n or (100 if quick else 400), ridge=ridge, **opt, **kw)
        if quick:
            common.setdefault("seeds", 3)
        if user is not None:
            common.update(_user_sizes(user, n, 100 if quick else 400))
        elif common["n_train"] + 1000 > _rows(data):  # a small bundled set (diabetes): the rest of it is the test set
            common["n_test"] = _user_sizes(data, common["n_train"], 0)["n_test"]
        return (label_noise_sweep(data, rates=rates, **common) if len(rates) > 1
                else random_features_sweep(mine, label_noise=rates[0], **common))
    if user is not None or _regression(data):
        from ..analysis.double_descent import mlp_regression_width_sweep

        return mlp_regression_width_sweep(mine, quick=quick, **_user_sizes(mine, n, 200), **opt, **kw)
    from ..analysis.double_descent import mlp_width_sweep

    return mlp_width_sweep(data, n_train=n or 200, label_noise=rates[0], quick=quick, **opt, **kw)


def _regression(data: str) -> bool:
    """Whether --data names a bundled regression set (its MLP sweep is the regression one)."""
    from ..data.sources import BUNDLED

    return BUNDLED.get(data, ("", ""))[1] == "regression"


def _rows(data) -> int:
    from ..analysis.double_descent._common import dataset

    return (data if not isinstance(data, str) else dataset(data)).n


def _user_sizes(data, n, default: int) -> dict:
    """Training rows (--n, or ``default`` capped at half the rows) and test rows (the rest, up to 1000)."""
    rows = _rows(data)
    n_train = n if n is not None else max(2, min(default, rows // 2))
    if n_train >= rows:
        raise GenlabError(f"--n {n_train} leaves no test rows in the data ({rows} rows); lower --n")
    return {"n_train": n_train, "n_test": min(1000, rows - n_train)}


def _headline(res) -> str:
    """One line for a person: where the peak is and how low each descent goes (with the error's units)."""
    from ..analysis.double_descent import DoubleDescentCurve
    from ..analysis.double_descent.results import KNOBS

    if isinstance(res, DoubleDescentCurve):
        units = res.config.get("y_units")
        knob = KNOBS.get(res.knob, res.knob)
        pk, mn = res.find_peak(), res.minimum
        parts = [f"median test squared error{f' ({units})' if units else ''}: peak {pk['value']:.4g} at "
                 f"{knob} {pk['at']:g}"]
        for name, key in (("classical minimum", "classical"), ("after the peak", "after_peak")):
            if mn[key]:
                parts.append(f"{name} {mn[key]['value']:.4g} at {mn[key]['at']:g}")
        if mn["ratio"] is not None:
            parts.append(f"second descent / classical minimum = {mn['ratio']:.3g}")
        if res.threshold is not None:
            parts.append(f"interpolation threshold at {knob} {res.threshold:g}")
        return "; ".join(parts)
    d = res.to_dict()
    keys = [k for k in ("peak", "peak_n", "minimum", "phases", "interpolation_width", "verdicts", "methods") if k in d]
    return "; ".join(f"{k}: {d[k]}" for k in keys) or "done"


@option_group("sweep")
def regularize(
    method: str = typer.Option("ridge-cv", help="ridge-cv (Fig 14), optimal-ridge (isotropic samples), "
                               "tuned-ridge (random features), side-by-side (lasso, weight decay, early "
                               "stopping, dropout on an MLP) or implicit (gradient descent from zero)."),
    degree: int = typer.Option(30, help="ridge-cv: polynomial degree."),
    folds: int = typer.Option(5, help="ridge-cv: folds."),
    quick: bool = typer.Option(False, help="Smaller sweeps."),
    seeds: Optional[int] = typer.Option(None, help="Repeats (default per method)."),
    sweep: SweepArgs = SweepArgs(),
):
    """Regularization, measured: ridge by cross-validation, optimal ridge, lasso/early stopping/dropout, implicit."""
    import matplotlib.pyplot as plt

    if method not in METHODS:
        raise GenlabError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    refuse_ignored(method != "ridge-cv", "they set up --method ridge-cv", ("--degree", degree, 30),
                    ("--folds", folds, 5))
    refuse_ignored(method in ("ridge-cv", "implicit"), f"--method {method} is one deterministic fit, not repeats",
                    ("--seeds", seeds, None))
    check_seed(sweep.seed)
    check_cap(degree, "degree", allow_large=sweep.allow_large)
    check_cap(seeds, "seeds", allow_large=sweep.allow_large)
    kw = sweep.sweep_kwargs()
    opt = {} if seeds is None else {"seeds": seeds}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if method == "ridge-cv":
        from ..data.sources import ARTICLE_SOURCE
        from ..analysis.regularize import ridge_cv

        res = ridge_cv(ARTICLE_SOURCE.draw(30, sweep.seed, "data"), degree, folds=folds, source=ARTICLE_SOURCE,
                       seed=sweep.seed)
    elif method == "optimal-ridge":
        from ..analysis.regularize import sample_wise_linear

        kw["jobs"] = kw["jobs"] or 1
        none = sample_wise_linear(d=100, ridge="none", **opt, **kw)
        res = sample_wise_linear(d=100, ridge="optimal", **opt, **kw)
        none.plot(ax)
    elif method == "tuned-ridge":
        from ..analysis.double_descent import random_features_sweep

        base = dict(n_train=100 if quick else 400, **({"seeds": 3} if quick else {}), **opt, **kw)
        random_features_sweep("digits", ridge=0.0, **base).plot(ax, label="minimum norm")
        res = random_features_sweep("digits", ridge="tuned", **base)
    elif method == "side-by-side":
        from ..analysis.regularize import regularizers_side_by_side

        res = regularizers_side_by_side("digits", quick=quick, **opt, **kw)
    else:
        from ..analysis.regularize import implicit_regularization

        res = implicit_regularization(seed=sweep.seed)
    res.plot(ax)
    record = {"command": "regularize", "method": method, **res.to_dict()}
    files = emit(sweep.out, output_stem("regularize", method, ignore=("method",)), fig, res.summary(), record,
                 sweep.as_json)
    if not sweep.as_json:
        typer.echo("; ".join(f"{k}: {v}" for k, v in res.to_dict().items() if not isinstance(v, (list, dict))))
    say(f"wrote {', '.join(str(p) for p in files)}", sweep.as_json)
