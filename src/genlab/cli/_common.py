"""What every command of the CLI shares: the output options, writing a result's files, the
human-readable lines, refusing options a command would ignore, and the option groups declared once
(:class:`SweepArgs`: ``--seed``, ``--store``, ``--jobs``, ``--dask``, ``--allow-large``, ``--json``,
``--out``; :class:`SourceArgs`: a synthetic source or a CSV's columns).

A sweeping command reads::

    from ._common import SweepArgs, emit, option_group, output_stem

    @option_group("sweep")
    def double_descent(kind: str = typer.Option("model", help="..."), sweep: SweepArgs = SweepArgs()):
        result = random_features_sweep(..., **sweep.sweep_kwargs())
        emit(sweep.out, output_stem("double-descent", kind), fig, result.summary(), record, sweep.as_json)

typer shows the group's options in the place of ``sweep``, and the command receives them as one
:class:`SweepArgs`. Nothing here imports more than typer at start-up; the heavy parts are imported
where used.
"""

from __future__ import annotations

import sys

import dataclasses
import functools
import inspect
import os
from copy import copy
from pathlib import Path
from typing import Annotated, Optional, get_args, get_type_hints

import typer

from ..core.errors import GenlabError
from ..core.limits import ALLOW_LARGE_HELP

AllowLargeOption = Annotated[bool, typer.Option("--allow-large", help=ALLOW_LARGE_HELP)]
NoiseOption = Annotated[float, typer.Option("--noise", help="Noise standard deviation σ.")]
TargetOption = Annotated[str, typer.Option("--target", help="True mean ȳ(x), an expression in x.")]
XDistOption = Annotated[str, typer.Option("--x", help="Inputs: uniform(a, b), normal(mean, std) or grid(a, b).")]
XColOption = Annotated[str, typer.Option("--x-col", help="CSV input column.")]
YColOption = Annotated[str, typer.Option("--y-col", help="CSV target column.")]
OUT_HELP = ("Folder for figures (PNG, SVG) and results (JSON, CSV), named after the command, its models and "
            "the options changed from their defaults: runs into one folder keep their own files.")
JSON_HELP = "Print machine-readable results (JSON) on stdout."


def say(msg: str, as_json: bool) -> None:
    """Human-readable lines go to stdout, or to stderr when stdout carries JSON."""
    typer.echo(msg, err=as_json)


def emit(out: Path, stem: str, fig, frame, record: dict, as_json: bool, tables: dict | None = None) -> list:
    """Write the figure (PNG, SVG), the table (CSV), any further ``tables`` (``{name: DataFrame}``, each as
    ``<stem>_<name>.csv``) and the record (JSON, last) under ``out`` as one set, all or nothing
    (:class:`genlab.core.io.OutputSet`); print the record on stdout when ``--json``. Returns the written paths.

    ``stem`` is the run's own (:func:`output_stem`): a second run of another kind into the same folder
    keeps both sets, the same run again replaces its own.
    """
    from ..core.io import OutputSet, to_json, write_stdout

    try:
        with OutputSet(out) as files:
            files.add_figure(fig, stem)
            files.add_csv(f"{stem}.csv", frame)
            for name, table in (tables or {}).items():
                files.add_csv(f"{stem}_{name}.csv", table)
            files.add_json(f"{stem}.json", record)
    finally:
        if "matplotlib.pyplot" in sys.modules:  # a pyplot figure is closed; a bare Figure is just dropped
            sys.modules["matplotlib.pyplot"].close(fig)
    if as_json:
        write_stdout(to_json(record))
    return files.paths


# -- the names of a run's files ----------------------------------------------------------------------------

#: Options that say where or how a run is written or executed, never what it measures: left out of file names.
NOT_IN_NAMES = frozenset({"out", "as_json", "jobs", "dask", "store", "allow_large"})
#: The longest file stem; a longer one is cut and ends with a hash of the whole (:func:`output_stem`).
STEM_MAX = 120


