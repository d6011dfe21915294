"""`genlab runs`: look into a results store, export it, and try a sweep.

It also holds what every sweeping command shares: the ``--store``, ``--jobs``
and ``--dask`` options and the closing summary. An experiment command reads::

    from .cli_runs import DaskOption, JobsOption, StoreOption, finish_sweep, sweep_kwargs

    @app.command()
    def double_descent(..., out: Path = ..., store: StoreOption = None,
                       jobs: JobsOption = None, dask: DaskOption = None):
        result = run_sweep(job_fn, configs, seed=seed, progress=not as_json,
                           **sweep_kwargs(out=out, store=store, jobs=jobs, dask=dask))
        ...  # write figures and tables from result.to_frame()
        finish_sweep(result, as_json=as_json)  # lists failures; exit status 1 if any
"""

from __future__ import annotations

import importlib.util
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.errors import GenlabError

runs_app = typer.Typer(no_args_is_help=True,
                       help="Results stores of sweeps: list, show and export jobs; try a demo sweep.")

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
ReadStoreOption = Annotated[Path, typer.Option("--store", help="SQLite results store to read.")]
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
FORMATS = ("csv", "parquet", "json")


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


def _open(store: Path):
    from ..runs.store import Store

    return Store(store, readonly=True)


def _warn_damaged(store: Path, damaged: dict) -> None:
    """One line on stderr per job whose stored results cannot be read back (the rest are shown as usual)."""
    for job_id, why in damaged.items():
        typer.echo(f"genlab: warning: job {job_id} in {store} is damaged: {why}; its other fields are shown "
                   "(the sweep's command runs it again)", err=True)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _when(ts) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _plain_record(rec: dict) -> dict:
    out = dict(rec)
    for key in ("created_at", "submitted_at", "started_at", "finished_at"):
        out[key] = None if rec.get(key) is None else datetime.fromtimestamp(rec[key], timezone.utc).isoformat()
    return out


@runs_app.command("ls")
def ls(
    store: ReadStoreOption = DEFAULT_OUT / "runs.sqlite",
    status: Optional[str] = typer.Option(None, help="Only jobs with this status: pending, running, done or failed."),
    kind: Optional[str] = typer.Option(None, help="Only jobs of this function (its name or module:name)."),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON (without series)."),
):
    """List the jobs of a store: id, status, config, metrics, time."""
    from ..core.io import to_json, write_stdout

    with _open(store) as st:
        counts = st.counts()
        records = st.jobs(status=status, kind=kind, series=False)
        sessions = st.sessions()
    _warn_damaged(store, {r["id"]: r["damaged"] for r in records if r.get("damaged")})
    if as_json:
        write_stdout(to_json([{k: v for k, v in _plain_record(r).items() if k != "series"} for r in records]))
        return
    from rich.console import Console
    from rich.table import Table

    total = sum(counts.values())
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    typer.echo(f"{store}: {total} jobs" + (f" ({parts})" if parts else ""))
    if sessions:
        last = sessions[-1]
        typer.echo(f"last sweep: {last['kind'].rpartition(':')[2]} on {last['executor']}, {last['status']}, "
                   f"started {_when(last['started_at'])}")
    table = Table(box=None, pad_edge=False)
    for col, justify in (("id", "right"), ("status", "left"), ("job", "left"), ("config", "left"),
                         ("metrics", "left"), ("time", "right")):
        table.add_column(col, justify=justify, overflow="fold")
    styles = {"done": "green", "failed": "red", "running": "yellow", "pending": "dim"}
    for r in records:
        config = json.dumps(r["config"], sort_keys=True, separators=(",", ":"))
        metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in (r["metrics"] or {}).items())
        if r["status"] == "failed":
            metrics = _short(r["error"].strip().splitlines()[-1] if r["error"] else "failed", 60)
        elif r.get("damaged"):
            metrics = "(damaged)"
        table.add_row(str(r["id"]), f"[{styles[r['status']]}]{r['status']}[/]", r["kind"].rpartition(":")[2],
                      _short(config, 48), _short(metrics, 60),
                      "-" if r["duration_s"] is None else f"{r['duration_s']:.3g} s")
    Console(soft_wrap=False).print(table)


@runs_app.command("show")
def show(
    job_id: int = typer.Argument(..., metavar="ID", help="Job id, as 'genlab runs ls' prints it."),
    store: ReadStoreOption = DEFAULT_OUT / "runs.sqlite",
    as_json: bool = typer.Option(False, "--json", help="Print the full record as JSON (series included)."),
):
    """Show one job: config, seed, where and when it ran, metrics, series, and its traceback if it failed."""
    from ..core.io import to_json, write_stdout

    with _open(store) as st:
        rec = st.job(job_id)
        arrays = st.arrays([rec["id"]])[0]
        damaged = st.damaged([rec["id"]])
    _warn_damaged(store, damaged)
    if as_json:
        write_stdout(to_json(_plain_record(rec)))
        return
    echo = typer.echo
    echo(f"job {rec['id']}: {rec['status']} (attempts {rec['attempts']})")
    echo(f"  function  {rec['kind']}")
    echo(f"  config    {json.dumps(rec['config'], sort_keys=True) if rec['config'] is not None else '(damaged)'}")
    echo(f"  seed      {rec['seed']} (job stream: SeedSequence({rec['seed']}, spawn_key=(0x{rec['config_hash']},)))")
    if rec["finished_at"] is not None:
        took = "" if rec["duration_s"] is None else f", {rec['duration_s']:.4g} s"
        where = f" on {rec['host']} (pid {rec['pid']})" if rec["host"] else ""
        echo(f"  ran       {_when(rec['started_at'] or rec['finished_at'])}{where}{took}")
        echo(f"  genlab    {rec['genlab_version']}" + (f" (git {rec['git_rev']})" if rec["git_rev"] else ""))
    for k, v in (rec["metrics"] or {}).items():
        echo(f"  metric    {k} = {v!r}")
    for k, v in (rec["series"] or {}).items():
        ends = f": first {_fmt(v[0])}, last {_fmt(v[-1])}" if v else ""
        echo(f"  series    {k}, {len(v)} values{ends}")
    for k, v in arrays.items():
        echo(f"  array     {k}, shape {'×'.join(map(str, v.shape)) or 'scalar'}, {v.dtype}")
    if rec["error"]:
        echo("  traceback:")
        for line in rec["error"].rstrip().splitlines():
            echo(f"    {line}")


