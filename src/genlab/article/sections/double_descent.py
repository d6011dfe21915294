"""§4.1 (double descent) and §4.2 (regularization) of the article as report sections.

Every sweep goes through the results store when ``store`` is given (the
article's ``OUT/runs.sqlite``), so a rerun after a crash reuses finished jobs.
"""

from __future__ import annotations

import numpy as np

from . import ARTICLE_YLIM
from ..report.i18n import load_text
from ..report.model import Figure, Number, Section


def _fig(figsize=(6.4, 4.2), ncols=1):
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=figsize)


def _monotone_rise(values) -> float:
    """Largest rise of a curve above its running minimum, relative to that minimum."""
    v = np.asarray(values, dtype=float)
    run = np.minimum.accumulate(v)
    return float(np.max((v - run) / run))


def _poly_verdict(basis: str, curve, t) -> str:
    """One basis's second descent against its classical minimum, in the report's language."""
    mn = curve.minimum
    if mn["ratio"] is None:
        return t["poly_verdict_none"].format(basis=basis)
    return t["poly_verdict"].format(
        basis=basis, ratio=mn["ratio"], relation=t["poly_below" if mn["ratio"] < 1 else "poly_above"],
        after=mn["after_peak"]["value"], after_at=mn["after_peak"]["at"], classical=mn["classical"]["value"],
        classical_at=mn["classical"]["at"])


def _ablation_verdict(key: str, d: dict, t) -> str:
    """The baseline's peak, or one ablation's error near the threshold against it, in the report's language."""
    name = t["ablation_names"].get(key, key)
    if key == "baseline":
        return t["ablation_baseline"].format(name=name, **d)
    return t["ablation_verdict"].format(name=name, **d)


#: §4.1's crossed data × seed sweep of an MLP on digits: (widths, data draws R, seeds S, epochs), full and quick;
#: sized so that the full one adds about a minute of CPU on 2 cores (bench/crossed.py), the quick one seconds
CROSSED = {False: ((2, 4, 8, 16, 32, 64, 128, 256), 4, 6, 300), True: ((2, 4, 8, 16, 64), 3, 4, 300)}
CROSSED_N, CROSSED_NOISE = 100, 0.0


def crossed_mlp(*, quick: bool = False, seed: int = 0, jobs=None, store=None):
    """The MLP's variance across width split into data, seed and interaction (:func:`crossed_sweep`): one
    hidden ReLU layer trained by full-batch Adam (cross-entropy) on n = 100 digits (clean labels: the variance
    peak is then clear, below the threshold; with 20% flipped it is flat past it), squared error of the class
    probabilities on 200 held-out digits."""
    from ...analysis.crossed import crossed_sweep
    from ...models import TorchMLPClassifier

    widths, R, S, epochs = CROSSED[bool(quick)]
    est = TorchMLPClassifier(width=widths[0], epochs=epochs, lr=1e-2, batch_size=None, device="cpu")
    return crossed_sweep(est, knob="width", values=widths, data="digits", R=R, S=S, n_train=CROSSED_N, n_test=200,
                         label_noise=CROSSED_NOISE, seed=seed, jobs=jobs, store=store)


