"""The result of every engine: :class:`BiasVariance`, and the reduction of per-block statistics into it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ...core.errors import GenlabError
from ...core.io import records
from ...core.results import Result
from ...core.stats import VERDICTS, running_means, summarize, tail_index, tail_verdict
from .blocks import Block, N_FIRST, merge_blocks

# -- the result -----------------------------------------------------------------

@dataclass
class BiasVariance(Result):
    """A measured decomposition, one entry per model (e.g. per degree).

    Attributes with shape (n_models,): ``bias2``, ``variance``, ``noise``,
    ``error`` (measured directly) and their standard errors ``*_se``;
    ``error_median``, ``error_trimmed`` (10%) and ``heavy_tail`` (a shape flag: the top 1% carry over a
    quarter of the total, or the mean exceeds 3 medians) from the per-dataset errors. Per-x curves with
    shape (n_models, n_test): ``hbar``, ``var_x``; ``first_fits`` (n_first, n_models, n_test) are the
    predictions of the first datasets. For classifiers, ``degenerate`` (n_models,) is the share of each
    model's fits that predict one class for every test input; where it reaches
    :data:`~.compare.DEGENERATE_SHARE` the model is flagged degenerate (:attr:`is_degenerate`, the summary's
    ``degenerate`` column, a note in ``config["notes"]``): its terms describe a constant.

    How far the means can be trusted is :attr:`tail`: Hill's tail index of the per-dataset errors with
    its interval, a verdict (finite variance / finite mean, infinite variance / infinite mean), the running
    mean over doubling numbers of datasets and the two halves' means; :attr:`tail_theory` beside it where
    theory knows the model (least-squares polynomials on uniform x). Standard errors are given only where
    the measured verdict is *finite variance* (:attr:`se_valid`).
    """

    labels: list[str]
    knob: str
    values: np.ndarray
    x_test: np.ndarray
    ybar: np.ndarray
    n_datasets: int
    n: int
    bias2: np.ndarray
    bias2_se: np.ndarray
    variance: np.ndarray
    variance_se: np.ndarray
    noise: np.ndarray
    noise_se: np.ndarray
    error: np.ndarray
    error_se: np.ndarray
    error_median: np.ndarray
    error_trimmed: np.ndarray
    heavy_tail: np.ndarray
    drift_z: np.ndarray
    hbar: np.ndarray
    var_x: np.ndarray
    first_fits: np.ndarray
    per_dataset_error: np.ndarray = field(repr=False)   # (n_datasets, n_models)
    per_dataset_dist: np.ndarray = field(repr=False)    # mean_x (h_D - ȳ)², same shape
    config: dict = field(default_factory=dict)
    mode: str = "source"
    loss: str = "squared"
    net_variance: np.ndarray | None = None   # 0-1 loss: variance with Domingos' sign rule
    sum_terms: np.ndarray | None = None      # what the decomposition says the error is, when not the plain sum
    per_dataset_noise: np.ndarray | None = field(default=None, repr=False)  # (n_datasets,) mean_x (y - ȳ)²
    theory: bool = False   # least-squares polynomials on uniform x with noise: tails.polynomial_tail_theory applies
    degenerate: np.ndarray | None = None  # classifiers: share of each model's fits that predict one class everywhere

    @property
    def total(self) -> np.ndarray:
        """The decomposition's prediction of the error (bias² + variance + noise for squared
        loss; Domingos' c1·noise + bias + net variance for 0-1; noise + bias + variance for log loss)."""
        return self.bias2 + self.variance + self.noise if self.sum_terms is None else self.sum_terms

    @cached_property
    def identity_se(self) -> np.ndarray:
        """The standard error of (bias² + variance + noise − error).

        For squared loss against a known source, bias² + variance is *exactly* the mean over datasets of
        mean_x (h_D − ȳ)² (the corrected bias² makes it so), so the difference is the mean of the
        per-dataset D = error − distance − noise = −2 mean_x (h_D − ȳ)(y − ȳ) over fresh test noise: the
        check tests that the fresh noise is uncorrelated with the fit, and its s.e. is std(D)/√N. Var D
        = 4σ² E[distance]/m is finite wherever the mean error is. Elsewhere (0-1 and log loss, a
        dataset's rounds) the per-dataset terms are not kept and the four standard errors are added in
        quadrature, an upper bound when they are positively correlated.
        """
        if self.per_dataset_noise is not None and self.loss == "squared" and self.mode == "source":
            D = self.per_dataset_error - self.per_dataset_dist - self.per_dataset_noise[:, None]
            return D.std(axis=0, ddof=1) / np.sqrt(D.shape[0])
        return np.sqrt(self.bias2_se ** 2 + self.variance_se ** 2 + self.noise_se ** 2 + self.error_se ** 2)

    @property
    def identity_z(self) -> np.ndarray:
        """(bias² + variance + noise − error) in units of :attr:`identity_se`; NaN where the measured tail
        says the mean error is infinite (no s.e. exists there)."""
        se = self.identity_se
        finite_mean = np.array([v in VERDICTS[:3] for v in self.tail["verdict"]])
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, (self.total - self.error) / se, 0.0)
        return np.where(finite_mean, z, np.nan)

    @cached_property
    def tail(self) -> dict:
        """The per-dataset errors' tail, per model: Hill's ``index`` with its 95% interval ``lo``/``hi`` over
        the top ``k`` = ⌊√N⌋ datasets, the ``verdict`` (:func:`genlab.core.stats.tail_verdict`),
        ``running_n``/``running_mean`` (means over the first N/2^j datasets) and ``halves`` (M, 2),
        the means of the first and second half of the datasets."""
        err = self.per_dataset_error
        t = tail_index(err)
        counts, means = running_means(err)
        half = err.shape[0] // 2
        # a 0-1 error lies in [0, 1]: every moment is finite, whatever Hill's estimate makes of a few values
        verdict = [VERDICTS[0]] * err.shape[1] if self.loss == "zero_one" else tail_verdict(t["lo"], t["hi"])
        return {"index": t["index"], "lo": t["lo"], "hi": t["hi"], "k": t["k"],
                "verdict": verdict, "running_n": counts, "running_mean": means,
                "halves": np.stack([err[:half].mean(axis=0), err[half:].mean(axis=0)], axis=1)}

    @cached_property
    def tail_theory(self) -> dict | None:
        """What theory says of the tail (least-squares polynomials on uniform x only; None elsewhere): see
        :func:`genlab.analysis.biasvar.tails.polynomial_tail_theory`."""
        if not self.theory or self.knob != "degree":
            return None
        from .tails import polynomial_tail_theory

        return polynomial_tail_theory(self.values, n=self.n, n_datasets=self.n_datasets, k=self.tail["k"])

    @property
    def se_valid(self) -> np.ndarray:
        """True where the measured verdict is *finite variance*: only there do the standard errors mean
        what a standard error means (elsewhere they are withheld in tables and figures)."""
        return np.array([v == VERDICTS[0] for v in self.tail["verdict"]])

    @property
    def is_degenerate(self) -> np.ndarray:
        """True for the classifiers whose fits mostly predict one class for every input (see ``degenerate``)."""
        from .compare import DEGENERATE_SHARE

        if self.degenerate is None:
            return np.zeros(len(self.labels), dtype=bool)
        return np.asarray(self.degenerate) >= DEGENERATE_SHARE

    @property
    def bias2_resolved(self) -> np.ndarray:
        """True where the bias-corrected bias² is at least 2 standard errors from 0 (and its s.e. is valid)."""
        return self.se_valid & (np.abs(self.bias2) >= 2 * self.bias2_se)

    def summary(self, as_frame: bool = True):
        """One row per model with every term, its standard error and the diagnostics: a DataFrame, or with
        ``as_frame=False`` a dict of columns (what the command line writes, without importing pandas)."""
        squared = self.loss == "squared" or self.config.get("definition") == "kohavi_wolpert"  # a squared term
        bias = "bias2" if squared else "bias"
        known = self.mode == "source"
        if not known:  # noise is not separable without a known source: say what the term holds
            bias = "bias2_plus_noise" if self.loss == "squared" else f"{bias}_incl_noise"
        valid = self.se_valid
        withheld = lambda se: np.where(valid, se, np.nan)  # noqa: E731 - no s.e. where the variance is infinite
        cols = {
            self.knob: self.values, "label": self.labels,
            bias: self.bias2, f"{bias}_se": withheld(self.bias2_se),
        }
        if self.loss == "squared" or self.config.get("definition") == "kohavi_wolpert":
            # both correct the plug-in by the same variance / N; the plug-in is kept beside the corrected term
            cols[f"{bias}_plugin"] = self.bias2 + self.variance / self.n_datasets
            cols[f"{bias}_resolved"] = self.bias2_resolved
        cols.update({"variance": self.variance, "variance_se": withheld(self.variance_se)})
        if self.net_variance is not None:
            cols["net_variance"] = self.net_variance
        if known:
            cols.update({"noise": self.noise, "noise_se": self.noise_se})
        tail = self.tail
        cols.update({
            "error": self.error, "error_se": withheld(self.error_se), "se_valid": valid,
            "decomposition": self.total, "identity_se": self.identity_se, "identity_z": self.identity_z,
            "error_median": self.error_median, "error_trimmed": self.error_trimmed,
            "tail_index": tail["index"], "tail_index_lo": tail["lo"], "tail_index_hi": tail["hi"],
            "tail_k": np.full(len(self.labels), tail["k"]), "tail_verdict": tail["verdict"],
            "error_first_half": tail["halves"][:, 0], "error_second_half": tail["halves"][:, 1],
        })
        if self.degenerate is not None:
            cols.update({"degenerate_share": np.asarray(self.degenerate, dtype=float),
                         "degenerate": self.is_degenerate})
        theory = self.tail_theory
        if theory is not None:
            cols.update({"theory_tail_index": theory["index"], "theory_verdict": theory["verdict"],
                         "theory_local_index_lo": theory["local_lo"], "theory_local_index_hi": theory["local_hi"]})
        if not as_frame:
            return cols
        import pandas as pd

        return pd.DataFrame(cols)

    to_frame = summary

    def to_dict(self) -> dict:
        return {"mode": self.mode, "loss": self.loss, "n_datasets": self.n_datasets, "n": self.n,
                "knob": self.knob, "config": self.config,
                "models": records(self.summary(as_frame=False)),
                "running_means": {"n_datasets": self.tail["running_n"].tolist(),
                                  **{k: v.tolist() for k, v in zip(self.labels, self.tail["running_mean"].T)}}}

    def index(self, value) -> int:
        hits = np.flatnonzero(np.asarray(self.values) == value)
        if hits.size == 0:
            raise GenlabError(f"no model with {self.knob} = {value}")
        return int(hits[0])

    def plot(self, ax=None, *, title=None, log=True):
        """bias², variance, noise and the measured error against the knob, with ±2 s.e. bands where the
        s.e. is valid (:attr:`se_valid`); bias² within 2 s.e. of 0 is drawn hollow ("unresolved"), and
        the errors whose measured tail has infinite variance or an infinite mean are marked. Unordered
        models (``knob == "model"``: several estimators compared) are drawn as bars, one group a model
        (:func:`~.compare.plot_models`; ``log`` does not apply)."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        if self.knob == "model":
            from .compare import plot_models

            return plot_models(self, ax, title=title)
        x = np.asarray(self.values, dtype=float)
        floor = 1e-6 * max(float(np.nanmax(self.error_median)), 1e-12)
        known = self.mode == "source"
        squared = self.loss == "squared" or self.config.get("definition") == "kohavi_wolpert"
        bias_name = ("bias²" if squared else "bias") + ("" if known else " + noise")
        curves = [(bias_name, self.bias2, self.bias2_se, "tab:blue"),
                  ("variance", self.variance, self.variance_se, "tab:orange")]
        if known:
            curves.append(("noise", self.noise, self.noise_se, "tab:gray"))
        curves.append(("test error (measured)", self.error, self.error_se, "tab:red"))
        valid = self.se_valid
        for name, val, se, color in curves:
            # bias² is bias-corrected and can dip below 0 by its error: on a log axis draw it at a floor
            shown = np.where(val > floor, val, np.nan) if log else val
            se = np.where(valid, se, np.nan)
            lo = np.maximum(val - 2 * se, floor) if log else val - 2 * se
            ax.plot(x, shown, color=color, marker="o", ms=3, label=name)
            ax.fill_between(x, lo, np.maximum(val + 2 * se, lo), color=color, alpha=0.2, lw=0)
        if self.loss == "squared" or self.config.get("definition") == "kohavi_wolpert":
            unres = valid & ~self.bias2_resolved
            if unres.any():
                ax.scatter(x[unres], np.full(unres.sum(), floor) if log else self.bias2[unres], s=36,
                           facecolors="white", edgecolors="tab:blue", zorder=4,
                           label=f"{bias_name} unresolved (|value| < 2 s.e.)")
        ax.plot(x, self.error_median, color="tab:red", ls=":", lw=1, label="test error (median)")
        verdict = np.array(self.tail["verdict"])
        for names, marker, text in [(VERDICTS[1:4], "s", "tail: infinite variance (no s.e.)"),
                                    (VERDICTS[4:5], "X", "tail: infinite mean")]:
            hit = np.isin(verdict, names)
            if hit.any():
                ax.scatter(x[hit], self.error[hit], s=60, marker=marker, facecolors="none", edgecolors="k",
                           zorder=4, label=text)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(bottom=floor)
        ax.set_xlabel(self.knob)
        ax.set_ylabel({"squared": "squared error", "zero_one": "0-1 error", "cross_entropy": "log loss (nats)"}
                      [self.loss])
        ax.legend(fontsize="small")
        if title:
            ax.set_title(title)
        return ax

    def plot_tails(self, ax=None, *, title=None):
        """Hill's tail index of the per-dataset errors against the knob with its 95% interval, the lines
        α = 2 (finite variance above) and α = 1 (finite mean above), and, where theory knows the model,
        the asymptotic index (n − 1)/(2d) and the band of local indices over the windows sampled."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        x = np.asarray(self.values, dtype=float)
        t = self.tail
        ax.errorbar(x, t["index"], yerr=[t["index"] - t["lo"], t["hi"] - t["index"]], fmt="o", ms=3,
                    color="k", capsize=2, label=f"measured (Hill, top {t['k']:,} of {self.n_datasets:,})")
        theory = self.tail_theory
        if theory is not None:
            ax.plot(x, theory["index"], color="tab:blue", lw=1.5, label="theory, N → ∞: (n − 1)/(2d)")
            ax.fill_between(x, theory["local_lo"], theory["local_hi"], color="tab:blue", alpha=0.2, lw=0,
                            label="theory over the windows these datasets reach")
        for level, text in [(2, "variance finite above"), (1, "mean finite above")]:
            ax.axhline(level, color="0.4", ls="--", lw=0.8)
            ax.text(x.max(), level, f" {text}", va="bottom", ha="right", fontsize="small", color="0.3")
        ax.set_yscale("log")
        ax.set_xlabel(self.knob)
        ax.set_ylabel("tail index α of the per-dataset error")
        ax.legend(fontsize="small")
        if title:
            ax.set_title(title)
        return ax

    def plot_fits(self, value, ax=None, *, n_fits: int = 100, ylim=None, title=None):
        """The first fits (faint), their mean h̄ over all datasets (dark) and ȳ (dashed).

        ``ylim`` defaults to the span of ȳ and h̄ (the fits themselves may fly far off).
        """
        from ...plots.helpers import axes, data_ylim, finish_xy

        ax = axes(ax)
        i = self.index(value)
        order = np.argsort(self.x_test)
        xs = self.x_test[order]
        for f in self.first_fits[:n_fits, i]:
            ax.plot(xs, f[order], color="tab:red", alpha=0.12, lw=0.8)
        ax.plot(xs, self.ybar[order], color="0.3", ls="--", lw=1.2, label="ȳ(x)")
        ax.plot(xs, self.hbar[i][order], color="darkred", lw=2.2,
                label=f"h̄(x), mean of {self.n_datasets:,} fits")
        ax.plot([], [], color="tab:red", alpha=0.4, label=f"first {min(n_fits, len(self.first_fits))} fits")
        verdict = self.tail["verdict"][i]
        if verdict != VERDICTS[0]:
            ax.text(0.03, 0.97, f"tail of the errors: {verdict}\n(h̄ need not settle)", transform=ax.transAxes,
                    va="top", color="darkred", bbox=dict(boxstyle="round", fc="white", ec="darkred"))
        if ylim is None:
            ylim = data_ylim(self.ybar, self.hbar[i])
        return finish_xy(ax, ylim=ylim, title=title)


