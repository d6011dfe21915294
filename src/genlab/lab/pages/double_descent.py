"""§4.1 in the lab: double descent, measured. The test error against the model's size — random ReLU or Fourier
features p on digits (or another bundled set, or the user's CSV), the degree of minimum-norm polynomials in four
bases, the training points n of a linear model (sample-wise), or the width of an MLP — with its spread over
seeds, the training error, the interpolation threshold and the peak and minima as ``genlab double-descent``
prints them.

The numbers are the library's, as the CLI computes them:
:func:`~genlab.analysis.double_descent.random_features_sweep` (``genlab double-descent --kind model --model
relu``), :func:`~genlab.analysis.double_descent.polynomial_model_wise` (``--model poly``),
:func:`~genlab.analysis.double_descent.linear_sample_wise` and
:func:`~genlab.analysis.regularize.sample_wise_linear` (``--kind samples --model linear``), and the network's
width sweep :func:`~genlab.analysis.crossed.crossed_sweep` (``genlab biasvar --model mlp``). Settings the
library estimates at up to :data:`INLINE_SECONDS` run in the request; larger ones, the networks and the user's
CSV run as store jobs of the server (progress, cancel, resume; ``genlab runs ls --store`` lists them), up to
:data:`JOB_SECONDS`. What the page shows is cached per configuration.

A pasted or uploaded CSV is read in memory (at most :data:`UPLOAD_BYTES`, :data:`MAX_ROWS` rows) and, for
its sweep, written once under the store's folder (``lab-data/<sha256>.csv``): the sweep's workers load it from
there, as the CLI's load the ``--csv`` file.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common import Cache, Outcome, Refused, fmt, guarded, paragraphs, read_upload, refused, shell, size_text
from ..fields import Field, check, to_query
from ..words import words as lab_words
from .double_descent_data import MAX_ROWS, UPLOAD_BYTES, _rows, csv_dataset, read_csv_text  # noqa: F401
from .double_descent_view import (_render_crossed, _render_curve, _render_family, _render_isotropic,  # noqa: F401
                                   curve_numbers, curve_raw)
from .double_descent_words import WORDS, dd_words  # noqa: F401 - WORDS: the page's words, for the tests

KEY = "double_descent"
#: The experiments, as the page's ``model`` control names them.
MODELS = ("relu", "fourier", "poly", "samples", "mlp")
RF = ("relu", "fourier")
BUNDLED = ("digits", "wine", "breast_cancer", "diabetes")
DATA = BUNDLED + ("article", "hard", "isotropic", "csv")
#: The data each experiment runs on.
VALID = {"relu": BUNDLED + ("csv",), "fourier": BUNDLED + ("csv",), "poly": ("article", "hard"),
         "samples": BUNDLED + ("isotropic",), "mlp": BUNDLED + ("csv",)}
#: Largest CSV the page reads (pasted or uploaded), in bytes, and most data rows.
#: Degrees of the polynomial sweep (the CLI's: 0 to 60).
POLY_TOP = 60
#: Widest network the lab trains.
MAX_WIDTH = 2048
FIELDS = (
    Field("model", "choice", "relu", choices=MODELS, control="dropdown"),
    Field("data", "choice", "digits", choices=DATA, control="dropdown"),
    Field("n", "int", 100, lo=1, hi=2_000, cap="dd_n"),
    Field("seeds", "int", 5, lo=1, hi=200, cap="seeds"),
    Field("label_noise", "float", 0.0, lo=0.0),
    Field("noise", "float", 0.1, lo=0.0, hi=100.0),
    Field("p_grid", "choice", "cli", choices=("cli", "log"), control="dropdown"),
    Field("p_from", "int", 10, lo=1, hi=20_000),
    Field("p_to", "int", 2_000, lo=1, hi=20_000),
    Field("p_count", "int", 30, lo=2, hi=200),
    Field("widths", "text", "2-64", max_chars=200),
    Field("datasets", "int", 3, lo=2, hi=50, cap="datasets"),
    Field("epochs", "int", 200, lo=1, hi=5_000, cap="epochs"),
    Field("n_test", "int", 200, lo=1, hi=2_000, cap="n_test"),
    Field("seed", "int", 0, lo=0, cap="seed"),
    Field("x_cols", "text", "", max_chars=1_000),
    Field("y_col", "text", "y", max_chars=200),
    Field("data_csv", "text", "", url=False, max_chars=UPLOAD_BYTES, control="textarea", live=False),
)
GRAPHS = ("curve", "why")
#: Sweeps run as store jobs of the server (progress bar, cancel, resume).
JOBS = True
#: Components beyond the fields whose changes recompute the page: an upload, the compute button.
INPUTS = ((f"{KEY}-uploaded", "data", "_uploaded"), (f"{KEY}-compute", "n_clicks", "_compute"))
#: Estimated seconds (the page's own estimates, on 2 busy cores) up to which a sweep runs in the request;
#: past it, a store job; past :data:`JOB_SECONDS`, the page gives the shell command.
INLINE_SECONDS = 3.0
JOB_SECONDS = 900.0
#: Workers of a store job.
JOB_WORKERS = 2
CACHE = Cache(16)

USED = {"relu": ("data", "n", "seeds", "label_noise", "p_grid", "p_from", "p_to", "p_count", "seed"),
        "poly": ("data", "n", "noise", "seeds", "seed"),
        "samples": ("data", "seeds", "seed"),
        "mlp": ("data", "widths", "datasets", "seeds", "epochs", "n", "n_test", "label_noise", "seed")}
USED["fourier"] = USED["relu"]
CSV_FIELDS = ("x_cols", "y_col", "data_csv")


def used(v: dict) -> tuple:
    """The fields the page's experiment reads (with the data's and the noise where they apply)."""
    out = USED[v["model"]]
    if v.get("data") == "csv":
        out = out + CSV_FIELDS
    if v["model"] == "samples" and v.get("data") == "isotropic":
        out = out + ("n", "noise")
    return out


# -- the checks ------------------------------------------------------------------------------------------------

def _cross_checks(v: dict, errors: dict, lang: str) -> None:
    w = dd_words(lang)
    if errors.keys() & {"model", "data"}:
        return
    m, d = v["model"], v["data"]
    if d not in VALID[m]:
        errors["data"] = w["data_model"].format(model=m, choices=", ".join(VALID[m]), data=d)
        return
    if "label_noise" not in errors and "label_noise" in used(v):
        rate = v["label_noise"]
        if not 0 <= rate < 1:
            errors["label_noise"] = w["rate"].format(value=f"{rate:g}")
        elif rate > 0 and (d == "csv" or (d in BUNDLED and _rows(d)[2] != "classification")):
            errors["label_noise"] = w["rate_regression"].format(data=d)
    if m in RF and v["p_grid"] == "log" and not errors.keys() & {"p_from", "p_to"} and v["p_to"] < v["p_from"]:
        errors["p_to"] = w["p_order"].format(lo=v["p_from"], hi=v["p_to"])
    if m == "poly" and "n" not in errors and v["n"] > POLY_TOP + 1:
        errors["n"] = w["poly_n"]
    if m == "mlp":
        if "seeds" not in errors and v["seeds"] < 2:
            errors["seeds"] = w["seeds_two"]
        if "widths" not in errors:
            from ...analysis.crossed.networks import parse_widths
            from ...core.errors import GenlabError

            try:
                ws = parse_widths(v["widths"])
            except GenlabError as exc:
                errors["widths"] = str(exc)
            else:
                if max(ws) > MAX_WIDTH:
                    errors["widths"] = w["width_lab"].format(hi=MAX_WIDTH, value=max(ws))
                else:
                    v["_widths"] = ws
        if "n" not in errors and v["n"] < 2:
            errors["n"] = lab_words(lang)["below"].format(label=lab_words(lang)["fields"]["n"], lo=2, value=v["n"])
    if d in BUNDLED and m in RF + ("mlp",) and "n" not in errors:
        rows = _rows(d)[0]
        if m in RF and v["n"] >= rows:
            errors["n"] = w["rows"].format(data=d, rows=rows, n=v["n"])
        elif m == "mlp" and "n_test" not in errors and v["n"] + v["n_test"] > rows:
            errors["n_test"] = w["rows_mlp"].format(data=d, rows=rows, need=v["n"] + v["n_test"])
    if d == "csv" and not errors.keys() & set(CSV_FIELDS):
        info = read_csv_text(v, errors, lang)
        if info is not None:
            v["_csv"] = info
            if "n" not in errors:
                if m in RF and v["n"] >= info["rows"]:
                    errors["n"] = w["rows"].format(data="data.csv", rows=info["rows"], n=v["n"])
                elif m == "mlp" and "n_test" not in errors and v["n"] + v["n_test"] > info["rows"]:
                    errors["n_test"] = w["rows_mlp"].format(data="data.csv", rows=info["rows"],
                                                            need=v["n"] + v["n_test"])


# -- sizes, times, the shell command ---------------------------------------------------------------------------

def data_rows(v: dict) -> tuple[int, int]:
    """(rows, inputs) of the page's data."""
    if v["data"] == "csv":
        return v["_csv"]["rows"], v["_csv"]["d"]
    return _rows(v["data"])[:2]


