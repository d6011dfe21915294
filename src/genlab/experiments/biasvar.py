"""§3 of the article: the bias-variance decomposition measured with 100,000 datasets (Figs 6-12, ridge)."""

from __future__ import annotations

import numpy as np

from ..data import ARTICLE_N, ARTICLE_SOURCE, SyntheticSource
from ..decompose import decompose_polynomial
from ..report.i18n import load_text
from ..report.model import Figure, Number, Section

COMPLEX_TARGET = "sin(2*pi*x) + 2*x**2"


def section(*, quick: bool = False, lang: str = "en", seed: int = 0, jobs: int = 1) -> Section:
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
    first_bad = int(main.values[np.argmax(~main.converged)]) if (~main.converged).any() else 30

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    sub = decompose_subset(main, 12)
    sub.plot(ax)
    figures.append(Figure("fig6", t["fig6_title"], t["fig6_caption"].format(
        n_datasets=n_datasets, n=n, noise=src.noise, best=best), fig, sub.summary()))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    cplx.plot(ax)
    cbest = int(cplx.values[np.argmin(np.where(cplx.converged, cplx.error, np.inf))])
    figures.append(Figure("fig6b", t["fig6b_title"].format(target=COMPLEX_TARGET),
                          t["fig6b_caption"].format(best=cbest), fig, cplx.summary()))

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
    for ax, (res, deg) in zip(axes, [(main, 1), (main, 2), (deg30, 30)]):
        i = res.index(deg)
        order = np.argsort(res.x_test)
        for f in res.first_fits[:5, i]:
            ax.plot(res.x_test[order], f[order], lw=1.4)
        ax.plot(res.x_test[order], res.ybar[order], color="0.3", ls="--", lw=1)
        ax.set_ylim(0.5, 3.5)
        ax.set_title(f"degree {deg}")
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")
    figures.append(Figure("fig7", t["fig7_title"], t["fig7_caption"], fig))

    for key, res, deg, extra in [("fig10", main, 1, {}), ("fig11", main, 2, {}), ("fig12", deg30, 30, {})]:
        i = res.index(deg)
        fig, ax = plt.subplots(figsize=(5.2, 3.8))
        res.plot_fits(deg, ax)
        fmt = dict(n_datasets=n_datasets, bias2=res.bias2[i], bias2_se=res.bias2_se[i], variance=res.variance[i],
                   variance_se=res.variance_se[i], mean=res.error[i], median=res.error_median[i], **extra)
        import pandas as pd

        data = pd.DataFrame({"x": res.x_test, "hbar": res.hbar[i], "ybar": res.ybar, "variance": res.var_x[i]})
        figures.append(Figure(key, t[f"{key}_title"].format(**fmt), t[f"{key}_caption"].format(**fmt), fig, data))

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ridge.plot(ax)
    ax.set_xscale("log")
    ax.set_xlabel("ridge α (degree 30)")
    rbest = int(np.argmin(ridge.error))
    figures.append(Figure("ridge", t["ridge_title"], t["ridge_caption"].format(
        n_datasets=n_datasets // 10, best_err=ridge.error[rbest], best_alpha=ridge.values[rbest],
        worst_err=ridge.error[0], worst_alpha=ridge.values[0], quad_err=main.error[2]), fig, ridge.summary()))

    ok = main.converged
    max_z = float(np.max(np.abs(main.identity_z[ok]))) if ok.any() else float("nan")
    numbers = [
        Number("bias2_degree1", "bias², degree 1", main.bias2[1], se=main.bias2_se[1]),
        Number("variance_degree2", "variance, degree 2", main.variance[2], se=main.variance_se[2]),
        Number("noise", "noise (σ² = 0.01)", main.noise[0], se=main.noise_se[0]),
        Number("error_degree2", "test error, degree 2 (measured)", main.error[2], se=main.error_se[2]),
        Number("identity_max_z", "largest |sum − measured| / s.e. over converged degrees", max_z),
        Number("first_unconverged", "first degree whose mean has not converged", first_bad),
        Number("error_degree30_mean", "test error, degree 30: mean", deg30.error[0], se=deg30.error_se[0],
               note="heavy-tailed: not converged"),
        Number("error_degree30_median", "test error, degree 30: median", deg30.error_median[0]),
        Number("ridge_best_error", "best ridge test error at degree 30", ridge.error[rbest], se=ridge.error_se[rbest]),
    ]
    intro = [p.format(n_datasets=n_datasets, n=n, max_z=max_z, first_bad=first_bad) for p in t["intro"]]
    results = {"degrees_0_29": main.to_dict(), "degree30": deg30.to_dict(), "complex_target": cplx.to_dict(),
               "ridge_degree30": ridge.to_dict()}
    return Section("biasvar", t["title"], intro, figures, numbers, results)


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
        elif isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == keep.size and f.name not in ("x_test", "ybar"):
            kw[f.name] = v[keep]
    return replace(res, **kw)
