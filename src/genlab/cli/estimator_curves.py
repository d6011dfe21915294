"""`genlab curve validation` and `genlab curve learning`: the error of any estimator against one of its
parameters or against its training-set size, over repeated datasets (registered in the `curve` group
of :mod:`.fit`).

The data: the synthetic source (``--target``, ``--noise``, ``--x``: fresh datasets per repeat), a
bundled set (``--data``) or a CSV (``--csv`` with ``--y-col``; ``--x-col`` defaults to every other
column), split into disjoint training sets (``--method disjoint``) or shuffled splits.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..core.errors import GenlabError
from ._common import (AllowLargeOption, JSON_HELP, NoiseOption, OUT_HELP, TargetOption, XDistOption, YColOption,
                      check_out_folder, emit, model_names, option_group, output_stem, refuse_ignored, say)

ESTIMATOR_HELP = ("An estimator with the scikit-learn API, e.g. 'sklearn.tree.DecisionTreeRegressor()', a third "
                  "party's or your own ('mypkg.models:MyRegressor(width=16)', found in the current folder or on "
                  "PYTHONPATH); repeat --estimator for one curve per estimator. Naming a module imports it, so its "
                  "code runs; the arguments are literals or nested estimators, parsed, never evaluated.")
N_VAL_HELP = ("Validation points per dataset: drawn beside the training points from the source (default 1000), "
              "or held out of --data/--csv (default a quarter of the rows).")
METHOD_HELP = ("--data/--csv: 'disjoint' (one validation set held out, every repeat trains on its own disjoint "
               "rows: as many repeats as fit) or 'shuffle' (a new split per repeat; the splits overlap, so the "
               "spread understates the variance over fresh datasets).")
REPEATS_HELP = "Datasets (or splits) per point: medians and bands over them; 20 or more for a tail verdict."
METRIC_HELP = "mse (squared error, units of y²), rmse (units of y) or error (0-1, classifiers); default mse or error."


@dataclasses.dataclass(frozen=True)
class CurveData:
    """Where the datasets of a curve come from: the synthetic source, a bundled set or a CSV."""

    data: Annotated[Optional[str], typer.Option(
        "--data", help="A bundled dataset: digits, diabetes, wine, breast_cancer.", show_default=False)] = None
    csv: Annotated[Optional[Path], typer.Option(
        "--csv", help="Your own data: a CSV with a header row (with --y-col).", show_default=False)] = None
    x_col: Annotated[Optional[List[str]], typer.Option(
        "--x-col", help="CSV input columns, repeatable or comma-separated (default: every column except "
        "--y-col).", show_default=False)] = None
    y_col: YColOption = "y"
    target: TargetOption = "2*x**2 + 1"
    noise: NoiseOption = 0.1
    x_dist: XDistOption = "uniform(0, 1)"

    def load(self, method: str):
        """The source or the dataset, every option checked (none silently ignored)."""
        from ..data.sources import column_list, load_csv, load_dataset

        real = self.data is not None or self.csv is not None
        refuse_ignored(real, "--data and --csv give the data (the source's options draw synthetic data)",
                       ("--target", self.target, "2*x**2 + 1"), ("--noise", self.noise, 0.1),
                       ("--x", self.x_dist, "uniform(0, 1)"))
        refuse_ignored(self.csv is None, "--x-col and --y-col name the columns of a --csv",
                       ("--x-col", self.x_col, None), ("--y-col", self.y_col, "y"))
        refuse_ignored(not real, "the source draws fresh datasets; --method splits --data or --csv",
                       ("--method", method, "disjoint"))
        if self.data is not None and self.csv is not None:
            raise GenlabError("give either --data or --csv, not both")
        if self.data is not None:
            return load_dataset(self.data)
        if self.csv is not None:
            return load_csv(self.csv, x=column_list(self.x_col, self.y_col), y=self.y_col)
        from ..data.sources import SyntheticSource

        return SyntheticSource(target=self.target, noise=self.noise, x_dist=self.x_dist)


def _short(text: str) -> str:
    """An estimator's text without its module paths: ``DecisionTreeRegressor(max_depth=3)``."""
    return re.sub(r"\b(?:[A-Za-z_]\w*[.:])+(?=[A-Za-z_]\w*\s*\()", "", " ".join(text.split()))