def _summarize_models(err: np.ndarray, threads: int = 1) -> dict:
    """stats.summarize over datasets, for each model (column) of ``err`` (n_datasets, M); with threads > 1
    the columns are shared out over threads (sorting releases the GIL), with the same numbers."""
    if threads <= 1 or err.shape[1] < 2:
        return summarize(err)
    from concurrent.futures import ThreadPoolExecutor

    parts = np.array_split(np.arange(err.shape[1]), min(threads, err.shape[1]))
    with ThreadPoolExecutor(len(parts)) as pool:
        done = list(pool.map(lambda cols: summarize(err[:, cols]), parts))
    return {k: np.concatenate([d[k] for d in done], axis=-1) for k in done[0]}


def finish(blocks: list[Block], *, weight: float, g: np.ndarray, r: np.ndarray, to_points,
            labels, knob, values, x_test, ybar, n, config, mode="source", threads: int = 1,
            theory: bool = False) -> BiasVariance:
    """Reduce per-block statistics into a :class:`BiasVariance`.

    ``weight`` turns a sum of squared coordinates into a mean over test points;
    ``g`` (K, M) are ȳ's coordinates and ``r`` (M,) the part of mean_x ȳ² they miss;
    ``to_points(mean, cov_or_m2)`` gives (hbar, var_x) at the test points; ``threads`` may share out the
    per-dataset error summaries; ``theory`` says the tail theory of least-squares polynomials applies.
    """
    N, mean, m2, cov = merge_blocks(blocks)
    K = len(blocks)
    variance = weight * m2.sum(axis=0) / (N - 1)
    # batch means over blocks for the variance's standard error, and its drift
    vb = np.array([weight * b.m2.sum(axis=0) / max(b.count - 1, 1) for b in blocks])  # (K, M)
    wts = np.array([b.count for b in blocks], dtype=float)
    variance_se = np.sqrt(np.sum(wts[:, None] ** 2 * (vb - variance) ** 2, axis=0) / (N ** 2) * K / max(K - 1, 1))
    half = K // 2
    if half >= 2:
        v1, v2 = vb[:half].mean(axis=0), vb[half:].mean(axis=0)
        s1 = vb[:half].std(axis=0, ddof=1) / np.sqrt(half)
        s2 = vb[half:].std(axis=0, ddof=1) / np.sqrt(K - half)
        with np.errstate(divide="ignore", invalid="ignore"):
            drift = np.where(s1 + s2 > 0, np.abs(v1 - v2) / np.sqrt(s1 ** 2 + s2 ** 2), 0.0)
    else:
        drift = np.zeros_like(variance)
    # bias²: unbiased for ||E h - ȳ||² (subtract variance / N), delta-method s.e.
    delta = mean - g
    bias2 = weight * (delta ** 2).sum(axis=0) + r - variance / N
    Sigma = cov / (N - 1)  # (M, K, K)
    quad = np.einsum("km,mkl,lm->m", delta, Sigma, delta)
    tr2 = np.einsum("mkl,mlk->m", Sigma, Sigma)
    bias2_se = weight * np.sqrt(np.maximum(4 * quad / N + 2 * tr2 / N ** 2, 0.0))
    err = np.concatenate([b.error for b in blocks])
    noise = np.concatenate([b.noise for b in blocks])
    es = _summarize_models(err, threads)
    hbar, var_x = to_points(mean, Sigma)
    first = np.concatenate([b.first for b in blocks if b.first is not None])[:N_FIRST]
    return BiasVariance(
        labels=list(labels), knob=knob, values=np.asarray(values), x_test=x_test, ybar=ybar,
        n_datasets=N, n=n, bias2=bias2, bias2_se=bias2_se, variance=variance, variance_se=variance_se,
        noise=np.full(len(labels), noise.mean()), noise_se=np.full(len(labels), noise.std(ddof=1) / np.sqrt(N)),
        error=es["mean"], error_se=es["se"], error_median=es["median"], error_trimmed=es["trimmed"],
        heavy_tail=es["heavy_tail"], drift_z=drift, hbar=hbar, var_x=var_x,
        first_fits=np.stack([to_points(f, None)[0] for f in first]) if len(first) else np.empty((0,) + hbar.shape),
        per_dataset_error=err, per_dataset_dist=np.concatenate([b.dist for b in blocks]), config=config, mode=mode,
        per_dataset_noise=noise, theory=theory)