def _crossed_figure(res, t, lbl, epochs: int):
    """The crossed split's figure (the parts against width; the ensembles) and its numbers."""
    at, last = int(np.nanargmax(res.total)), len(res.values) - 1
    parts = {"data": res.v_data, "init": res.v_init, "interaction": res.v_interaction}
    share = {(p, w): float(v[i] / res.total[i]) for p, v in parts.items() for w, i in (("peak", at), ("last", last))}
    k4 = min(4, res.S)
    ens = {"one": res.error[at], "four": res.ensemble[at, k4 - 1], "all": res.ensemble[at, -1]}
    fig, (a1, a2) = _fig((12, 4), 2)
    res.plot(a1)
    res.plot_ensembles(a2)
    dominant = max(parts, key=lambda p: share[(p, "peak")])
    caption = t["crossed_caption"].format(
        R=res.R, S=res.S, n=CROSSED_N, noise=CROSSED_NOISE, epochs=epochs,
        threshold=res.threshold, peak=res.peak, last=res.values[last], dominant=t["crossed_parts"][dominant],
        data_peak=share[("data", "peak")], init_peak=share[("init", "peak")],
        int_peak=share[("interaction", "peak")], data_last=share[("data", "last")],
        init_last=share[("init", "last")], int_last=share[("interaction", "last")], k4=k4, one=ens["one"],
        four=ens["four"], all=ens["all"])
    se = res.ensemble_se[at]
    numbers = [Number("crossed_peak_width", lbl["crossed_peak_width"], float(res.peak),
                      note=f"threshold {res.threshold:.1f}"),
               *(Number(f"crossed_{p}_share_{w}", lbl[f"crossed_{p}_share_{w}"], share[(p, w)])
                 for w in ("peak", "last") for p in parts),
               Number("crossed_error_at_peak", lbl["crossed_error_at_peak"], float(ens["one"]),
                      se=float(res.error_se[at])),
               Number("crossed_ensemble4_at_peak", lbl["crossed_ensemble4_at_peak"].format(k=k4), float(ens["four"]),
                      se=float(se[k4 - 1])),
               Number("crossed_ensemble_all_at_peak", lbl["crossed_ensemble_all_at_peak"].format(k=res.S),
                      float(ens["all"]), se=float(se[-1]))]
    return Figure("crossed", t["crossed_title"], caption, fig, res.summary()), numbers


def sweeps(*, quick: bool = False, seed: int = 0, jobs=None, store=None) -> dict:
    """The sweeps of §4.1 and §4.2, each a function of no arguments (see :func:`genlab.article.build.plan`):
    the sections call them, and the article's plan runs their jobs beforehand on one pool."""
    from ...analysis import double_descent as dd
    from ...analysis.regularize import regularizers_side_by_side, sample_wise_linear

    kw = dict(seed=seed, jobs=jobs, store=store)
    n_rf, seeds_rf = (100, 3) if quick else (400, 5)
    sw_seeds = 10 if quick else 40
    return {
        "rf": lambda: dd.random_features_sweep("digits", kind="relu", n_train=n_rf, seeds=seeds_rf, **kw),
        "label_noise": lambda: dd.label_noise_sweep("digits", rates=(0.0, 0.1, 0.2), n_train=100,
                                                    seeds=3 if quick else 5, **kw),
        "poly": lambda: dd.polynomial_model_wise(n=15, seeds=8 if quick else 20, **kw),
        "mlp": lambda: dd.mlp_width_sweep("digits", label_noise=0.2, quick=quick, **kw),
        "samples": lambda: sample_wise_linear(d=100, ridge="none", seeds=sw_seeds, **{**kw, "jobs": jobs or 1}),
        "epochs": lambda: dd.epoch_wise(seeds=8 if quick else 20, **kw),
        "split": lambda: dd.random_features_variance_split("digits", n_train=100, data_seeds=4 if quick else 8,
                                                           feature_seeds=4 if quick else 8, **kw),
        "optimal_ridge": lambda: sample_wise_linear(d=100, ridge="optimal", seeds=sw_seeds,
                                                    **{**kw, "jobs": jobs or 1}),
        "tuned": lambda: dd.random_features_sweep("digits", n_train=n_rf, seeds=seeds_rf, ridge="tuned", **kw),
        "free": lambda: dd.random_features_sweep("digits", n_train=n_rf, seeds=seeds_rf, **kw),
        "side": lambda: regularizers_side_by_side("digits", quick=quick, **kw),
        "crossed": lambda: crossed_mlp(quick=quick, **kw),
        "ablations": lambda: dd.schaeffer_ablations("diabetes", seeds=20 if quick else 50, **{**kw, "jobs": jobs or 1}),
    }


#: The sweeps (keys of :func:`sweeps`) of each section.
SECTION_SWEEPS = {"double_descent": ("mlp", "rf", "label_noise", "split", "crossed", "poly", "samples", "epochs", "ablations"),
                  "regularization": ("side", "tuned", "free", "samples", "optimal_ridge")}


