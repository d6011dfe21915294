"""`genlab biasvar`: bias², variance, noise and the measured test error (the article's §3), for
polynomials in one fast pass or for any estimator through the sweep executor."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from ..core.errors import GenlabError
from ._common import (AllowLargeOption, DaskOption, JSON_HELP, NoiseOption, OUT_HELP, StoreOption, TargetOption,
                      XDistOption, YColOption, check_out_folder, emit, model_names, output_stem, refuse_ignored, say,
                      sweep_kwargs, synthetic_source)
from .crossed import WIDTHS_HELP


def _plan_biasvar(*, datasets: int, n: int, n_test: int, degrees: str, solver, alphas, estimator: int,
                  jobs, allow_large: bool) -> None:
    """Refuse a decomposition past the limits or that cannot fit in memory; say how long a long one takes."""
    from ..analysis.biasvar.blocks import block_size
    from ..analysis.curves import parse_degrees
    from ..core.limits import biasvar_bytes, biasvar_seconds, check_cap, check_run

    if estimator:
        engine, P, M, workers = "estimator", 1, estimator, jobs or os.cpu_count() or 1
    else:
        degs = parse_degrees(degrees)
        P = check_cap(max(degs, default=0), "degree", allow_large=allow_large, option="--degrees") + 1
        M = len(degs) * (1 if alphas is None else max(1, sum(1 for a in alphas.split(",") if a.strip())))
        engine, workers = ("nested" if solver is None and alphas is None else "solver"), jobs or 1
    what = f"{datasets:,} datasets x {M:,} {'models' if alphas is None else 'alphas'}"
    check_run(biasvar_bytes(n_datasets=datasets, block=block_size(datasets), n=n, n_test=n_test, n_params=P, n_models=M, jobs=workers,
                            engine="estimator" if estimator else "polynomial"),
              biasvar_seconds(n_datasets=datasets, n=n, n_params=P, n_models=M, engine=engine, jobs=workers,
                              solver=None if estimator else solver),
              "this decomposition", "give fewer --datasets, --n, --n-test or degrees (or run it in chunks with "
              "different --seed values)", what)


def _data_and_source(*, data, csv, x_col: str, y_col: str, estimator, loss: str, probs: str, x_dist: str,
                     label_noise: float, target: str, noise: float, allow_large: bool):
    """(real data or None, the known source or None) that --data/--csv or the source options describe."""
    from ..core.limits import check_cap

    real = None
    if data is not None or csv is not None:
        from ..data.sources import load_csv, load_dataset

        if data is not None and csv is not None:
            raise GenlabError("give either --data or --csv, not both")
        if not estimator:
            raise GenlabError("real data needs --estimator, e.g. 'sklearn.linear_model.Ridge(alpha=1.0)'")
        real = load_dataset(data) if data is not None else load_csv(csv, x=_x_columns(csv, x_col, y_col), y=y_col)
    if real is not None:
        source = None
    elif loss in ("zero_one", "cross_entropy"):
        from ..data.sources import ClassificationSource

        if not estimator:
            raise GenlabError(f"{loss} loss needs a classifier: give --estimator, e.g. "
                              "'sklearn.tree.DecisionTreeClassifier(max_depth=3)'")
        parts = [p.strip() for p in probs.split(";")]
        check_cap(len(parts), "classes", allow_large=allow_large)
        source = ClassificationSource(parts[0] if len(parts) == 1 else tuple(parts), x_dist, label_noise)
    else:
        source = synthetic_source(target, noise, x_dist)
    return real, source


def _x_columns(csv, x_col: str | None, y_col: str) -> tuple[str, ...]:
    """The CSV's input columns: ``--x-col`` (comma-separated), or every column but ``--y-col``."""
    if x_col is not None:
        return tuple(c.strip() for c in x_col.split(","))
    from ..data.sources import read_csv

    columns = [c for c in read_csv(csv).columns]
    if y_col not in columns:
        raise GenlabError(f"CSV file {str(csv)!r} has no column {y_col!r}; its columns are {', '.join(columns)} "
                          "(choose with --y-col)")
    xs = tuple(c for c in columns if c != y_col)
    if not xs:
        raise GenlabError(f"CSV file {str(csv)!r} has only the column {y_col!r}; add input columns")
    return xs