def rf_n_test(v: dict) -> int:
    """Test rows of a random-features sweep, as the CLI sets them: 1000, or what the data leave after n."""
    rows = data_rows(v)[0]
    return 1000 if v["data"] != "csv" and v["n"] + 1000 <= rows else min(1000, rows - v["n"])


def ps_of(v: dict) -> list[int] | None:
    """The random features' sizes: None for the CLI's grid, else ``p_count`` log-spaced from ``p_from`` to
    ``p_to`` (rounded, each once)."""
    if v["p_grid"] == "cli":
        return None
    return sorted({int(p) for p in np.round(np.geomspace(v["p_from"], v["p_to"], v["p_count"]))})


def grid_of(v: dict) -> list[int]:
    from ...analysis.double_descent import default_ps

    ps = ps_of(v)
    return default_ps(v["n"]) if ps is None else ps


#: Seconds per seed of the sample-wise sweep of each bundled set (measured on 2 busy cores).
SAMPLES_SECONDS = {"digits": 0.45, "breast_cancer": 0.12, "wine": 0.03, "diabetes": 0.03}


def seconds(v: dict) -> float:
    """The page's estimate of the sweep's seconds on 2 busy cores (fitted to measured runs; high rather than
    low)."""
    from ...core.limits import isotropic_seconds

    m, s = v["model"], v["seeds"]
    if m in RF:
        n, ps = v["n"], grid_of(v)
        rows = n + rf_n_test(v)
        d_in = data_rows(v)[1]
        per = (6e-11 * sum(min(n, p) ** 2 * p for p in ps) + 1e-8 * rows * sum(ps) + 2.4e-10 * rows * max(ps) * d_in
               + 0.02)
        return 1.5 * per * s + 0.3
    if m == "poly":
        return 1.5 * s * (0.08 + 0.0015 * v["n"]) + 0.3
    if m == "samples":
        if v["data"] == "isotropic":
            return 1.5 * isotropic_seconds(d=v["n"], seeds=s) + 0.3
        return 1.5 * s * SAMPLES_SECONDS[v["data"]] + 0.3
    per_fit = sum(v["epochs"] * (3e-4 + 2e-6 * w * v["n"] / 100) for w in v["_widths"])
    return 8.0 * per_fit * v["datasets"] * s / JOB_WORKERS + 8.0


