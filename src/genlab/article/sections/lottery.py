"""§5 of the article (closing: redundancy, compression, the lottery-ticket hypothesis) as a report section.

The sweep goes through the results store when ``store`` is given, so a rerun
after a crash reuses finished repeats.
"""

from __future__ import annotations

import numpy as np

from ..report.i18n import load_text
from ..report.model import Figure, Number, Section


def _pct(fraction) -> str:
    return f"{100 * fraction:.3g}%"


def _fall(fraction, t) -> str:
    """Where a variant falls below dense, as a phrase of the section's language ('below for good from 8.1%')."""
    return t["fall_never"] if fraction is None else t["fall_from"].format(at=_pct(fraction))


def _sizes_figure(res):
    """Left: early-stop iteration against weights remaining. Right: apparent vs effective size per round.
    (Figure labels in English, as the other sections' static figures.)"""
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12.4, 4.2))
    res.plot(a1, what="stop_step", title="Early-stop iteration")
    sizes = res.size_table()
    r = sizes["round"].to_numpy()
    a2.bar(r, sizes["apparent_params"], color="0.8", label="apparent size (all parameters)")
    a2.bar(r, sizes["effective_params"], color="tab:blue", label="non-zero (weights kept + biases)")
    a2.set_yscale("log")
    a2.set_xlabel("pruning round")
    a2.set_ylabel("parameters")
    if "ticket_test_acc_mean" in sizes:
        for x, y, acc in zip(r, sizes["effective_params"], sizes["ticket_test_acc_mean"]):
            a2.annotate(f"{acc:.3f}", (x, y), xytext=(0, 3), textcoords="offset points", ha="center",
                        fontsize=6.5, rotation=90)
    a2.set_ylim(top=4 * float(sizes["apparent_params"].max()))   # room for the labels and the legend
    a2.legend(fontsize="small", loc="upper right", ncol=2)
    a2.set_title("Apparent vs effective size (ticket accuracy on the bars)")
    fig.tight_layout()
    frame = sizes.copy()
    for v in res.variants:
        frame[f"{v}_stop_step_mean"] = res.stop_step[v].mean(axis=0)
    return fig, frame


def _rounds_slider(res, words):
    """The accuracy curves of the three variants with a slider over the pruning rounds (log x, decreasing)."""
    from ..report.interactive import COLORS, Panel, Trace, marker, slider_figure, vline
    from ...core.stats import summarize

    colors = {"ticket": COLORS["blue"], "reinit": COLORS["orange"], "random": COLORS["green"]}
    x = 100 * np.asarray(res.fraction, dtype=float)
    first = next(iter(res.test_acc.values()))
    d = summarize(first[:, [0]])
    m0, se0 = float(d["mean"][0]), float(np.nan_to_num(d["se"][0]))
    traces = [Trace(words["dense"], [x[0], x[-1]], ([m0 - se0] * 2, [m0 + se0] * 2), kind="band",
                    color=COLORS["grey"], legend=False),
              Trace(words["dense"], [x[0], x[-1]], [m0, m0], color=COLORS["grey"], dash="dash", width=1)]
    means, lows = {}, [m0 - se0]
    for v, arr in res.test_acc.items():
        s = summarize(arr)
        se = np.nan_to_num(s["se"])
        means[v] = s["mean"]
        lows.append(float(np.min(s["mean"] - se)))
        traces += [Trace(words[v], x, (s["mean"] - se, s["mean"] + se), kind="band", color=colors[v], legend=False,
                         group=v),
                   Trace(words[v], x, s["mean"], kind="line", color=colors[v], group=v),
                   *marker(words[v], x, s["mean"], color=colors[v])]
    y_lo = max(0.0, min(lows) - 0.02)
    traces += vline("round", x, (y_lo, 1.0))
    panel = Panel(traces, xlabel=words["remaining"], ylabel=words["accuracy"], logx=True,
                  xrange=(115.0, x[-1] / 1.15), yrange=(y_lo, 1.0))
    notes = [words["step"].format(r=r, pct=f"{x[r]:.3g}%", nonzero=int(res.nonzero[r]), weights=res.dense_count,
                                  **{v: float(means[v][r]) if v in means else float("nan")
                                     for v in ("ticket", "reinit", "random")})
             for r in range(len(x))]
    fig = slider_figure([panel], steps=[str(r) for r in range(len(x))], prefix=words["prefix"], notes=notes,
                        active=len(x) - 1)
    return fig, words["hint"]