def double_descent_section(*, quick: bool = False, lang: str = "en", seed: int = 0, jobs=None, store=None) -> Section:
    """§4.1: Fig. 13 and the measurements behind why the peak happens.

    Long because it lays out the section's figures in the article's order, each a few lines of
    the same shape; splitting them would only scatter the article's order over functions.
    """
    from ...analysis import double_descent as dd
    from ...analysis.biasvar import decompose_polynomial
    from ...data.sources import ARTICLE_SOURCE

    t = load_text(lang)["double_descent"]
    kw = dict(seed=seed, jobs=jobs, store=store)
    run = sweeps(quick=quick, **kw)
    figures, numbers, results = [], [], {}

    # Fig 13: random ReLU features on digits
    n_rf = 100 if quick else 400
    seeds_rf = 3 if quick else 5
    rf = run["rf"]()
    mn, pk = rf.minimum, rf.peak
    fig, ax = _fig()
    rf.plot(ax)
    plotly, hint = features_slider(rf, n_rf, lang=lang)
    figures.append(Figure("fig13", t["fig13_title"], t["fig13_caption"].format(
        n=n_rf, seeds=seeds_rf, peak=pk, after=mn["after_peak"]["value"], after_at=mn["after_peak"]["at"],
        ratio=mn["ratio"], classical=mn["classical"]["value"], classical_at=mn["classical"]["at"]), fig, rf.summary(),
        plotly=plotly, hint=hint))
    lbl = t["numbers"]
    numbers += [Number("rf_peak_p", lbl["rf_peak_p"], pk, note=f"n = {n_rf}"),
                Number("rf_classical_min", lbl["rf_classical_min"], mn["classical"]["value"]),
                Number("rf_after_peak_min", lbl["rf_after_peak_min"], mn["after_peak"]["value"])]
    results["random_features"] = rf.to_dict()

    # label noise
    fam = run["label_noise"]()
    fig, ax = _fig()
    fam.plot(ax)
    peaks = ", ".join(f"{k}: {fam[k].find_peak()['value']:.3g}" for k in fam)
    figures.append(Figure("label_noise", t["noise_title"], t["noise_caption"].format(peaks=peaks), fig, fam.summary()))
    results["label_noise"] = fam.to_dict()

    # polynomials: the basis decides
    poly = run["poly"]()
    fig, ax = _fig()
    poly.plot(ax)
    verdicts = " ".join(_poly_verdict(b, poly[b], t) for b in poly)
    figures.append(Figure("poly_bases", t["poly_title"], t["poly_caption"].format(n=15, verdicts=verdicts), fig,
                          poly.summary()))
    results["polynomial_bases"] = poly.to_dict()

    # a network
    mlp = run["mlp"]()
    pts = mlp.points
    fig, ax = _fig()
    mlp.plot(ax)
    figures.append(Figure("mlp", t["mlp_title"], t["mlp_caption"].format(
        seeds=mlp.test_error.shape[0], peak=pts.get("peak_width", "—"), interp=mlp.interpolation_width,
        extra=""), fig, mlp.summary()))
    numbers.append(Number("mlp_peak_width", lbl["mlp_peak_width"],
                          pts.get("peak_width", float("nan"))))
    results["mlp_width"] = mlp.to_dict()

    # sample-wise
    sw = run["samples"]()
    fig, ax = _fig()
    sw.plot(ax)
    figures.append(Figure("samples", t["samples_title"], t["samples_caption"].format(
        d=100, sigma=sw.sigma, seeds=sw.test.shape[0], peak=sw.peak_n), fig, sw.summary()))
    numbers.append(Number("samples_peak_n", lbl["samples_peak_n"], sw.peak_n))
    results["sample_wise"] = sw.to_dict()

    # epoch-wise
    ep = run["epochs"]()
    ph = ep.phases
    fig, ax = _fig()
    ep.plot(ax)
    figures.append(Figure("epochs", t["epochs_title"], t["epochs_caption"].format(
        seeds=ep.test.shape[0], first=ph["first_min_test"], first_at=ph["first_min_step"], peak=ph["peak_test"],
        peak_at=ph["peak_step"], second=ph["second_min_test"], second_at=ph["second_min_step"],
        cause=t["epochs_cause"].format(**ep.cause_values)),
        fig, ep.summary()))
    results["epoch_wise"] = ep.to_dict()

    # bias-variance across the curve
    n_bv = 500 if quick else 4000
    bv = decompose_polynomial(ARTICLE_SOURCE, range(0, 61, 2), n=30, n_datasets=n_bv, solver="minnorm",
                              seed=seed, jobs=jobs or 1)
    split = run["split"]()
    fig, (a1, a2) = _fig((12, 4), 2)
    bv.plot(a1, title="polynomials, minimum norm")
    split.plot(a2)
    vpeak = int(bv.values[np.argmax(bv.variance)])
    figures.append(Figure("bias_variance_curve", t["variance_title"], t["variance_caption"].format(
        n_datasets=n_bv, vpeak=vpeak, rfpeak=split.peak), fig, bv.summary()))
    numbers.append(Number("variance_peak_degree", lbl["variance_peak_degree"], vpeak))
    results["bias_variance_curve"] = {"polynomial": bv.to_dict(), "random_features_split": split.to_dict()}

    # where the variance comes from: data, seed and their interaction across an MLP's width
    crossed = run["crossed"]()
    fig_crossed, crossed_numbers = _crossed_figure(crossed, t, lbl, CROSSED[bool(quick)][3])
    figures.append(fig_crossed)
    numbers += crossed_numbers
    results["crossed"] = crossed.to_dict()

    # why the peak
    abl = run["ablations"]()
    svd = dd.singular_value_analysis(abl["baseline"]) if "baseline" in abl.curves else None
    fig, (a1, a2) = _fig((12, 4), 2)
    abl.plot(a1)
    if svd is not None:
        svd.plot(a2)
    verdicts = " ".join(_ablation_verdict(k, abl.details[k], t) for k in abl.verdicts)
    figures.append(Figure("why", t["why_title"], t["why_caption"].format(data="diabetes", verdicts=verdicts), fig,
                          abl.summary()))
    results["ablations"] = abl.to_dict()
    if svd is not None:
        results["singular_values"] = svd.to_dict()
    return Section("double_descent", t["title"], list(t["intro"]), figures, numbers, results)


