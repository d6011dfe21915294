"""§4.3 in the lab, under the fit: the transformer sweep of ``genlab scaling train``.

A small grid of model sizes and token budgets on a corpus (python or markov) is trained as a *store job* of
the server (:mod:`genlab.lab.jobs`: one job of the results store per run, in the lab's store; progress,
cancel, resume, and a grid trained before is read back without training). When it is done its runs fill the
page's runs text area (``N, N_total, D, loss, seed``, every number exact) and the upload counter moves on, so
they are fitted like pasted runs: the fit is the one ``genlab scaling train`` prints for the same grid,
bootstrap and seed. A grid is estimated first (:func:`genlab.core.limits.lm_seconds`, see
:func:`train_seconds`): past :data:`TRAIN_SECONDS` the page gives the shell command instead.

The controls are fields of the §4.3 page (:data:`TRAIN_FIELDS`: in its link) shown in this section rather
than among the fit's; their values are checked here (:func:`train_request`), not by the fit, so a bad value
is said under its field when the grid is previewed or trained and the fit goes on. The training uses the
page's bootstrap and seed fields (the CLI's --bootstrap and --seed), which :func:`register_training` is given.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

from ..common import shell
from ..fields import Field, check
from ..words import words

KEY = "scaling"
#: The transformer sweep's controls: in the link, shown in the training section (``extra``), checked by
#: :func:`train_request`, not by the fit.
TRAIN_FIELDS = (
    Field("train_sizes", "text", "1e3,4e3,1.6e4", max_chars=200, control="hidden"),
    Field("train_tokens", "text", "1e4,3e4,1e5", max_chars=200, control="hidden"),
    Field("corpus", "choice", "python", choices=("python", "markov"), control="hidden"),
    Field("train_repeats", "int", 1, lo=1, hi=5, cap="lm_repeats", control="hidden"),
)

#: The longest grid the lab trains (estimated seconds, :func:`train_seconds`); past it, the shell command.
TRAIN_SECONDS = 3600.0
#: Most model sizes, and most token budgets, in one grid of the lab.
MAX_GRID = 8
#: Worker processes of the lab's training sweeps (the runs do not depend on it).
WORKERS = max(1, min(2, os.cpu_count() or 1))
#: :func:`genlab.core.limits.lm_seconds` runs this many times too fast here (measured on 2 cores: 9 runs of up to
#: 1e5 tokens, estimated 4.8 s of training, took 13 s), and starting the workers and loading a corpus take
#: about :data:`TRAIN_START_S` seconds.
LM_SLOWDOWN = 3.0
TRAIN_START_S = 10.0

TRAIN_WORDS = {
    "en": {
        "title": "Train transformers: the runs of a scaling law",
        "intro": "Train small GPT-style transformers, every model size on every token budget, as `genlab scaling "
                 "train` does: when the sweep is done its runs replace the runs above (columns N, N_total, D, loss, "
                 "seed) and are fitted like pasted runs. Each run is a job of the lab's results store: Cancel stops "
                 "the workers, the same grid again is read back from the store without training.",
        "train": "Train",
        "sizes_hint": "comma-separated, e.g. 1e3,4e3,1.6e4 (each becomes the nearest transformer of the ladder; at "
                      "most {n})",
        "tokens_hint": "comma-separated training tokens of every size, e.g. 1e4,3e4,1e5 (at least 5,120: 10 steps of "
                       "8 x 64 tokens; at most {n})",
        "corpus_hint": "python: Python's bundled documentation, by character; markov: a Markov chain whose entropy "
                       "rate (the loss's floor) is known. A text file of your own: from the shell (--corpus PATH)",
        "estimate": "{runs} runs of up to {tokens} tokens on {workers} worker{s}: about {duration} here (an estimate)",
        "too_long": "this grid would take about {duration} here (an estimate), past the {limit} the lab trains; "
                    "run it from the shell: {command}",
        "list": "{label} {text!r} must be numbers > 0 separated by commas, e.g. {example}",
        "list_long": "{label}: at most {n} values in the lab, got {got}",
        "list_repeat": "{label} repeat a value: {text!r}",
        "tokens_cap": "{label}: {value:g} is above genlab's limit of {cap:g} ({why})",
        "bad_option": "{label} is not usable: {message}",
        "what": "{runs} transformer runs on {corpus}",
        "done": "{runs} runs: {ran} trained now, {cached} read back from the lab's store ({elapsed:.1f} s); "
                "they are in the runs above, fitted",
        "command": "The same grid from the shell (it fits the runs and writes runs.csv and the figures):",
    },
    "ja": {
        "title": "トランスフォーマーを学習する:スケーリング則の実験",
        "intro": "小さな GPT 型トランスフォーマーを、すべてのモデルサイズ × すべてのトークン数で `genlab scaling train` と"
                 "同じように学習します。スイープが終わると、その実験結果(列 N, N_total, D, loss, seed)が上の実験結果と"
                 "置き換わり、貼り付けた結果と同じようにフィットされます。各実験はラボの結果ストアのジョブです。"
                 "中止ボタンでワーカーが止まり、同じグリッドをもう一度選ぶと学習せずにストアから読み込みます。",
        "train": "学習",
        "sizes_hint": "コンマ区切り(例 1e3,4e3,1.6e4)。それぞれに最も近いトランスフォーマーを使います(最大 {n} 個)",
        "tokens_hint": "各サイズの学習トークン数をコンマ区切りで(例 1e4,3e4,1e5)。5,120(8 × 64 トークンで 10 ステップ)"
                       "以上、最大 {n} 個",
        "corpus_hint": "python:Python 付属のドキュメント(文字単位)、markov:エントロピーレート(損失の下限)が分かっている"
                       "マルコフ連鎖。自分のテキストファイルはシェルで(--corpus PATH)",
        "estimate": "{runs} 個の実験(最大 {tokens} トークン)をワーカー {workers} 個で:ここで約 {duration}(推定){s}",
        "too_long": "このグリッドにはここで約 {duration} かかり(推定)、ラボで学習する上限 {limit} を超えます。"
                    "シェルで実行してください:{command}",
        "list": "{label} {text!r} はコンマ区切りの正の数にしてください(例 {example})",
        "list_long": "{label}:ラボでは最大 {n} 個です({got} 個あります)",
        "list_repeat": "{label} に同じ値があります:{text!r}",
        "tokens_cap": "{label}:{value:g} は genlab の上限 {cap:g} を超えています({why})",
        "bad_option": "{label} は使えません:{message}",
        "what": "{corpus} でのトランスフォーマー {runs} 個",
        "done": "{runs} 個の実験:{ran} 個を今回学習、{cached} 個をラボのストアから読み込み({elapsed:.1f} 秒)。"
                "上の実験結果に入れてフィットしました",
        "command": "シェルで同じグリッドを学習するには(実験結果をフィットし、runs.csv と図を書き出します):",
    },
}


def tw(lang: str) -> dict:
    return TRAIN_WORDS.get(lang, TRAIN_WORDS["en"])


def train_values(raw: dict, lang: str) -> dict:
    """The training controls' values for the link: each accepted value, else its default (the fit does not
    depend on them; their messages come with the preview and the Train button)."""
    values, errors, _ = check(TRAIN_FIELDS, raw, lang)
    return {f.name: values[f.name] if f.name in values and f.name not in errors else f.default
            for f in TRAIN_FIELDS}


@dataclass
class TrainRequest:
    """A training grid as checked: messages under its fields (``errors``) or above (``general``), the equivalent
    command, the estimate, and the sweep's arguments when it may run."""

    errors: dict
    general: str | None = None
    command: str | None = None
    estimate: str | None = None
    args: dict | None = None
    key: tuple | None = None
    runs: int = 0


