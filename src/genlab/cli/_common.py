"""What every command of the CLI shares: the output options, writing a result's files, the
human-readable lines, refusing options a command would ignore, and the sweep options
(``--store``, ``--jobs``, ``--dask``, ``--seed``, ``--json``, ``--out``).

A sweeping command reads::

    from ._common import DaskOption, JobsOption, StoreOption, SweepOutOption, emit, finish_sweep, sweep_kwargs

    def double_descent(..., out: SweepOutOption = DEFAULT_OUT, store: StoreOption = None,
                       jobs: JobsOption = None, dask: DaskOption = None):
        result = random_features_sweep(..., **sweep_kwargs(out=out, store=store, jobs=jobs, dask=dask))
        emit(out, "double_descent", fig, result.summary(), record, as_json)

Nothing here imports more than typer at start-up; the heavy parts are imported where used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.errors import GenlabError
from ..core.limits import ALLOW_LARGE_HELP

AllowLargeOption = Annotated[bool, typer.Option("--allow-large", help=ALLOW_LARGE_HELP)]
NoiseOption = Annotated[float, typer.Option("--noise", help="Noise standard deviation σ.")]
TargetOption = Annotated[str, typer.Option("--target", help="True mean ȳ(x), an expression in x.")]
XDistOption = Annotated[str, typer.Option("--x", help="Inputs: uniform(a, b), normal(mean, std) or grid(a, b).")]
XColOption = Annotated[str, typer.Option("--x-col", help="CSV input column.")]
YColOption = Annotated[str, typer.Option("--y-col", help="CSV target column.")]
OUT_HELP = "Folder for figures (PNG, SVG) and results (JSON, CSV)."
JSON_HELP = "Print machine-readable results (JSON) on stdout."


def say(msg: str, as_json: bool) -> None:
    """Human-readable lines go to stdout, or to stderr when stdout carries JSON."""
    typer.echo(msg, err=as_json)


def emit(out: Path, stem: str, fig, frame, record: dict, as_json: bool, tables: dict | None = None) -> list:
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


def synthetic_source(target: str, noise: float, x_dist: str):
    from ..data.sources import SyntheticSource

    return SyntheticSource(target=target, noise=noise, x_dist=x_dist)


def user_data(csv: Optional[Path], x_col: str, y_col: str):
    from ..data.sources import load_csv

    return load_csv(csv, x=x_col, y=y_col) if csv is not None else None


def refuse_ignored(applies: bool, why: str, *options) -> None:
    """Refuse options a command would silently ignore: ``options`` are ``(flag, value, default)``."""
    given = [flag for flag, value, default in options if value != default]
    if applies and given:
        raise GenlabError(f"{', '.join(given)} would be ignored: {why}")


DEFAULT_OUT = Path("genlab-out")
STORE_HELP = ("SQLite results store (default: runs.sqlite in the output folder). The same command again "
              "resumes: finished jobs are kept, missing and failed ones run.")
StoreOption = Annotated[Optional[Path], typer.Option("--store", help=STORE_HELP, show_default=False)]
JobsOption = Annotated[Optional[int], typer.Option(
    "--jobs", "-j", help="Local worker processes (default: the number of cores); with --dask local, Dask workers.",
    show_default=False)]
DaskOption = Annotated[Optional[str], typer.Option(
    "--dask", help="Run on Dask: a scheduler address (tcp://host:8786) or 'local' for a cluster on this machine.",
    show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable results (JSON) on stdout.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed (same seed, same numbers, whatever the executor).")]


def check_out_folder(value: Path) -> Path:
    """``--out`` callback: a folder that exists or can be made, and written to — checked before any work."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise GenlabError(f"--out {value} is a file; give a folder (it is created when missing)")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise GenlabError(f"--out {value} cannot be made: {existing} is a file; give another folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise GenlabError(f"--out {value} cannot be written ({existing} is read-only for you); give another folder")
    return value


SweepOutOption = Annotated[Path, typer.Option("--out", help="Folder for figures, results and the runs store.",
                                              callback=check_out_folder)]


def store_path(store: Optional[Path], out: Path = DEFAULT_OUT) -> Path:
    """``--store`` if given, else ``OUT/runs.sqlite``."""
    from ..runs.store import default_store_path

    return Path(store) if store is not None else default_store_path(out)


def sweep_kwargs(*, out: Path, store: Optional[Path] = None, jobs: Optional[int] = None,
                 dask: Optional[str] = None) -> dict:
    """Check ``--store/--jobs/--dask`` and give them as keyword arguments of :func:`~genlab.runs.sweep.run_sweep`.

    A scheduler address must answer as a Dask scheduler within
    :data:`~genlab.runs.executors.DASK_CONNECT_TIMEOUT` seconds, checked here, before any store exists.
    """
    from ..runs.executors import check_dask, check_jobs, reach_dask

    dask = check_dask(dask)
    if jobs is not None:
        check_jobs(jobs)
        if dask not in (None, "local"):
            raise GenlabError("--jobs sets the number of local workers; with --dask ADDRESS the cluster decides")
    reach_dask(dask)
    return {"store": store_path(store, out), "jobs": jobs, "dask": dask}


def finish_sweep(result, *, as_json: bool = False) -> None:
    """Print the sweep's summary (stderr when stdout carries JSON); exit with status 1 if a job failed."""
    typer.echo(result.describe(), err=as_json)
    if not result.ok:
        raise typer.Exit(1)
