"""The result of :func:`~genlab.analysis.validation.validation_curve` and
:func:`~genlab.analysis.validation.learning_curve`: per-dataset training and validation errors of one
or more estimators against a knob, with medians, bands and a tail verdict per point."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.results import Result
from ..core.stats import summarize, tail_index, tail_verdict
from ..plots.helpers import axes, data_ylim

#: The errors a curve can show, with the words of its axis and table (their units).
METRICS = {"mse": "mean squared error (MSE, units of y²)",
           "rmse": "root mean squared error (RMSE, units of y)",
           "error": "0-1 error (share misclassified)"}
#: Datasets below which no tail verdict is given (Hill's estimate uses the top ~10 of 20 or more).
MIN_TAIL = 20
_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
_NAN_STATS = {k: math.nan for k in ("mean", "se", "median", "q10", "q25", "q75", "q90", "trimmed")}


def _column(a: np.ndarray, metric: str) -> dict:
    """Summary of one point's per-dataset errors (NaN left out: no such dataset, or a failed fit)."""
    f = a[np.isfinite(a)]
    if f.size == 0:
        return {**_NAN_STATS, "heavy_tail": False, "n": 0, "tail_index": math.nan, "tail_lo": math.nan,
                "tail_hi": math.nan, "verdict": "no data"}
    s = {k: (bool(v[0]) if k == "heavy_tail" else float(v[0])) for k, v in summarize(f[:, None]).items()}
    s["n"] = int(f.size)
    s["tail_index"] = s["tail_lo"] = s["tail_hi"] = math.nan
    if metric == "error":  # a share lies in [0, 1]: every moment is finite
        s["verdict"] = "finite variance (bounded 0-1 error)"
    elif f.size < MIN_TAIL:
        s["verdict"] = f"too few datasets (< {MIN_TAIL})"
    else:
        t = tail_index(f)
        s.update(tail_index=float(t["index"]), tail_lo=float(t["lo"]), tail_hi=float(t["hi"]))
        s["verdict"] = tail_verdict(t["lo"], t["hi"])[0]
    return s


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)