def _numbers_list(f: Field, text: str, errors: dict, lang: str, example: str) -> list[float] | None:
    w, label = tw(lang), words(lang)["fields"][f.name]
    parts = [t.strip() for t in text.split(",") if t.strip()]
    if len(parts) > MAX_GRID:
        errors[f.name] = w["list_long"].format(label=label, n=MAX_GRID, got=len(parts))
        return None
    try:
        values = [float(t) for t in parts if len(t) <= 40]
    except ValueError:
        values = []
    if not parts or len(values) != len(parts) or not all(math.isfinite(x) and x > 0 for x in values):
        errors[f.name] = w["list"].format(label=label, text=text[:60], example=example)
        return None
    if len(set(values)) != len(values):
        errors[f.name] = w["list_repeat"].format(label=label, text=text[:60])
        return None
    return sorted(values)


def _num(x: float) -> str:
    return f"{x:g}"


def train_command(v: dict, sizes, tokens) -> str:
    """``genlab scaling train`` of the grid, on the CPU (as the lab trains), fitted with the page's bootstrap and
    seed."""
    sizes_text = ",".join(map(_num, sizes)) if sizes else v["train_sizes"]
    tokens_text = ",".join(map(_num, tokens)) if tokens else v["train_tokens"]
    repeats = ["--repeats", v["train_repeats"]] if v["train_repeats"] != 1 else []
    return shell("scaling", "train", "--sizes", sizes_text, "--tokens", tokens_text, "--corpus", v["corpus"],
                 *repeats, "--device", "cpu", "--bootstrap", v["bootstrap"], "--seed", v["seed"])


