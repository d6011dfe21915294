"""§2 of the article: fits of growing degree, their training RMSE, and the
train/validation curve (Figs 1-5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...analysis.curves import capacity_curve
from ...data.sources import ARTICLE_N, ARTICLE_SOURCE, SyntheticSource
from ...analysis.fitting import fit_polynomial, fixed_line
from . import ARTICLE_YLIM
from ..report.i18n import load_text
from ..report.model import Figure, Number, Section
from ...core.seeding import rng as make_rng

#: The article's training RMSEs (§2.1-2.2).
ARTICLE_RMSE = {"line": 0.188, "wrong_line": 1.49, "quadratic": 0.107, "degree30": 0.046}
BIG_DEGREE = 30


def article_fits(dataset, source: SyntheticSource = ARTICLE_SOURCE):
    """The four models of Figs 1-4 on one dataset, as the article fits them
    (monomial basis, np.polyfit's least-squares cut-off)."""
    kw = dict(basis="monomial", solver="lstsq", source=source, quiet=True)
    return {
        "line": fit_polynomial(dataset, 1, **kw),
        "wrong_line": fixed_line(dataset, -2.0, 2.0, source=source),
        "quadratic": fit_polynomial(dataset, 2, **kw),
        "degree30": fit_polynomial(dataset, BIG_DEGREE, **kw),
    }


@dataclass
class Fidelity:
    """Training RMSEs of the article's four models over many datasets."""

    seeds: np.ndarray
    rmse: dict[str, np.ndarray]  # model -> (n_datasets,)

    def percentiles(self, q=(5, 50, 95)) -> dict[str, list[float]]:
        return {k: np.percentile(v, q).tolist() for k, v in self.rmse.items()}

    @property
    def closest_seed(self) -> int:
        """The dataset whose four RMSEs are closest to the article's (in log ratio)."""
        dist = sum(np.log(self.rmse[k] / ARTICLE_RMSE[k]) ** 2 for k in ARTICLE_RMSE)
        return int(self.seeds[np.argmin(dist)])


def fidelity(n_datasets: int = 200, *, n: int = ARTICLE_N, source: SyntheticSource = ARTICLE_SOURCE) -> Fidelity:
    """The article's four training RMSEs on the datasets of seeds ``0..n_datasets-1``."""
    seeds = np.arange(n_datasets)
    rmse = {k: np.empty(n_datasets) for k in ARTICLE_RMSE}
    for i, s in enumerate(seeds):
        for k, r in article_fits(source.draw(n, int(s), "data"), source).items():
            rmse[k][i] = r.train_rmse
    return Fidelity(seeds, rmse)


def section(*, seed: int | None = None, quick: bool = False, lang: str = "en") -> Section:
    """§2 as a report section. ``seed=None`` shows the dataset closest to the article's numbers."""
    import matplotlib.pyplot as plt
    import pandas as pd

    t = load_text(lang)["overfitting"]
    source, n = ARTICLE_SOURCE, ARTICLE_N
    fid = fidelity(50 if quick else 200, n=n, source=source)
    seed = fid.closest_seed if seed is None else seed
    data = source.draw(n, seed, "data")
    fits = article_fits(data, source)

    figures = []
    grid = np.linspace(0, 1, 401)
    for i, (key, extra) in enumerate([("line", {}), ("wrong_line", {}), ("quadratic", {}),
                                      ("degree30", {"degree": BIG_DEGREE})], start=1):
        fit = fits[key]
        fig, ax = plt.subplots(figsize=(5.2, 3.8))
        fit.plot(ax, ylim=ARTICLE_YLIM)
        pred = fit.predict(grid)
        extra.update(rmse=fit.train_rmse, ymin=pred.min(), xmin=grid[np.argmin(pred)],
                     params=fit.n_params, n=n)
        frame = pd.DataFrame({"x": grid, "prediction": pred, "truth": source.mean(grid)})
        figures.append(Figure(f"fig{i}", t[f"fig{i}_title"].format(**extra), t[f"fig{i}_caption"].format(**extra),
                              fig, frame))

    repeats = 50 if quick else 200
    curve = capacity_curve(source, range(0, 31), n=n, method="holdout", val_fraction=1 / 3,
                           repeats=repeats, seed=seed)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    curve.plot(ax)
    plotly, hint = degree_slider(data, source, curve, seed=seed, lang=lang)
    figures.append(Figure("fig5", t["fig5_title"],
                          t["fig5_caption"].format(repeats=repeats, n=n, n_train=curve.n_train,
                                                   n_val=n - curve.n_train, best=curve.best_degree,
                                                   threshold=curve.n_train - 1, basis=t["basis_legendre"],
                                                   solver=t["solver_lstsq"]),
                          fig, curve.summary(), plotly=plotly, hint=hint))

    pct = fid.percentiles()
    labels = t["numbers"]
    numbers = [Number(k, labels[k], fits[k].train_rmse, interval=(pct[k][0], pct[k][2]),
                      interval_label=labels["interval"].format(n_datasets=len(fid.seeds)), article=ARTICLE_RMSE[k])
               for k in ARTICLE_RMSE]
    s = curve.summary().set_index("degree")
    numbers.append(Number("best_degree", labels["best_degree"], curve.best_degree))
    numbers.append(Number("val_rmse_best", labels["val_rmse_best"],
                          float(s.loc[curve.best_degree, "val_mean"]), se=float(s.loc[curve.best_degree, "val_se"])))
    intro = [p.format(seed=seed, n_datasets=len(fid.seeds), big_degree=BIG_DEGREE, big_params=BIG_DEGREE + 1, n=n)
             for p in t["intro"]]
    results = {"seed": seed, "n": n, "source": source.describe(),
               "fits": {k: f.to_dict() for k, f in fits.items()},
               "fidelity": {"n_datasets": len(fid.seeds), "percentiles_5_50_95": pct, "article": ARTICLE_RMSE},
               "capacity": curve.to_dict()}
    return Section("overfitting", t["title"], intro, figures, numbers, results)


def degree_slider(data, source: SyntheticSource, curve, *, seed: int, lang: str = "en", active: int = 2):
    """Fig 5, interactive: a slider over the degree moves the fit (left) and its errors (right) together.

    ``data`` is split as Fig 5's repeats are (``curve.n_train`` training points, the
    rest for validation); each degree is fitted as there (Legendre, least squares).
    Returns ``(plotly figure, hint)``.
    """
    from ..report.interactive import COLORS, Panel, Trace, marker, slider_figure
    from ...core.stats import summarize

    t, w = load_text(lang)["overfitting"], load_text(lang)["report"]["plot"]
    train, val = data.split(curve.n_train, make_rng(seed, "report", "fig5-split"))
    degrees = np.asarray(curve.degrees)
    grid = np.linspace(*source.x_dist.support, 301) if source.x_dist.support else np.linspace(0, 1, 301)
    fits = [fit_polynomial(train, int(d), basis="legendre", solver="lstsq", source=source, validation=val, quiet=True)
            for d in degrees]
    tr = np.array([f.train_rmse for f in fits])
    va = np.array([f.val_rmse for f in fits])
    st, sv = summarize(curve.train_rmse), summarize(curve.val_rmse)
    k = len(curve.train_rmse)
    left = Panel([
        Trace(w["truth"], grid, source.mean(grid), color=COLORS["grey"], dash="dash", width=1),
        Trace(w["train_points"], train.x, train.y, kind="points", color=COLORS["blue"], size=7),
        Trace(w["val_points"], val.x, val.y, kind="points", color=COLORS["green"], size=8, symbol="x"),
        Trace(w["fit"], grid, [f.predict(grid) for f in fits], moving=True, color=COLORS["red"], width=2.5),
    ], xlabel=w["x"], ylabel=w["y"], yrange=ARTICLE_YLIM)
    right = Panel([
        Trace(t["fig5_band"].format(name=w["training"], k=k), degrees, (st["q25"], st["q75"]), kind="band",
              color=COLORS["blue"], group="train", legend=False),
        Trace(t["fig5_band"].format(name=w["validation"], k=k), degrees, (sv["q25"], sv["q75"]), kind="band",
              color=COLORS["orange"], group="val", legend=False),
        Trace(w["training"], degrees, tr, color=COLORS["blue"], group="train"),
        Trace(w["validation"], degrees, va, color=COLORS["orange"], group="val"),
        *marker(w["training"], degrees, tr, color=COLORS["blue"]),
        *marker(w["validation"], degrees, va, color=COLORS["orange"]),
    ], xlabel=w["degree"], ylabel=w["rmse"], logy=True, yrange=(1e-3, 1e4))
    notes = [t["fig5_note"].format(degree=int(d), params=int(d) + 1, train=a, val=b) for d, a, b in zip(degrees, tr, va)]
    active = int(np.searchsorted(degrees, active)) if active in degrees else 0
    fig = slider_figure([left, right], steps=[str(int(d)) for d in degrees], prefix=w["degree"] + " = ",
                        notes=notes, active=active)
    return fig, t["fig5_hint"].format(n_train=train.n, n_val=val.n, k=k, threshold=train.n - 1)
