"""The results of the double-descent experiments: one curve over seeds, and a family of curves.

Errors are squared errors summed over the outputs (one-hot targets: over the
classes) and averaged over the points; near the threshold they are
heavy-tailed, so every summary gives the median and quartiles beside the mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.errors import GenlabError
from ...core.results import Result
from ...core.stats import find_peak, summary_frame
from ...plots.helpers import axes, quartile_band

#: Metrics a :class:`DoubleDescentCurve` may carry, with their axis labels.
METRICS = {
    "test_mse": "test squared error",
    "train_mse": "training squared error",
    "test_error": "test 0-1 error",
    "coef_norm": "coefficient norm ‖β‖",
    "sigma_min": "smallest non-zero singular value",
}
#: Axis label of each knob.
KNOBS = {"p": "random features p", "degree": "polynomial degree", "n": "training points n", "epochs": "epochs",
         "width": "hidden units (width)"}
#: Columns per metric in :meth:`DoubleDescentCurve.summary`.
SUMMARY_KEYS = ("mean", "se", "median", "q25", "q75", "trimmed", "heavy_tail")


def metric_label(name: str) -> str:
    """The axis label of a metric."""
    return METRICS.get(name, name.replace("_", " "))


@dataclass
class DoubleDescentCurve(Result):
    """Per-seed curves of one double-descent experiment.

    Every metric is an array of shape (n_seeds, n_points): one row per seed
    (an independent job), one column per value of the knob.

    Attributes
    ----------
    knob : str
        What varies: ``"p"`` (model size), ``"degree"``, ``"n"`` (training
        points) or ``"epochs"``.
    values : ndarray of shape (n_points,)
    threshold : float or None
        The interpolation threshold on the knob's axis (p = n, degree = n − 1,
        n = rank of the features), marked on the plots.
    test_mse, train_mse : ndarray
        Squared error summed over outputs, averaged over points.
    coef_norm : ndarray
        ‖β‖ (Frobenius over outputs).
    sigma_min : ndarray
        Smallest non-zero singular value of the training design.
    test_error : ndarray or None
        Test 0-1 error (classification only).
    extra : dict of ndarray
        Further per-point quantities, e.g. ``ridge_lambda`` (the penalty chosen per p).
    label : str
    config : dict
    """

    knob: str
    values: np.ndarray
    threshold: float | None
    test_mse: np.ndarray
    train_mse: np.ndarray
    coef_norm: np.ndarray
    sigma_min: np.ndarray
    test_error: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
    label: str = ""
    config: dict = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, np.ndarray]:
        """Every metric held, by name."""
        out = {"test_mse": self.test_mse, "train_mse": self.train_mse}
        if self.test_error is not None:
            out["test_error"] = self.test_error
        out.update(coef_norm=self.coef_norm, sigma_min=self.sigma_min)
        out.update(self.extra)
        return out

    @property
    def n_seeds(self) -> int:
        return int(self.test_mse.shape[0])

    def metric(self, name: str) -> np.ndarray:
        try:
            return self.metrics[name]
        except KeyError:
            raise GenlabError(f"this curve has no metric {name!r}; choose one of {', '.join(self.metrics)}") from None

    def median(self, metric: str = "test_mse") -> np.ndarray:
        """The median over seeds, per point."""
        return np.median(self.metric(metric), axis=0)

    def summary(self):
        """One row per point: per metric the mean, its s.e., the median, quartiles, the
        10%-trimmed mean and the heavy-tail flag of :func:`genlab.core.stats.summarize`
        (which needs at least 20 seeds to fire)."""
        return summary_frame({self.knob: self.values}, self.metrics, SUMMARY_KEYS)

    def find_peak(self, metric: str = "test_mse") -> dict:
        """Where the median of ``metric`` is largest: ``{"at": value, "value": median}``."""
        med = self.median(metric)
        i = int(np.nanargmax(med))
        return {"at": float(self.values[i]), "value": float(med[i])}

    @property
    def peak(self) -> float:
        """The knob value of the largest median test squared error."""
        return self.find_peak()["at"]

    def find_minima(self, metric: str = "test_mse") -> dict:
        """The classical minimum (before the peak), the minimum after it, and their ratio.

        With a known threshold the two sides are those of the threshold (the
        point on it belongs to neither); otherwise those of the most prominent
        interior peak of the median (:func:`genlab.core.stats.find_peak`; with
        fewer than three points, of the largest median).

        Returns
        -------
        dict
            ``classical`` and ``after_peak`` (each ``{"at", "value"}`` or None
            when there is no point on that side), ``global`` and ``ratio``
            (after-peak over classical median error: below 1 when the second
            descent beats the classical minimum).
        """
        med = self.median(metric)
        x = np.asarray(self.values, dtype=float)

        def best(idx):
            if idx.size == 0:
                return None
            j = idx[int(np.nanargmin(med[idx]))]
            return {"at": float(self.values[j]), "value": float(med[j])}

        idx = np.arange(med.size)
        if self.threshold is not None:  # the peak this is about: the interpolation threshold's
            classical, after = best(idx[x < self.threshold]), best(idx[x > self.threshold])
        else:
            ip = find_peak(med)["peak"]
            ip = ip if ip >= 0 else int(np.nanargmax(med))
            classical, after = best(idx[:ip]), best(idx[ip + 1:])
        ratio = after["value"] / classical["value"] if classical and after and classical["value"] > 0 else None
        return {"classical": classical, "after_peak": after, "global": best(idx), "ratio": ratio}

    @property
    def minimum(self) -> dict:
        """:meth:`find_minima` of the test squared error."""
        return self.find_minima()

    def to_dict(self) -> dict:
        return {"knob": self.knob, "label": self.label, "threshold": self.threshold, "n_seeds": self.n_seeds,
                "peak": self.find_peak(), "minimum": self.minimum, "config": self.config,
                "points": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, metric: str = "test_mse", log: bool = True, title=None, color=None, label=None):
        """Median over seeds with the interquartile band, on log axes, threshold marked.

        For ``metric="test_mse"`` or ``"train_mse"`` both the training and the test
        curves are drawn (the mean of the test error dashed beside its median).
        """
        ax = axes(ax, (6.4, 4.2))
        names = ("train_mse", "test_mse") if metric in ("test_mse", "train_mse") else (metric,)
        x = np.asarray(self.values, dtype=float)
        colors = {"train_mse": "tab:blue", "test_mse": "tab:red"}
        shown = []
        for name in names:
            text = label or self.label
            lab = f"{metric_label(name)}" + (f" — {text}" if text else "")
            s = quartile_band(ax, x, self.metric(name), color=color or colors.get(name, "tab:purple"),
                              label=f"{lab} (median, IQR)", mean=name == "test_mse", mean_label="mean")
            shown.append(s["median"])
        finish_axes(ax, self, shown, metric=metric if len(names) == 1 else "squared error", log=log)
        if title:
            ax.set_title(title)
        return ax


def finish_axes(ax, curve, shown, *, metric, log):
    """Threshold, log scales, limits, labels and legend of a double-descent plot."""
    if curve.threshold is not None:
        ax.axvline(curve.threshold, color="0.4", ls=":", lw=1)
        ax.annotate("interpolation threshold", (curve.threshold, 0.98), xycoords=("data", "axes fraction"),
                    ha="right", va="top", fontsize="small", color="0.35", rotation=90)
    if log:
        if np.all(np.asarray(curve.values, dtype=float) > 0):
            ax.set_xscale("log")
        ax.set_yscale("log")
        top = [np.asarray(v)[np.asarray(v) > 0] for v in shown]
        top = [v for v in top if v.size]
        if top and metric in ("squared error", "test_mse", "train_mse"):
            # past the threshold the training error is ~1e-30: keep the axis on the test error's scale
            ax.set_ylim(bottom=1e-3 * min(float(v.min()) for v in top[-1:]))
    ax.set_xlabel(KNOBS.get(curve.knob, curve.knob))
    units = curve.config.get("y_units") if metric in ("squared error", "test_mse", "train_mse") else None
    ax.set_ylabel(metric_label(metric) + (f"\n({units})" if units else ""))
    ax.legend(fontsize="small")


@dataclass
class CurveFamily(Result):
    """Several :class:`DoubleDescentCurve` of one experiment (per basis, per ablation,
    per label-noise rate), each with a one-line verdict, and a caption for the figure."""

    curves: dict
    verdicts: dict
    caption: str = ""
    title: str = ""
    config: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)  # the numbers behind each verdict (for other languages)

    def __getitem__(self, key) -> DoubleDescentCurve:
        try:
            return self.curves[key]
        except KeyError:
            raise GenlabError(f"no curve {key!r}; choose one of {', '.join(map(str, self.curves))}") from None

    def __iter__(self):
        return iter(self.curves)

    def summary(self):
        """The curves' summaries stacked, with a ``curve`` column."""
        import pandas as pd

        frames = []
        for key, c in self.curves.items():
            f = c.summary()
            f.insert(0, "curve", str(key))
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def table(self):
        """One row per curve: peak, classical minimum, minimum after the peak, their ratio, verdict."""
        import pandas as pd

        rows = []
        for key, c in self.curves.items():
            pk, mn = c.find_peak(), c.minimum
            rows.append({"curve": str(key), "peak_at": pk["at"], "peak_value": pk["value"],
                         "classical_at": (mn["classical"] or {}).get("at"),
                         "classical_value": (mn["classical"] or {}).get("value"),
                         "after_peak_at": (mn["after_peak"] or {}).get("at"),
                         "after_peak_value": (mn["after_peak"] or {}).get("value"),
                         "ratio": mn["ratio"], "verdict": self.verdicts.get(key, "")})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"title": self.title, "caption": self.caption, "config": self.config,
                "verdicts": {str(k): v for k, v in self.verdicts.items()},
                "curves": {str(k): c.to_dict() for k, c in self.curves.items()}}

    def plot(self, ax=None, *, metric: str = "test_mse", log: bool = True, title=None):
        """Each curve's median ``metric`` with its interquartile band, threshold marked."""
        ax = axes(ax, (6.4, 4.2))
        shown = []
        colors = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown"]
        first = None
        for (key, c), col in zip(self.curves.items(), colors * 3):
            s = quartile_band(ax, np.asarray(c.values, dtype=float), c.metric(metric), color=col, label=str(key),
                              alpha=0.15)
            shown.append(s["median"])
            first = first or c
        finish_axes(ax, first, shown[:1] if shown else [], metric=metric, log=log)
        ax.set_title(title or self.title, fontsize="medium")
        return ax


def verdict(c: DoubleDescentCurve) -> str:
    """One line: where the second descent goes against the classical minimum."""
    mn = c.minimum
    if mn["ratio"] is None:
        return "no point on both sides of the peak"
    knob = c.knob
    word = "goes below" if mn["ratio"] < 1 else "stays above"
    return (f"second descent reaches {mn['ratio']:.2g}x the classical minimum ({word} it: "
            f"{mn['after_peak']['value']:.3g} at {knob} {mn['after_peak']['at']:g} vs "
            f"{mn['classical']['value']:.3g} at {knob} {mn['classical']['at']:g})")