def duration(seconds: float) -> str:
    from ...core.limits import duration_text

    return duration_text(seconds)


def train_seconds(runs: list, workers: int = WORKERS) -> float:
    """The grid's wall time here: :func:`genlab.core.limits.lm_seconds` (``runs``: (N, D) pairs, one CPU core)
    times :data:`LM_SLOWDOWN`, shared by the workers, plus :data:`TRAIN_START_S`."""
    from ...core.limits import lm_seconds

    return LM_SLOWDOWN * lm_seconds(runs) / max(1, min(workers, len(runs))) + TRAIN_START_S


def train_request(raw: dict, lang: str, fit_fields) -> TrainRequest:
    """Check a training grid (every raw value hostile) and estimate it; ``args`` is set when the lab trains it.
    ``fit_fields`` are the page's bootstrap and seed fields (their values in ``raw``; defaults when absent)."""
    from ...analysis.scaling.lm import BATCH_SIZE, BLOCK_SIZE, check_budget
    from ...core.errors import GenlabError
    from ...core.limits import LIMITS
    from ...models.transformer import non_embedding_params, size_ladder

    w = tw(lang)
    fields = list(fit_fields) + list(TRAIN_FIELDS)
    v, errors, over = check(fields, raw, lang)
    general = None
    if errors.keys() & {"bootstrap", "seed"}:  # the fit's fields, whose messages are the fit's: said here too
        general = "; ".join(errors.pop(k) for k in ("bootstrap", "seed") if k in errors)
    sizes = tokens = None
    if "train_sizes" not in errors:
        sizes = _numbers_list(TRAIN_FIELDS[0], v["train_sizes"], errors, lang, "1e3,4e3,1.6e4")
    if "train_tokens" not in errors:
        tokens = _numbers_list(TRAIN_FIELDS[1], v["train_tokens"], errors, lang, "1e4,3e4,1e5")
    label = words(lang)["fields"]
    if tokens:
        cap = LIMITS["tokens"]
        past = [t for t in tokens if t > cap.cap]
        if past:
            errors["train_tokens"] = w["tokens_cap"].format(label=label["train_tokens"], value=past[0], cap=cap.cap,
                                                            why=cap.why)
            tokens = None
        else:
            try:
                for t in tokens:
                    check_budget(t, batch_size=BATCH_SIZE, block_size=BLOCK_SIZE)
            except GenlabError as exc:
                errors["train_tokens"] = w["bad_option"].format(label=label["train_tokens"], message=exc)
                tokens = None
    models = None
    if sizes:
        try:
            models = size_ladder(sizes, vocab_size=64, block_size=BLOCK_SIZE)  # N does not depend on the vocabulary
        except GenlabError as exc:
            errors["train_sizes"] = w["bad_option"].format(label=label["train_sizes"], message=exc)
    v = {**{f.name: f.default for f in fields}, **{k: x for k, x in v.items()}}
    command = train_command(v, sizes, tokens)
    errors = {k: m.replace("{command}", command) for k, m in errors.items()}
    if errors or general or not (models and tokens):
        # the command of a grid whose only fault is the lab's limit; none of a refused value
        return TrainRequest(errors, general, command if not errors.keys() - over.keys() and not general else None)
    runs = [(non_embedding_params(m.n_layer, m.n_embd), t) for m in models for t in tokens] * v["train_repeats"]
    s = train_seconds(runs)
    n = len(runs)
    estimate = w["estimate"].format(runs=n, tokens=_num(max(tokens)), workers=min(WORKERS, n),
                                    s="s" if min(WORKERS, n) > 1 and lang == "en" else "", duration=duration(s))
    if s > TRAIN_SECONDS:
        return TrainRequest({}, w["too_long"].format(duration=duration(s), limit=duration(TRAIN_SECONDS),
                                                     command=command), command, estimate, runs=n)
    args = dict(sizes=sizes, tokens=tokens, corpus=v["corpus"], repeats=v["train_repeats"], seed=v["seed"])
    key = ("train", tuple(sizes), tuple(tokens), v["corpus"], v["train_repeats"], v["seed"])
    return TrainRequest({}, None, command, estimate, args, key, n)


