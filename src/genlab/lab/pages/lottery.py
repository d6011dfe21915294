"""§5 in the lab: lottery tickets. Iterative magnitude pruning of an MLP on digits, round after round, the
winning ticket against its two controls (the same mask re-initialized, a random mask with the original
initialization), with the test accuracy against the fraction of weights remaining, ± 1 s.e. over repeats.

The numbers are :func:`genlab.analysis.lottery.lottery_sweep`'s, as ``genlab lottery`` computes them (its
options: rounds, rate, rewind, seeds, width, depth, epochs, variants, prune-from, seed; the data is digits,
the only set the command trains on). A sweep runs as a *store job* of the server
(:mod:`genlab.lab.jobs`): one job of the results store per repeat, in the lab's store (``genlab runs ls
--store genlab-lab/runs.sqlite`` lists them), with a progress bar and a cancel button; a cancelled sweep
resumes from the repeats it finished, and a setting computed before is read back from the store without
training. Results are cached by their configuration, so returning to a setting is instant.

The lab's default is ``genlab lottery --quick`` (5 rounds at rate 0.5, 3 repeats of a 64-100-100-10 MLP,
60 epochs): about 20 s on 2 cores. Larger settings run up to :data:`JOB_SECONDS` by the estimate of
:func:`seconds`; past it the page gives the shell command.
"""

from __future__ import annotations

import math
import os

from ..common import Cache, Outcome, checked, fmt, guarded, paragraphs, refused, shell
from ..fields import Field, to_query

KEY = "lottery"
VARIANTS = ("ticket", "reinit", "random")
FIELDS = (
    Field("data", "choice", "digits", choices=("digits",), control="dropdown"),
    Field("rounds", "int", 5, lo=1, hi=30, cap="rounds"),
    Field("rate", "float", 0.5, lo=0.0, hi=1.0),
    Field("rewind", "int", 0, lo=0, hi=1_000_000),
    Field("seeds", "int", 3, lo=1, hi=20, cap="seeds"),
    Field("width", "int", 100, lo=1, hi=2_000, cap="width"),
    Field("depth", "int", 2, lo=1, hi=8, cap="depth"),
    Field("epochs", "int", 60, lo=1, hi=1_000, cap="epochs"),
    Field("variants", "text", ",".join(VARIANTS), max_chars=100),
    Field("prune_from", "choice", "final", choices=("final", "best"), control="dropdown"),
    Field("seed", "int", 0, lo=0, cap="seed"),
)
GRAPHS = ("accuracy", "stop")
JOBS = True
#: The longest sweep the lab starts (estimated seconds, :func:`seconds`); past it, the shell command.
JOB_SECONDS = 3600.0
#: Worker processes of the lab's sweeps (the results do not depend on it).
WORKERS = max(1, min(2, os.cpu_count() or 1))
#: The CLI's defaults of the options the command leaves out when they have them.
CLI_DEFAULTS = {"width": 100, "depth": 2, "rewind": 0, "variants": ",".join(VARIANTS), "prune_from": "final"}
#: The library's fixed sizes (not options of ``genlab lottery``): digits split, batch.
N_TRAIN, BATCH = 800, 128
CACHE = Cache(8)

WORDS = {
    "en": {
        "round": "round", "remaining": "weights remaining", "nonzero": "non-zero weights",
        "below": "▼ below dense",
        "computed": "this sweep", "computed_text": "{ran} repeats trained now, {cached} read back from the lab's "
                                                   "store ({elapsed:.1f} s)",
        "too_long": "this sweep would take about {duration} here (an estimate), past the {limit} the lab runs; "
                    "run it from the shell: {command}",
        "what": "lottery tickets, {seeds} repeats × {trainings} trainings",
        "estimate": "estimated time here",
        "headline": "as genlab lottery prints it",
        "note": "The sweep trains {trainings} networks per repeat (the dense one, then each variant in each round) "
                "as jobs of the lab's results store: a progress bar counts the repeats, Cancel stops the workers, "
                "and the same setting again is read back from the store without training. The defaults are "
                "`genlab lottery --quick` (about 20 s on 2 cores); sweeps the lab estimates at more than an hour "
                "are left to the shell.",
        "variants_hint": "variants: comma-separated among ticket (IMP), reinit (same mask, fresh init), random "
                         "(random mask, same init)",
    },
    "ja": {
        "round": "ラウンド", "remaining": "残っている重み", "nonzero": "0 でない重み",
        "below": "▼ 密より悪い",
        "computed": "このスイープ", "computed_text": "{ran} 回の繰り返しを今回学習、{cached} 回をラボのストアから読み込み"
                                                     "({elapsed:.1f} 秒)",
        "too_long": "このスイープにはここで約 {duration} かかり(推定)、ラボで実行する上限 {limit} を超えます。"
                    "シェルで実行してください:{command}",
        "what": "宝くじ仮説:{seeds} 回の繰り返し × {trainings} 回の学習",
        "estimate": "ここでの推定時間",
        "headline": "genlab lottery の出力",
        "note": "このスイープは繰り返しごとに {trainings} 個のネットワーク(密なネットワークと、各ラウンドの各方式)を"
                "ラボの結果ストアのジョブとして学習します。進捗バーは繰り返しの数を数え、中止ボタンでワーカーが止まり、"
                "同じ設定をもう一度選ぶと学習せずにストアから読み込みます。既定値は `genlab lottery --quick` と同じです"
                "(2 コアで約 20 秒)。推定で 1 時間を超えるスイープはシェルで実行してください。",
        "variants_hint": "比較する方式:ticket(IMP)、reinit(同じマスク・初期値を引き直し)、random(ランダムなマスク・"
                         "元の初期値)をコンマ区切りで",
    },
}