def regularization_section(*, quick: bool = False, lang: str = "en", seed: int = 0, jobs=None, store=None) -> Section:
    from ...analysis.regularize import implicit_regularization, ridge_cv
    from ...data.sources import ARTICLE_SOURCE

    t = load_text(lang)["regularization"]
    run = sweeps(quick=quick, seed=seed, jobs=jobs, store=store)
    figures, numbers, results = [], [], {}

    data = ARTICLE_SOURCE.draw(30, seed, "data")
    rc = ridge_cv(data, 30, source=ARTICLE_SOURCE, seed=seed)
    fresh = ARTICLE_SOURCE.draw(5000, seed, "fresh")
    fresh_mse = float(np.mean((rc.predict(fresh.x) - fresh.y) ** 2))
    fig, ax = _fig((5.2, 3.8))
    rc.plot(ax, ylim=ARTICLE_YLIM)
    plotly, hint = ridge_cv_slider(rc, lang=lang)
    figures.append(Figure("fig14", t["fig14_title"], t["fig14_caption"].format(
        folds=rc.cv_mse.shape[0], alpha=rc.best_alpha, rmse=rc.train_rmse, fresh=fresh_mse), fig, rc.summary(),
        plotly=plotly, hint=hint))
    lbl = t["numbers"]
    numbers += [Number("fig14_alpha", lbl["fig14_alpha"].format(folds=rc.cv_mse.shape[0]), rc.best_alpha),
                Number("fig14_fresh_mse", lbl["fig14_fresh_mse"], fresh_mse)]
    results["ridge_cv"] = rc.to_dict()

    none = run["samples"]()
    opt = run["optimal_ridge"]()
    fig, ax = _fig()
    none.plot(ax)
    opt.plot(ax)
    rise = _monotone_rise(opt.summary()["test_mean"])
    figures.append(Figure("optimal_ridge", t["optimal_title"], t["optimal_caption"].format(
        lam=opt.lam, rise=rise, peak=float(np.median(none.test, axis=0).max()), peak_n=none.peak_n), fig, opt.summary()))
    numbers.append(Number("optimal_ridge_rise", lbl["optimal_ridge_rise"], rise))
    results["optimal_ridge"] = opt.to_dict()

    tuned = run["tuned"]()
    free = run["free"]()
    fig, ax = _fig()
    free.plot(ax, label="minimum norm")
    tuned.plot(ax, label="tuned ridge")
    trise = _monotone_rise(tuned.median("test_mse"))
    figures.append(Figure("tuned_ridge", t["tuned_title"], t["tuned_caption"].format(
        rise=trise, last=tuned.median("test_mse")[-1], minnorm=free.median("test_mse")[-1]), fig, tuned.summary()))
    numbers.append(Number("tuned_ridge_rise", lbl["tuned_ridge_rise"], trise))
    results["tuned_ridge"] = tuned.to_dict()

    side = run["side"]()
    s = side.summary()
    rows = "; ".join(f"{r['method']} {r['test_mean']:.3f} ± {r['test_se']:.3f}"
                     for r in s.to_dict(orient="records"))
    fig, ax = _fig()
    side.plot(ax)
    figures.append(Figure("side_by_side", t["side_title"], t["side_caption"].format(
        seeds=side.test_error.shape[0], rows=rows), fig, s))
    results["side_by_side"] = side.to_dict()

    imp = implicit_regularization(seed=seed)
    fig, ax = _fig()
    imp.plot(ax)
    figures.append(Figure("implicit", t["implicit_title"], t["implicit_caption"].format(
        p=imp.p, n=imp.n, gap=imp.final_gap, null=imp.null_part), fig, imp.summary()))
    numbers.append(Number("implicit_gap", lbl["implicit_gap"], imp.final_gap))
    results["implicit"] = imp.to_dict()
    return Section("regularization", t["title"], list(t["intro"]), figures, numbers, results)


