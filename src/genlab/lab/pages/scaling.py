"""§4.3 in the lab: paste or upload a CSV of runs (N, D, loss) and get the Chinchilla (or Kaplan) fit with
bootstrap intervals, and the compute-optimal N*, D* and loss for a chosen compute C, beside the published
laws.

The numbers are :func:`genlab.analysis.scaling.fit` (as ``genlab scaling fit runs.csv``) and
:func:`genlab.analysis.scaling.plan` (as ``genlab scaling plan``). The runs are read in memory, never
written: at most :data:`UPLOAD_BYTES` and :data:`MAX_RUNS` rows. A fit is cached by the runs' hash and its
settings, so moving C re-plans without refitting. The sample runs are drawn from Chinchilla's law with 1%
noise; a link with ``runs=sample`` reproduces its view, one with pasted runs says to paste them again.

Under the fit, the transformer sweep of ``genlab scaling train`` (:mod:`.scaling_train`): a small grid
trained as a store job of the server, whose runs then fill the text area and are fitted like pasted runs. Its
controls are fields of this page (in the link) shown in that section, checked there and not by the fit.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

from ..common import Cache, Outcome, budget, checked, fmt, guarded, paragraphs, refused, shell, size_text
from ..common import read_upload as _read_upload
from ..fields import Field, to_query
from ..words import words
from .scaling_train import TRAIN_FIELDS, register_training, train_section, train_values

KEY = "scaling"
#: Largest CSV of runs the lab reads (pasted or uploaded), in bytes.
UPLOAD_BYTES = 2**20
#: Most runs one fit takes in the lab (a fit and each bootstrap replicate take time in proportion).
MAX_RUNS = 1_000
FIT_FIELDS = (
    Field("runs", "choice", "sample", choices=("sample", "pasted"), control="hidden"),
    Field("csv", "text", "", url=False, max_chars=UPLOAD_BYTES, control="textarea", live=False),
    Field("form", "choice", "chinchilla", choices=("chinchilla", "kaplan"), control="dropdown"),
    Field("n_col", "text", "N", max_chars=200),
    Field("d_col", "text", "D", max_chars=200),
    Field("loss_col", "text", "loss", max_chars=200),
    Field("bootstrap", "int", 200, lo=0, hi=500, cap="bootstrap"),
    Field("seed", "int", 0, lo=0, cap="seed"),
    Field("log_flops", "float", 21.0, lo=10.0, hi=30.0, control="slider", step=0.25),
)
FIELDS = FIT_FIELDS + TRAIN_FIELDS
#: The fit's fields that the transformer sweep uses too (``genlab scaling train --bootstrap --seed``).
TRAIN_FIT_FIELDS = tuple(f for f in FIT_FIELDS if f.name in ("bootstrap", "seed"))
GRAPHS = ("runs", "frontier")
CACHE = Cache(8)


def sample_csv() -> str:
    """The sample runs: Chinchilla's law (Hoffmann et al. 2022) on a 4 x 4 grid of N and D, 1% noise."""
    from ...analysis.scaling import synthetic_runs

    runs = synthetic_runs("chinchilla", Ns=np.geomspace(1e6, 1e9, 4), Ds=np.geomspace(1e8, 1e11, 4), noise=0.01,
                          seed=0)
    return runs[["N", "D", "loss", "seed"]].to_csv(index=False)


@lru_cache(maxsize=1)
def sample() -> str:
    """:func:`sample_csv`, made once (a constant every tab reads)."""
    return sample_csv()


def flops_of(v: dict) -> float:
    """The compute budget C = 10^log_flops, to 12 significant digits (10^23 is 1e23, not 1.0000000000000001e23)."""
    return float(f"{10.0 ** v['log_flops']:.12g}")


