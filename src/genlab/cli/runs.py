"""`genlab runs`: look into a results store (list, show, export its jobs) and try a demo sweep.

The options every sweeping command shares live in ``genlab.cli._common``.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.errors import GenlabError
from ._common import (DEFAULT_OUT, StoreOption, JobsOption, DaskOption, SeedOption, check_out_folder, sweep_kwargs,
                      finish_sweep)

runs_app = typer.Typer(no_args_is_help=True,
                       help="Results stores of sweeps: list, show and export jobs; try a demo sweep.")

ReadStoreOption = Annotated[Path, typer.Option("--store", help="SQLite results store to read.")]
FORMATS = ("csv", "parquet", "json")


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