def features_slider(rf, n_train: int, *, lang: str = "en"):
    """Fig 13, interactive: a slider over the number of random features p moves markers on the
    test and training error (left) and on the coefficient norm and 1/σ_min² (right), log axes:
    the error peaks where the norm explodes, at p = n."""
    from ..report.interactive import COLORS, Panel, Trace, marker, slider_figure

    t, w = load_text(lang)["double_descent"], load_text(lang)["report"]["plot"]
    p = np.asarray(rf.values, dtype=float)

    def med(name, floor=0.0):
        v = rf.median(name)
        return np.where(v > floor, v, np.nan)  # log axes: a zero is not drawn

    test, norm = med("test_mse"), med("coef_norm")
    # past the threshold the training error is zero up to rounding (1e-28): a gap, not a cliff
    zero = 1e-9 * float(np.nanmax(test))
    train = med("train_mse", zero)
    train_note = np.where(rf.median("train_mse") > zero, rf.median("train_mse"), 0.0)
    inv = 1.0 / np.square(med("sigma_min"))
    q = np.percentile(rf.metric("test_mse"), [25, 75], axis=0)
    lo = np.nanmin(np.concatenate([test, train])) * 0.5
    hi = np.nanmax(q[1]) * 2
    left = Panel([
        Trace(t["fig13_band"], p, (q[0], q[1]), kind="band", color=COLORS["red"], legend=False, group="test"),
        Trace(w["test_mse"], p, test, color=COLORS["red"], group="test"),
        Trace(w["train_mse"], p, train, color=COLORS["blue"], group="train"),
        Trace(w["threshold"], [n_train, n_train], [lo, hi], color=COLORS["grey"], dash="dot", width=1),
        *marker(w["test_mse"], p, test, color=COLORS["red"]),
        *marker(w["train_mse"], p, train, color=COLORS["blue"]),
    ], xlabel=w["features"], ylabel="", logx=True, logy=True, yrange=(lo, hi))
    right = Panel([
        Trace(w["coef_norm"], p, norm, color=COLORS["purple"]),
        Trace(w["inv_sigma2"], p, inv, color=COLORS["green"], dash="dash"),
        *marker(w["coef_norm"], p, norm, color=COLORS["purple"]),
        *marker(w["inv_sigma2"], p, inv, color=COLORS["green"]),
    ], xlabel=w["features"], ylabel="", logx=True, logy=True)
    notes = [t["fig13_note"].format(p=int(v), ratio=v / n_train, test=a, train=b, norm=c)
             for v, a, b, c in zip(p, test, train_note, norm)]
    active = int(np.argmin(np.abs(p - n_train / 2)))
    fig = slider_figure([left, right], steps=[str(int(v)) for v in p], prefix="p = ", notes=notes, active=active)
    return fig, t["fig13_hint"].format(n=n_train, seeds=rf.n_seeds)