@dataclass(frozen=True)
class Trained:
    """A finished training grid: its runs as the page's CSV, and how they were computed."""

    csv: str
    runs: int
    n_ran: int
    n_cached: int
    elapsed_s: float


def runs_csv(res) -> str:
    """The runs of a :class:`~genlab.analysis.scaling.sweep.ScalingSweep` in the page's format: ``N`` (non-embedding
    parameters), ``N_total``, ``D``, ``loss`` and ``seed`` (the repeat: runs of one seed share their
    initialization), every number exact (a refit gives the CLI's fit)."""
    fr = res.frame
    out = fr[["N", "N_total", "D", "loss"]].copy()
    out["seed"] = fr["repeat"].to_numpy()
    return out.to_csv(index=False)


def train(args: dict, store_path) -> Trained:
    """The grid through the store ``store_path`` (its runs stay there), as ``genlab scaling train`` trains it."""
    from ...analysis.scaling.sweep import scaling_sweep

    res = scaling_sweep(args["sizes"], args["tokens"], corpus=args["corpus"], repeats=args["repeats"], device="cpu",
                        seed=args["seed"], store=store_path, jobs=WORKERS)
    return Trained(runs_csv(res), len(res.frame), res.n_ran, res.n_cached, res.elapsed_s)


def train_section(values: dict, lang: str) -> list:
    """The training controls (the page's hidden fields, shown here), the Train button, its progress and cancel,
    the estimate and the equivalent command."""
    from dash import html

    from ..layout import control, progress_area

    w = tw(lang)
    hints = {"train_sizes": w["sizes_hint"].format(n=MAX_GRID), "train_tokens": w["tokens_hint"].format(n=MAX_GRID),
             "corpus": w["corpus_hint"]}
    controls = []
    for f in TRAIN_FIELDS:
        shown = replace(f, control="dropdown" if f.kind == "choice" else "input")
        div = control(KEY, shown, values.get(f.name, f.default), lang)
        if f.name in hints:
            div.children.insert(2, html.Div(hints[f.name], className="hint"))
        controls.append(div)
    return [html.Div([
        html.H3(w["title"]), html.P(w["intro"], className="note"),
        html.Div(controls, className="controls"),
        html.Button(w["train"], id="scaling-train", n_clicks=0, style={"marginTop": "8px"}),
        html.Div(id="scaling-train-info", className="note"),
        html.Div(id="scaling-train-general", className="general"),
        *progress_area("scaling-train", lang),
        html.Div(id="scaling-train-status", className="note"),
        html.P(w["command"], className="note"),
        html.Pre(id="scaling-train-command", className="command"),
    ], style={"margin": "16px 0", "borderTop": "1px solid #ddd"})]