def n_jobs(v: dict) -> int:
    """The sweep's jobs: one per seed, or per (width, data draw) for the network."""
    return len(v["_widths"]) * v["datasets"] if v["model"] == "mlp" else v["seeds"]


def _csv_args(v: dict, x_flag: str = "--x-col") -> list:
    xs = v["_csv"]["x"] if "_csv" in v else None
    return ["--csv", "data.csv", "--y-col", v["y_col"], *([x_flag, ",".join(xs)] if xs else [])]


def _device_args() -> list:
    """``--device cpu``: the lab trains on the CPU (the CLI's ``auto`` would take a GPU where there is one)."""
    return ["--device", "cpu"]


def commands(v: dict, lang: str = "en") -> str:
    """The same sweep from the shell (a Python line where the CLI has no option for it: the grid of p)."""
    w = dd_words(lang)
    m, d = v["model"], v["data"]
    seed = ["--seed", v["seed"]]
    lines = [w["save_data"]] if d == "csv" else []
    if m in RF:
        if ps_of(v) is not None:
            return "\n".join(lines + [w["python_grid"], python_rf(v)])
        src = _csv_args(v) if d == "csv" else ["--data", d]
        rate = ["--label-noise", v["label_noise"]] if v["label_noise"] else []
        lines.append(shell("double-descent", "--kind", "model", "--model", m, *src, "--n", v["n"], *rate,
                           "--seeds", v["seeds"], *seed))
    elif m == "poly":
        lines.append(shell("double-descent", "--kind", "model", "--model", "poly", "--data", d, "--n", v["n"],
                           "--noise", v["noise"], "--seeds", v["seeds"], *seed))
    elif m == "samples":
        iso = ["--n", v["n"], "--noise", v["noise"]] if d == "isotropic" else []
        lines.append(shell("double-descent", "--kind", "samples", "--model", "linear", "--data", d, *iso,
                           "--seeds", v["seeds"], *seed))
    else:
        src = _csv_args(v) if d == "csv" else ["--data", d]
        rate = ["--label-noise", v["label_noise"]] if v["label_noise"] else []
        lines.append(shell("biasvar", "--model", "mlp", *src, "--widths", v["widths"], "--datasets", v["datasets"],
                           "--seeds", v["seeds"], "--epochs", v["epochs"], "--n-train", v["n"], "--n-test",
                           v["n_test"], *rate, *seed, *_device_args()))
    return "\n".join(lines)


