"""§4.3 (neural scaling laws) of the article as a report section.

The article shows Kaplan et al.'s L(N) = (N_c/N)^α_N (Fig. 15). Here we draw
it, then measure a scaling law ourselves: small transformers trained on
Python's bundled documentation (sizes × token budgets through the results
store), L(N) at the largest budget fitted with Kaplan's form (α_N with its
bootstrap interval), the Chinchilla form fitted to every run (α, β, E and
a = β/(α+β) with intervals), iso-FLOP curves, the compute-optimal frontier
beside Chinchilla's and Kaplan's, and a small extra sweep on a Markov chain
whose entropy rate (the irreducible loss) is known, to see whether the fitted
E finds it.
"""

from __future__ import annotations

import math

import numpy as np

from ..report.i18n import load_text
from ..report.model import Figure, Number, Section

#: The Markov sweep of the section: small models, small budgets (it checks E, not the exponents).
MARKOV_SIZES = (1e3, 4e3, 1.6e4, 6.4e4)
MARKOV_TOKENS = (2.5e4, 7.5e4, 2.5e5)
MARKOV_TOKENS_FULL = (5e4, 1.5e5, 5e5)
#: Bootstrap replicates of the fits (quick, full).
BOOTSTRAP_QUICK, BOOTSTRAP = 100, 200
#: |E − H| below this many nats per token (and H inside E's interval, or close) counts as "found".
E_TOLERANCE = 0.05


def _fig(figsize=(6.4, 4.2)):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)


def _iv(fit, key):
    iv = fit.intervals.get(key)
    return (float(iv[0]), float(iv[1])) if iv else None


def _fmt_iv(iv) -> str:
    return f"[{iv[0]:.3g}, {iv[1]:.3g}]" if iv else "[—]"


def _kaplan_table():
    import numpy as np
    import pandas as pd

    from ...analysis.scaling import preset

    grid = np.geomspace(1e3, 1e12, 37)
    return pd.DataFrame({"N": grid, "loss": preset("kaplan_N").predict(N=grid)})


def _size_order(runs) -> tuple[int, int]:
    """At how many evaluations (after initialization) of the largest budget's runs the validation
    losses fall strictly with size, and how many there are."""
    import numpy as np

    fr = runs.frame
    rows = [i for i in range(len(fr)) if fr["D"].iloc[i] == fr["D"].max() and fr["repeat"].iloc[i] == 0]
    rows.sort(key=lambda i: fr["N"].iloc[i])
    losses = np.array([runs.curves[i]["eval_loss"] for i in rows])      # (n_sizes, n_evals)
    later = losses[:, 1:]
    ordered = int(np.sum(np.all(np.diff(later, axis=0) < 0, axis=0)))
    return ordered, later.shape[1]


def _fit_laws(runs, size_form: str, bootstrap: int, seed: int):
    """``(size fit, Chinchilla fit)`` of a sweep (:meth:`ScalingSweep.fit_laws`); a law that cannot be
    fitted is a :class:`GenlabError`."""
    from ...core.errors import GenlabError

    fits, failed = runs.fit_laws(size_form, bootstrap=bootstrap, seed=seed)
    if failed:
        raise GenlabError("; ".join(failed.values()))
    return fits[size_form], fits["chinchilla"]


def _kaplan_a(flops: float) -> float:
    """The local exponent a of N*(C) ∝ C^a of Kaplan's L(N, D) preset around ``flops``."""
    import math

    from ...analysis.scaling import plan

    p = plan([flops / 10, flops * 10], law="kaplan")
    return math.log(p.N[1] / p.N[0]) / math.log(100.0)


