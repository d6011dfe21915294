"""§4.3 (neural scaling laws) of the article as a report section.

The article shows Kaplan et al.'s L(N) = (N_c/N)^α_N (Fig. 15). Here we draw
it, then measure a scaling law ourselves: small transformers trained on
Python's bundled documentation (sizes × token budgets through the results
store), L(N) at the largest budget fitted with Kaplan's form (α_N with its
bootstrap interval), the Chinchilla form fitted to every run (α, β, E and
a = β/(α+β) with intervals) twice, with N counting the non-embedding parameters
(Kaplan's count) and all of them (Chinchilla's), iso-FLOP curves, both compute-optimal
frontiers, each labelled with its N, beside Chinchilla's and Kaplan's, and a small
extra sweep on a Markov chain whose entropy rate (the irreducible loss) is known,
to see whether the fitted E finds it.

A parameter these runs do not identify (:mod:`genlab.analysis.scaling.identify`: at a
bound of the search, or an interval over a decade) is said to be so, with what would
identify it, instead of being given as a result: no number for it.
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
BOOTSTRAP_QUICK, BOOTSTRAP = 50, 200
#: |E − H| below this many nats per token (and H inside E's interval, or close) counts as "found".
E_TOLERANCE = 0.05
#: The Chinchilla fit's quantities the section shows, and how it writes them.
SHOWN = {"E": "E", "alpha": "α", "A": "A", "beta": "β", "B": "B", "a": "a"}


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


def _fit_laws(runs, size_form: str, bootstrap: int, seed: int, n_kinds=("non_embedding",)):
    """``(size fit, Chinchilla fit, ...)`` of a sweep (:meth:`ScalingSweep.fit_laws`), one Chinchilla fit
    for each of ``n_kinds``; a law that cannot be fitted is a :class:`GenlabError`."""
    from ...core.errors import GenlabError

    fits, failed = runs.fit_laws(size_form, bootstrap=bootstrap, seed=seed, n_kinds=n_kinds)
    if failed:
        raise GenlabError("; ".join(failed.values()))
    return (fits[size_form], *(fits["chinchilla" if k == "non_embedding" else f"chinchilla_{k}"] for k in n_kinds))


def _fit_text(fit, w) -> str:
    """One fit's parameters as the caption gives them: ``α = 0.19 [0.13, 0.35]``, or that it is not identified."""
    values, ident = {**fit.params, **fit.derived}, fit.identification
    parts = []
    for key in ("alpha", "beta", "E", "a"):
        if ident[key]["identified"]:
            parts.append(w["value"].format(name=SHOWN[key], value=values[key], iv=_fmt_iv(_iv(fit, key))))
        else:
            parts.append(w["not_identified"].format(name=SHOWN[key]))
    return w["fit"].format(kind=w[f"kind_{fit.n_kind}"], params=w["sep"].join(parts))


def _why(name, entry, value, kinds, w) -> str:
    """Why ``name`` is not identified (the rule of ``entry``), in the report's language."""
    rule, fmt = entry["rule"], {"name": SHOWN.get(name, name), "kinds": kinds}
    if rule is None:                              # identified: nothing to say
        return ""
    if rule == "at_bound":
        extra = w["at_bound_E"] if name == "E" and entry["bound"] == "lower" else ""
        return w["at_bound"].format(side=w[entry["bound"]], value=value, extra=extra, **fmt)
    if rule == "bootstrap_at_bound":
        return w["bootstrap_at_bound"].format(side=w[entry["bound"]], share=entry["share"], **fmt)
    if rule == "span":
        return w["span"].format(iv=_fmt_iv(entry["interval"]), span=entry["span"], **fmt)
    return w["depends_on"].format(inputs=w["and"].join(SHOWN.get(p, p) for p in entry["depends_on"]), **fmt)


def _identification_text(fits, w) -> str:
    """What the fits (``[ScalingFit, ...]``) do not identify among :data:`SHOWN`, grouped over the fits'
    N kinds: why, then which runs would identify it, then the rule; empty when all is identified."""
    found = {}                                   # name -> [(fit, entry, value)]
    for f in fits:
        values = {**f.params, **f.derived}
        for name, e in f.identification.items():
            if name in SHOWN and not e["identified"]:
                found.setdefault(name, []).append((f, e, values[name]))
    if not found:
        return ""
    whys, needs = [], {}
    for name in SHOWN:
        if name in found:
            f, e, value = found[name][0]
            kinds = w["and"].join(w[f"kind_{g.n_kind}"] for g, _, _ in found[name])
            merged = {_why(name, e_, v_, kinds, w) for _, e_, v_ in found[name]}   # one phrase when the fits agree
            whys += list(merged) if len(merged) == 1 else [_why(name, e_, v_, w[f"kind_{g.n_kind}"], w)
                                                           for g, e_, v_ in found[name]]
            if e["needs"]:
                needs.setdefault(e["needs"], {})[SHOWN[name]] = [g for g, _, _ in found[name]]
    out = [w["intro"] + " " + w["why_sep"].join(whys) + w["end"]]
    for what, named in needs.items():
        fs = list({id(g): g for gs in named.values() for g in gs}.values())
        if what == "floor":
            out.append(w["needs_floor"].format(names=w["and"].join(named), loss=float(min(g.loss.min() for g in fs))))
            continue
        x = {"N": lambda g: g.N, "D": lambda g: g.D}[what]
        ratio = w["sep"].join(w["ratio"].format(ratio=float(x(g).max() / x(g).min()), kind=w[f"kind_{g.n_kind}"])
                              for g in fs)
        out.append(w[f"needs_{what}"].format(names=w["and"].join(named), ratio=ratio))
    return w["space"].join(out + [w["rule"]])