def sweeps(*, quick: bool = False, seed: int = 0, jobs=None, store=None) -> dict:
    """The sweep of §5, a function of no arguments (see :func:`genlab.article.build.plan`)."""
    from ...analysis.lottery import lottery_sweep

    return {"lottery": lambda: lottery_sweep("digits", quick=quick, seed=seed, jobs=jobs, store=store)}


def section(*, quick: bool = False, lang: str = "en", seed: int = 0, jobs=None, store=None) -> Section:
    """Lottery tickets on digits: IMP with rewinding to the initialization, against its two controls.

    Each round prunes the weights at the end of the last training (Frankle & Carbin's rule, the sweep's
    default); "below dense" is the Holm-corrected t-test of :meth:`LotteryResult.below_dense`.

    ``quick``: 3 repeats, 5 rounds at rate 0.5 (about 15 s on 2 cores); else 5
    repeats, 15 rounds at rate 0.2 (about 1-2 min on 2 cores).
    """
    t = load_text(lang)["lottery"]
    lbl = t["numbers"]
    res = sweeps(quick=quick, seed=seed, jobs=jobs, store=store)["lottery"]()
    d = res.to_dict()
    th = d["thresholds"]
    last = len(res.fraction) - 1
    acc_last = {v: (float(res.test_acc[v][:, last].mean()),
                    float(res.test_acc[v][:, last].std(ddof=1) / np.sqrt(res.test_acc[v].shape[0])))
                for v in res.variants}
    c, rule = res.config, d["below_dense_rule"]
    common = dict(seeds=d["n_repeats"], width=c["width"], depth=c["depth"], n_train=c["n_train"], n_val=c["n_val"],
                  n_test=res.n_test, weights=res.dense_count, biases=res.n_params - res.dense_count,
                  rate=c["rate"], half=c["rate"] / 2, rounds=c["rounds"], last=_pct(res.fraction[-1]),
                  dense=d["dense_test_acc_mean"], dense_se=d["dense_test_acc_se"], epochs=c["epochs"],
                  margin=100 * res.margin, alpha=res.alpha, df=rule["df"], prune=t["prune"][c["prune_from"]])
    figures, numbers = [], []

    fig, ax = _fig()
    res.plot(ax)
    hold = {f"{v}_hold": _pct(th[v]["holds_down_to"]) for v in res.variants}
    fall = {f"{v}_fall": _fall(th[v]["falls_below_at"], t) for v in res.variants}
    at_last = {f"{v}_last": acc_last[v][0] for v in res.variants}
    caption = t["tickets_caption"].format(**common, **hold, **fall, **at_last)
    plotly, hint = _rounds_slider(res, t["plot"])
    figures.append(Figure("lottery", t["tickets_title"], caption, fig, res.summary(), plotly=plotly, hint=hint))

    fig, frame = _sizes_figure(res)
    stop = {v: float(res.stop_step[v][:, last].mean()) for v in res.variants}
    figures.append(Figure("lottery_sizes", t["sizes_title"], t["sizes_caption"].format(
        **common, compression=th["ticket"]["compression"], nonzero=th["ticket"]["nonzero_at_hold"],
        ticket_hold=_pct(th["ticket"]["holds_down_to"]), dense_stop=float(res.stop_step["ticket"][:, 0].mean()),
        ticket_stop=stop["ticket"], reinit_stop=stop["reinit"], random_stop=stop["random"]), fig, frame))

    numbers.append(Number("dense_acc", lbl["dense_acc"].format(weights=res.dense_count), d["dense_test_acc_mean"],
                          se=d["dense_test_acc_se"], note=f"{d['n_repeats']} repeats, n_test = {res.n_test}"))
    for v in res.variants:
        numbers.append(Number(f"{v}_holds_down_to", lbl[f"{v}_holds"], 100 * th[v]["holds_down_to"],
                              note=lbl["falls_note"].format(fall=fall[f"{v}_fall"], **common)))
        numbers.append(Number(f"{v}_acc_at_last", lbl[f"{v}_last"].format(last=_pct(res.fraction[-1])),
                              acc_last[v][0], se=acc_last[v][1]))
    numbers.append(Number("ticket_compression", lbl["ticket_compression"], th["ticket"]["compression"],
                          note=lbl["compression_note"].format(weights=res.dense_count,
                                                              nonzero=th["ticket"]["nonzero_at_hold"])))
    return Section("lottery", t["title"], list(t["intro"]), figures, numbers, {"lottery": d})


def _fig(figsize=(6.4, 4.2)):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)