def _run(kind: str, *, estimator, src: CurveData, n, n_val, repeats, method, metric, seed, jobs, allow_large,
         as_json, out, param=None, values=None, sizes=None):
    """Check everything, measure, write the figure, table and record, print the table."""
    import matplotlib.pyplot as plt

    from ..analysis.validation import learning_curve, parse_values, validation_curve
    from ..core.estimators import parse_estimator
    from ..core.limits import check_cap
    from ..core.seeding import check_seed
    from ..runs.executors import check_jobs
    from ..runs.progress import Progress

    check_seed(seed)
    check_cap(repeats, "repeats", allow_large=allow_large)
    check_cap(n, "n", allow_large=allow_large)
    check_cap(n_val, "n_test", allow_large=allow_large, option="--n-val")
    jobs = check_jobs(jobs) if jobs is not None else None
    if sizes is not None:
        sizes = parse_values(sizes)
        for s in sizes:
            if isinstance(s, int) and not isinstance(s, bool):
                check_cap(s, "n", allow_large=allow_large, option="--sizes")
    data = src.load(method)
    ests = [parse_estimator(text, user_modules=True) for text in estimator]  # checked before any fit or file
    labels = [_short(text) for text in estimator]
    common = dict(n_val=n_val, repeats=repeats, metric=metric, seed=seed, jobs=jobs, labels=labels,
                  **({} if src.data is None and src.csv is None else {"method": method}))
    with Progress("datasets", repeats, transient=True, enabled=not as_json and sys.stderr.isatty()) as bar:
        if kind == "validation":
            res = validation_curve(ests, data, param=param, values=values, n=n, progress=bar, **common)
        else:
            res = learning_curve(ests, data, sizes=sizes, progress=bar, **common)
    record = {"command": f"curve {kind}", **res.to_dict(), "estimator_texts": list(estimator)}
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    res.plot(ax)
    stem = output_stem(f"curve {kind}", model_names(estimator), f"{param}={values}" if kind == "validation" else None,
                       ignore=("estimator", "param", "values"))
    files = emit(out, stem, fig, res.summary(), record, as_json)
    if not as_json:
        _print(res)
    say(f"wrote {', '.join(str(p) for p in files)}", as_json)


def _fmt(v, digits: int = 4) -> str:
    """A number for the table: whole numbers from 100 to 1e9 (no exponent where none is needed)."""
    if v != v:
        return "—"
    return f"{v:.0f}" if 100 <= abs(v) < 1e9 else f"{v:.{digits}g}"


def _print(res) -> None:
    from rich.console import Console
    from rich.table import Table

    unit = res.metric.upper() if res.metric != "error" else "0-1 error"
    where = res.config.get("data") or "the source"
    knob = res.knob
    table = Table(title=f"{res.kind} curve on {where}, {res.n_val} validation points; errors in {res.metric_label}")
    several = len(res.labels) > 1
    if several:
        table.add_column("estimator", overflow="fold", min_width=14)
    for col in (knob, "train median", "val median (IQR)", "val mean ± s.e.", "datasets"):
        table.add_column(col, justify="right")
    rows = res.summary().to_dict(orient="records")
    tails = any(not r["val_verdict"].startswith("too few") for r in rows)
    if tails:
        table.add_column("tail of val errors", overflow="fold")
    for row in rows:
        table.add_row(*([row["estimator"]] if several else []), str(row[res.knob]), _fmt(row["train_median"]),
                      f"{_fmt(row['val_median'])} ({_fmt(row['val_q25'], 3)}–{_fmt(row['val_q75'], 3)})",
                      f"{_fmt(row['val_mean'])} ± {_fmt(row['val_se'], 2)}",
                      f"{row['datasets']}" + (f" ({row['failed']} failed)" if row["failed"] else ""),
                      *([row["val_verdict"]] if tails else []))
    Console().print(table)
    floor = res.config.get("noise_var")
    if floor is not None and res.metric != "error":
        typer.echo(f"noise floor of the source: {floor if res.metric == 'mse' else floor ** 0.5:.4g} {unit} "
                   "(no model goes below it on average)")
    for label, best in res.best.items():
        typer.echo(f"lowest median validation {unit}: {knob} = {best['value']} ({best['val_median']:.4g})"
                   + (f" for {label}" if several else ""))
    if not tails:
        more = "more --repeats" + ("; on --data/--csv, smaller training sets so that more disjoint ones fit"
                                   if res.config.get("method") == "disjoint" else "")
        typer.echo(f"no tail verdicts: they need 20 datasets or more per point ({more})")
    for note in res.config.get("notes", []):
        typer.echo(f"note: {note}")