def _chinchilla_numbers(fits, t) -> list:
    """The Chinchilla fits' α, β, E and a as numbers of the section, those the runs identify only."""
    from ...analysis.scaling import preset

    p = preset("chinchilla").params
    ref = {**p, "a": p["beta"] / (p["alpha"] + p["beta"])}
    out = []
    for f in fits:
        suffix = "" if f.n_kind == "non_embedding" else f"_{f.n_kind}"
        values, ident = {**f.params, **f.derived}, f.identification
        for key in ("alpha", "beta", "E", "a"):
            if ident[key]["identified"]:
                out.append(Number(f"chinchilla{suffix}_{key}", t[f"n_chinchilla_{key}"].format(
                    kind=t["ident"][f"kind_{f.n_kind}"]), float(values[key]), se=f.se.get(key),
                    interval=_iv(f, key), interval_label="95% bootstrap",
                    note=t["n_chinchilla_note"].format(ref=ref[key])))
    return out


def _fit_summary(fit) -> dict:
    """A Chinchilla fit in the section's summary: its α, β, E and a, intervals, what is identified."""
    values, ident = {**fit.params, **fit.derived}, fit.identification
    keys = ("alpha", "beta", "E", "a")
    return {"n_kind": fit.n_kind, **{k: values[k] for k in keys}, "intervals": {k: _iv(fit, k) for k in keys},
            "identified": {k: ident[k]["identified"] for k in SHOWN}}


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


def sweeps(*, quick: bool = False, seed: int = 0, jobs=None, store=None) -> dict:
    """The sweeps of §4.3, each a function of no arguments (see :func:`genlab.article.build.plan`)."""
    from ...analysis.scaling import scaling_sweep

    kw = dict(seed=seed, jobs=jobs, store=store)
    return {"python": lambda: scaling_sweep(corpus="python", quick=quick, **kw),
            "markov": lambda: scaling_sweep(MARKOV_SIZES, MARKOV_TOKENS if quick else MARKOV_TOKENS_FULL,
                                            corpus="markov", **kw)}