def commands(v: dict, lang: str = "en") -> str:
    options = (("--n-col", "n_col", "N"), ("--d-col", "d_col", "D"), ("--loss-col", "loss_col", "loss"))
    cols = [a for flag, k, d in options if v[k] != d for a in (flag, v[k])]
    fit = shell("scaling", "fit", "runs.csv", "--form", v["form"], *cols, "--bootstrap", v["bootstrap"], "--seed",
                v["seed"], "--budget", flops_of(v), "--json")
    # the fit's JSON record is a law file for 'scaling plan', whatever the names of the files it writes
    return "\n".join([words(lang)["save_runs"], f"{fit} > fit.json",
                      shell("scaling", "plan", "--flops", flops_of(v), "--law", "fit.json")])


def update(raw: dict, lang: str = "en") -> Outcome:
    """The page after an interaction; ``raw["csv"]`` is the runs' text (missing: the sample runs)."""
    raw = dict(raw)
    if raw.get("csv") is None and raw.get("runs", "sample") == "sample":
        raw["csv"] = sample()
    v, errors, over = checked(FIT_FIELDS, raw, lang)
    v.update(train_values(raw, lang))
    if "csv" not in errors:
        v["runs"] = "sample" if v["csv"].strip() == sample().strip() else "pasted"
        errors.pop("runs", None)
    runs = None
    if not errors.keys() & {"csv", "n_col", "d_col", "loss_col", "form"}:
        runs = read_runs(v, errors, lang)
    if errors:
        return refused(errors, over, commands(v, lang) if not errors.keys() - over.keys() else None)
    return guarded(lambda: _compute(v, runs, lang), lang)


def read_runs(v: dict, errors: dict, lang: str):
    """``(N, D, loss, seeds)`` from the runs' text, as ``scaling fit`` reads a CSV; else None and the reason
    under the field it concerns."""
    import io

    import pandas as pd

    from ...core.errors import GenlabError
    from ...data.sources import csv_column

    text = v["csv"]
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > UPLOAD_BYTES:
        errors["csv"] = words(lang)["upload_big"].format(size=size_text(size), limit=size_text(UPLOAD_BYTES))
        return None
    if not text.strip():
        errors["csv"] = words(lang)["runs_missing"]
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), skipinitialspace=True, nrows=MAX_RUNS + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, ValueError) as exc:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        errors["csv"] = f"the runs cannot be read as CSV: {why}"
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) > MAX_RUNS:
        errors["csv"] = f"more than {MAX_RUNS:,} runs: the lab fits at most {MAX_RUNS:,}; run it from the shell"
        return None
    for key in ("n_col", "d_col", "loss_col"):
        if v[key] not in frame.columns:
            errors[key] = (f"the runs have no column {v[key]!r}; their columns are "
                           f"{', '.join(map(repr, frame.columns[:20]))}")
    if errors:
        return None
    try:
        cols = [csv_column(frame, v[k], "runs", positive=True) for k in ("n_col", "d_col", "loss_col")]
    except GenlabError as exc:
        errors["csv"] = str(exc)
        return None
    seeds = frame["seed"].to_numpy() if "seed" in frame.columns else None
    return (*cols, seeds)


def seconds(n_runs: int, bootstrap: int) -> float:
    """A rough estimate of a fit's time on a loaded 2-core machine, high by about 2x: the grid and the starts,
    then each replicate (bench/scaling_fit.py: ~5 ms a replicate for 16-40 runs, ~20 ms for 1,000)."""
    return (1.0 + 0.01 * bootstrap) * (1.0 + n_runs / 400)


def fit_of(v: dict, runs):
    """The fit of the runs (cached by their hash and the settings)."""
    from ...analysis.scaling import fit

    N, D, loss, seeds = runs
    key = (hashlib.sha256(v["csv"].encode("utf-8", "surrogatepass")).hexdigest(), v["form"], v["n_col"], v["d_col"],
           v["loss_col"], v["bootstrap"], v["seed"])
    return CACHE.memo(key, lambda: fit(N=N, D=D, loss=loss, form=v["form"], seeds=seeds, bootstrap=v["bootstrap"],
                                       seed=v["seed"]))


