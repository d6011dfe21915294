"""The `genlab` command. Every experiment command takes --json (results on
stdout) and --out DIR (figures as PNG and SVG, results as JSON and CSV).

User mistakes end with one line on stderr and exit status 2; nothing is
written before the inputs are checked, and every file is written atomically.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from pathlib import Path
from typing import Optional

import typer

from ..core.errors import GenlabError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="genlab: a generalization laboratory (fits, bias-variance, double descent, scaling laws).")
curve_app = typer.Typer(no_args_is_help=True, help="Training and validation error curves.")
app.add_typer(curve_app, name="curve")

from .runs import DaskOption, StoreOption, check_out_folder, runs_app, sweep_kwargs  # noqa: E402  (light: imports nothing heavy at start-up)

app.add_typer(runs_app, name="runs")

from .double_descent import double_descent as _dd, regularize as _reg  # noqa: E402

app.command("double-descent")(_dd)
app.command("regularize")(_reg)
from .lottery import lottery as _lottery  # noqa: E402
app.command("lottery")(_lottery)

from .scaling import scaling_app  # noqa: E402

app.add_typer(scaling_app, name="scaling")

OUT_HELP = "Folder for figures (PNG, SVG) and results (JSON, CSV)."
JSON_HELP = "Print machine-readable results (JSON) on stdout."
from ..core.limits import ALLOW_LARGE_HELP  # noqa: E402  (light: numpy and the standard library)


def _say(msg: str, as_json: bool) -> None:
    """Human-readable lines go to stdout, or to stderr when stdout carries JSON."""
    typer.echo(msg, err=as_json)


def _emit(out: Path, stem: str, fig, frame, record: dict, as_json: bool, tables: dict | None = None) -> list:
    """Write the figure (PNG, SVG), the table (CSV), any further ``tables`` (``{file name: DataFrame}``)
    and the record (JSON, last) under ``out`` as one set, all or nothing (:class:`genlab.core.io.OutputSet`);
    print the record on stdout when ``--json``. Returns the written paths."""
    import matplotlib.pyplot as plt

    from ..core.io import OutputSet, to_json, write_stdout

    try:
        with OutputSet(out) as files:
            files.add_figure(fig, stem)
            files.add_csv(f"{stem}.csv", frame)
            for name, table in (tables or {}).items():
                files.add_csv(name, table)
            files.add_json(f"{stem}.json", record)
    finally:
        plt.close(fig)
    if as_json:
        write_stdout(to_json(record))
    return files.paths


def _source(target: str, noise: float, x_dist: str):
    from ..data.sources import SyntheticSource

    return SyntheticSource(target=target, noise=noise, x_dist=x_dist)


def _user_data(csv: Optional[Path], x_col: str, y_col: str):
    from ..data.sources import load_csv

    return load_csv(csv, x=x_col, y=y_col) if csv is not None else None


@app.command()
def fit(
    degree: int = typer.Option(2, help="Polynomial degree (model size = degree + 1)."),
    basis: str = typer.Option("legendre", help="monomial (as np.polyfit and the article), legendre or chebyshev."),
    solver: str = typer.Option("lstsq", help="lstsq (np.polyfit's cut-off), minnorm, ridge or lasso."),
    alpha: float = typer.Option(0.0, help="Ridge or lasso strength."),
    scale: Optional[bool] = typer.Option(None, "--scale/--no-scale", help="Map x to [-1, 1] (default: yes except monomial)."),
    normalize: bool = typer.Option(False, help="Orthonormal Legendre/Chebyshev polynomials."),
    n: int = typer.Option(30, help="Training points drawn from the source."),
    noise: float = typer.Option(0.1, help="Noise standard deviation σ."),
    target: str = typer.Option("2*x**2 + 1", help="True mean ȳ(x), an expression in x."),
    x_dist: str = typer.Option("uniform(0, 1)", "--x", help="Inputs: uniform(a, b), normal(mean, std) or grid(a, b)."),
    seed: int = typer.Option(0, help="Dataset seed (same seed, same numbers)."),
    csv: Optional[Path] = typer.Option(None, help="Fit a CSV's columns instead of the synthetic source."),
    x_col: str = typer.Option("x", help="CSV input column."),
    y_col: str = typer.Option("y", help="CSV target column."),
    n_val: int = typer.Option(0, help="Also report validation RMSE on this many fresh points from the source."),
    val_fraction: float = typer.Option(0.0, help="Hold out this fraction of the data for validation RMSE."),
    allow_large: bool = typer.Option(False, "--allow-large", help=ALLOW_LARGE_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    out: Path = typer.Option(Path("genlab-out"), help=OUT_HELP, callback=check_out_folder),
):
    """Fit one polynomial on one dataset; print its training (and validation) RMSE; write the figure."""
    import pandas as pd

    from ..data.sources import check_n
    from ..analysis.fitting import fit_polynomial
    from ..core.limits import check_cap, check_memory, fit_bytes
    from ..core.seeding import check_seed, rng

    check_seed(seed)
    check_cap(degree, "degree", allow_large=allow_large)
    check_cap(n, "n", allow_large=allow_large)
    check_cap(n_val, "n", allow_large=allow_large, option="--n-val")
    if csv is None and isinstance(degree, int) and n >= 1 and n_val >= 0:
        check_memory(fit_bytes(n=n + n_val, degree=max(degree, 0)),
                     f"a degree-{degree} fit of {n + n_val:,} points", "give a lower --degree or a smaller --n")
    data = _user_data(csv, x_col, y_col)
    source = None
    if data is None:
        source = _source(target, noise, x_dist)
        data = source.draw(check_n(n), seed, "data")
    if not 0.0 <= val_fraction < 1.0:
        raise GenlabError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    validation = None
    if val_fraction > 0:
        n_hold = int(round(data.n * val_fraction))
        if not 1 <= n_hold < data.n:
            raise GenlabError(f"--val-fraction {val_fraction} of {data.n} points leaves an empty set; change it")
        data, validation = data.split(data.n - n_hold, rng(seed, "split"))
    if n_val:
        if source is None:
            raise GenlabError("--n-val draws from the synthetic source; with --csv use --val-fraction")
        if validation is not None:
            raise GenlabError("give either --n-val or --val-fraction, not both")
        validation = source.draw(check_n(n_val, "--n-val"), seed, "validation")
    result = fit_polynomial(data, degree, basis=basis, solver=solver, alpha=alpha, scale=scale,
                            normalize=normalize, validation=validation, source=source)
    record = {"command": "fit", "seed": seed, **result.to_dict()}

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4))
    y_all = data.y if validation is None else pd.concat([pd.Series(data.y), pd.Series(validation.y)])
    pad = 0.25 * (y_all.max() - y_all.min() + 1e-12)
    result.plot(ax, ylim=(y_all.min() - pad, y_all.max() + pad), title=f"{result.name} ({basis}, {solver})")
    frame = pd.DataFrame({"x": data.x, "y": data.y, "prediction": result.predict(data.x), "split": "train"})
    if validation is not None:
        frame = pd.concat([frame, pd.DataFrame({"x": validation.x, "y": validation.y,
                                                "prediction": result.predict(validation.x), "split": "validation"})])
    files = _emit(out, f"fit_degree{degree}", fig, frame, record, as_json)
    if not as_json:
        line = f"{result.name} ({basis}, {solver}): training RMSE {result.train_rmse:.4g}"
        if validation is not None:
            line += f", validation RMSE {result.val_rmse:.4g}"
        typer.echo(line)
        typer.echo(f"  parameters {result.n_params}, condition number {result.diagnostics['condition_number']:.3g}")
        if result.n_params >= data.n and basis != "monomial" and solver == "lstsq":
            typer.echo("  degree + 1 >= n: the fit interpolates; the article's 0.046 at degree 30 comes from "
                       "np.polyfit's cut-off (--basis monomial)")
    _say(f"wrote {', '.join(str(p) for p in files)}", as_json)


@curve_app.command("capacity")
def curve_capacity(
    degrees: str = typer.Option("0-30", help="Degrees: a range 0-30, a list 1,2,5, or both."),
    method: str = typer.Option("holdout", help="holdout or kfold."),
    val_fraction: float = typer.Option(1 / 3, help="Held-out fraction (holdout)."),
    folds: int = typer.Option(5, help="Number of folds (kfold)."),
    repeats: int = typer.Option(100, help="Repeated datasets (or splits of a CSV) behind the bands."),
    basis: str = typer.Option("legendre", help="monomial, legendre or chebyshev."),
    solver: str = typer.Option("lstsq", help="lstsq, minnorm, ridge or lasso."),
    alpha: float = typer.Option(0.0, help="Ridge or lasso strength."),
    n: int = typer.Option(30, help="Points per dataset from the source."),
    noise: float = typer.Option(0.1, help="Noise standard deviation σ."),
    target: str = typer.Option("2*x**2 + 1", help="True mean ȳ(x), an expression in x."),
    x_dist: str = typer.Option("uniform(0, 1)", "--x", help="Inputs: uniform(a, b), normal(mean, std) or grid(a, b)."),
    seed: int = typer.Option(0, help="Seed (same seed, same numbers)."),
    csv: Optional[Path] = typer.Option(None, help="Use a CSV's columns instead of the synthetic source."),
    x_col: str = typer.Option("x", help="CSV input column."),
    y_col: str = typer.Option("y", help="CSV target column."),
    allow_large: bool = typer.Option(False, "--allow-large", help=ALLOW_LARGE_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    out: Path = typer.Option(Path("genlab-out"), help=OUT_HELP, callback=check_out_folder),
):
    """Training vs validation RMSE against degree, over repeated datasets, with bands."""
    import matplotlib.pyplot as plt

    from ..analysis.curves import capacity_curve, parse_degrees
    from ..core.limits import capacity_bytes, capacity_seconds, check_cap, check_run
    from ..core.seeding import check_seed

    check_seed(seed)
    top = max(parse_degrees(degrees), default=0)
    check_cap(top, "degree", allow_large=allow_large, option="--degrees")
    check_cap(repeats, "repeats", allow_large=allow_large)
    check_cap(n, "n", allow_large=allow_large)
    data = _user_data(csv, x_col, y_col) or _source(target, noise, x_dist)
    size = n if csv is None else data.n
    if repeats >= 1 and size >= 1:
        n_deg, k = len(parse_degrees(degrees)), folds if method == "kfold" and 2 <= folds <= size else 1
        check_run(capacity_bytes(n=size, degree=top, repeats=repeats, n_degrees=n_deg),
                  capacity_seconds(n=size, degree=top, repeats=repeats, n_degrees=n_deg, folds=k),
                  "this capacity curve", "give fewer --repeats, --n or degrees (--degrees)",
                  f"{repeats:,} repeats x {n_deg:,} degrees" + (f" x {k} folds" if k > 1 else ""))
    curve = capacity_curve(data, degrees, n=n, method=method, val_fraction=val_fraction, folds=folds,
                           repeats=repeats, basis=basis, solver=solver, alpha=alpha, seed=seed)
    record = {"command": "curve capacity", **curve.to_dict()}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    curve.plot(ax, title=f"{method}: {curve.n_train} training points, {repeats} repeats")
    files = _emit(out, "capacity", fig, curve.summary(), record, as_json)
    if not as_json:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"capacity curve ({method}, n_train = {curve.n_train}, {repeats} repeats)")
        for col in ("degree", "train median", "val median", "val mean ± s.e.", "heavy tail"):
            table.add_column(col, justify="right")
        for row in curve.summary().itertuples():
            table.add_row(str(row.degree), f"{row.train_median:.3g}", f"{row.val_median:.3g}",
                          f"{row.val_mean:.3g} ± {row.val_se:.2g}", "yes" if row.val_heavy_tail else "")
        Console().print(table)
        typer.echo(f"best degree (median validation RMSE): {curve.best_degree}")
    _say(f"wrote {', '.join(str(p) for p in files)}", as_json)


def _refuse_ignored(applies: bool, why: str, *options) -> None:
    """Refuse options a command would silently ignore: ``options`` are ``(flag, value, default)``."""
    given = [flag for flag, value, default in options if value != default]
    if applies and given:
        raise GenlabError(f"{', '.join(given)} would be ignored: {why}")


def _plan_biasvar(*, datasets: int, n: int, n_test: int, degrees: str, solver, alphas, estimator: bool,
                  jobs, allow_large: bool) -> None:
    """Refuse a decomposition past the limits or that cannot fit in memory; say how long a long one takes."""
    from ..analysis.curves import parse_degrees
    from ..core.limits import biasvar_bytes, biasvar_seconds, check_cap, check_run

    if estimator:
        engine, P, M, workers = "estimator", 1, 1, jobs or os.cpu_count() or 1
    else:
        degs = parse_degrees(degrees)
        P = check_cap(max(degs, default=0), "degree", allow_large=allow_large, option="--degrees") + 1
        M = len(degs) * (1 if alphas is None else max(1, sum(1 for a in alphas.split(",") if a.strip())))
        engine, workers = ("nested" if solver is None and alphas is None else "solver"), jobs or 1
    what = f"{datasets:,} datasets x {M:,} {'models' if alphas is None else 'alphas'}"
    check_run(biasvar_bytes(n_datasets=datasets, n=n, n_test=n_test, n_params=P, n_models=M, jobs=workers,
                            engine="estimator" if estimator else "polynomial"),
              biasvar_seconds(n_datasets=datasets, n=n, n_params=P, n_models=M, engine=engine, jobs=workers),
              "this decomposition", "give fewer --datasets, --n, --n-test or degrees (or run it in chunks with "
              "different --seed values)", what)


@app.command()
def biasvar(
    degrees: str = typer.Option("0-29", help="Polynomial degrees: a range 0-29, a list 1,2,30, or both."),
    datasets: int = typer.Option(10_000, "--datasets", help="Datasets drawn from the source (the article: 100000)."),
    n: int = typer.Option(30, help="Training points per dataset."),
    noise: float = typer.Option(0.1, help="Noise standard deviation σ."),
    target: str = typer.Option("2*x**2 + 1", help="True mean ȳ(x), an expression in x."),
    x_dist: str = typer.Option("uniform(0, 1)", "--x", help="Inputs: uniform(a, b), normal(mean, std) or grid(a, b)."),
    basis: str = typer.Option("legendre", help="monomial, legendre or chebyshev."),
    solver: Optional[str] = typer.Option(None, help="Default: exact least squares of every degree in one pass; "
                                         "or lstsq (np.polyfit's cut-off), minnorm, ridge, lasso."),
    alpha: float = typer.Option(0.0, help="Ridge or lasso strength."),
    alphas: Optional[str] = typer.Option(None, help="Ridge strengths for one degree, e.g. 1e-8,1e-6,1e-4,1e-2,1."),
    estimator: Optional[str] = typer.Option(None, help="Any scikit-learn regressor instead of polynomials, e.g. "
                                            "'sklearn.tree.DecisionTreeRegressor(max_depth=3)': a public "
                                            "estimator class of scikit-learn or genlab with literal keyword "
                                            "arguments or nested estimators (parsed, never evaluated)."),
    loss: str = typer.Option("squared", help="squared, or for class labels zero_one (Domingos) or cross_entropy."),
    probs: str = typer.Option("0.5 + 0.4*sin(2*pi*x)", help="Classification: P(y=1|x), or class weights "
                              "separated by ';' (e.g. '1; exp(3*x); 2*x')."),
    label_noise: float = typer.Option(0.0, help="Classification: fraction of labels flipped to another class."),
    n_test: int = typer.Option(200, help="Test points (quantiles of the x distribution)."),
    data: Optional[str] = typer.Option(None, help="Real data instead of a source: digits, diabetes, wine or "
                                       "breast_cancer (needs --estimator; noise is then not separable)."),
    csv: Optional[Path] = typer.Option(None, help="Real data from a CSV (with --x-col, --y-col)."),
    x_col: str = typer.Option("x", help="CSV input column(s), comma-separated."),
    y_col: str = typer.Option("y", help="CSV target column."),
    method: str = typer.Option("disjoint", help="Real data: disjoint training subsets or bootstrap resamples."),
    n_train: Optional[int] = typer.Option(None, help="Real data: training points per round."),
    rounds: int = typer.Option(200, help="Real data: rounds (disjoint: at most this many)."),
    seed: int = typer.Option(0, help="Seed (same seed, same numbers, whatever --jobs)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Worker processes (default: 1; with "
                                       "--estimator, the number of cores).", show_default=False),
    store: StoreOption = None,
    dask: DaskOption = None,
    allow_large: bool = typer.Option(False, "--allow-large", help=ALLOW_LARGE_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    out: Path = typer.Option(Path("genlab-out"), help=OUT_HELP, callback=check_out_folder),
):
    """Bias², variance, noise and the measured test error, each with its standard error.

    With --estimator, each block of datasets (each round, on real data) is a job of the results store (OUT/runs.sqlite or --store): the same command again resumes an interrupted run, and --dask runs the jobs on a cluster.
    """
    import matplotlib.pyplot as plt

    from ..analysis.biasvar.engines import _blocks_of, decompose, decompose_polynomial
    from ..runs.executors import check_jobs
    from ..runs.progress import Progress
    from ..core.limits import check_cap
    from ..core.seeding import check_seed

    if jobs is not None:
        check_jobs(jobs)
    check_seed(seed)
    for value, name in ((datasets, "datasets"), (n, "n"), (n_test, "n_test"), (rounds, "rounds")):
        check_cap(value, name, allow_large=allow_large)
    if (store is not None or dask is not None) and estimator is None:
        raise GenlabError("--store and --dask are for --estimator (polynomials run in one fast pass in this "
                          "process)")
    if isinstance(datasets, int) and datasets < 2:
        raise GenlabError(f"--datasets must be at least 2, got {datasets}")
    _refuse_ignored(estimator is not None, "with --estimator, put such settings in the estimator itself, e.g. "
                    "'sklearn.linear_model.Ridge(alpha=2.0)'",
                    ("--degrees", degrees, "0-29"), ("--basis", basis, "legendre"), ("--solver", solver, None),
                    ("--alpha", alpha, 0.0), ("--alphas", alphas, None))
    _refuse_ignored(data is None and csv is None, "real-data options need --data or --csv",
                    ("--method", method, "disjoint"), ("--n-train", n_train, None), ("--rounds", rounds, 200))
    _refuse_ignored(loss == "squared", "class-label options need --loss zero_one or cross_entropy",
                    ("--probs", probs, "0.5 + 0.4*sin(2*pi*x)"), ("--label-noise", label_noise, 0.0))
    _refuse_ignored(loss != "squared" or data is not None or csv is not None,
                    "these shape the synthetic regression source (class labels come from --probs; real data "
                    "brings its own)", ("--target", target, "2*x**2 + 1"), ("--noise", noise, 0.1))
    real = None
    if data is not None or csv is not None:
        from ..data.sources import load_csv, load_dataset

        if data is not None and csv is not None:
            raise GenlabError("give either --data or --csv, not both")
        if estimator is None:
            raise GenlabError("real data needs --estimator, e.g. 'sklearn.linear_model.Ridge(alpha=1.0)'")
        real = load_dataset(data) if data is not None else load_csv(
            csv, x=tuple(c.strip() for c in x_col.split(",")), y=y_col)
    if real is not None:
        source = None
    elif loss in ("zero_one", "cross_entropy"):
        from ..data.sources import ClassificationSource

        if estimator is None:
            raise GenlabError(f"{loss} loss needs a classifier: give --estimator, e.g. "
                              "'sklearn.tree.DecisionTreeClassifier(max_depth=3)'")
        parts = [p.strip() for p in probs.split(";")]
        check_cap(len(parts), "classes", allow_large=allow_large)
        source = ClassificationSource(parts[0] if len(parts) == 1 else tuple(parts), x_dist, label_noise)
    else:
        source = _source(target, noise, x_dist)
    est = None
    if estimator is not None:
        from ..core.estimators import parse_estimator

        est = parse_estimator(estimator)  # checked before any estimate, store or file
    if real is None:
        _plan_biasvar(datasets=datasets, n=n, n_test=n_test, degrees=degrees, solver=solver, alphas=alphas,
                      estimator=est is not None, jobs=jobs, allow_large=allow_large)
    n_blocks = len(_blocks_of(datasets)[1])
    with Progress("datasets", n_blocks, transient=True, enabled=not as_json and sys.stderr.isatty()) as bar:
        if real is not None:
            from ..analysis.biasvar.engines import decompose_data

            result = decompose_data(est, real, method=method, n_train=n_train,
                                    rounds=rounds, loss=loss, seed=seed, labels=[estimator],
                                    **sweep_kwargs(out=out, store=store, jobs=jobs, dask=dask))
            datasets, n = result.n_datasets, result.n
        elif estimator is not None:
            kw = sweep_kwargs(out=out, store=store, jobs=jobs, dask=dask)
            result = decompose(est, source, n=n, n_datasets=datasets, n_test=n_test, loss=loss, seed=seed,
                               labels=[estimator], progress=bar, **kw)
        else:
            if loss != "squared":
                raise GenlabError(f"unknown loss {loss!r} for polynomial regression; use squared (zero_one and "
                                  "cross_entropy need --estimator with a classifier)")
            alpha_list = None
            if alphas is not None:
                try:
                    alpha_list = [float(a) for a in alphas.split(",") if a.strip()]
                except ValueError:
                    raise GenlabError(f"--alphas {alphas!r} must be numbers separated by commas") from None
            result = decompose_polynomial(source, degrees, n=n, n_datasets=datasets, n_test=n_test, basis=basis,
                                          solver=solver, alpha=alpha, alphas=alpha_list, seed=seed, jobs=jobs or 1,
                                          progress=bar)
    record = {"command": "biasvar", **result.to_dict()}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    result.plot(ax, title=f"{datasets:,} datasets of n = {n}", log=result.knob != "model")
    if result.knob == "alpha":
        ax.set_xscale("log")
    files = _emit(out, "biasvar", fig, result.summary(), record, as_json)
    if not as_json:
        from rich.console import Console
        from rich.table import Table

        import shutil

        what = (f"{result.mode} of {real.name}: {datasets} rounds" if real is not None else f"{datasets:,} datasets")
        table = Table(title=f"bias-variance decomposition ({what}, n = {n}, {loss} loss)")
        bias = "bias2" if loss == "squared" else "bias"
        if real is not None:
            bias = "bias2_plus_noise" if loss == "squared" else "bias_incl_noise"
        for col in (result.knob, bias.replace("_", " ").replace("bias2", "bias²"), "variance",
                    "noise" if real is None else "noise (not separable)", "decomposition",
                    "error (measured)", "median error", "converged"):
            table.add_column(col, justify="right")
        for row in result.summary().to_dict(orient="records"):
            table.add_row(row["label"].split(" ", 1)[-1] if result.knob != "model" else row["label"],
                          f"{row[bias]:.4g} ± {row[bias + '_se']:.1g}",
                          f"{row['variance']:.4g} ± {row['variance_se']:.1g}", f"{row['noise']:.4g}" if "noise" in row else "—",
                          f"{row['decomposition']:.4g}", f"{row['error']:.4g} ± {row['error_se']:.1g}",
                          f"{row['error_median']:.4g}", "yes" if row["converged"] else "NO")
        Console(width=max(shutil.get_terminal_size().columns, 132)).print(table)
        bad = [lbl for lbl, ok in zip(result.labels, result.converged) if not ok]
        if bad:
            typer.echo(f"not converged (heavy tails or too few datasets: the mean is not trustworthy; "
                       f"see the median): {', '.join(bad)}")
        for note in result.config.get("notes", []):
            typer.echo(f"note: {note}")
    _say(f"wrote {', '.join(str(p) for p in files)}", as_json)


@app.command()
def article(
    out: Path = typer.Option(Path("report"), help="Folder for index.html, results.json, figures and data.",
                             callback=check_out_folder),
    seed: Optional[int] = typer.Option(None, help="Dataset seed for §2 (default: the draw closest to the article)."),
    quick: bool = typer.Option(False, help="Smaller sweeps, for a fast look."),
    lang: str = typer.Option("en", help="Language of the report: en or ja (日本語)."),
    jobs: int = typer.Option(os.cpu_count() or 1, help="Worker processes (results do not depend on it)."),
    only: Optional[str] = typer.Option(None, help="Build only these sections, comma-separated: overfitting, "
                                       "biasvar, double_descent, regularization, scaling, lottery."),
):
    """Write the whole article as a report: every figure, with the numbers measured in this run."""
    from ..article import build as article_mod
    from ..core.seeding import check_seed
    from ..article.report.i18n import load_text

    if seed is not None:
        check_seed(seed)
    load_text(lang)
    from ..runs.executors import check_jobs
    from ..runs.progress import Progress

    check_jobs(jobs)
    names = article_mod.check_sections(only)
    with Progress("sections", len(names), transient=True, enabled=sys.stderr.isatty()) as bar:
        index = article_mod.write(out, seed=seed, quick=quick, lang=lang, jobs=jobs, only=only, progress=bar)
    typer.echo(f"report written: {index}")


def _version(value: bool):
    if value:
        from ..core.version import __version__

        typer.echo(f"genlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")):
    pass


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(f"genlab: warning: {message}\n")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: workers stopped, jobs left resumable; exit status 143 (128 + 15)."""