def python_rf(v: dict) -> str:
    """``python -c '...'``: the random-features sweep on the page's grid of p, printing its peak and minima."""
    import json

    q = json.dumps  # Python string literals in double quotes: the shell's single quotes go round the whole
    if v["data"] == "csv":
        xs = v["_csv"]["x"] if "_csv" in v else None
        cols = "None" if not xs else "(" + ", ".join(q(c) for c in xs) + ",)"
        data = f"load_csv({q('data.csv')}, x={cols}, y={q(v['y_col'])})"
        imp = "from genlab.data.sources import load_csv; "
    else:
        data, imp = q(v["data"]), ""
    code = (f"import json; {imp}from genlab.analysis.double_descent import random_features_sweep; "
            f"r = random_features_sweep({data}, kind={q(v['model'])}, n_train={v['n']}, n_test={rf_n_test(v)}, "
            f"ps={ps_of(v)!r}, seeds={v['seeds']}, label_noise={float(v['label_noise'])!r}, seed={v['seed']}); "
            'print(json.dumps({"peak": r.find_peak(), "minimum": r.minimum}))')
    return "python -c " + shlex.quote(code)


def config(v: dict) -> tuple:
    """What the page's result depends on (the experiment's fields only)."""
    m, d = v["model"], v["data"]
    src = (d, v["_csv"]["sha"], v["_csv"]["x"], v["_csv"]["y"]) if d == "csv" else (d,)
    if m in RF:
        ps = ps_of(v)
        return (m, *src, v["n"], v["seeds"], float(v["label_noise"]), None if ps is None else tuple(ps), v["seed"])
    if m == "poly":
        return (m, d, v["n"], float(v["noise"]), v["seeds"], v["seed"])
    if m == "samples":
        iso = (v["n"], float(v["noise"])) if d == "isotropic" else ()
        return (m, d, *iso, v["seeds"], v["seed"])
    return (m, *src, tuple(v["_widths"]), v["datasets"], v["seeds"], v["epochs"], v["n"], v["n_test"],
            float(v["label_noise"]), v["seed"])


# -- the page --------------------------------------------------------------------------------------------------

def update(raw: dict, lang: str = "en") -> Outcome:
    """The page after an interaction; a large sweep comes back as a store job to start (``Outcome.job``)."""
    v, errors, over = check(FIELDS, raw, lang)
    _cross_checks(v, errors, lang)
    if errors:
        return refused(errors, over, _safe_command(v, lang) if not errors.keys() - over.keys() else None)
    return guarded(lambda: _outcome(v, lang), lang)