def _compute(v: dict, runs, lang: str) -> Outcome:
    from ...analysis.scaling import plan
    from ...core.errors import GenlabError

    budget(seconds(len(runs[2]), v["bootstrap"]), commands(v, lang), lang)
    f = fit_of(v, runs)
    C = flops_of(v)
    try:
        p = plan([C], law=f)
    except GenlabError as exc:  # a budget below the smallest run
        return Outcome(errors={"log_flops": str(exc)})
    presets = {name: plan([C], law=name) for name in ("chinchilla", "kaplan")}
    from .scaling_figures import frontier_figure, numbers, runs_figure, table

    row = p.summary().iloc[0].to_dict()
    raw = {"params": dict(f.params), "intervals": {k: list(iv) for k, iv in f.intervals.items()},
           "not_identified": list(f.not_identified), "n_runs": int(len(f.loss)), "flops": C,
           "plan": {k: float(val) for k, val in row.items()}, "warnings": list(f.warnings) + list(p.warnings)}
    return Outcome(figures=[runs_figure(f, lang), frontier_figure(f, C, lang, CACHE)], numbers=numbers(f, p, lang),
                   table=table(p, presets, lang), raw=raw, command=commands(v, lang),
                   query=to_query(FIELDS, v))


def layout_text(lang: str) -> list[str]:
    return paragraphs(lang, "scaling", ("intro",))[1:2]


# -- the page's parts beyond the common ones (used by genlab.lab.app) ----------------------------------------------

#: Components outside the fields whose changes recompute the page: (id, property, name in ``update``'s raw).
INPUTS = (("scaling-fit", "n_clicks", "_fit"), ("scaling-uploaded", "data", "_uploaded"),
          *((f"scaling-{f.name}", "value", f.name) for f in TRAIN_FIELDS))


def extra(values: dict, notes: list, lang: str) -> list:
    """The upload, fit and download controls, the sample runs put in the text area of a link that names them, and
    the transformer sweep's section."""
    from ..layout import scaling_extra

    if values["runs"] == "sample":
        values["csv"] = sample()
    else:
        notes.append(("csv", words(lang)["runs_missing"]))
    return scaling_extra(lang, size_text(UPLOAD_BYTES)) + train_section(values, lang)


def register(app, server_lang: str) -> None:
    """The page's own callbacks: upload a CSV of runs, download the runs shown."""
    from dash import Input, Output, State, no_update
    from dash.exceptions import PreventUpdate

    from ..common import lang_of

    @app.callback(Output("scaling-csv", "value"), Output("scaling-upload-msg", "children"),
                  Output("scaling-uploaded", "data"), Input("scaling-upload", "contents"),
                  State("scaling-upload", "filename"), State("scaling-uploaded", "data"), State("scaling-lang", "data"),
                  prevent_initial_call=True)
    def upload(contents, filename, count, lang):
        lang = lang_of(lang, server_lang)
        text, message = read_upload(contents, filename, lang)
        if text is None:
            return no_update, message, no_update
        return text, message, (count if isinstance(count, int) else 0) + 1

    @app.callback(Output("scaling-download", "data"), Input("scaling-download-button", "n_clicks"),
                  State("scaling-csv", "value"), prevent_initial_call=True)
    def download(_n, text):
        if not isinstance(text, str) or not text.strip() or len(text) > UPLOAD_BYTES:
            raise PreventUpdate
        return {"content": text, "filename": "runs.csv"}

    app.genlab["callbacks"]["scaling-upload"] = upload
    app.genlab["callbacks"]["scaling-download"] = download
    register_training(app, server_lang, TRAIN_FIT_FIELDS)


def read_upload(contents, filename, lang: str) -> tuple[str | None, str]:
    """:func:`genlab.lab.common.read_upload` at this page's limit, :data:`UPLOAD_BYTES`."""
    return _read_upload(contents, filename, lang, UPLOAD_BYTES)