def output_stem(command: str, *parts, ignore=()) -> str:
    """The stem of a run's files: what tells this run from another one into the same ``--out``.

    The command (``"curve validation"`` → ``curve_validation``), then ``parts`` (what the run compares:
    its models, :func:`model_names`, or its knob; None and "" are skipped), then every option of the
    command line given a value other than its default, in the order of ``--help``: ``name=value``
    (``basis=monomial``, ``csv=d.csv``, ``seed=3``), a flag by its name (``quick``, ``no-scale``). Left
    out: the options that only say where or how it runs (:data:`NOT_IN_NAMES`: ``--out``, ``--json``,
    ``--jobs``, ``--dask``, ``--store``, ``--allow-large``) and those in ``ignore`` (the parameters that
    ``parts`` already carry). All joined by ``_``.

    So two runs that differ in what they measure write different files, and the same run again writes
    the same names (its files are replaced as a set). Characters other than ASCII letters, digits and
    ``. _ + = , -`` become ``-`` (quotes and spaces are dropped); a stem longer than :data:`STEM_MAX`
    is cut and ends with ``-`` and 10 hex digits of the SHA-256 of the whole, so it stays apart.
    Outside a command line (no click context) only ``command`` and ``parts`` are used.

    Examples
    --------
    ``genlab biasvar --estimator "sklearn.linear_model.Ridge()" --estimator
    "sklearn.tree.DecisionTreeRegressor(max_depth=3)" --datasets 200`` writes
    ``biasvar_Ridge+DecisionTreeRegressor-max_depth=3_datasets=200.{png,svg,csv,json}``;
    ``genlab fit --degree 30 --basis monomial`` writes ``fit_degree30_basis=monomial.*``.
    """
    tokens = [_safe(word) for word in command.replace("-", "_").split()]
    tokens += [_safe(part) for part in parts if part not in (None, "")]
    tokens += [_safe(setting) for setting in changed_options(ignore)]
    stem = "_".join(t for t in tokens if t)
    if len(stem) > STEM_MAX:
        import hashlib

        digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:10]
        stem = stem[:STEM_MAX - 11].rstrip("_-.,=+") + "-" + digest
    return stem


def _safe(text) -> str:
    """``text`` in file-name-safe characters (see :func:`output_stem`)."""
    import re

    raw = str(text)
    text = re.sub(r"['\"\s]", "", raw)
    text = re.sub(r"[^A-Za-z0-9._+=,-]+", "-", text)
    text = re.sub(r"-*([,=+])-*", r"\1", text).strip("-.")
    if not raw.isascii():  # letters lost to the ASCII rule: a hash keeps apart what they told apart
        import hashlib

        text += "-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:6]
    return text.strip("-")


def model_names(texts) -> str:
    """Estimators' texts as one part of a file name: each without its module paths
    (``sklearn.tree.DecisionTreeRegressor(max_depth=3)`` → ``DecisionTreeRegressor(max_depth=3)``, made
    safe by :func:`output_stem`), ``+`` between them."""
    import re

    def short(text: str) -> str:
        return re.sub(r"\b(?:[A-Za-z_]\w*[.:])+(?=[A-Za-z_]\w*)", "", "".join(str(text).split()))

    return "+".join(dict.fromkeys(short(t) for t in texts))


def changed_options(ignore=()) -> list[str]:
    """The options of the running command given a value other than their default, as ``name=value`` (a
    flag: its name), in the order of the command's parameters; none outside a command line. Options in
    :data:`NOT_IN_NAMES` and ``ignore`` (parameter names) are left out."""
    ctx = _current_context()
    if ctx is None:
        return []
    skip = NOT_IN_NAMES | set(ignore)
    out = []
    for param in ctx.command.params:
        name = param.name
        if name in skip or name not in ctx.params:
            continue
        source = ctx.get_parameter_source(name)
        if source is None or source.name in ("DEFAULT", "DEFAULT_MAP"):
            continue
        value = ctx.params[name]
        if _same(value, param.default):
            continue
        out.append(_setting(param, value))
    return out


def _current_context():
    """The click context of the running command, or None (typer runs its own copy of click)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # a typer that uses click itself
        from click import get_current_context
    return get_current_context(silent=True)


def _same(value, default) -> bool:
    if isinstance(value, (list, tuple)) and not value:
        return default in (None, (), [])
    try:
        return bool(value == default)
    except Exception:  # noqa: BLE001 - values that do not compare: not the default
        return False


def _setting(param, value) -> str:
    """One option's value as a file-name part: ``name=value``, a flag by its name, an argument by its value."""
    longs = [o[2:] for o in param.opts if o.startswith("--")]
    name = longs[0] if longs else param.name.replace("_", "-")
    if getattr(param, "is_flag", False) and isinstance(value, bool):
        if value:
            return name
        seconds = [o[2:] for o in getattr(param, "secondary_opts", []) if o.startswith("--")]
        return seconds[0] if seconds else f"no-{name}"

    def text(v) -> str:
        if isinstance(v, Path):
            return Path(str(v)).name
        if isinstance(v, float):
            return f"{v:g}"
        return str(v)

    shown = ",".join(text(v) for v in value) if isinstance(value, (list, tuple)) else text(value)
    return shown if param.param_type_name == "argument" else f"{name}={shown}"


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
JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
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