@dataclass
class EstimatorCurve(Result):
    """Training and validation errors of estimators against a knob, over repeated datasets.

    Attributes
    ----------
    kind : {"validation", "learning"}
    knob : str
        The parameter that varies, or ``"n_train"`` for a learning curve.
    values : list
        The knob's values (numbers, or words such as ``"uniform"``).
    labels : list of str
        One name per estimator.
    train, val : ndarray of shape (n_estimators, n_repeats, n_values)
        Per-dataset errors in ``metric``; NaN where a repeat has no dataset (disjoint splits of a small
        dataset) or a fit failed.
    metric : {"mse", "rmse", "error"}
    planned : ndarray of shape (n_values,)
        Datasets planned per value (what NaN leaves out of it failed).
    n_train : int or None
        Training points of a validation curve (a learning curve's are its values).
    n_val : int
        Validation points per dataset.
    config : dict
    """

    kind: str
    knob: str
    values: list
    labels: list
    train: np.ndarray
    val: np.ndarray
    metric: str
    planned: np.ndarray
    n_train: int | None
    n_val: int
    config: dict = field(default_factory=dict)

    @property
    def metric_label(self) -> str:
        return METRICS[self.metric]

    def stats(self, which: str = "val") -> list[list[dict]]:
        """Per estimator and value, the summary of ``which`` (``"train"`` or ``"val"``) errors."""
        arr = self.val if which == "val" else self.train
        return [[_column(arr[e, :, v], self.metric) for v in range(len(self.values))] for e in range(len(self.labels))]

    def summary(self):
        """One row per estimator and value: datasets used and failed; median, quartiles and mean of the
        training error; mean ± s.e., median, quartiles, trimmed mean, heavy-tail flag, Hill's tail index
        (95% interval) and its verdict of the validation error."""
        import pandas as pd

        rows = []
        for e, (tr, va) in enumerate(zip(self.stats("train"), self.stats("val"))):
            for v, value in enumerate(self.values):
                t, s = tr[v], va[v]
                rows.append({"estimator": self.labels[e], self.knob: value, "datasets": s["n"],
                             "failed": int(self.planned[v]) - s["n"],
                             "train_median": t["median"], "train_q25": t["q25"], "train_q75": t["q75"],
                             "train_mean": t["mean"], "val_mean": s["mean"], "val_se": s["se"],
                             "val_median": s["median"], "val_q25": s["q25"], "val_q75": s["q75"],
                             "val_trimmed": s["trimmed"], "val_heavy_tail": s["heavy_tail"],
                             "val_tail_index": s["tail_index"], "val_tail_lo": s["tail_lo"],
                             "val_tail_hi": s["tail_hi"], "val_verdict": s["verdict"]})
        return pd.DataFrame(rows)

    @property
    def best(self) -> dict:
        """Per estimator: the value with the lowest median validation error, and that median."""
        out = {}
        for label, va in zip(self.labels, self.stats("val")):
            med = np.array([s["median"] for s in va])
            if np.all(np.isnan(med)):
                out[label] = {"value": None, "val_median": None}
                continue
            i = int(np.nanargmin(med))
            value = self.values[i]
            out[label] = {"value": value.item() if hasattr(value, "item") else value, "val_median": float(med[i])}
        return out

    def to_dict(self) -> dict:
        return {"kind": self.kind, "knob": self.knob, "values": list(self.values), "metric": self.metric,
                "metric_label": self.metric_label, "estimators": list(self.labels), "n_train": self.n_train,
                "n_val": self.n_val, "n_repeats": int(self.val.shape[1]), "best": self.best, "config": self.config,
                "points": self.summary().to_dict(orient="records")}

    def plot(self, ax=None, *, title=None, train: bool = True):
        """Median validation error per estimator with its interquartile band (the mean dotted), the median
        training error dashed, the best value starred; limits from the errors shown, a log axis where
        they span more than 30x, and the noise floor of a known source."""
        ax = axes(ax, (6.4, 4.2))
        numeric = _numeric(self.values)
        x = np.asarray(self.values, dtype=float) if numeric else np.arange(len(self.values), dtype=float)
        shown, trains = [], []
        for e, label in enumerate(self.labels):
            color = _COLORS[e % len(_COLORS)]
            va = self.stats("val")[e]
            med, q25, q75 = (np.array([s[k] for s in va]) for k in ("median", "q25", "q75"))
            mean = np.array([s["mean"] for s in va])
            name = label if len(self.labels) > 1 else "validation"
            ax.plot(x, med, color=color, marker="o", ms=3, label=f"{name} (median, IQR)")
            ax.fill_between(x, q25, q75, color=color, alpha=0.18, lw=0)
            ax.plot(x, mean, color=color, ls=":", lw=0.9)
            shown += [q25, q75, med]
            if train:
                tmed = np.array([s["median"] for s in self.stats("train")[e]])
                ax.plot(x, tmed, color=color, ls="--", lw=1, label="training (median)" if e == 0 else None)
                trains.append(tmed)
            if np.any(np.isfinite(med)):
                i = int(np.nanargmin(med))
                ax.plot([x[i]], [med[i]], marker="*", ms=11, color=color, ls="none",
                        label="lowest median validation error" if e == 0 else None)
        floor = self._floor()
        if floor is not None:
            ax.axhline(floor, color="0.5", lw=0.8, ls="-.", label="noise floor (irreducible)")
            shown.append(np.array([floor]))
        self._scales(ax, x, shown, trains, numeric)
        ax.set_xlabel("training points n" if self.knob == "n_train" else self.knob)
        ax.set_ylabel(self.metric_label)
        ax.legend(fontsize="small")
        what = "learning curve" if self.kind == "learning" else f"validation curve of {self.knob}"
        sub = f"n = {self.n_train}, " if self.n_train is not None else ""
        where = f" on {self.config['data']}" if self.config.get("data") else ""
        ax.set_title(title or f"{what}{where}\n({sub}{self.n_val} validation points, up to {self.val.shape[1]} "
                     "datasets)", fontsize="medium")
        return ax

    def _floor(self):
        noise_var = self.config.get("noise_var")
        if noise_var is None or self.metric == "error":
            return None
        return float(noise_var) if self.metric == "mse" else math.sqrt(float(noise_var))

    def _scales(self, ax, x, shown, trains, numeric):
        """Log axes where the values span decades; y-limits from the validation errors (and the noise floor),
        and from the training errors too on a linear axis (on a log one, a training error of ~0 would squash
        the validation curves: it leaves the axis at the bottom)."""
        def finite(arrays):
            v = np.concatenate([np.ravel(a) for a in arrays]) if arrays else np.empty(0)
            return v[np.isfinite(v)]

        val = finite(shown)
        pos = val[val > 0]
        if numeric and np.all(x > 0) and x.size > 1 and x.max() / x.min() >= (10 if self.kind == "learning" else 20):
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(x, [str(v) for v in self.values], rotation=30 if len(self.values) > 6 else 0)
        if pos.size and pos.max() / pos.min() > 30:
            ax.set_yscale("log")
            ax.set_ylim(pos.min() / 3, pos.max() * 1.5)
            return
        vals = np.concatenate([val, finite(trains)])
        lim = data_ylim(vals, pad=0.08)
        if lim is not None:
            ax.set_ylim(max(lim[0], 0.0) if vals.min() >= 0 else lim[0], lim[1])