def _budget_slider(runs, size_fit, words):
    """Measured L(N) with a slider over the token budget D (log-log, hover): the fitted law at the largest
    budget and its band stay; the points move to each budget's losses. Small budgets flatten the curve —
    D, not N, limits the loss there."""
    from ..report.interactive import COLORS, Panel, Trace, figure, slider_figure

    fr = runs.to_frame()
    budgets = sorted(set(fr["D"]))
    xs, ys = [], []
    for D in budgets:
        N, L = runs.size_curve(D)
        xs.append(N)
        ys.append(L)
    grid = np.geomspace(min(map(np.min, xs)) / 1.5, max(map(np.max, xs)) * 1.5, 80)
    traces = []
    if len(size_fit.boot_params):
        lo, hi = size_fit.band(N=grid)
        traces.append(Trace(words["band"], grid, (lo, hi), kind="band", color=COLORS["red"], legend=False))
    traces.append(Trace(words["fit"].format(alpha=size_fit.params["alpha"], D=budgets[-1]), grid,
                        size_fit.predict(N=grid), color=COLORS["red"]))
    for D, N, L in zip(budgets[:-1], xs[:-1], ys[:-1]):   # every budget faint, for comparison
        traces.append(Trace(words["budget"].format(D=D), N, L, color=COLORS["grey"], width=1, opacity=0.5,
                            legend=False))
    traces.append(Trace(words["runs"], xs, ys, kind="points", moving=True, color="#000000", size=9))
    lows = min(float(np.min(y)) for y in ys)
    highs = max(float(np.max(y)) for y in ys)
    panel = Panel(traces, xlabel=words["N"], ylabel=words["loss"], logx=True, logy=True,
                  yrange=(lows / 1.05, highs * 1.05))
    if len(budgets) < 2:
        return figure([panel]), words["hint"]
    notes = [words["step"].format(D=D, best=float(np.min(L)), n=len(L)) for D, L in zip(budgets, ys)]
    fig = slider_figure([panel], steps=[f"{D:.3g}" for D in budgets], prefix=words["prefix"], notes=notes,
                        active=len(budgets) - 1)
    return fig, words["hint"]