def section(*, quick: bool = False, lang: str = "en", seed: int = 0, jobs=None, store=None) -> Section:
    """§4.3: Fig. 15, our measured L(N) and Chinchilla fit, iso-FLOPs, the frontier, and E on a Markov chain.

    ``quick``: the small sweeps (about a minute on 2 cores, instead of about ten).

    Long because it lays out the section's figures in the article's order, each a few lines of
    the same shape; splitting them would only scatter the article's order over functions.
    """
    import numpy as np

    from ...analysis.scaling import plot_kaplan, preset

    t = load_text(lang)["scaling"]
    run = sweeps(quick=quick, seed=seed, jobs=jobs, store=store)
    boot = BOOTSTRAP_QUICK if quick else BOOTSTRAP
    figures, numbers, results = [], [], {}

    runs = run["python"]()
    fr = runs.to_frame()
    size_fit, ch, ch_total = _fit_laws(runs, "power_N", boot, seed, ("non_embedding", "total"))
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
        N_c=(t["n_c_value"].format(N_c=size_fit.params["N_c"]) if size_fit.identification["N_c"]["identified"]
             else t["n_c_not_identified"].format(iv=_fmt_iv(_iv(size_fit, "N_c")))), kaplan=kap["alpha"], boot=boot,
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

    # the Chinchilla fits, in non-embedding and in total N, and the frontiers
    w = t["ident"]
    fig, ax = _fig()
    runs.plot_frontier(ax, ch, ch_total)
    emb = 1.0 - fr["N"] / fr["N_total"]
    figures.append(Figure("frontier", t["frontier_title"], t["frontier_caption"].format(
        n_runs=len(fr), emb_lo=float(emb.min()), emb_hi=float(emb.max()),
        fits=w["space"].join(_fit_text(f, w) for f in (ch, ch_total)), a_kaplan=_kaplan_a(float(fr["C"].max())),
        identification=_identification_text([ch, ch_total], w)), fig,
        pd.concat([ch.summary().assign(n_kind=ch.n_kind), ch_total.summary().assign(n_kind=ch_total.n_kind)])))
    numbers += _chinchilla_numbers([ch, ch_total], t)
    results["python"] = runs.to_dict()
    results["L_of_N"] = size_fit.to_dict()
    results["chinchilla"] = ch.to_dict()
    results["chinchilla_total"] = ch_total.to_dict()

    # a Markov chain: is the fitted E its entropy rate?
    mk = run["markov"]()
    H = float(mk.entropy_rate)
    sat, mch = _fit_laws(mk, "saturating", boot, seed)
    E, E_iv = mch.params["E"], _iv(mch, "E")
    E_ident = mch.identification["E"]
    best = float(mk.frame["loss"].min())
    from ...analysis.scaling import eval_floor

    # the floor of these measurements: the true chain on the very tokens every run is scored on
    cfg = mk.config
    H_eval, H_eval_se, n_eval = eval_floor(cfg["corpus"], block_size=cfg["block_size"], batch_size=cfg["batch_size"])
    floor = t["markov_eval_floor"].format(tokens=n_eval, H_eval=H_eval, se=H_eval_se)
    found = abs(E - H_eval) <= E_TOLERANCE
    gap = best - H_eval
    key = "markov_found" if found else "markov_not_found_close" if gap <= E_TOLERANCE else "markov_not_found_far"
    if not E_ident["identified"]:
        key, found = "markov_not_identified", False
    verdict = t[key].format(E=E, diff=E - H_eval, lo=E_iv[0] if E_iv else math.nan,
                            hi=E_iv[1] if E_iv else math.nan, best=best, gap=gap, tol=E_TOLERANCE,
                            why=_why("E", E_ident, E, t["ident"]["kind_non_embedding"], t["ident"]))
    E_sat, sat_iv, sat_ident = sat.params["E"], _iv(sat, "E"), sat.identification["E"]
    saturating = t["markov_saturating" if sat_ident["identified"] else "markov_saturating_not_identified"].format(
        E=E_sat, lo=sat_iv[0] if sat_iv else math.nan, hi=sat_iv[1] if sat_iv else math.nan, diff=E_sat - H_eval,
        why=_why("E", sat_ident, E_sat, t["ident"]["kind_non_embedding"], t["ident"]))
    fig, ax = _fig()
    mch.plot(ax)
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:.3g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.axhline(H, color="k", ls=":", lw=1.2, label=f"entropy rate H = {H:.3f}")
    ax.axhline(H_eval, color="0.45", ls=(0, (1, 3)), lw=1.2, label=f"true chain on the evaluation tokens F = {H_eval:.3f}")
    ax.axhline(E, color="tab:red", ls="--", lw=1.0, label=f"fitted E (Chinchilla form) = {E:.3f}"
               + ("" if E_ident["identified"] else ", not identified"))
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
    hidden = {k for k, e in (("markov_E", E_ident), ("markov_E_saturating", sat_ident)) if not e["identified"]}
    numbers = [n for n in numbers if n.key not in hidden]   # not identified: the caption says so, no number
    results["markov"] = {**mk.to_dict(), "chinchilla": mch.to_dict(), "saturating": sat.to_dict(), "entropy_rate": H,
                         "E": E, "E_interval": E_iv, "E_found": bool(found), "tolerance": E_TOLERANCE,
                         "E_saturating": E_sat, "E_saturating_interval": sat_iv, "best_loss": best,
                         "eval_floor": H_eval, "eval_floor_se": H_eval_se, "eval_tokens": n_eval}

    results["summary"] = {"alpha_N": a, "alpha_N_interval": a_iv, "chinchilla": _fit_summary(ch),
                          "chinchilla_total": _fit_summary(ch_total), "markov_E": E,
                          "markov_E_identified": E_ident["identified"],
                          "markov_E_saturating_identified": sat_ident["identified"],
                          "markov_E_saturating": E_sat, "markov_entropy_rate": H,
                          "python_elapsed_s": runs.elapsed_s, "markov_elapsed_s": mk.elapsed_s}
    lo, hi = a_iv if a_iv else (a, a)
    relation = t["rel_below"] if hi < kap["alpha"] else t["rel_above"] if lo > kap["alpha"] else t["rel_consistent"]
    paragraphs = list(t["intro"]) + [t["closing"].format(alpha=a, lo=lo, hi=hi, relation=relation,
                                                         kaplan=kap["alpha"], D=d_top)]
    return Section("scaling", t["title"], paragraphs, figures, numbers, results)