def _safe_command(v: dict, lang: str) -> str | None:
    try:
        return commands(v, lang)
    except Exception:  # noqa: BLE001 - a value past the lab's limit the command cannot spell: no command
        return None


def _outcome(v: dict, lang: str) -> Outcome:
    view = CACHE.get(config(v))
    if view is not None:
        return render(view, v, lang)
    s = seconds(v)
    if s > JOB_SECONDS:
        raise Refused(lab_words(lang)["too_slow"].format(seconds=s, limit=JOB_SECONDS, command=commands(v, lang)))
    if v["model"] != "mlp" and v["data"] != "csv" and s <= INLINE_SECONDS:
        return render(compute(v), v, lang)

    def run(store_path) -> Outcome:
        return render(compute(v, store_path, JOB_WORKERS), v, lang)

    return Outcome(job=(run, n_jobs(v), what(v, lang), config(v), True), command=commands(v, lang))


def what(v: dict, lang: str) -> str:
    """What the progress line calls the sweep."""
    q = dd_words(lang)["queued_what"]
    m, d = v["model"], v["data"]
    if m in RF:
        return q["rf"].format(model=m, data="data.csv" if d == "csv" else d, seeds=v["seeds"], p=max(grid_of(v)))
    if m == "poly":
        return q["poly"].format(seeds=v["seeds"])
    if m == "samples":
        return q["samples"].format(data=d, seeds=v["seeds"])
    return q["mlp"].format(data="data.csv" if d == "csv" else d, widths=len(v["_widths"]), R=v["datasets"],
                           S=v["seeds"], epochs=v["epochs"])


@dataclass(frozen=True)
class View:
    """A sweep's result as the page keeps it: the library's result, and for a store job how many of its jobs
    were read back from the store (``n_cached`` of ``total``)."""

    result: object
    n_cached: int | None = None
    total: int | None = None


def _done(store_path) -> int:
    """Jobs done in the store (0 before it exists)."""
    from ...runs.store import Store

    if store_path is None or not Path(store_path).exists():
        return 0
    with Store(store_path, readonly=True) as st:
        return int(st.counts()["done"])


def compute(v: dict, store=None, jobs: int = 1) -> View:
    """The page's sweep through the library (with ``store``: the lab's store, ``jobs`` workers), cached."""
    before = _done(store) if store is not None else None
    res = sweep_of(v, store, jobs)
    n_cached = None
    if store is not None:
        ran = _done(store) - before
        n_cached = max(n_jobs(v) - ran, 0)
    return CACHE.put(config(v), View(res, n_cached, n_jobs(v) if store is not None else None))


def sweep_of(v: dict, store, jobs: int):
    """The library's sweep of the page's experiment, with the CLI's arguments."""
    m, d, kw = v["model"], v["data"], dict(store=store, jobs=jobs, seed=v["seed"])
    if m in RF:
        from ...analysis.double_descent import random_features_sweep

        data = csv_dataset(v, store) if d == "csv" else d
        return random_features_sweep(data, kind=m, n_train=v["n"], n_test=rf_n_test(v), ps=ps_of(v),
                                     seeds=v["seeds"], label_noise=float(v["label_noise"]), **kw)
    if m == "poly":
        from ...analysis.double_descent import HARD_TARGET, polynomial_model_wise
        from ...data.sources import SyntheticSource

        target = {"article": "2*x**2 + 1", "hard": HARD_TARGET}[d]
        return polynomial_model_wise(SyntheticSource(target, float(v["noise"])), n=v["n"], seeds=v["seeds"], **kw)
    if m == "samples":
        if d == "isotropic":
            from ...analysis.regularize import sample_wise_linear
            from ...core.limits import check_memory, isotropic_bytes

            check_memory(isotropic_bytes(d=v["n"], jobs=jobs), "this sweep of isotropic samples", "give a smaller n")
            return sample_wise_linear(d=v["n"], sigma=float(v["noise"]), ridge="none", seeds=v["seeds"], **kw)
        from ...analysis.double_descent import linear_sample_wise

        return linear_sample_wise(d, seeds=v["seeds"], **kw)
    from ...analysis.crossed import crossed_sweep
    from ...analysis.crossed.networks import mlp_estimator
    from ...data.sources import load_dataset

    data = csv_dataset(v, store) if d == "csv" else load_dataset(d)
    est = mlp_estimator(data.task, v["epochs"], "cpu")
    return crossed_sweep(est, knob="width", values=v["_widths"], data=data, R=v["datasets"], S=v["seeds"],
                         n_train=v["n"], n_test=v["n_test"], label_noise=float(v["label_noise"]), **kw)


