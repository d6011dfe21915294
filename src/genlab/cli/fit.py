"""`genlab fit` and the `genlab curve` group: one polynomial on one dataset (the article's §2), and
training vs validation error against degree over repeated datasets (`curve capacity`); the group's
curves for any estimator (`curve validation`, `curve learning`) are in :mod:`.estimator_curves`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..core.errors import GenlabError
from ._common import (AllowLargeOption, JSON_HELP, OUT_HELP, SourceArgs, check_out_folder, emit, option_group,
                      output_stem, refuse_ignored, say)
from .estimator_curves import curve_learning, curve_validation

curve_app = typer.Typer(no_args_is_help=True, help="Training and validation error curves.")


@option_group("src", seed="Dataset seed (same seed, same numbers).",
              csv="Fit a CSV's columns instead of the synthetic source.")
def fit(
    degree: int = typer.Option(2, help="Polynomial degree (model size = degree + 1)."),
    basis: str = typer.Option("legendre", help="monomial (as np.polyfit and the article), legendre or chebyshev."),
    solver: str = typer.Option("lstsq", help="lstsq (np.polyfit's cut-off), minnorm, ridge or lasso."),
    alpha: float = typer.Option(0.0, help="Ridge or lasso strength."),
    scale: Optional[bool] = typer.Option(None, "--scale/--no-scale", help="Map x to [-1, 1] (default: yes except monomial)."),
    normalize: bool = typer.Option(False, help="Orthonormal Legendre/Chebyshev polynomials."),
    n: int = typer.Option(30, help="Training points drawn from the source."),
    src: SourceArgs = SourceArgs(),
    n_val: int = typer.Option(0, help="Also report validation RMSE on this many fresh points from the source "
                              "(drawn beside the --n training points)."),
    val_fraction: float = typer.Option(0.0, help="With --csv: hold out this fraction of the rows for validation "
                                       "RMSE."),
    allow_large: AllowLargeOption = False,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    out: Path = typer.Option(Path("genlab-out"), help=OUT_HELP, callback=check_out_folder),
):
    """Fit one polynomial on one dataset; print its training (and validation) RMSE; write the figure."""
    import pandas as pd

    from ..data.sources import check_n
    from ..analysis.fitting import fit_polynomial
    from ..core.limits import check_cap, check_memory, fit_bytes
    from ..core.seeding import check_seed, rng

    check_seed(src.seed)
    check_cap(degree, "degree", allow_large=allow_large)
    check_cap(n, "n", allow_large=allow_large)
    check_cap(n_val, "n", allow_large=allow_large, option="--n-val")
    if src.csv is None and isinstance(degree, int) and n >= 1 and n_val >= 0:
        check_memory(fit_bytes(n=n + n_val, degree=max(degree, 0)),
                     f"a degree-{degree} fit of {n + n_val:,} points", "give a lower --degree or a smaller --n")
    refuse_ignored(src.csv is not None, "a --csv is used whole (hold rows out with --val-fraction)", ("--n", n, 30))
    if src.csv is None and val_fraction:
        raise GenlabError("--n is the training points: draw validation points beside them with --n-val "
                          "(--val-fraction holds out part of a --csv)")
    data = src.csv_data()
    source = None
    if data is None:
        source = src.source()
        data = source.draw(check_n(n), src.seed, "data")
    if not 0.0 <= val_fraction < 1.0:
        raise GenlabError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    validation = None
    if val_fraction > 0:
        n_hold = int(round(data.n * val_fraction))
        if not 1 <= n_hold < data.n:
            raise GenlabError(f"--val-fraction {val_fraction} of {data.n} points leaves an empty set; change it")
        data, validation = data.split(data.n - n_hold, rng(src.seed, "split"))
    if n_val:
        if source is None:
            raise GenlabError("--n-val draws from the synthetic source; with --csv use --val-fraction")
        if validation is not None:
            raise GenlabError("give either --n-val or --val-fraction, not both")
        validation = source.draw(check_n(n_val, "--n-val"), src.seed, "validation")
    result = fit_polynomial(data, degree, basis=basis, solver=solver, alpha=alpha, scale=scale,
                            normalize=normalize, validation=validation, source=source)
    record = {"command": "fit", "seed": src.seed, **result.to_dict()}

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4))
    y_all = data.y if validation is None else pd.concat([pd.Series(data.y), pd.Series(validation.y)])
    pad = 0.25 * (y_all.max() - y_all.min() + 1e-12)
    result.plot(ax, ylim=(y_all.min() - pad, y_all.max() + pad), title=f"{result.name} ({basis}, {solver})")
    frame = pd.DataFrame({"x": data.x, "y": data.y, "prediction": result.predict(data.x), "split": "train"})
    if validation is not None:
        frame = pd.concat([frame, pd.DataFrame({"x": validation.x, "y": validation.y,
                                                "prediction": result.predict(validation.x), "split": "validation"})])
    files = emit(out, output_stem("fit", f"degree{degree}", ignore=("degree",)), fig, frame, record, as_json)
    if not as_json:
        line = f"{result.name} ({basis}, {solver}): training RMSE {result.train_rmse:.4g}"
        if validation is not None:
            line += f", validation RMSE {result.val_rmse:.4g}"
        typer.echo(line)
        typer.echo(f"  parameters {result.n_params}, condition number {result.diagnostics['condition_number']:.3g}")
        if result.n_params >= data.n and basis != "monomial" and solver == "lstsq":
            typer.echo("  degree + 1 >= n: the fit interpolates; the article's 0.046 at degree 30 comes from "
                       "np.polyfit's cut-off (--basis monomial)")
    say(f"wrote {', '.join(str(p) for p in files)}", as_json)


@curve_app.command("capacity")
@option_group("src")
def curve_capacity(
    degrees: str = typer.Option("0-30", help="Degrees: a range 0-30, a list 1,2,5, or both."),
    method: str = typer.Option("holdout", help="holdout or kfold."),
    n: Optional[int] = typer.Option(None, help="Training points per dataset from the source (default 20); with "
                                    "kfold, the points split into the folds (default 30).", show_default=False),
    n_val: Optional[int] = typer.Option(None, "--n-val", help="Holdout: validation points per dataset, drawn "
                                        "beside the --n training points (default 10), or held out of a --csv's "
                                        "rows (default a third).", show_default=False),
    folds: int = typer.Option(5, help="Number of folds (kfold)."),
    repeats: int = typer.Option(100, help="Repeated datasets (or splits of a CSV) behind the bands."),
    basis: str = typer.Option("legendre", help="monomial, legendre or chebyshev."),
    solver: str = typer.Option("lstsq", help="lstsq, minnorm, ridge or lasso."),
    alpha: float = typer.Option(0.0, help="Ridge or lasso strength."),
    src: SourceArgs = SourceArgs(),
    allow_large: AllowLargeOption = False,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    out: Path = typer.Option(Path("genlab-out"), help=OUT_HELP, callback=check_out_folder),
):
    """Training vs validation RMSE against degree, over repeated datasets, with bands."""
    import matplotlib.pyplot as plt

    from ..analysis.curves import capacity_curve, parse_degrees
    from ..core.limits import capacity_bytes, capacity_seconds, check_cap, check_run
    from ..core.seeding import check_seed

    check_seed(src.seed)
    refuse_ignored(src.csv is not None, "a --csv's rows are the data (hold rows out with --n-val)", ("--n", n, None))
    refuse_ignored(method == "kfold", "k-fold validates on its folds", ("--n-val", n_val, None))
    top = max(parse_degrees(degrees), default=0)
    check_cap(top, "degree", allow_large=allow_large, option="--degrees")
    check_cap(repeats, "repeats", allow_large=allow_large)
    check_cap(n, "n", allow_large=allow_large)
    check_cap(n_val, "n", allow_large=allow_large, option="--n-val")
    data = src.csv_data() or src.source()
    if method == "holdout" and n_val is None:
        n_val = 10 if src.csv is None else int(round(data.n / 3))
    if n is None:
        n = 30 if method == "kfold" else 20
    size = n + (n_val or 0) if src.csv is None else data.n
    if repeats >= 1 and size >= 1:
        n_deg, k = len(parse_degrees(degrees)), folds if method == "kfold" and 2 <= folds <= size else 1
        check_run(capacity_bytes(n=size, degree=top, repeats=repeats, n_degrees=n_deg),
                  capacity_seconds(n=size, degree=top, repeats=repeats, n_degrees=n_deg, folds=k),
                  "this capacity curve", "give fewer --repeats, --n or degrees (--degrees)",
                  f"{repeats:,} repeats x {n_deg:,} degrees" + (f" x {k} folds" if k > 1 else ""))
    curve = capacity_curve(data, degrees, n=n, n_val=n_val, method=method, folds=folds, repeats=repeats,
                           basis=basis, solver=solver, alpha=alpha, seed=src.seed)
    record = {"command": "curve capacity", **curve.to_dict()}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    split = f"{n_val} validation points" if method == "holdout" else f"{folds} folds"
    curve.plot(ax, title=f"{method}: {curve.n_train} training points, {split}, {repeats} repeats")
    files = emit(out, output_stem("curve capacity"), fig, curve.summary(), record, as_json)
    if not as_json:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"capacity curve ({method}, n_train = {curve.n_train}, {split}, {repeats} repeats; "
                            "RMSE, units of y)")
        for col in ("degree", "train median RMSE", "val median RMSE", "val mean RMSE ± s.e.", "heavy tail"):
            table.add_column(col, justify="right")
        for row in curve.summary().itertuples():
            table.add_row(str(row.degree), f"{row.train_median:.3g}", f"{row.val_median:.3g}",
                          f"{row.val_mean:.3g} ± {row.val_se:.2g}", "yes" if row.val_heavy_tail else "")
        Console().print(table)
        typer.echo(f"best degree (median validation RMSE): {curve.best_degree}")
    say(f"wrote {', '.join(str(p) for p in files)}", as_json)


curve_app.command("validation")(curve_validation)
curve_app.command("learning")(curve_learning)