def register_training(app, server_lang: str, fit_fields) -> None:
    """The training section's callbacks: preview (messages, estimate, command), Train (start the store job),
    poll (progress; when done, the runs into the text area and a refit) and cancel."""
    from dash import Input, Output, State, no_update

    from ..common import lang_of
    from ..jobs import Busy

    jobs = app.genlab["jobs"]
    names = [f.name for f in TRAIN_FIELDS]
    msgs = [f"scaling-{n}-msg" for n in names]
    shown, hidden = {"display": "block", "margin": "8px 0"}, {"display": "none"}

    @app.callback(*[Output(m, "children") for m in msgs], Output("scaling-train-info", "children"),
                  Output("scaling-train-command", "children"), *[Input(f"scaling-{n}", "value") for n in names],
                  State("scaling-bootstrap", "value"), State("scaling-seed", "value"), State("scaling-lang", "data"))
    def preview(*args):
        raw = dict(zip(names + ["bootstrap", "seed"], args))
        req = train_request(raw, lang_of(args[-1], server_lang), fit_fields)
        return [req.errors.get(n, "") for n in names] + [req.estimate or "", req.command or ""]

    @app.callback(*[Output(m, "children", allow_duplicate=True) for m in msgs],
                  Output("scaling-train-info", "children", allow_duplicate=True),
                  Output("scaling-train-command", "children", allow_duplicate=True),
                  Output("scaling-train-general", "children"), Output("scaling-train-status", "children"),
                  Output("scaling-train-job", "data"), Output("scaling-train-poll", "disabled"),
                  Output("scaling-train-progress", "style"), Output("scaling-train-progress-text", "children"),
                  Input("scaling-train", "n_clicks"), *[State(f"scaling-{n}", "value") for n in names],
                  State("scaling-bootstrap", "value"), State("scaling-seed", "value"), State("scaling-lang", "data"),
                  State("scaling-train-job", "data"), prevent_initial_call=True)
    def start(_n, *args):
        raw = dict(zip(names + ["bootstrap", "seed"], args))
        lang, running = lang_of(args[-2], server_lang), args[-1]
        req = train_request(raw, lang, fit_fields)
        head = [req.errors.get(n, "") for n in names] + [req.estimate or "", req.command or "", req.general or "", ""]
        if req.errors:  # messages under the fields; nothing else changes
            return head[:len(names)] + [no_update, no_update, req.general or "", no_update] + [no_update] * 4
        if req.args is None:
            return head + [no_update] * 4
        if jobs.running_key(running) == req.key:  # the same grid is training: it goes on
            return head + [running, False, shown, no_update]
        jobs.cancel(running)
        args_ = req.args
        try:
            job_id = jobs.start(lambda store_path: train(args_, store_path), req.runs, req.key, store=True,
                                what=tw(lang)["what"].format(runs=req.runs, corpus=args_["corpus"]))
        except Busy as exc:
            head[-2] = words(lang)["busy"].format(n=exc.args[0], command=req.command)
            return head + [None, True, hidden, ""]
        return head + [job_id, False, shown, words(lang)["queued"]]

    @app.callback(Output("scaling-train-progress-text", "children", allow_duplicate=True),
                  Output("scaling-train-progress-bar", "value"), Output("scaling-train-progress-bar", "max"),
                  Output("scaling-train-progress", "style", allow_duplicate=True),
                  Output("scaling-train-poll", "disabled", allow_duplicate=True),
                  Output("scaling-train-job", "data", allow_duplicate=True),
                  Output("scaling-csv", "value", allow_duplicate=True),
                  Output("scaling-uploaded", "data", allow_duplicate=True),
                  Output("scaling-train-status", "children", allow_duplicate=True),
                  Output("scaling-train-general", "children", allow_duplicate=True),
                  Input("scaling-train-poll", "n_intervals"), State("scaling-train-job", "data"),
                  State("scaling-lang", "data"), State("scaling-uploaded", "data"), prevent_initial_call=True)
    def poll(_n, job_id, lang, count):
        lang = lang_of(lang, server_lang)
        return train_poll_outputs(jobs.poll(job_id), lang, count)

    @app.callback(Output("scaling-train-progress-text", "children", allow_duplicate=True),
                  Input("scaling-train-cancel", "n_clicks"), State("scaling-train-job", "data"),
                  prevent_initial_call=True)
    def cancel(_n, job_id):
        return "…" if jobs.cancel(job_id) else no_update

    app.genlab["callbacks"].update({"scaling-train-preview": preview, "scaling-train": start,
                                    "scaling-train-poll": poll, "scaling-train-cancel": cancel})


def train_poll_outputs(job, lang: str, count) -> list:
    """What the page shows of its training job: progress while it runs; when done, the runs' CSV into the text
    area and the upload counter moved on (which refits them); a cancel or a failure said."""
    from dash import no_update

    from ...core.errors import GenlabError

    shown, hidden = {"display": "block", "margin": "8px 0"}, {"display": "none"}
    lw = words(lang)
    stop = [hidden, True, None]
    if job is None:
        return ["", no_update, no_update, *stop, no_update, no_update, no_update, no_update]
    if job.state == "running":
        key = "waiting" if job.waiting else "running_store"
        text = lw[key].format(what=job.what, done=job.done, total=job.total)
        return [text, str(job.done), str(job.total), shown, False, no_update, no_update, no_update, no_update,
                no_update]
    if job.state == "done":
        r = job.result
        status = tw(lang)["done"].format(runs=r.runs, ran=r.n_ran, cached=r.n_cached, elapsed=r.elapsed_s)
        return ["", no_update, no_update, *stop, r.csv, (count if isinstance(count, int) else 0) + 1, status, ""]
    if job.state == "cancelled":
        message = lw["cancelled"]
    elif isinstance(job.error, (GenlabError, MemoryError)):
        message = str(job.error) or "out of memory"
    else:
        message = lw["internal"].format(error=f"{type(job.error).__name__}: {job.error}"[:300])
    return ["", no_update, no_update, *stop, no_update, no_update, "", message]