def ridge_cv_slider(rc, *, lang: str = "en"):
    """Fig 14, interactive: a slider over the ridge α moves the degree-30 fit (left) and a
    marker on the cross-validation error (right, log axes); it starts at the chosen α."""
    from ...linalg.bases import vander, window
    from ...linalg.solvers import ridge_path
    from ..report.interactive import COLORS, Panel, Trace, marker, slider_figure

    t, w = load_text(lang)["regularization"], load_text(lang)["report"]["plot"]
    lo, hi = rc.domain
    x, y = rc.data.x, rc.data.y
    A = vander(window(x, rc.domain), rc.degree, rc.basis)
    coef, _ = ridge_path(A, y, rc.alphas)                         # (P, n_alphas)
    grid = np.linspace(lo, hi, 301)
    preds = [rc.predict(grid, coef[:, j]) for j in range(rc.alphas.size)]
    train = [float(np.sqrt(np.mean((rc.predict(x, coef[:, j]) - y) ** 2))) for j in range(rc.alphas.size)]
    s = rc.summary()
    cv, se = s["cv_mse"].to_numpy(), s["cv_mse_se"].to_numpy()
    best = int(np.argmin(np.abs(rc.alphas - rc.best_alpha)))
    left = Panel([
        *([Trace(w["truth"], grid, rc.source.mean(grid), color=COLORS["grey"], dash="dash", width=1)]
          if rc.source is not None else []),
        Trace(w["no_penalty"], grid, rc.predict(grid, rc.coef_unregularized), color=COLORS["grey"], width=0.8,
              opacity=0.6),
        Trace(w["train_points"], x, y, kind="points", color=COLORS["blue"], size=7),
        Trace(w["ridge_fit"], grid, preds, moving=True, color=COLORS["red"], width=2.5),
    ], xlabel=w["x"], ylabel=w["y"], yrange=ARTICLE_YLIM)
    right = Panel([
        Trace(w["cv_mse"], rc.alphas, (np.maximum(cv - se, cv * 1e-3), cv + se), kind="band", color=COLORS["orange"],
              legend=False, group="cv"),
        Trace(w["cv_mse"], rc.alphas, cv, color=COLORS["orange"], group="cv"),
        Trace(w["chosen"], [rc.best_alpha] * 2, [float(np.min(cv)) * 0.5, float(np.max(cv)) * 2],
              color=COLORS["grey"], dash="dot", width=1),
        *marker(w["cv_mse"], rc.alphas, cv, color=COLORS["orange"]),
    ], xlabel=w["alpha"], ylabel="", logx=True, logy=True)
    notes = [t["fig14_note"].format(alpha=a, cv=c, rmse=r) for a, c, r in zip(rc.alphas, cv, train)]
    fig = slider_figure([left, right], steps=[f"{a:.2g}" for a in rc.alphas], prefix=w["alpha"] + " = ",
                        notes=notes, active=best)
    return fig, t["fig14_hint"].format(folds=rc.cv_mse.shape[0])