def w_of(lang: str) -> dict:
    return WORDS.get(lang, WORDS["en"])


# -- the configuration and its command -------------------------------------------------------------------------

def _variants(text) -> list[str]:
    """The variants named, in the library's order when they are its names (as the sweep orders them)."""
    given = [v.strip() for v in str(text).split(",") if v.strip()]
    return [v for v in VARIANTS if v in given] if set(given) <= set(VARIANTS) and len(set(given)) == len(given) \
        else given


def commands(v: dict) -> str:
    """The same sweep from the shell (``genlab lottery``; options left out where they are the CLI's defaults)."""
    parts = ["lottery", "--rounds", v["rounds"], "--rate", v["rate"], "--seeds", v["seeds"], "--epochs", v["epochs"]]
    variants = ",".join(_variants(v["variants"]))
    for name, flag, value in (("width", "--width", v["width"]), ("depth", "--depth", v["depth"]),
                              ("rewind", "--rewind", v["rewind"]), ("variants", "--variants", variants),
                              ("prune_from", "--prune-from", v["prune_from"])):
        if value != CLI_DEFAULTS[name]:
            parts += [flag, value]
    return shell(*parts, "--seed", v["seed"])


def config(v: dict) -> tuple:
    return (v["data"], v["rounds"], v["rate"], v["rewind"], v["seeds"], v["width"], v["depth"], v["epochs"],
            ",".join(_variants(v["variants"])), v["prune_from"], v["seed"])


def trainings(v: dict) -> int:
    return 1 + v["rounds"] * len(_variants(v["variants"]))


def seconds(v: dict) -> float:
    """The sweep's wall time here, estimated: per optimizer step about 1 ms of overhead (Adam, the masks, the
    per-epoch validation) plus 6 FLOPs per weight and example at 30 GFLOP/s (measured on 2 cores: 0.9 ms a
    step at width 100, 20 ms at width 1,000), the repeats shared by :data:`WORKERS` workers, plus 8 s to start
    them. (:func:`genlab.core.limits.mlp_seconds`, the CLI's announcement, counts 25 ms a step: 40 times too
    slow for these small networks.)"""
    w, d = v["width"], v["depth"]
    weights = 64 * w + (d - 1) * w * w + 10 * w
    steps = trainings(v) * v["epochs"] * math.ceil(N_TRAIN / BATCH)
    per_seed = steps * (1e-3 + 6.0 * weights * BATCH / 3e10)
    return math.ceil(v["seeds"] / WORKERS) * per_seed + 8.0


def _settings(v: dict, errors: dict) -> str | None:
    """The library's own checks of the options (a rate of 1, a rewind past the end of training, an unknown
    variant), each message under the field it names; one that names no field is returned."""
    from ...analysis.lottery import lottery_settings
    from ...core.errors import GenlabError

    try:
        lottery_settings(v["data"], rounds=v["rounds"], rate=v["rate"], rewind=v["rewind"], width=v["width"],
                         depth=v["depth"], epochs=v["epochs"], variants=v["variants"], prune_from=v["prune_from"],
                         seed=v["seed"])
    except GenlabError as exc:
        text = str(exc)
        head = text.split(" ", 1)[0]
        name = next((f.name for f in FIELDS if head == f.name), None)
        if name is None:
            return text
        errors[name] = text
    return None


def update(raw: dict, lang: str = "en") -> Outcome:
    """The page after an interaction: the cached result of the setting, or the sweep to start as a store job."""
    v, errors, over = checked(FIELDS, raw, lang)
    general = None if errors else _settings(v, errors)
    if general is not None:
        return Outcome(general=general)
    if errors:
        return refused(errors, over, commands(v) if not errors.keys() - over.keys() else None)
    key = config(v)
    res = CACHE.get(key)
    if res is not None:
        return guarded(lambda: render(res, v, lang), lang)
    s = seconds(v)
    if s > JOB_SECONDS:
        return Outcome(general=w_of(lang)["too_long"].format(duration=duration(s), limit=duration(JOB_SECONDS),
                                                             command=commands(v)))

    def run(store_path) -> Outcome:
        res = compute(v, store_path)
        return render(res, v, lang)

    what = w_of(lang)["what"].format(seeds=v["seeds"], trainings=trainings(v))
    return Outcome(job=(run, v["seeds"], what, key, True), command=commands(v))


