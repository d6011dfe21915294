""":class:`CrossedDecomposition`: bias², noise and the variance split by its sources — data, seed and
their interaction (and label noise as a third factor) — per value of a knob, with the error of seed
ensembles."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.results import Result
from .anova import FACTORS2, FACTORS3, factor_sets, part_name
from .losses import LOSSES

#: the terms drawn by :meth:`CrossedDecomposition.plot`: (term, label, colour, line style)
CURVES = (("bias2", "bias²", "tab:blue", "-"), ("v_data", "V_data", "tab:orange", "--"),
          ("v_init", "V_init", "tab:green", "--"), ("v_interaction", "V_data×init", "tab:purple", "--"),
          ("total", "variance (total)", "tab:red", "-"), ("error", "test error", "black", "-"))


@dataclass
class CrossedDecomposition(Result):
    """A crossed data × initialization decomposition, one entry per value of the knob.

    For data draws D_i (i = 1..R) and model seeds θ_j (j = 1..S) — crossed: seed j is the same seed for
    every data draw — f_ij is the model trained on D_i with seed θ_j. At each test point (then averaged
    over the points, summed over outputs), with expectations over an independent D and θ:

    * ``v_data`` = Var_D E_θ[f | D] (main effect of the data), ``v_init`` = Var_θ E_D[f | θ] (main effect of
      the seed), ``v_interaction`` = Var f − v_data − v_init (data × init), estimated without bias by
      two-way random-effects ANOVA without replication (:mod:`.anova`; Adlam & Pennington 2020's symmetric
      decomposition); ``total`` = their sum = the unbiased estimate of Var_{D,θ} f, the expected variance
      of *one* fit (``total_u``, the U-statistic computed independently, equals it to rounding);
    * ``bias2`` = (E f − ȳ)², the squared deviation of the grand mean from the targets less the unbiased
      Var of the grand mean; ``noise`` the known noise (mode ``"source"``), or — against observed test
      labels (mode ``"data"``) — inside ``bias2`` (``noise`` is NaN);
    * ``error`` = mean over the R·S fits of (f − y)² (plus the known noise in mode ``"source"``);
      bias2 + total + noise = error exactly (the corrected bias² makes it so, as in
      :class:`~genlab.analysis.biasvar.BiasVariance`; :attr:`identity_residual` checks it);
    * ``ensemble`` (n_values, S): the expected error of the average of k seeds' fits on one dataset,
      bias2 + v_data + (v_init + v_interaction)/k + noise, for k = 1..S — at every k exactly the mean,
      over all k-subsets of the S seeds, of the measured error of their average.

    With K ≥ 2 noise draws (the same noise vectors for every data draw: label noise a factor of its own)
    the table is three-way, inputs × init × label noise (Adlam & Pennington's X, P, ε), and ``parts``
    holds the seven components (``x``, ``init``, ``eps``, ``x:init``, ``x:eps``, ``init:eps``,
    ``x:init:eps``); then ``v_data`` = x + eps + x:eps and ``v_interaction`` = x:init + init:eps + x:init:eps. Every term has a standard error
    in ``se`` (the sum of the one-way jackknife variances over the factors, conservative; NaN for a factor
    with 2 levels). The test points (and their labels) are fixed: the s.e. are over data draws and seeds.

    For class probabilities (a classifier), the same table also gives the 0-1 loss's decomposition
    (Domingos 2000: ``zero_one`` — error, bias, variance, V_u, V_b, net variance V_u − V_b) and the
    cross-entropy's (Bregman: ``cross_entropy`` — error, bias, variance about the normalized geometric
    mean of the fits), each adding up to its error exactly (:meth:`loss_residual`); plug-in over the
    pooled fits, with jackknife s.e. (:mod:`.losses` says what they are worth). Against observed test
    labels both biases include the noise.
    """

    knob: str
    values: np.ndarray
    labels: list
    R: int
    S: int
    K: int
    n_test: int
    mode: str
    terms: dict
    se: dict
    train_error: np.ndarray | None = None
    threshold: float | None = None
    config: dict = field(default_factory=dict)

    # -- the terms --------------------------------------------------------------------------------
    def _t(self, name):
        return np.asarray(self.terms[name], dtype=float)

    def _s(self, name):
        return np.asarray(self.se[name], dtype=float)

    bias2 = property(lambda self: self._t("bias2"))
    v_data = property(lambda self: self._t("v_data"))
    v_init = property(lambda self: self._t("v_init"))
    v_interaction = property(lambda self: self._t("v_interaction"))
    total = property(lambda self: self._t("total"))
    noise = property(lambda self: self._t("noise"))
    error = property(lambda self: self._t("error"))
    bias2_se = property(lambda self: self._s("bias2"))
    v_data_se = property(lambda self: self._s("v_data"))
    v_init_se = property(lambda self: self._s("v_init"))
    v_interaction_se = property(lambda self: self._s("v_interaction"))
    total_se = property(lambda self: self._s("total"))
    error_se = property(lambda self: self._s("error"))

    @property
    def factors(self) -> tuple[str, ...]:
        return FACTORS3 if self.K > 1 else FACTORS2

    @property
    def part_names(self) -> list[str]:
        return [part_name(A, self.factors) for A in factor_sets(len(self.factors))]

    @property
    def parts(self) -> dict:
        """Every variance component by name (two-way: data, init, data:init; three-way: seven)."""
        return {p: self._t(p) for p in self.part_names}

    @property
    def ks(self) -> np.ndarray:
        return np.arange(1, self.S + 1)

    @property
    def ensemble(self) -> np.ndarray:
        """(n_values, S): expected error of the average of k = 1..S seeds' fits."""
        return np.stack([self._t(f"ensemble_{k}") for k in self.ks], axis=1)

    @property
    def ensemble_se(self) -> np.ndarray:
        return np.stack([self._s(f"ensemble_{k}") for k in self.ks], axis=1)

    @property
    def ensemble_limit(self) -> np.ndarray:
        """The error of an infinite ensemble over seeds: bias2 + v_data + noise."""
        return self.bias2 + self.v_data + np.nan_to_num(self.noise)

    @property
    def identity_gap(self) -> float:
        """max over values of |v_data + v_init + v_interaction − total_u| / |total_u|: the parts add up to
        the independently computed unbiased variance (rounding only)."""
        u = self._t("total_u")
        gap = np.abs(self.v_data + self.v_init + self.v_interaction - u)
        return float(np.max(gap / np.maximum(np.abs(u), np.finfo(float).tiny)))

    @property
    def identity_residual(self) -> float:
        """max over values of |bias2 + total + noise − error| / error (rounding only)."""
        gap = np.abs(self.bias2 + self.total + np.nan_to_num(self.noise) - self.error)
        return float(np.max(gap / np.maximum(np.abs(self.error), np.finfo(float).tiny)))

    def law_of_total_variance(self, outer: str = "init") -> dict:
        """The order-dependent split, from the same table: with the seed outside, ``between`` =
        Var_θ E_D[f|θ] = v_init and ``within`` = E_θ Var_D[f|θ] = v_data + v_interaction; with the data
        outside, ``between`` = v_data and ``within`` = v_init + v_interaction (unbiased; the interaction
        falls in ``within`` either way, which is the ambiguity the symmetric split removes)."""
        if outer not in ("init", "data"):
            raise ValueError("outer is 'init' or 'data'")
        if outer == "init":
            return {"between": self.v_init, "within": self.v_data + self.v_interaction}
        return {"between": self.v_data, "within": self.v_init + self.v_interaction}

    def plugin_split(self) -> dict:
        """The law-of-total-variance split with population moments over the grid, as
        :class:`~genlab.analysis.double_descent.VarianceSplit` computes it: ``total`` (mean over the cells of
        (f − f̄)²), ``init`` = Var_θ E_D (its ``features``) and ``data`` = E_θ Var_D."""
        return {"total": self._t("plugin_total"), "init": self._t("plugin_init"), "data": self._t("plugin_data")}

    @property
    def peak(self):
        """The knob value with the largest total variance."""
        return self.values[int(np.nanargmax(self.total))]

    # -- the classification losses ----------------------------------------------------------------
    @property
    def classification(self) -> bool:
        """Whether the 0-1 and cross-entropy decompositions are here (the outputs are class probabilities)."""
        return "zero_one_error" in self.terms

    def loss(self, name: str) -> dict:
        """The terms of ``"zero_one"`` or ``"cross_entropy"`` (:mod:`.losses`) by name, one entry per value."""
        if name not in LOSSES:
            raise ValueError(f"loss is one of {', '.join(LOSSES)}")
        if not self.classification:
            raise ValueError("no class probabilities: the 0-1 and cross-entropy decompositions need a classifier")
        return {k: self._t(f"{name}_{k}") for k in LOSSES[name]}

    zero_one = property(lambda self: self.loss("zero_one"), doc="Domingos' 0-1 terms (:mod:`.losses`).")
    cross_entropy = property(lambda self: self.loss("cross_entropy"), doc="The log loss's Bregman terms.")

    def loss_residual(self, name: str) -> float:
        """max over values of |noise + bias + variance − error| / error for ``name`` (the net variance V_u − V_b
        for the 0-1 loss; the noise counts as 0 where it is inside the bias): rounding only."""
        t = self.loss(name)
        var = t["net_variance"] if name == "zero_one" else t["variance"]
        gap = np.abs(np.nan_to_num(t["noise"]) + t["bias"] + var - t["error"])
        return float(np.max(gap / np.maximum(np.abs(t["error"]), np.finfo(float).tiny)))

    def loss_peak(self, name: str):
        """The knob value with the largest variance under ``name``: the net variance for the 0-1 loss."""
        t = self.loss(name)
        return self.values[int(np.nanargmax(t["net_variance"] if name == "zero_one" else t["variance"]))]

    def _loss_columns(self, name: str, prefix: str = "") -> dict:
        """One loss's terms and their s.e. as columns; against observed labels the bias includes the noise
        (named so) and there is no noise column."""
        cols = {}
        for k in LOSSES[name]:
            if k == "noise" and self.mode != "source":
                continue
            key = "bias_incl_noise" if k == "bias" and self.mode != "source" else k
            cols[prefix + key], cols[f"{prefix}{key}_se"] = self._t(f"{name}_{k}"), self._s(f"{name}_{k}")
        return cols

    # -- the protocol -----------------------------------------------------------------------------
    def _columns(self, losses: bool = True) -> dict:
        known = self.mode == "source"
        bias = "bias2" if known else "bias2_incl_noise"
        cols = {self.knob: self.values, "label": list(self.labels), bias: self.bias2, f"{bias}_se": self.bias2_se}
        for name in ("v_data", "v_init", "v_interaction", "total"):
            cols[name] = self._t(name)
            cols[f"{name}_se"] = self._s(name)
        if self.K > 1:
            for p in self.part_names:
                key = "v_" + p.replace(":", "_")
                cols[key], cols[f"{key}_se"] = self._t(p), self._s(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            cols["init_share"] = (self.v_init + self.v_interaction) / self.total
        if known:
            cols["noise"] = self.noise
        cols.update({"error": self.error, "error_se": self.error_se})
        for k in self.ks:
            cols[f"ensemble_{k}"], cols[f"ensemble_{k}_se"] = self._t(f"ensemble_{k}"), self._s(f"ensemble_{k}")
        if self.train_error is not None:
            cols["train_error"] = np.asarray(self.train_error, dtype=float)
        if losses and self.classification:
            for name in LOSSES:
                cols.update(self._loss_columns(name, f"{name}_"))
        return cols

    def summary(self):
        """One row per value: every term with its s.e., the seed-dependent share of the variance, the
        measured error and the ensemble errors for k = 1..S; for class probabilities the 0-1 and
        cross-entropy terms (``zero_one_…``, ``cross_entropy_…``) too (pandas)."""
        import pandas as pd

        return pd.DataFrame(self._columns())

    def to_dict(self) -> dict:
        from ...core.io import plain, records

        points = records(self._columns(losses=False))
        out = {"knob": self.knob, "R": self.R, "S": self.S, "K": self.K, "n_test": self.n_test, "mode": self.mode,
               "factors": list(self.factors), "threshold": self.threshold, "peak": self.peak,
               "identity_gap": self.identity_gap, "identity_residual": self.identity_residual, "config": self.config}
        if self.classification:  # each point gains "zero_one": {...} and "cross_entropy": {...}
            for name in LOSSES:
                for point, terms in zip(points, records(self._loss_columns(name))):
                    point[name] = terms
                out[f"peak_{name}"] = self.loss_peak(name)
                out[f"identity_residual_{name}"] = self.loss_residual(name)
        return plain({**out, "points": points})

    def _x(self) -> tuple[np.ndarray, bool]:
        """Where the values go on the x axis, and whether they are numbers (else 0, 1, … with labels)."""
        numeric = np.issubdtype(np.asarray(self.values).dtype, np.number)
        return (np.asarray(self.values, dtype=float) if numeric else np.arange(len(self.values), dtype=float)), numeric

    def plot(self, ax=None, *, log: bool = True, title=None):
        """bias², V_data, V_init, V_data×init, the total variance and the error against the knob with ±2 s.e.
        bands, the error of the ensemble of all S seeds (dotted) and the interpolation threshold (grey line);
        log axes (values at or below 0 are not drawn on a log y axis)."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        x, numeric = self._x()
        shown_vals = np.concatenate([self._t(name) for name, *_ in CURVES])
        positive = shown_vals[np.isfinite(shown_vals) & (shown_vals > 0)]
        floor = 0.3 * float(positive.min()) if positive.size else 1e-12  # bands below it are cut at the axis
        for name, label, color, ls in CURVES:
            val, se = self._t(name), self._s(name)
            if name == "bias2" and self.mode != "source":
                label = "bias² (incl. noise)"
            _with_band(ax, x, val, se, color=color, ls=ls, label=label, floor=floor if log else None, alpha=0.15)
        ens = self.ensemble[:, -1]
        ax.plot(x, np.where(ens > floor, ens, np.nan) if log else ens, color="black", ls=":", lw=1.2,
                label=f"error of the {self.S}-seed ensemble")
        if self.threshold is not None and numeric:
            ax.axvline(self.threshold, color="0.5", ls=":", lw=1, label="interpolation threshold")
        if log and numeric and np.all(x > 0):
            ax.set_xscale("log")
        if log:
            ax.set_yscale("log")
            ax.set_ylim(bottom=floor)
        if not numeric:
            ax.set_xticks(x, [str(v) for v in self.values])
        ax.set_xlabel(self.knob)
        ax.set_ylabel("squared error")
        ax.legend(fontsize="small")
        if title:
            ax.set_title(title)
        return ax

    def plot_loss(self, name: str, ax=None, *, title=None):
        """The 0-1 (``"zero_one"``: error, bias, V_u, V_b and the net variance V_u − V_b) or cross-entropy
        (``"cross_entropy"``: error, bias, variance) decomposition against the knob, with ±2 s.e. bands and
        the interpolation threshold; log x axis."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        x, numeric = self._x()
        bias = "bias (incl. noise)" if self.mode != "source" else "bias"
        curves = ((("error", "0-1 error", "C3", "-"), ("bias", bias, "C0", "-"),
                   ("net_variance", "net variance V_u − V_b", "C2", "-"), ("v_unbiased", "V_u", "C2", "--"),
                   ("v_biased", "V_b", "C2", ":")) if name == "zero_one" else
                  (("error", "cross-entropy", "C3", "-"), ("bias", bias, "C0", "-"),
                   ("variance", "variance (mean KL)", "C2", "-")))
        terms = self.loss(name)
        for key, label, color, ls in curves:
            val = terms[key]
            se = self._s(f"{name}_{key}") if f"{name}_{key}" in self.se else np.full_like(val, np.nan)
            _with_band(ax, x, val, se, color=color, ls=ls, label=label)
        if self.threshold is not None and numeric:
            ax.axvline(self.threshold, color="0.5", ls=":", lw=1, label="interpolation threshold")
        if numeric and np.all(x > 0):
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(x, [str(v) for v in self.values])
        ax.set_xlabel(self.knob)
        ax.set_ylabel("0-1 loss" if name == "zero_one" else "cross-entropy (nats)")
        ax.legend(fontsize="small")
        if title:
            ax.set_title(title)
        return ax

    def plot_ensembles(self, ax=None, *, title=None):
        """The expected error of k-seed ensembles against the knob, for k = 1, 2, 4, … and S, and the
        limit of infinitely many seeds (bias² + V_data + noise)."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        x, numeric = self._x()
        ks = sorted({k for k in (1, 2, 4, 8, 16, 32, 64) if k <= self.S} | {self.S})
        colors = iter(["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"])
        for k in ks:
            ax.plot(x, self.ensemble[:, k - 1], marker="o", ms=3, color=next(colors), label=f"k = {k}")
        ax.plot(x, self.ensemble_limit, color="black", ls="--", label="k → ∞")
        if numeric and np.all(x > 0):
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(x, [str(v) for v in self.values])
        ax.set_xlabel(self.knob)
        ax.set_ylabel("expected test error of the k-seed average")
        ax.legend(fontsize="small")
        if title:
            ax.set_title(title)
        return ax


def _with_band(ax, x, val, se, *, color, ls, label, floor=None, alpha=0.12) -> None:
    """A curve with its ±2 s.e. band (no band where the s.e. is not finite); with ``floor`` (a log y axis)
    values at or below it are not drawn and the band is cut there."""
    ax.plot(x, val if floor is None else np.where(val > floor, val, np.nan), color=color, ls=ls, marker="o", ms=3,
            label=label)
    band = np.where(np.isfinite(se), se, 0.0)
    lo = val - 2 * band if floor is None else np.maximum(val - 2 * band, floor)
    ax.fill_between(x, lo, np.maximum(val + 2 * band, lo), color=color, alpha=alpha, lw=0)
