"""The §4.3 page's numbers, table and figures: the fitted parameters with their intervals (or "not identified"),
the plan at the chosen compute beside the published laws', the runs with the fitted law and its bootstrap
band, and the compute-optimal frontier N*(C), D*(C)."""

from __future__ import annotations

import hashlib

import numpy as np

from ..common import fmt
from ..words import words


GREEK = {"alpha": "α", "beta": "β", "alpha_N": "α_N", "alpha_D": "α_D"}


def _interval(iv) -> str:
    return f" [{fmt(iv[0], 3)}, {fmt(iv[1], 3)}]" if iv is not None else ""


def numbers(f, p, lang: str) -> list:
    """Rows (label, text): the runs, each parameter and derived quantity as the CLI describes it, the plan at
    C with its intervals, the hold-out check and every warning."""
    from ...analysis.scaling.identify import describe

    w = words(lang)["n"]
    rows = [(w["runs"], str(len(f.loss)))]
    ident, iv = f.identification, f.intervals
    shown = dict(f.params)
    if "a" in f.derived:
        shown["a"] = f.derived["a"]
    for k, value in shown.items():
        text = describe(k, value, iv.get(k), ident.get(k)).split(" = ", 1)[1]
        rows.append((GREEK.get(k, w.get(k, k)), w["not_identified"] if text == "not identified" else text))
    s = p.summary().iloc[0]
    for key, col in (("N_opt", "N"), ("D_opt", "D"), ("tokens_per_param", "tokens_per_param"), ("loss_opt", "loss")):
        lo_hi = p.intervals.get(col)
        rows.append((f"{w[key]} (C = {fmt(p.flops[0], 3)})",
                     fmt(s[col]) + (_interval((lo_hi[0][0], lo_hi[1][0])) if lo_hi is not None else "")))
    if f.holdout:
        rows.append((w["holdout"], f"{f.holdout['mean_abs_rel_error']:.2%}"))
    rows += [("⚠", text) for text in list(f.warnings) + list(p.warnings)]
    return rows


def table(p, presets: dict, lang: str) -> dict:
    """The plan at C of the fit and of the published laws, side by side."""
    c = words(lang)["table"]
    rows = []
    for name, plan in (("fit", p), *presets.items()):
        s = plan.summary().iloc[0]
        rows.append([name, fmt(s["N"], 3), fmt(s["D"], 3), fmt(s["tokens_per_param"], 3), fmt(s["loss"])])
    return {"columns": [c["plan"], c["N"], c["D"], c["tpp"], c["loss"]], "rows": rows}


def runs_figure(f, lang: str, max_curves: int = 6) -> dict:
    """The runs against N, one colour per token count D, with the fitted law and its 95% bootstrap band
    (as ``ScalingFit.plot``)."""
    from ...article.report.interactive import PALETTE, Panel, Trace, figure_dict

    w = words(lang)["plot"]
    grid = np.geomspace(f.N.min(), f.N.max(), 60) if f.N.max() > f.N.min() else np.array([f.N.min()])
    ds = np.unique(f.D)
    if len(ds) > max_curves:
        ds = ds[np.unique(np.linspace(0, len(ds) - 1, max_curves).round().astype(int))]
    traces = []
    for i, d in enumerate(ds):
        color, name = PALETTE[i % len(PALETTE)], f"D = {d:.3g}"
        sel = np.isclose(f.D, d)
        if len(f.boot_params):
            lo, hi = f.band(N=grid, D=np.full_like(grid, d))
            traces.append(Trace(name, grid, (lo, hi), kind="band", color=color, group=name, legend=False))
        traces += [Trace(name, grid, f.law.predict(N=grid, D=d), color=color, group=name),
                   Trace(name, f.N[sel], f.loss[sel], kind="points", color=color, group=name, legend=False)]
    panel = Panel(traces, xlabel=f"{w['params']} — {f.form.formula}", ylabel=w["loss"], logx=True, logy=True)
    return figure_dict([panel], height=440)


def _frontier(f, grid):
    from ...analysis.scaling import plan

    law = f if f.form.name == "chinchilla" else f.law  # Kaplan's optimum is numerical: no bands over C
    p = plan(grid, law=law)
    return p.N, p.D, p.intervals


def frontier_figure(f, C: float, lang: str, cache) -> dict:
    """N*(C) and D*(C) of the fit (with bootstrap bands for the Chinchilla form) from the smallest run's
    compute on, beside Chinchilla's and Kaplan's laws, the chosen C marked."""
    from ...analysis.scaling import plan
    from ...article.report.interactive import COLORS, Panel, Trace, figure_dict

    w = words(lang)["plot"]
    c_min = float(np.min(6.0 * f.N * f.D))
    grid = np.geomspace(c_min, max(c_min * 1e6, 1e28), 40)  # not C's: a move of C redraws, does not recompute
    grid[0] = c_min
    key = ("frontier", hashlib.sha256(np.ascontiguousarray(f.boot_params).tobytes()).hexdigest(),
           tuple(sorted(f.params.items())), c_min, float(grid[-1]))
    N, D, iv = cache.memo(key, lambda: _frontier(f, grid))
    traces = []
    for name, y, k, color in ((w["frontier_N"], N, "N", COLORS["blue"]), (w["frontier_D"], D, "D", COLORS["orange"])):
        if k in iv:
            traces.append(Trace(name, grid, iv[k], kind="band", color=color, group=name, legend=False))
        traces.append(Trace(f"{name}, fit", grid, y, color=color, group=name))
    for name, dash in (("chinchilla", "dash"), ("kaplan", "dot")):
        pp = cache.memo(("preset-frontier", name, c_min, float(grid[-1])), lambda: plan(grid, law=name))
        label = w["preset"].format(name=name.capitalize())
        traces += [Trace(f"N*, {label}", grid, pp.N, color=COLORS["blue"], dash=dash, width=1),
                   Trace(f"D*, {label}", grid, pp.D, color=COLORS["orange"], dash=dash, width=1)]
    top = float(max(np.max(N), np.max(D)))
    traces.append(Trace(w["budget"], [C, C], [float(np.min(N)) * 0.5, top * 2], color=COLORS["grey"], dash="dot",
                        width=1))
    panel = Panel(traces, xlabel=w["compute"], ylabel="N*, D*", logx=True, logy=True)
    return figure_dict([panel], height=440)