SweepOutOption = Annotated[Path, typer.Option("--out", help="Folder for figures, results (named after the command and "
                                              "the options changed: runs keep their own files) and the runs store.",
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


# -- option groups: options that commands share, declared once ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SweepArgs:
    """The options of a sweeping command, as one value (see :func:`option_group`).

    Attributes
    ----------
    seed : int
        ``--seed``: the seed of the sweep.
    store : Path or None
        ``--store``: the results store (``None``: ``OUT/runs.sqlite``).
    jobs : int or None
        ``--jobs``: local worker processes (``None``: the number of cores).
    dask : str or None
        ``--dask``: a scheduler address or ``"local"``.
    allow_large : bool
        ``--allow-large``: lift the size limits that only bound time.
    as_json : bool
        ``--json``: results on stdout, human-readable lines on stderr.
    out : Path
        ``--out``: the folder for figures, results and the runs store.
    """

    seed: SeedOption = 0
    store: StoreOption = None
    jobs: JobsOption = None
    dask: DaskOption = None
    allow_large: AllowLargeOption = False
    as_json: JsonOption = False
    out: SweepOutOption = DEFAULT_OUT

    def sweep_kwargs(self) -> dict:
        """The checked store and executor (:func:`sweep_kwargs`), the seed, and a progress bar unless ``--json``.

        Returns
        -------
        dict
            Keyword arguments ``store``, ``jobs``, ``dask``, ``seed`` and ``progress`` of the sweeps
            (:func:`~genlab.runs.sweep.run_sweep`).
        """
        return dict(sweep_kwargs(out=self.out, store=self.store, jobs=self.jobs, dask=self.dask), seed=self.seed,
                    progress=not self.as_json)


@dataclasses.dataclass(frozen=True)
class SourceArgs:
    """Where a command's data come from, as one value (see :func:`option_group`): a synthetic source
    drawn with ``--seed``, or with ``--csv`` a CSV's columns.

    Attributes
    ----------
    noise, target, x_dist : float, str, str
        ``--noise``, ``--target``, ``--x``: the synthetic source.
    seed : int
        ``--seed``: the seed of the draws.
    csv : Path or None
        ``--csv``: a CSV file to use instead of the source.
    x_col, y_col : str
        ``--x-col``, ``--y-col``: its input and target columns.
    """

    noise: NoiseOption = 0.1
    target: TargetOption = "2*x**2 + 1"
    x_dist: XDistOption = "uniform(0, 1)"
    seed: Annotated[int, typer.Option("--seed", help="Seed (same seed, same numbers).")] = 0
    csv: Annotated[Optional[Path], typer.Option("--csv", help="Use a CSV's columns instead of the synthetic "
                                                "source.")] = None
    x_col: XColOption = "x"
    y_col: YColOption = "y"

    def source(self):
        """The synthetic source (:class:`~genlab.data.sources.SyntheticSource`)."""
        return synthetic_source(self.target, self.noise, self.x_dist)

    def csv_data(self):
        """The CSV's columns (:class:`~genlab.data.sources.Dataset`), or ``None`` without ``--csv``."""
        return user_data(self.csv, self.x_col, self.y_col)


def option_group(name: str, **helps: str):
    """Give a command a group of options declared once: its parameter ``name`` stands for them.

    The parameter is annotated with an option group: a frozen dataclass whose fields are annotated
    typer options with their defaults (:class:`SweepArgs`, :class:`SourceArgs`). typer is shown the
    group's options in that parameter's place, in the order of the fields; the command is called
    with them gathered into one instance of the group.

    Parameters
    ----------
    name : str
        The command's parameter that takes the group.
    **helps : str
        This command's help text of some of the group's options, by field name (e.g.
        ``seed="Seed of the sweep and of the bootstrap."``), in place of the group's own.

    Returns
    -------
    callable
        A decorator, to put under typer's ``@app.command()``.
    """
    def decorate(command):
        signature = inspect.signature(command, eval_str=True)
        group = signature.parameters[name].annotation
        options = _group_options(group, helps)
        params = []
        for param in signature.parameters.values():  # all keyword-only: typer passes every value by name
            params += options if param.name == name else [param.replace(kind=inspect.Parameter.KEYWORD_ONLY)]

        @functools.wraps(command)
        def with_group(**kwargs):
            values = {option.name: kwargs.pop(option.name) for option in options}
            return command(**kwargs, **{name: group(**values)})

        with_group.__signature__ = signature.replace(parameters=params)
        with_group.__annotations__ = {param.name: param.annotation for param in params}
        return with_group

    return decorate


def _group_options(group: type, helps: dict) -> list[inspect.Parameter]:
    """The fields of an option group as keyword-only parameters for typer, with ``helps`` put in."""
    hints = get_type_hints(group, include_extras=True)
    unknown = set(helps) - set(hints)
    if unknown:
        raise TypeError(f"{group.__name__} has no option {', '.join(sorted(unknown))}")
    options = []
    for field in dataclasses.fields(group):
        kind, option = get_args(hints[field.name])
        if field.name in helps:
            option = copy(option)
            option.help = helps[field.name]
        options.append(inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=field.default,
                                         annotation=Annotated[kind, option]))
    return options