def section(*, quick: bool = False, lang: str = "en", seed: int = 0, jobs=None, store=None) -> Section:
    """§4.3: Fig. 15, our measured L(N) and Chinchilla fit, iso-FLOPs, the frontier, and E on a Markov chain.

    ``quick``: the small sweeps (about a minute on 2 cores, instead of about ten).

    Long because it lays out the section's figures in the article's order, each a few lines of
    the same shape; splitting them would only scatter the article's order over functions.
    """
    import numpy as np

    from ...analysis.scaling import plot_kaplan, preset, scaling_sweep

    t = load_text(lang)["scaling"]
    kw = dict(seed=seed, jobs=jobs, store=store)
    boot = BOOTSTRAP_QUICK if quick else BOOTSTRAP
    figures, numbers, results = [], [], {}

    runs = scaling_sweep(corpus="python", quick=quick, **kw)
    fr = runs.to_frame()
    size_fit, ch = _fit_laws(runs, "power_N", boot, seed)
    kap = preset("kaplan_N").params
    N_top, L_top = runs.size_curve()
    d_top = float(fr["D"].max())

    # Fig. 15: Kaplan's law, with our points for scale
    fig, ax = _fig()
    plot_kaplan(ax, measured=(N_top, L_top))
    figures.append(Figure("fig15", t["fig15_title"], t["fig15_caption"].format(
        alpha=kap["alpha"], N_c=kap["N_c"], at_gpt2=preset("kaplan_N").predict(N=1.5e9),
        at_gpt3=preset("kaplan_N").predict(N=1.75e11)), fig, _kaplan_table()))

    # our L(N)
    a, a_iv = size_fit.params["alpha"], _iv(size_fit, "alpha")
    fig, ax = _fig()
    runs.plot_size(ax, size_fit)
    ho = size_fit.holdout
    plotly, hint = _budget_slider(runs, size_fit, t["plot"])
    figures.append(Figure("measured", t["measured_title"], t["measured_caption"].format(
        n_sizes=len(N_top), n_min=N_top.min(), n_max=N_top.max(), D=d_top, vocab=runs.corpus["vocab_size"],
        n_train=runs.corpus["n_train"], alpha=a, lo=a_iv[0] if a_iv else math.nan, hi=a_iv[1] if a_iv else math.nan,
        N_c=size_fit.params["N_c"], kaplan=kap["alpha"], boot=boot,
        holdout=(t["holdout"].format(err=ho["mean_abs_rel_error"], n=ho["held_out"]) if ho else "")),
        fig, fr[fr["D"] == d_top][["N", "N_total", "n_layer", "n_embd", "D", "loss"]], plotly=plotly, hint=hint))
    numbers.append(Number("alpha_N", t["n_alpha_N"], a, se=size_fit.se.get("alpha"), interval=a_iv,
                          interval_label="95% bootstrap", article=kap["alpha"],
                          note=t["n_alpha_N_note"].format(D=d_top, lo=N_top.min(), hi=N_top.max())))

    # loss curves
    fig, ax = _fig()
    runs.plot_curves(ax)
    ordered, n_points = _size_order(runs)
    figures.append(Figure("curves", t["curves_title"], t["curves_caption"].format(
        D=d_top, ordered=ordered, n_points=n_points), fig,
                          fr[["N", "D", "steps", "loss", "train_loss", "wall_s", "tokens_per_s"]]))

    # iso-FLOPs
    fig, ax = _fig()
    runs.plot_isoflop(ax)
    iso = runs.isoflops(5)
    import pandas as pd

    iso_frame = pd.DataFrame([{"C": c, "N": n, "loss": l} for c, (ns, ls) in iso.items() for n, l in zip(ns, ls)])
    best_at = [(int(np.argmin(ls)), len(ls)) for _, ls in iso.values()]
    at_small = sum(i == 0 for i, _ in best_at)
    at_large = sum(i == n - 1 for i, n in best_at)
    figures.append(Figure("isoflop", t["isoflop_title"], t["isoflop_caption"].format(
        interior=len(iso) - at_small - at_large, at_small=at_small, at_large=at_large, n_curves=len(iso)), fig,
        iso_frame))

    # the Chinchilla fit and the frontier
    p, d = ch.params, ch.derived
    ivs = {k: _iv(ch, k) for k in ("alpha", "beta", "E", "a")}
    fig, ax = _fig()
    runs.plot_frontier(ax, ch)
    figures.append(Figure("frontier", t["frontier_title"], t["frontier_caption"].format(
        n_runs=len(fr), alpha=p["alpha"], beta=p["beta"], E=p["E"], a=d["a"], a_iv=_fmt_iv(ivs["a"]),
        alpha_iv=_fmt_iv(ivs["alpha"]), beta_iv=_fmt_iv(ivs["beta"]), E_iv=_fmt_iv(ivs["E"]),
        a_kaplan=_kaplan_a(float(fr["C"].max())), E_note=t["E_at_bound"] if "e" in ch.at_bound else ""), fig,
        ch.summary()))
    ch_ref = preset("chinchilla").params
    for key, value, ref in (("alpha", p["alpha"], ch_ref["alpha"]), ("beta", p["beta"], ch_ref["beta"]),
                            ("E", p["E"], ch_ref["E"]), ("a", d["a"], ch_ref["beta"] / (ch_ref["alpha"] + ch_ref["beta"]))):
        numbers.append(Number(f"chinchilla_{key}", t[f"n_chinchilla_{key}"], float(value), se=ch.se.get(key),
                              interval=ivs[key], interval_label="95% bootstrap",
                              note=t["n_chinchilla_note"].format(ref=ref)))
    results["python"] = runs.to_dict()
    results["L_of_N"] = size_fit.to_dict()
    results["chinchilla"] = ch.to_dict()

    # a Markov chain: is the fitted E its entropy rate?
    mk = scaling_sweep(MARKOV_SIZES, MARKOV_TOKENS if quick else MARKOV_TOKENS_FULL, corpus="markov", **kw)
    H = float(mk.entropy_rate)
    sat, mch = _fit_laws(mk, "saturating", boot, seed)
    E, E_iv = mch.params["E"], _iv(mch, "E")
    best = float(mk.frame["loss"].min())
    from ...analysis.scaling import eval_floor

    # the floor of these measurements: the true chain on the very tokens every run is scored on
    cfg = mk.config
    H_eval, H_eval_se, n_eval = eval_floor(cfg["corpus"], block_size=cfg["block_size"], batch_size=cfg["batch_size"])
    floor = t["markov_eval_floor"].format(tokens=n_eval, H_eval=H_eval, se=H_eval_se)
    found = abs(E - H_eval) <= E_TOLERANCE
    gap = best - H_eval
    key = "markov_found" if found else "markov_not_found_close" if gap <= E_TOLERANCE else "markov_not_found_far"
    verdict = t[key].format(E=E, diff=E - H_eval, lo=E_iv[0] if E_iv else math.nan,
                            hi=E_iv[1] if E_iv else math.nan, best=best, gap=gap, tol=E_TOLERANCE)
    E_sat, sat_iv = sat.params["E"], _iv(sat, "E")
    saturating = t["markov_saturating"].format(E=E_sat, lo=sat_iv[0] if sat_iv else math.nan,
                                               hi=sat_iv[1] if sat_iv else math.nan, diff=E_sat - H_eval)
    fig, ax = _fig()
    mch.plot(ax)
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:.3g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.axhline(H, color="k", ls=":", lw=1.2, label=f"entropy rate H = {H:.3f}")
    ax.axhline(H_eval, color="0.45", ls=(0, (1, 3)), lw=1.2, label=f"true chain on the evaluation tokens F = {H_eval:.3f}")
    ax.axhline(E, color="tab:red", ls="--", lw=1.0, label=f"fitted E (Chinchilla form) = {E:.3f}")
    ax.axhline(E_sat, color="tab:green", ls="-.", lw=1.0, label=f"fitted E (saturating L(N)) = {E_sat:.4f}")
    ax.legend(fontsize="small")
    ch_info = mk.corpus["chain"]
    figures.append(Figure("markov", t["markov_title"], t["markov_caption"].format(
        order=ch_info["order"], symbols=ch_info["n_symbols"], H=H, max_h=ch_info["max_entropy"],
        unigram=mk.corpus["unigram_entropy"], n_runs=len(mk.frame), floor=floor, verdict=verdict,
        saturating=saturating), fig,
        mk.to_frame()))
    numbers += [Number("markov_entropy_rate", t["n_markov_H"], H, note=t["n_markov_H_note"]),
                Number("markov_H_eval", t["n_markov_H_eval"], H_eval, se=H_eval_se,
                       note=t["n_markov_H_eval_note"].format(tokens=n_eval, gap=best - H_eval)),
                Number("markov_E", t["n_markov_E"], float(E), se=mch.se.get("E"), interval=E_iv,
                       interval_label="95% bootstrap", note=t["n_markov_E_note"].format(diff=E - H_eval, best=best)),
                Number("markov_E_saturating", t["n_markov_E_sat"], float(E_sat), se=sat.se.get("E"), interval=sat_iv,
                       interval_label="95% bootstrap", note=t["n_markov_E_sat_note"].format(diff=E_sat - H_eval))]
    results["markov"] = {**mk.to_dict(), "chinchilla": mch.to_dict(), "saturating": sat.to_dict(), "entropy_rate": H,
                         "E": E, "E_interval": E_iv, "E_found": bool(found), "tolerance": E_TOLERANCE,
                         "E_saturating": E_sat, "E_saturating_interval": sat_iv, "best_loss": best,
                         "eval_floor": H_eval, "eval_floor_se": H_eval_se, "eval_tokens": n_eval}

    results["summary"] = {"alpha_N": a, "alpha_N_interval": a_iv, "chinchilla": {**{k: p[k] for k in ("alpha", "beta", "E")},
                          "a": d["a"], "intervals": ivs, "E_at_bound": "e" in ch.at_bound}, "markov_E": E,
                          "markov_E_saturating": E_sat, "markov_entropy_rate": H,
                          "python_elapsed_s": runs.elapsed_s, "markov_elapsed_s": mk.elapsed_s}
    lo, hi = a_iv if a_iv else (a, a)
    relation = t["rel_below"] if hi < kap["alpha"] else t["rel_above"] if lo > kap["alpha"] else t["rel_consistent"]
    paragraphs = list(t["intro"]) + [t["closing"].format(alpha=a, lo=lo, hi=hi, relation=relation,
                                                         kaplan=kap["alpha"], D=d_top)]
    return Section("scaling", t["title"], paragraphs, figures, numbers, results)