def compute(v: dict, store_path):
    """The sweep of the setting through the store ``store_path`` (its records stay there), cached."""
    from ...analysis.lottery import lottery_sweep

    res = lottery_sweep(v["data"], rounds=v["rounds"], rate=v["rate"], rewind=v["rewind"], seeds=v["seeds"],
                        width=v["width"], depth=v["depth"], epochs=v["epochs"], variants=v["variants"],
                        prune_from=v["prune_from"], seed=v["seed"], store=store_path, jobs=WORKERS)
    return CACHE.put(config(v), res)


# -- what the page shows ------------------------------------------------------------------------------------------

def duration(seconds: float) -> str:
    from ...core.limits import duration_text

    return duration_text(seconds)


def _pct(fraction) -> str:
    return f"{100 * fraction:.3g}%"


def headline(res) -> str:
    """The line ``genlab lottery`` prints first (:meth:`LotteryResult.headline`)."""
    return res.headline()


def numbers(res, lang: str) -> list:
    """Rows (label, text): the report's numbers of §5 for this sweep, the line the CLI prints, and how the
    sweep was computed."""
    from ...article.report.i18n import load_text

    t = load_text(lang)["lottery"]
    lbl, w = t["numbers"], w_of(lang)
    d = res.to_dict()
    th, rule = d["thresholds"], d["below_dense_rule"]
    last = len(res.fraction) - 1
    rows = [(lbl["dense_acc"].format(weights=res.dense_count),
             f"{d['dense_test_acc_mean']:.3f} ± {d['dense_test_acc_se']:.3f}")]
    common = dict(df=rule["df"] if rule["df"] is not None else "∞", rounds=rule["rounds_tested"],
                  alpha=rule["alpha"], margin=100 * rule["margin"])
    for v in res.variants:
        fall = (t["fall_never"] if th[v]["falls_below_at"] is None
                else t["fall_from"].format(at=_pct(th[v]["falls_below_at"])))
        rows.append((lbl[f"{v}_holds"], f"{100 * th[v]['holds_down_to']:.3g}% — {fall}"))
    for v in res.variants:
        a = res.test_acc[v][:, last]
        se = a.std(ddof=1) / math.sqrt(a.size) if a.size > 1 else float("nan")
        rows.append((lbl[f"{v}_last"].format(last=_pct(res.fraction[-1])),
                     f"{a.mean():.3f}" + (f" ± {se:.3f}" if se == se else "")))
    if "ticket" in th:
        rows.append((lbl["ticket_compression"], f"{fmt(th['ticket']['compression'], 3)}× ("
                     + lbl["compression_note"].format(weights=res.dense_count, nonzero=th["ticket"]["nonzero_at_hold"])
                     + ")"))
    rows.append((w["below"], lbl["falls_note"].format(fall="", **common).lstrip(";。 ")))
    rows.append((w["headline"], headline(res)))
    rows.append((w["computed"], w["computed_text"].format(ran=res.n_ran, cached=res.n_cached, elapsed=res.elapsed_s)))
    return rows


def table(res, lang: str) -> dict:
    """One row per round: weights remaining, then each variant's test accuracy ± s.e. (▼: below dense)."""
    from ...article.report.i18n import load_text
    from ...core.stats import summarize

    w, p = w_of(lang), load_text(lang)["lottery"]["plot"]
    stats = {v: summarize(res.test_acc[v]) for v in res.variants}
    below = {v: res.below_dense(v) for v in res.variants}
    rows = []
    for r in range(len(res.fraction)):
        row = [str(r), _pct(res.fraction[r]), f"{int(res.nonzero[r]):,}"]
        for v in res.variants:
            m, se = stats[v]["mean"][r], stats[v]["se"][r]
            row.append(f"{m:.3f}" + (f" ± {se:.3f}" if se == se else "") + (" ▼" if below[v][r] else ""))
        rows.append(row)
    return {"columns": [w["round"], w["remaining"], w["nonzero"], *[p[v] for v in res.variants]], "rows": rows}


def raw_of(res) -> dict:
    """The exact numbers (the CLI's JSON record of the sweep, and how it was computed)."""
    from ...core.io import plain

    return plain({**res.to_dict(), "fraction": res.fraction, "nonzero": res.nonzero, "n_ran": res.n_ran,
                  "n_cached": res.n_cached, "elapsed_s": res.elapsed_s})


def render(res, v: dict, lang: str) -> Outcome:
    from .lottery_figures import accuracy_figure, stop_figure

    return Outcome(figures=[accuracy_figure(res, lang), stop_figure(res, lang)], numbers=numbers(res, lang),
                   table=table(res, lang), raw=raw_of(res), command=commands(v), query=to_query(FIELDS, v))


def layout_text(lang: str) -> list[str]:
    return paragraphs(lang, "lottery", ("intro",))


def extra(values: dict, notes: list, lang: str) -> list:
    """How the sweep runs, the variants' names, and the command of the defaults."""
    from dash import html

    w = w_of(lang)
    defaults = {f.name: f.default for f in FIELDS}
    return [html.P(w["note"].format(trainings=trainings(defaults)), className="note"),
            html.P(w["variants_hint"], className="hint"),
            html.Pre(commands(defaults) + "   # = genlab lottery --quick", className="command",
                     style={"fontSize": "0.8em"})]