@runs_app.command("export")
def export(
    fmt: Optional[str] = typer.Option(None, "--format", help="csv, parquet or json (default: from --out's suffix, "
                                      "else csv).", show_default=False),
    out: Optional[Path] = typer.Option(None, "--out", help="File to write (default: stdout; parquet needs a file).",
                                       show_default=False),
    store: ReadStoreOption = DEFAULT_OUT / "runs.sqlite",
    series: bool = typer.Option(False, "--series", help="Export the series (id, name, step, value) instead of "
                                "one row per job (csv, parquet)."),
    status: Optional[str] = typer.Option(None, help="Only jobs with this status."),
    kind: Optional[str] = typer.Option(None, help="Only jobs of this function."),
):
    """Export a store's jobs: csv or parquet (one row per job: config.*, metrics.*), or json (full records)."""
    from ..core.io import atomic_write_bytes, atomic_write_text, to_json, write_stdout

    if fmt is None:
        suffix = out.suffix.lstrip(".").lower() if out is not None else ""
        fmt = suffix if suffix in FORMATS else "csv"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise GenlabError(f"unknown export format {fmt!r}; choose csv, parquet or json")
    if fmt == "parquet":
        if importlib.util.find_spec("pyarrow") is None:
            raise GenlabError("parquet export needs pyarrow, which is not installed; use --format csv or json "
                              "(or pip install pyarrow)")
        if out is None:
            raise GenlabError("parquet is a binary format; give --out FILE")
    if series and fmt == "json":
        raise GenlabError("--series is for csv and parquet; json records hold their series already")
    from ..runs.records import records_frame, series_frame

    with _open(store) as st:
        records = st.jobs(status=status, kind=kind, series=series or fmt == "json")
    _warn_damaged(store, {r["id"]: r["damaged"] for r in records if r.get("damaged")})
    if fmt == "json":
        text = to_json([_plain_record(r) for r in records])
    else:
        frame = series_frame(records) if series else records_frame(records)
        for col in frame.columns:  # lists and dicts in configs: as JSON text in a cell
            if frame[col].dtype == object:
                frame[col] = frame[col].map(lambda v: json.dumps(v, sort_keys=True)
                                            if isinstance(v, (list, dict)) else v)
        if fmt == "csv":
            text = frame.to_csv(index=False, lineterminator="\n")  # full float precision
        else:
            import io

            buf = io.BytesIO()
            frame.to_parquet(buf, index=False)
            atomic_write_bytes(out, buf.getvalue())
            typer.echo(f"wrote {out}", err=True)
            return
    if out is None:
        write_stdout(text)
    else:
        atomic_write_text(out, text)
        typer.echo(f"wrote {out}", err=True)


@runs_app.command("demo")
def demo(
    n: int = typer.Option(24, help="Number of jobs."),
    sleep: float = typer.Option(0.2, help="Seconds each job takes."),
    fail: str = typer.Option("", help="Jobs (0-based, comma-separated) that fail, to see how failures look."),
    seed: SeedOption = 0,
    out: Path = typer.Option(DEFAULT_OUT, help="Output folder (the store goes there).", callback=check_out_folder),
    store: StoreOption = None,
    jobs: JobsOption = None,
    dask: DaskOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON on stdout."),
):
    """Run a small demo sweep (genlab.runs.jobs:demo_job): stop it with Ctrl-C, run it again, it resumes."""
    from ..runs.sweep import run_sweep
    from ..core.io import to_json, write_stdout
    from ..runs.jobs import demo_job

    if n < 1:
        raise GenlabError(f"--n must be >= 1, got {n}")
    if not 0 <= sleep <= 3600:
        raise GenlabError(f"--sleep must be between 0 and 3600 seconds, got {sleep}")
    from ..runs.executors import check_jobs
    from ..core.limits import announce, check_cap
    from ..core.seeding import check_seed

    check_cap(n, "demo_jobs")
    check_seed(seed)
    workers = check_jobs(jobs)  # the cores when None
    try:
        failing = {int(p) for p in fail.split(",") if p.strip()}
    except ValueError:
        raise GenlabError(f"--fail takes job numbers like 2,5; got {fail!r}") from None
    announce(n * sleep / min(workers, n), f"{n:,} jobs of {sleep:g} s on {min(workers, n)} workers")
    configs = [{"x": i / n, "sleep": sleep, **({"fail": True} if i in failing else {})} for i in range(n)]
    result = run_sweep(demo_job, configs, seed=seed, progress=not as_json,
                       **sweep_kwargs(out=out, store=store, jobs=jobs, dask=dask))
    if as_json:
        write_stdout(to_json([{k: r[k] for k in ("id", "status", "config", "metrics")} for r in result.records]))
    finish_sweep(result, as_json=as_json)