def _estimators(texts: list[str]) -> list:
    """The ``--estimator`` texts parsed (the user's own modules allowed: naming one imports it), one kind."""
    from ..analysis.biasvar.compare import check_one_kind
    from ..core.estimators import parse_estimator

    seen = set()
    for text in texts:
        if text.strip() in seen:
            raise GenlabError(f"--estimator {text.strip()!r} is given twice; give each model once")
        seen.add(text.strip())
    ests = [parse_estimator(text, user_modules=True) for text in texts]
    check_one_kind(ests, [t.strip() for t in texts])
    return ests


def _first_fits(ests, labels, *, real, source, n: int, n_test: int, n_train, method: str, seed: int) -> None:
    """Each estimator fitted once on data like the run's, before any store or file (see compare.first_fits)."""
    from ..analysis.biasvar.compare import first_fits
    from ..core.seeding import rng

    g = rng(seed, "biasvar-first-fit")
    if real is None:
        first = source.sample(n, g)
        return first_fits(ests, labels, first.X, first.y, source.x_dist.quantiles(n_test)[:, None])
    held = int(round(real.n * 0.25))
    pool = real.n - held
    size = min(pool, n_train or (max(1, pool // 10) if method == "disjoint" else pool))
    rows = g.permutation(real.n)
    train = rows[held:][:size] if method == "disjoint" else g.choice(rows[held:], size)
    return first_fits(ests, labels, real.X[train], real.y[train], real.X[rows[:held]])


def _stem(texts: list[str]) -> str:
    """The stem of the files: ``biasvar``, the models (``polynomial`` without --estimator), the options changed."""
    return output_stem("biasvar", model_names(texts) if texts else "polynomial", ignore=("estimator",))


def _term(value: float, se: float, valid: bool, resolved: bool | None = None) -> str:
    """A term with its s.e. where one is valid; "≈ 0" where it is within 2 s.e. of 0."""
    if not valid:
        return f"{value:.4g} †"
    if resolved is not None and not resolved:
        return "≈ 0 (|b²| < 2 s.e.)"
    return f"{value:.4g} ± {se:.1g}"


#: The tail verdicts, short enough for a table column (the legend is printed below it).
SHORT = {"finite variance": "finite var", "finite mean, variance borderline": "var borderline",
         "finite mean, infinite variance": "∞ var", "infinite variance, mean borderline": "∞ var, mean borderl.",
         "infinite mean": "∞ mean", "undetermined": "?"}


def _print_table(result, *, real, datasets: int, n: int, loss: str) -> None:
    """The decomposition as a table on the terminal, with the tail verdicts and the notes below it."""
    from rich.console import Console
    from rich.table import Table

    import shutil

    what = (f"{result.mode} of {real.name}: {datasets} rounds" if real is not None else f"{datasets:,} datasets")
    table = Table(title=f"bias-variance decomposition ({what}, n = {n}, {loss} loss)")
    cols = result.summary(as_frame=False)
    bias = next(c for c in cols if c.startswith("bias") and not c.endswith(("_se", "_plugin", "_resolved")))
    theory = "theory_verdict" in cols
    for col in (result.knob, bias.replace("_", " ").replace("bias2", "bias²"), "variance",
                "noise" if real is None else "noise (not separable)", "decomposition",
                "error (measured)", "median error", "tail index [95%]", "tail (measured)",
                *(["tail (theory, N → ∞)"] if theory else [])):
        table.add_column(col, justify="right", no_wrap=col == result.knob)
    valid = result.se_valid
    resolved = cols.get(f"{bias}_resolved", [None] * len(result.labels))
    from ..core.io import records

    from ..analysis.biasvar.compare import short_names

    names = short_names(result.labels)
    for i, row in enumerate(records(cols)):
        table.add_row(row["label"].split(" ", 1)[-1] if result.knob != "model"
                      else names[i] + (" (degenerate)" if result.is_degenerate[i] else ""),
                      _term(row[bias], result.bias2_se[i], valid[i], resolved[i]),
                      _term(row["variance"], result.variance_se[i], valid[i]),
                      f"{row['noise']:.4g}" if "noise" in row else "—",
                      f"{row['decomposition']:.4g}", _term(row["error"], result.error_se[i], valid[i]),
                      f"{row['error_median']:.4g}",
                      f"{row['tail_index']:.2f} [{row['tail_index_lo']:.2f}, {row['tail_index_hi']:.2f}]",
                      SHORT[row["tail_verdict"]], *([SHORT[row["theory_verdict"]]] if theory else []))
    Console(width=max(shutil.get_terminal_size().columns, 150)).print(table)
    if not valid.all():
        typer.echo(f"† no valid standard error: the tail index of the per-dataset errors (Hill, top "
                   f"{result.tail['k']:,} of {result.n_datasets:,}) may be 2 or less, so their variance is infinite "
                   "over the sampled range; under 1 (∞ mean) the mean does not settle as datasets are added: see the "
                   "median. " + ("Theory: the asymptotic tail of least squares, (n−1)/(2d) (see README, Tails)."
                                 if theory else ""))
    for note in result.config.get("notes", []):
        typer.echo(f"note: {note}")
    reliability = result.config.get("reliability")
    if reliability is not None and not reliability["reliable"]:
        typer.echo(f"note: {_unreliable(reliability, result)}")


def _unreliable(r: dict, result) -> str:
    """One line: why a dataset's decomposition is not reliable, and which option to change."""
    from ..analysis.biasvar.compare import short_names

    names = dict(zip(result.labels, short_names(result.labels)))
    why = []
    if r["rounds"] < r["min_rounds"]:
        why.append(f"only {r['rounds']} rounds (standard errors and tails need {r['min_rounds']} or more)")
    if r["no_valid_se"]:
        why.append(f"no valid standard error for {', '.join(names[x] for x in r['no_valid_se'])}")
    if r["bias_unresolved"]:
        why.append(f"the bias term is within 2 s.e. of 0 for {', '.join(names[x] for x in r['bias_unresolved'])}")
    if r["more"] == "n_train":
        fix = (f"give a smaller --n-train: the {r['pool']:,} training points hold only {r['rounds']} disjoint "
               f"sets of {r['n_train']:,} (or --method bootstrap with more --rounds)")
    else:
        fix = f"give more --rounds (now {r['rounds']})"
    return f"unreliable: {'; '.join(why)}; {fix}"


def biasvar(
    degrees: str = typer.Option("0-29", help="Polynomial degrees: a range 0-29, a list 1,2,30, or both."),
    datasets: int = typer.Option(10_000, "--datasets", help="Datasets drawn from the source (the article: 100000); "
                                 "with --model, the data draws R (default 4)."),
    n: int = typer.Option(30, help="Training points per dataset."),
    noise: NoiseOption = 0.1,
    target: TargetOption = "2*x**2 + 1",
    x_dist: XDistOption = "uniform(0, 1)",
    basis: str = typer.Option("legendre", help="monomial, legendre or chebyshev."),
    solver: Optional[str] = typer.Option(None, help="Default: exact least squares of every degree in one pass; "
                                         "or lstsq (np.polyfit's cut-off), minnorm, ridge, lasso."),
    alpha: float = typer.Option(0.0, help="Ridge or lasso strength."),
    alphas: Optional[str] = typer.Option(None, help="Ridge strengths for one degree, e.g. 1e-8,1e-6,1e-4,1e-2,1."),
    estimator: Optional[list[str]] = typer.Option(
        None, help="An estimator instead of polynomials, e.g. 'sklearn.tree.DecisionTreeRegressor(max_depth=3)'; "
        "repeat it to compare several in one run (one table, one figure, one JSON). Any class with the "
        "scikit-learn API: scikit-learn's, genlab's, a third party's (xgboost.XGBRegressor) or your own "
        "('mypkg.models:MyRegressor(width=16)', found in the current folder or on PYTHONPATH). Naming a "
        "module imports it, so its code runs; the arguments are literals or nested estimators, parsed, never "
        "evaluated."),
    loss: str = typer.Option("squared", help="squared, or for class labels zero_one (Domingos) or cross_entropy."),
    kohavi_wolpert: bool = typer.Option(False, "--kw", help="With --loss zero_one: Kohavi-Wolpert's decomposition "
                                        "(squared bias², variance, noise; finite-N corrected as Weka's "
                                        "BVDecompose) instead of Domingos'."),
    probs: str = typer.Option("0.5 + 0.4*sin(2*pi*x)", help="Classification: P(y=1|x), or class weights "
                              "separated by ';' (e.g. '1; exp(3*x); 2*x')."),
    label_noise: float = typer.Option(0.0, help="Classification: fraction of labels flipped to another class."),
    n_test: int = typer.Option(200, help="Test points (quantiles of the x distribution)."),
    data: Optional[str] = typer.Option(None, help="Real data instead of a source: digits, diabetes, wine or "
                                       "breast_cancer (needs --estimator; noise is then not separable)."),
    csv: Optional[Path] = typer.Option(None, help="Real data from a CSV (with --x-col, --y-col)."),
    x_col: Optional[str] = typer.Option(None, help="CSV input column(s), comma-separated (default: every "
                                        "column but --y-col).", show_default=False),
    y_col: YColOption = "y",
    method: str = typer.Option("disjoint", help="Real data: disjoint training subsets or bootstrap resamples."),
    n_train: Optional[int] = typer.Option(None, help="Real data: training points per round; with --model, per "
                                         "data draw (default 100)."),
    rounds: int = typer.Option(200, help="Real data: rounds (disjoint: at most this many)."),
    model: Optional[str] = typer.Option(None, help="mlp: a width sweep of genlab's torch MLP, its variance split "
                                        "into data, seed and interaction (crossed design), with seed ensembles; "
                                        "data: --data digits (default), another set, --csv, or --data source."),
    widths: str = typer.Option("2-2048", help="With --model: " + WIDTHS_HELP),
    seeds: Optional[int] = typer.Option(None, help="With --model: initialization seeds S per data draw (default 8).",
                                        show_default=False),
    epochs: Optional[int] = typer.Option(None, help="With --model: full-batch Adam epochs (default 300).",
                                         show_default=False),
    noise_draws: int = typer.Option(1, "--noise-draws", help="With --model: K >= 2 label-noise draws per data draw "
                                    "(3+ for s.e.; needs --label-noise, or --noise with --data source): data x seed "
                                    "x noise."),
    device: str = typer.Option("auto", help="With --model: auto (CUDA when torch sees it), cpu or cuda."),
    seed: int = typer.Option(0, help="Seed (same seed, same numbers, whatever --jobs)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Worker processes (default: 1; with "
                                       "--estimator or --model, the number of cores).", show_default=False),
    store: StoreOption = None,
    dask: DaskOption = None,
    allow_large: AllowLargeOption = False,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    out: Path = typer.Option(Path("genlab-out"), help=OUT_HELP, callback=check_out_folder),
):
    """Bias², variance, noise and the measured test error, each with its standard error.

    With --estimator, each block of datasets (of rounds, on real data) is a job of the results store (OUT/runs.sqlite or --store): the same command again resumes an interrupted run, and --dask runs the jobs on a cluster. With --model mlp, a network's width sweep with its variance split into data, seed and their interaction (crossed design), one job per (width, data draw).
    \f
    Long because it checks every option of its three modes (polynomials, estimators, real data) before any
    work, in one place; --model's sweep has its own module (.crossed).
    """
    if model is not None:  # a network's crossed data x seed width sweep: its own module checks and runs it
        from .crossed import crossed_command

        return crossed_command(**locals())
    from matplotlib.figure import Figure  # not pyplot: nothing to show, and ~0.3 s less to start

    from ..analysis.biasvar import decompose, decompose_polynomial
    from ..analysis.biasvar.blocks import blocks_of
    from ..runs.executors import check_jobs
    from ..runs.progress import Progress
    from ..core.limits import check_cap
    from ..core.seeding import check_seed

    refuse_ignored(True, "they go with --model mlp", ("--widths", widths, "2-2048"), ("--seeds", seeds, None),
                   ("--epochs", epochs, None), ("--noise-draws", noise_draws, 1), ("--device", device, "auto"))
    if jobs is not None:
        check_jobs(jobs)
    check_seed(seed)
    for value, name in ((datasets, "datasets"), (n, "n"), (n_test, "n_test"), (rounds, "rounds")):
        check_cap(value, name, allow_large=allow_large)
    texts = [t.strip() for t in estimator or []]
    if (store is not None or dask is not None) and not texts:
        raise GenlabError("--store and --dask are for --estimator (polynomials run in one fast pass in this "
                          "process)")
    if isinstance(datasets, int) and datasets < 2:
        raise GenlabError(f"--datasets must be at least 2, got {datasets}")
    refuse_ignored(bool(texts), "with --estimator, put such settings in the estimator itself, e.g. "
                    "'sklearn.linear_model.Ridge(alpha=2.0)'",
                    ("--degrees", degrees, "0-29"), ("--basis", basis, "legendre"), ("--solver", solver, None),
                    ("--alpha", alpha, 0.0), ("--alphas", alphas, None))
    refuse_ignored(data is None and csv is None, "real-data options need --data or --csv",
                    ("--method", method, "disjoint"), ("--n-train", n_train, None), ("--rounds", rounds, 200))
    refuse_ignored(loss == "squared", "class-label options need --loss zero_one or cross_entropy",
                    ("--probs", probs, "0.5 + 0.4*sin(2*pi*x)"), ("--label-noise", label_noise, 0.0))
    refuse_ignored(loss != "zero_one", "--kw chooses the decomposition of the 0-1 loss; add --loss zero_one",
                    ("--kw", kohavi_wolpert, False))
    definition = {"definition": "kohavi_wolpert"} if kohavi_wolpert else {}
    refuse_ignored(loss != "squared" or data is not None or csv is not None,
                    "these shape the synthetic regression source (class labels come from --probs; real data "
                    "brings its own)", ("--target", target, "2*x**2 + 1"), ("--noise", noise, 0.1))
    real, source = _data_and_source(data=data, csv=csv, x_col=x_col, y_col=y_col, estimator=texts,
                                    loss=loss, probs=probs, x_dist=x_dist, label_noise=label_noise,
                                    target=target, noise=noise, allow_large=allow_large)
    ests = _estimators(texts) if texts else []  # checked before any estimate, store or file
    if real is None:
        _plan_biasvar(datasets=datasets, n=n, n_test=n_test, degrees=degrees, solver=solver, alphas=alphas,
                      estimator=len(ests), jobs=jobs, allow_large=allow_large)
    if ests:
        kw = sweep_kwargs(out=out, store=store, jobs=jobs, dask=dask)
        _first_fits(ests, texts, real=real, source=source, n=n, n_test=n_test, n_train=n_train, method=method,
                    seed=seed)
    n_blocks = len(blocks_of(datasets)[1])
    with Progress("datasets", n_blocks, transient=True, enabled=not as_json and sys.stderr.isatty()) as bar:
        if real is not None:
            from ..analysis.biasvar import decompose_data

            result = decompose_data(ests, real, method=method, n_train=n_train, rounds=rounds, loss=loss,
                                    seed=seed, labels=texts, **definition, **kw)
            datasets, n = result.n_datasets, result.n
        elif ests:
            result = decompose(ests, source, n=n, n_datasets=datasets, n_test=n_test, loss=loss, seed=seed,
                               labels=texts, progress=bar, **definition, **kw)
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
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    what = f"{result.mode} of {real.name}: {datasets:,} rounds" if real is not None else f"{datasets:,} datasets"
    result.plot(ax, title=f"{what} of n = {n}", log=result.knob != "model")
    if result.knob == "alpha":
        ax.set_xscale("log")
    files = emit(out, _stem(texts), fig, result.summary(as_frame=False), record, as_json)
    if not as_json:
        _print_table(result, real=real, datasets=datasets, n=n, loss=loss)
    say(f"wrote {', '.join(str(p) for p in files)}", as_json)
