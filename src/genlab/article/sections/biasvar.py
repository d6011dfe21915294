"""§3 of the article: the bias-variance decomposition measured with 100,000 datasets (Figs 6-12, ridge)."""

from __future__ import annotations

import numpy as np

from ...data.sources import ARTICLE_N, ARTICLE_SOURCE, SyntheticSource
from ...analysis.biasvar import decompose_polynomial
from ...analysis.biasvar.tails import extrapolation_share
from ...core.stats import VERDICTS
from . import ARTICLE_YLIM
from ..report.i18n import load_text
from ..report.model import Figure, Number, Section

COMPLEX_TARGET = "sin(2*pi*x) + 2*x**2"


def section(*, quick: bool = False, lang: str = "en", seed: int = 0, jobs: int = 1) -> Section:
    """§3: Figs 6-12 and the ridge figure, with the numbers measured in this run.

    Long because it lays out the section's figures in the article's order, each a few lines of
    the same shape; splitting them would only scatter the article's order over functions.
    """
    import matplotlib.pyplot as plt

    t = load_text(lang)["biasvar"]
    src, n = ARTICLE_SOURCE, ARTICLE_N
    n_datasets = 4_000 if quick else 100_000
    kw = dict(n=n, seed=seed, jobs=jobs)
    main = decompose_polynomial(src, range(0, 30), n_datasets=n_datasets, **kw)
    deg30 = decompose_polynomial(src, [30], n_datasets=n_datasets, basis="monomial", solver="lstsq", **kw)
    complex_src = SyntheticSource(COMPLEX_TARGET, src.noise, src.x_dist)
    cplx = decompose_polynomial(complex_src, range(0, 11), n_datasets=n_datasets // 5, **kw)
    alphas = np.logspace(-12, 2, 15)
    ridge = decompose_polynomial(src, [30], alphas=alphas, n_datasets=n_datasets // 10, **kw)

    figures = []
    conv = main.summary()
    shown = conv[conv["degree"] <= 12]
    best = int(shown.loc[shown["error"].idxmin(), "degree"])
    verdict = np.array(main.tail["verdict"])
    finite_mean = np.isin(verdict, VERDICTS[:3])
    theory = main.tail_theory
    tails = _tail_numbers(main, theory, verdict)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    sub = decompose_subset(main, 12)
    sub.plot(ax)
    figures.append(Figure("fig6", t["fig6_title"], t["fig6_caption"].format(
        n_datasets=n_datasets, n=n, noise=src.noise, best=best), fig, sub.summary()))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    main.plot_tails(ax)
    figures.append(Figure("tails", t["tails_title"], t["tails_caption"].format(**tails), fig,
                          main.summary()[["degree", "tail_index", "tail_index_lo", "tail_index_hi", "tail_verdict",
                                          "theory_tail_index", "theory_verdict", "theory_local_index_lo",
                                          "theory_local_index_hi"]]))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    cplx.plot(ax)
    cok = np.isin(cplx.tail["verdict"], VERDICTS[:3])
    cbest = int(cplx.values[np.argmin(np.where(cok, cplx.error, np.inf))])
    figures.append(Figure("fig6b", t["fig6b_title"].format(target=COMPLEX_TARGET),
                          t["fig6b_caption"].format(best=cbest), fig, cplx.summary()))

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
    for ax, (res, deg) in zip(axes, [(main, 1), (main, 2), (deg30, 30)]):
        i = res.index(deg)
        order = np.argsort(res.x_test)
        for f in res.first_fits[:5, i]:
            ax.plot(res.x_test[order], f[order], lw=1.4)
        ax.plot(res.x_test[order], res.ybar[order], color="0.3", ls="--", lw=1)
        ax.set_ylim(*ARTICLE_YLIM)
        ax.set_title(f"degree {deg}")
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")
    plotly, hint = dataset_slider([(main, 1), (main, 2), (deg30, 30)], lang=lang)
    figures.append(Figure("fig7", t["fig7_title"], t["fig7_caption"], fig, plotly=plotly, hint=hint))

    for key, res, deg, extra in [("fig10", main, 1, {}), ("fig11", main, 2, {}), ("fig12", deg30, 30, {})]:
        i = res.index(deg)
        fig, ax = plt.subplots(figsize=(5.2, 3.8))
        res.plot_fits(deg, ax, ylim=ARTICLE_YLIM)
        fmt = dict(n_datasets=n_datasets, bias2=res.bias2[i], bias2_se=res.bias2_se[i], variance=res.variance[i],
                   variance_se=res.variance_se[i], mean=res.error[i], median=res.error_median[i],
                   index=res.tail["index"][i], lo=res.tail["lo"][i], hi=res.tail["hi"][i],
                   verdict=t["verdicts"][VERDICTS.index(res.tail["verdict"][i])], **extra)
        import pandas as pd

        data = pd.DataFrame({"x": res.x_test, "hbar": res.hbar[i], "ybar": res.ybar, "variance": res.var_x[i]})
        figures.append(Figure(key, t[f"{key}_title"].format(**fmt), t[f"{key}_caption"].format(**fmt), fig, data))

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ridge.plot(ax)
    ax.set_xscale("log")
    ax.set_xlabel("ridge α (degree 30)")
    rbest = int(np.argmin(ridge.error))
    plotly, hint = alpha_slider(ridge, lang=lang, active=rbest)
    figures.append(Figure("ridge", t["ridge_title"], t["ridge_caption"].format(
        n_datasets=n_datasets // 10, best_err=ridge.error[rbest], best_alpha=ridge.values[rbest],
        worst_err=ridge.error[0], worst_alpha=ridge.values[0], quad_err=main.error[2]), fig, ridge.summary(),
        plotly=plotly, hint=hint))

    max_z = float(np.nanmax(np.abs(main.identity_z[finite_mean]))) if finite_mean.any() else float("nan")
    extrap = extrapolation_share(main, src, seed=seed)
    d8 = main.index(8)
    lbl = t["numbers"]
    numbers = [
        Number("bias2_degree1", lbl["bias2_degree1"], main.bias2[1], se=_se(main, "bias2_se", 1)),
        Number("variance_degree2", lbl["variance_degree2"], main.variance[2], se=_se(main, "variance_se", 2)),
        Number("noise", lbl["noise"], main.noise[0], se=main.noise_se[0]),
        Number("error_degree2", lbl["error_degree2"], main.error[2], se=_se(main, "error_se", 2)),
        Number("identity_max_z", lbl["identity_max_z"], max_z),
        Number("identity_se_degree2", lbl["identity_se_degree2"], main.identity_se[2]),
        Number("first_infinite_variance", lbl["first_infinite_variance"], tails["meas_var"]),
        Number("first_infinite_mean", lbl["first_infinite_mean"], tails["meas_mean"]),
        Number("theory_infinite_variance", lbl["theory_infinite_variance"], tails["theory_var"]),
        Number("theory_infinite_mean", lbl["theory_infinite_mean"], tails["theory_mean"]),
        Number("tail_index_degree8", lbl["tail_index_degree8"], main.tail["index"][d8],
               note=f"[{main.tail['lo'][d8]:.2f}, {main.tail['hi'][d8]:.2f}]"),
        Number("extrapolation_share_degree8", lbl["extrapolation_share_degree8"], float(extrap["share"][d8])),
        Number("error_degree30_mean", lbl["error_degree30_mean"], deg30.error[0],
               note=t["verdicts"][VERDICTS.index(deg30.tail["verdict"][0])]),
        Number("error_degree30_median", lbl["error_degree30_median"], deg30.error_median[0]),
        Number("ridge_best_error", lbl["ridge_best_error"], ridge.error[rbest], se=_se(ridge, "error_se", rbest)),
    ]
    intro = [p.format(n=n, max_z=max_z, id_se=main.identity_se[2], frac=extrap["fraction"],
                      share8=float(extrap["share"][d8]), **tails) for p in t["intro"]]
    results = {"degrees_0_29": main.to_dict(), "degree30": deg30.to_dict(), "complex_target": cplx.to_dict(),
               "ridge_degree30": ridge.to_dict()}
    return Section("biasvar", t["title"], intro, figures, numbers, results)


def _se(res, name: str, i: int):
    """A standard error where the measured tail makes one valid, else None (the number is shown without)."""
    return getattr(res, name)[i] if res.se_valid[i] else None


def _tail_numbers(main, theory, verdict) -> dict:
    """The first degrees whose tails are too heavy, measured and in theory, and the windows sampled."""
    deg = np.asarray(main.values)

    def first(mask):
        return int(deg[np.argmax(mask)]) if mask.any() else -1

    out = {"meas_var": first(~np.isin(verdict, VERDICTS[:1])), "meas_mean": first(np.isin(verdict, VERDICTS[4:5])),
           "k": main.tail["k"], "n_datasets": main.n_datasets, "theory_var": -1, "theory_mean": -1,
           "a_lo": float("nan"), "a_hi": float("nan"), "overlap": 0, "checked": 0, "mid_lo": -1, "mid_hi": -1}
    if theory is not None:
        tv = np.array(theory["verdict"])
        out.update(theory_var=first(tv != VERDICTS[0]), theory_mean=first(tv == VERDICTS[4]),
                   a_lo=theory["windows"][0], a_hi=theory["windows"][1])
        # where the window mechanism should set the sampled tail: past the light degrees, short of interpolation
        mid = (deg >= 4) & (deg <= main.n - 5)
        t = main.tail
        overlap = (t["lo"] <= theory["local_hi"]) & (t["hi"] >= theory["local_lo"])
        out.update(overlap=int((overlap & mid).sum()), checked=int(mid.sum()),
                   mid_lo=int(deg[mid].min()) if mid.any() else -1, mid_hi=int(deg[mid].max()) if mid.any() else -1)
    return out


def decompose_subset(res, max_degree: int):
    """The same result restricted to degrees <= max_degree (for a readable figure)."""
    from dataclasses import fields, replace

    keep = np.asarray(res.values) <= max_degree
    kw = {}
    for f in fields(res):
        v = getattr(res, f.name)
        if f.name in ("labels",):
            kw[f.name] = [lbl for lbl, k in zip(v, keep) if k]
        elif f.name in ("first_fits", "per_dataset_error", "per_dataset_dist"):
            kw[f.name] = v[:, keep]
        elif f.name == "per_dataset_noise":
            continue
        elif isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == keep.size and f.name not in ("x_test", "ybar"):
            kw[f.name] = v[keep]
    return replace(res, **kw)


def dataset_slider(panels, *, lang: str = "en", n_fits: int = 50):
    """Figs 7-9, interactive: a slider over the training set moves one fit per degree.

    ``panels`` are ``(BiasVariance result, degree)`` pairs; each panel shows ȳ, h̄, the
    band h̄ ± 2 standard deviations of the fits (the variance, per x) and the fit of
    dataset k, for the first ``n_fits`` datasets. Returns ``(plotly figure, hint)``.
    """
    from ..report.interactive import COLORS, Panel, Trace, slider_figure

    t, w = load_text(lang)["biasvar"], load_text(lang)["report"]["plot"]
    n_fits = min(n_fits, *(len(res.first_fits) for res, _ in panels))
    out = []
    for j, (res, deg) in enumerate(panels):
        i = res.index(deg)
        order = np.argsort(res.x_test)
        x, hbar, sd = res.x_test[order], res.hbar[i][order], np.sqrt(res.var_x[i][order])
        first = j == 0
        out.append(Panel([
            Trace(w["spread"], x, (hbar - 2 * sd, hbar + 2 * sd), kind="band", color=COLORS["red"], legend=first,
                  group="spread"),
            Trace(w["truth"], x, res.ybar[order], color=COLORS["grey"], dash="dash", width=1, legend=first,
                  group="truth"),
            Trace(w["mean_fit"], x, hbar, color="#8b0000", width=2.5, legend=first, group="hbar"),
            Trace(w["fit"], x, [res.first_fits[k, i][order] for k in range(n_fits)], moving=True,
                  color=COLORS["blue"], legend=first, group="fit"),
        ], xlabel=w["x"], ylabel=w["y"] if first else "", yrange=ARTICLE_YLIM,
            title=t["fig7_panel"].format(degree=deg)))
    notes = [t["fig7_note"].format(k=k + 1, n_fits=n_fits) for k in range(n_fits)]
    fig = slider_figure(out, steps=[str(k + 1) for k in range(n_fits)], prefix=w["dataset"] + " ", notes=notes)
    return fig, t["fig7_hint"].format(n_fits=n_fits)


def alpha_slider(ridge, *, lang: str = "en", active: int = 0, n_fits: int = 5):
    """The ridge figure, interactive: a slider over α moves five degree-30 fits and h̄ (left)
    and the markers on bias², variance and test error (right, log axes)."""
    from ..report.interactive import COLORS, Panel, Trace, marker, slider_figure

    t, w = load_text(lang)["biasvar"], load_text(lang)["report"]["plot"]
    alphas = np.asarray(ridge.values, dtype=float)
    order = np.argsort(ridge.x_test)
    x = ridge.x_test[order]
    n_fits = min(n_fits, len(ridge.first_fits))
    left = Panel([Trace(w["truth"], x, ridge.ybar[order], color=COLORS["grey"], dash="dash", width=1)]
                 + [Trace(f"{w['fit']} {k + 1}", x, [ridge.first_fits[k, a][order] for a in range(alphas.size)],
                          moving=True, color=COLORS["blue"], width=1.2, opacity=0.6, legend=k == 0, group="fits")
                    for k in range(n_fits)]
                 + [Trace(w["mean_fit"], x, [ridge.hbar[a][order] for a in range(alphas.size)], moving=True,
                          color="#8b0000", width=2.5)],
                 xlabel=w["x"], ylabel=w["y"], yrange=ARTICLE_YLIM)
    curves = [(w["bias2"], ridge.bias2, COLORS["blue"]), (w["variance"], ridge.variance, COLORS["orange"]),
              (w["test_error"], ridge.error, COLORS["red"])]
    right = Panel([Trace(name, alphas, np.where(v > 0, v, np.nan), color=c, group=name) for name, v, c in curves]
                  + [m for name, v, c in curves for m in marker(name, alphas, np.where(v > 0, v, np.nan), color=c)],
                  xlabel=w["alpha"], ylabel="", logx=True, logy=True)
    notes = [t["ridge_note"].format(alpha=a, bias2=b, variance=v, error=e)
             for a, b, v, e in zip(alphas, ridge.bias2, ridge.variance, ridge.error)]
    fig = slider_figure([left, right], steps=[f"{a:.2g}" for a in alphas], prefix=w["alpha"] + " = ", notes=notes,
                        active=active)
    return fig, t["ridge_hint"].format(n_fits=n_fits)
