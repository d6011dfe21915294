"""The §5 page's figures, built with the report's plotly builders (:mod:`genlab.article.report.interactive`):
the test accuracy of each variant against the weights remaining (log axis, decreasing to the right: pruning
goes right), ± 1 s.e. over repeats, the dense network's band in grey and a dotted line where a variant falls
below it for good (as ``LotteryResult.plot``); and the early-stop iteration likewise."""

from __future__ import annotations

import numpy as np

WORDS = {"en": {"stop": "early-stop iteration (optimizer steps, mean ± 1 s.e.)"},
         "ja": {"stop": "早期終了した反復回数(最適化ステップ、平均 ± 1 標準誤差)"}}


def _colors():
    from ...article.report.interactive import COLORS

    return {"ticket": COLORS["blue"], "reinit": COLORS["orange"], "random": COLORS["green"]}


def _x(res) -> np.ndarray:
    return 100 * np.asarray(res.fraction, dtype=float)


def _curves(res, arrays: dict, words: dict, dense_name: str):
    """Traces of ``arrays`` (variant -> repeats x rounds): the dense band and line, then each variant's band,
    line and points; and the lowest and highest values shown."""
    from ...article.report.interactive import COLORS, Trace
    from ...core.stats import summarize

    x = _x(res)
    first = next(iter(arrays.values()))
    d = summarize(first[:, [0]])
    m0, se0 = float(d["mean"][0]), float(np.nan_to_num(d["se"][0]))
    traces = [Trace(dense_name, [x[0], x[-1]], ([m0 - se0] * 2, [m0 + se0] * 2), kind="band", color=COLORS["grey"],
                    legend=False, group="dense"),
              Trace(dense_name, [x[0], x[-1]], [m0, m0], color=COLORS["grey"], dash="dash", width=1, group="dense")]
    lows, highs = [m0 - se0], [m0 + se0]
    colors = _colors()
    for v, arr in arrays.items():
        s = summarize(arr)
        se = np.nan_to_num(s["se"])
        traces += [Trace(words[v], x, (s["mean"] - se, s["mean"] + se), kind="band", color=colors[v], legend=False,
                         group=v),
                   Trace(words[v], x, s["mean"], color=colors[v], group=v),
                   Trace(words[v], x, s["mean"], kind="points", color=colors[v], size=5, legend=False, group=v)]
        lows.append(float(np.min(s["mean"] - se)))
        highs.append(float(np.max(s["mean"] + se)))
    return traces, min(lows), max(highs)


def accuracy_figure(res, lang: str) -> dict:
    """Test accuracy against the weights remaining, the three variants and the dense network."""
    from ...article.report.i18n import load_text
    from ...article.report.interactive import Panel, Trace, figure_dict

    p = load_text(lang)["lottery"]["plot"]
    x = _x(res)
    traces, lo, hi = _curves(res, res.test_acc, p, f"{p['dense']} ({res.dense_count:,})")
    y_lo, y_hi = max(0.0, lo - 0.02), min(1.0, hi + 0.01)
    th = res.thresholds
    colors = _colors()
    for v in res.variants:
        at = th[v]["falls_below_at"]
        if at is not None:
            traces.append(Trace(f"{p[v]}: ▼", [100 * at, 100 * at], [y_lo, y_hi], color=colors[v], dash="dot",
                                width=1, legend=False, group=v))
    panel = Panel(traces, xlabel=p["remaining"], ylabel=p["accuracy"], logx=True,
                  xrange=(115.0, float(x[-1]) / 1.15), yrange=(y_lo, y_hi if y_hi > y_lo else y_lo + 0.05))
    return figure_dict([panel], height=440)


def stop_figure(res, lang: str) -> dict:
    """The early-stop iteration (optimizer steps of the lowest validation loss) against the weights remaining."""
    from ...article.report.i18n import load_text
    from ...article.report.interactive import Panel, figure_dict

    p = load_text(lang)["lottery"]["plot"]
    x = _x(res)
    arrays = {v: np.asarray(a, dtype=float) for v, a in res.stop_step.items()}
    traces, lo, hi = _curves(res, arrays, p, p["dense"])
    w = WORDS.get(lang, WORDS["en"])
    panel = Panel(traces, xlabel=p["remaining"], ylabel=w["stop"], logx=True, xrange=(115.0, float(x[-1]) / 1.15))
    return figure_dict([panel], height=440)