@option_group("src")
def curve_validation(
    estimator: List[str] = typer.Option(..., "--estimator", help=ESTIMATOR_HELP, show_default=False),
    param: str = typer.Option(..., help="The estimator's parameter that varies (step__name inside a pipeline).",
                              show_default=False),
    values: str = typer.Option(..., help="Its values: a range 1-20 (1-20:2 for a step), a list 1,2,5,10, "
                               "numbers 1e-3,1e-2, None/True/False or words.", show_default=False),
    n: Optional[int] = typer.Option(None, help="Training points per dataset (default: 100 from the source, a "
                                    "tenth of the rows of --data/--csv).", show_default=False),
    n_val: Optional[int] = typer.Option(None, "--n-val", help=N_VAL_HELP, show_default=False),
    repeats: int = typer.Option(20, help=REPEATS_HELP),
    method: str = typer.Option("disjoint", help=METHOD_HELP),
    metric: Optional[str] = typer.Option(None, help=METRIC_HELP, show_default=False),
    src: CurveData = CurveData(),
    seed: int = typer.Option(0, help="Seed (same seed, same numbers, whatever --jobs)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Workers (default: the cores; used only "
                                       "where they pay).", show_default=False),
    allow_large: AllowLargeOption = False,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    out: Path = typer.Option(Path("genlab-out"), help=OUT_HELP, callback=check_out_folder),
):
    """Training and validation error of any estimator against one of its parameters, over repeated datasets.

    scikit-learn's validation_curve with fresh datasets (or disjoint splits of yours): medians, bands, tail verdicts.
    """
    _run("validation", estimator=estimator, src=src, n=n, n_val=n_val, repeats=repeats, method=method,
         metric=metric, seed=seed, jobs=jobs, allow_large=allow_large, as_json=as_json, out=out, param=param,
         values=values)


@option_group("src")
def curve_learning(
    estimator: List[str] = typer.Option(..., "--estimator", help=ESTIMATOR_HELP, show_default=False),
    sizes: Optional[str] = typer.Option(None, help="Training-set sizes, e.g. 10,20,50,100,200 or 10-100:10 "
                                        "(default: 8 sizes up to 1000, or up to half the rows).",
                                        show_default=False),
    n_val: Optional[int] = typer.Option(None, "--n-val", help=N_VAL_HELP, show_default=False),
    repeats: int = typer.Option(20, help=REPEATS_HELP),
    method: str = typer.Option("disjoint", help=METHOD_HELP),
    metric: Optional[str] = typer.Option(None, help=METRIC_HELP, show_default=False),
    src: CurveData = CurveData(),
    seed: int = typer.Option(0, help="Seed (same seed, same numbers, whatever --jobs)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Workers (default: the cores; used only "
                                       "where they pay).", show_default=False),
    allow_large: AllowLargeOption = False,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    out: Path = typer.Option(Path("genlab-out"), help=OUT_HELP, callback=check_out_folder),
):
    """Training and validation error of any estimator against the number of training points (a learning curve).

    Fresh datasets from the source (or disjoint splits of yours) per size: medians, bands, tail verdicts.
    """
    _run("learning", estimator=estimator, src=src, n=None, n_val=n_val, repeats=repeats, method=method,
         metric=metric, seed=seed, jobs=jobs, allow_large=allow_large, as_json=as_json, out=out, sizes=sizes)