_terminated = False


def _on_sigterm(signum, frame):
    global _terminated
    _terminated = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second one must not cut the clean-up short
    raise _Terminated()


def _stdout_errors(fn, *args, **kwargs):
    """Call ``fn``; an OS error writing stdout (a full disk, ``> /dev/full``) becomes a one-line
    :class:`~genlab.core.io.OutputError` naming it, other errors go on as they are."""
    try:
        return fn(*args, **kwargs)
    except OSError as exc:
        if exc.filename is None:
            from ..core.io import write_stdout

            write_stdout("")  # raises OutputError if stdout is what cannot be written
        raise


def _sigterm_as_interrupt(fn, *args, **kwargs):
    """Call ``fn`` with SIGTERM raising :class:`_Terminated`, then put the previous handler back.

    Typer turns the interrupt into exit status 130; a SIGTERM gets its own line and 143.
    """
    global _terminated
    _terminated = False
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: signals are not ours to handle
        return _stdout_errors(fn, *args, **kwargs)
    try:
        rv = _stdout_errors(fn, *args, **kwargs)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if _terminated:
        sys.stderr.write("genlab: terminated (SIGTERM)\n")
        return 143
    return rv


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning user mistakes into one line and exit status 2
    (Ctrl-C: 130; SIGTERM, handled the same way: 143)."""
    warnings.showwarning = _one_line_warning
    # loky says this when an idle pool retires its workers between sweeps: nothing is lost
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
    command = typer.main.get_command(app)
    try:
        rv = _sigterm_as_interrupt(command.main, args=argv, prog_name="genlab", standalone_mode=False)
    except GenlabError as exc:
        sys.stderr.write(f"genlab: error: {exc}\n")
        return 2
    except MemoryError as exc:  # past what the estimates up front foresaw (genlab.core.limits)
        why = " ".join(str(exc).split())
        sys.stderr.write(f"genlab: error: out of memory{f' ({why})' if why else ''}; give smaller sizes "
                         "(see 'Limits' in the README)\n")
        return 2
    except RecursionError:
        sys.stderr.write("genlab: error: an input is nested too deeply to process; simplify it\n")
        return 2
    except OverflowError as exc:  # e.g. an id beyond SQLite's 64-bit INTEGER
        why = " ".join(str(exc).split())
        sys.stderr.write(f"genlab: error: a number is too large{f' ({why})' if why else ''}; give a smaller one\n")
        return 2
    except typer.TyperException as exc:  # click's usage errors, vendored by typer
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stdout.write(exc.format_message() + "\n")
            return 0
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        message = " ".join(exc.format_message().split())
        sys.stderr.write(f"genlab: error: {message}{hint}\n")
        return 2
    except OSError as exc:  # a path the checks up front could not foresee (e.g. --out under /proc)
        if exc.filename is None:
            raise
        sys.stderr.write(f"genlab: error: {exc.strerror}: {exc.filename}; give another path\n")
        return 2
    except (KeyboardInterrupt, typer.Abort):
        if _terminated:
            sys.stderr.write("genlab: terminated (SIGTERM)\n")
            return 143
        sys.stderr.write("genlab: interrupted\n")
        return 130
    return rv if isinstance(rv, int) else 0

def run() -> None:  # console-script entry point
    status = main()
    from ..core.io import write_stdout

    try:
        write_stdout("")  # flush now: a full disk under stdout is one line, not Python's error at exit
    except GenlabError as exc:
        sys.stderr.write(f"genlab: error: {exc}\n")
        status = status or 2
    sys.exit(status)


if __name__ == "__main__":
    run()