def render(view: View, v: dict, lang: str) -> Outcome:
    from ...analysis.crossed import CrossedDecomposition
    from ...analysis.double_descent import CurveFamily, DoubleDescentCurve

    res = view.result
    w = dd_words(lang)
    if isinstance(res, DoubleDescentCurve):
        figures, numbers, table, raw = _render_curve(res, w)
    elif isinstance(res, CurveFamily):
        figures, numbers, table, raw = _render_family(res, w)
    elif isinstance(res, CrossedDecomposition):
        figures, numbers, table, raw = _render_crossed(res, w)
    else:
        figures, numbers, table, raw = _render_isotropic(res, w)
    if v["data"] == "csv" and "_csv" in v:
        numbers.append((w["n"]["csv_rows"], f"{v['_csv']['rows']:,}"))
    if view.n_cached is not None:
        numbers.append((w["n"]["from_store"], f"{view.n_cached} / {view.total}"))
        raw["n_cached"], raw["total_jobs"] = view.n_cached, view.total
    return Outcome(figures=figures, numbers=numbers, table=table, raw=raw, command=commands(v, lang),
                   query=to_query(FIELDS, v))


def layout_text(lang: str) -> list[str]:
    return paragraphs(lang, "double_descent", ("intro",))


# -- the page's parts beyond the common ones (used by genlab.lab.app) ----------------------------------------------

def extra(values: dict, notes: list, lang: str) -> list:
    """Which fields each experiment reads, the upload of a CSV and the button that computes with pasted data."""
    from dash import dcc, html

    w, lw = dd_words(lang), lab_words(lang)
    if values.get("data") == "csv":
        notes.append(("data_csv", w["csv_missing"]))
    items = []
    for m in MODELS:
        names = USED[m] + (CSV_FIELDS if "csv" in VALID[m] else ())
        items.append(html.Li([html.B(m), ": ", w["use"][m], " ", html.Span(w["fields_used"].format(
            fields=", ".join(lw["fields"][f] for f in names)), className="hint")]))
    return [html.Details([html.Summary(w["guide"]), html.Ul(items, className="note")], open=False,
                         style={"margin": "8px 0"}),
            html.Div([dcc.Upload(html.Div(w["upload"].format(limit=size_text(UPLOAD_BYTES))), id=f"{KEY}-upload",
                                 className="upload", multiple=False),
                      html.Div(id=f"{KEY}-upload-msg", className="msg"),
                      html.Button(w["compute"], id=f"{KEY}-compute", n_clicks=0, style={"marginTop": "8px"}),
                      dcc.Store(id=f"{KEY}-uploaded", data=0)], style={"margin": "8px 0"})]


def register(app, server_lang: str) -> None:
    """The page's own callback: upload a CSV (its text goes into the data field, and the page recomputes)."""
    from dash import Input, Output, State, no_update

    from ..common import lang_of

    @app.callback(Output(f"{KEY}-data_csv", "value"), Output(f"{KEY}-upload-msg", "children"),
                  Output(f"{KEY}-uploaded", "data"), Input(f"{KEY}-upload", "contents"),
                  State(f"{KEY}-upload", "filename"), State(f"{KEY}-uploaded", "data"), State(f"{KEY}-lang", "data"),
                  prevent_initial_call=True)
    def upload(contents, filename, count, lang):
        lang = lang_of(lang, server_lang)
        text, message = read_upload(contents, filename, lang, UPLOAD_BYTES)
        if text is None:
            return no_update, message, no_update
        return text, message, (count if isinstance(count, int) and not isinstance(count, bool) else 0) + 1

    app.genlab["callbacks"][f"{KEY}-upload"] = upload
