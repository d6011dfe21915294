"""Compute-optimal allocation and predictions: the model size N* and tokens D* a law proposes for a
budget C ≈ 6ND, and the loss it predicts at a point.

:func:`plan` takes a law (a preset, a :class:`~genlab.analysis.scaling.forms.ScalingLaw`,
a :class:`~genlab.analysis.scaling.fits.ScalingFit` or the JSON of a fit, read by
:func:`load_law`) and budgets, and returns a :class:`ComputePlan`: N*, D*, the
predicted loss, with bootstrap intervals when the law comes from a fit with a
bootstrap. The optimum itself is :meth:`ScalingLaw.optimum`
(closed form for the Chinchilla form, numerical for Kaplan's). :func:`predict` gives a
:class:`Prediction`: the loss at N (and D, or C = 6ND), with its interval.

Both compare the N, D and C they use with the ranges of the runs the law was fitted on (a fit's
runs, or what genlab records of a published law's: :func:`~genlab.analysis.scaling.forms.fitted_on`)
and warn, one line per variable, how far beyond them they are: there they extrapolate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...core.checks import check_positive
from ...core.errors import GenlabError
from ...core.io import plain
from ...core.results import Result
from .fits import ScalingFit
from .forms import (N_LABELS, PRESETS, ScalingLaw, extrapolation, fitted_on, number, preset,
                    run_ranges, used_inputs)


@dataclass
class ComputePlan(Result):
    """Proposed model sizes and token counts for compute budgets (C ≈ 6ND).

    Attributes ``flops``, ``N``, ``D``, ``loss``, ``tokens_per_param`` have shape
    (n_budgets,); ``intervals`` maps each to ``(lo, hi)`` arrays (95% bootstrap) when the law
    comes from a fit with a bootstrap; ``warnings`` say which of N, D and C lie beyond ``ranges``,
    those of the runs the law was fitted on.
    """

    law: ScalingLaw
    flops: np.ndarray
    N: np.ndarray
    D: np.ndarray
    loss: np.ndarray
    intervals: dict
    warnings: list
    boot_laws: list = field(default_factory=list, repr=False)
    #: ``{variable: (smallest, largest)}`` of the runs the law was fitted on (None: unknown).
    ranges: dict | None = None

    @property
    def tokens_per_param(self) -> np.ndarray:
        return self.D / self.N

    def summary(self):
        """One row per budget: ``flops``, ``N``, ``D``, ``tokens_per_param``, ``loss`` (and ``*_lo``, ``*_hi``)."""
        import pandas as pd

        cols = {"flops": self.flops, "N": self.N, "D": self.D, "tokens_per_param": self.tokens_per_param,
                "loss": self.loss}
        for k, (lo, hi) in self.intervals.items():
            cols[f"{k}_lo"], cols[f"{k}_hi"] = lo, hi
        return pd.DataFrame(cols)

    def to_dict(self) -> dict:
        return plain({"law": self.law.to_dict(), "plans": self.summary().to_dict(orient="records"),
                      "warnings": list(self.warnings), "ranges": _ranges_dict(self.ranges)})

    def plot(self, ax=None):
        """The frontier N*(C) (and D*(C)) on log axes, with the proposed budgets marked. Returns the Axes."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        lo, hi = self.flops.min() / 1e3, self.flops.max() * 1e3
        grid = np.geomspace(lo, hi, 60)
        opt = np.array([self.law.optimum(c)[:2] for c in grid])
        ax.plot(grid, opt[:, 0], color="tab:blue", label=f"N*(C), {self.law.name}")
        ax.plot(grid, opt[:, 1], color="tab:orange", label="D*(C)")
        if self.boot_laws:
            bo = np.array([[b.optimum(c)[:2] for c in grid] for b in self.boot_laws])
            for j, color in ((0, "tab:blue"), (1, "tab:orange")):
                ax.fill_between(grid, np.percentile(bo[:, :, j], 2.5, axis=0),
                                np.percentile(bo[:, :, j], 97.5, axis=0), color=color, alpha=0.2, lw=0)
        ax.scatter(self.flops, self.N, color="tab:blue", zorder=3)
        ax.scatter(self.flops, self.D, color="tab:orange", zorder=3)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("compute C (FLOPs)")
        ax.set_ylabel("parameters N*, tokens D*")
        ax.legend(fontsize="small")
        return ax


def load_law(source):
    """``(law, boot_laws, runs)`` from a preset name, a :class:`ScalingLaw`, a :class:`ScalingFit`,
    or a fit's JSON (a path or its dict): ``boot_laws`` and ``runs`` are empty/None when unknown."""
    if isinstance(source, ScalingLaw):
        return source, [], None
    if isinstance(source, ScalingFit):
        return source.law, source.boot_laws, source.to_dict()["runs"]
    if isinstance(source, (str, Path)) and str(source) in PRESETS:
        return PRESETS[str(source)], [], None
    if isinstance(source, (str, Path)):
        source = _read_law_file(Path(source), str(source))
    if not isinstance(source, dict) or "form" not in source or "params" not in source:
        raise GenlabError("a law file must be the JSON of a fit (with 'form' and 'params')")
    try:
        kind = N_LABELS.get(source.get("n_kind"))
        law = ScalingLaw(source["form"], source["params"],
                         name=f"fit ({source['form']}" + (f", N = {kind})" if kind else ")"))
        f = law.form
        boots = [ScalingLaw(f, dict(zip(f.names, p))) for p in source.get("bootstrap_params") or []]
    except (TypeError, ValueError, KeyError) as exc:
        raise GenlabError(f"the law file has bad parameters: {exc}") from None
    runs = source.get("runs") if isinstance(source.get("runs"), dict) else None
    try:
        if not run_ranges(runs) and isinstance(source.get("ranges"), dict):
            runs = source["ranges"]   # (smallest, largest) per variable: the same ranges
            run_ranges(runs)
    except (TypeError, ValueError) as exc:
        raise GenlabError(f"the law file has bad runs or ranges: {exc}") from None
    return law, boots, runs


def _read_law_file(path: Path, text: str):
    """The JSON in the law file ``path`` (``text`` as given), or a one-line error."""
    if not path.suffix == ".json" and not path.exists():
        preset(text)  # raises the unknown-law error
    from ...core.limits import LIMITS
    from ...data.sources import open_regular_file

    if not path.exists():
        raise GenlabError(f"law file {str(path)!r} does not exist; give a preset "
                          f"({', '.join(PRESETS)}) or the JSON of a fit")
    try:
        with open_regular_file(path, "law file", int(LIMITS["law_bytes"].cap)) as fh:
            return json.loads(fh.read())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise GenlabError(f"law file {str(path)!r} is not JSON: {str(exc).splitlines()[0]}") from None


def plan(flops, law="chinchilla") -> ComputePlan:
    """Compute-optimal N, D and the predicted loss for budget(s) ``flops`` (FLOPs, C ≈ 6ND).

    Parameters
    ----------
    flops : float or array-like of shape (n_budgets,)
    law : str, ScalingLaw, ScalingFit, path or dict
        A preset (``chinchilla``, ``kaplan``), a law, a fit or the JSON of a fit.
        A fit with a bootstrap gives intervals.

    Returns
    -------
    ComputePlan
    """
    law, boots, runs = load_law(law)
    if law.form.variables != ("N", "D"):
        raise GenlabError(f"compute-optimal allocation needs a law of N and D (chinchilla or kaplan), "
                          f"not {law.form.name}")
    c = np.atleast_1d(np.asarray([check_positive(v, "flops") for v in np.atleast_1d(flops)], dtype=float))
    warns = []
    if runs and runs.get("N") and runs.get("D"):
        smallest = min(6.0 * n * d for n, d in zip(runs["N"], runs["D"]))
        if c.min() < smallest:
            raise GenlabError(f"budget {c.min():.3g} FLOPs is below the smallest run of the fit "
                              f"(6ND = {smallest:.3g}); give --flops >= {smallest:.3g}")
    opt = np.array([law.optimum(v) for v in c])
    ranges, who = fitted_on(law, runs)
    warns += extrapolation({"N": opt[:, 0], "D": opt[:, 1], "C": c}, ranges, who=who, what="the plan")
    intervals = {}
    if boots:
        bo = np.array([[b.optimum(v) for v in c] for b in boots])  # (B, n_budgets, 3)
        for j, k in enumerate(("N", "D", "loss")):
            intervals[k] = (np.percentile(bo[:, :, j], 2.5, axis=0), np.percentile(bo[:, :, j], 97.5, axis=0))
    return ComputePlan(law, c, opt[:, 0], opt[:, 1], opt[:, 2], intervals, warns, boots, ranges)


def _ranges_dict(ranges) -> dict | None:
    return None if ranges is None else {k: list(v) for k, v in ranges.items()}


@dataclass
class Prediction(Result):
    """The loss a law predicts at one point, with its 95% bootstrap interval when the law comes from a
    fit with a bootstrap, and one warning for each of N, D and C beyond the runs the law was fitted on.

    Attributes
    ----------
    law : ScalingLaw
    at : dict
        The point as given (``{"N": 1e9, "D": 2e10}``).
    inputs : dict
        The N, D and C the law uses there (C = 6ND for a law of N and D).
    loss : float
    interval : tuple of float or None
        2.5th and 97.5th percentiles of the bootstrap laws' predictions.
    warnings : list of str
    ranges : dict or None
        ``{variable: (smallest, largest)}`` of the runs the law was fitted on (None: unknown).
    """

    law: ScalingLaw
    at: dict
    inputs: dict
    loss: float
    interval: tuple | None
    warnings: list
    ranges: dict | None = None
    boot_laws: list = field(default_factory=list, repr=False)

    def summary(self):
        """One row: the inputs N, D, C the law uses, ``loss`` and (with a bootstrap) ``loss_lo``, ``loss_hi``."""
        import pandas as pd

        row = {k: float(v) for k, v in self.inputs.items()}
        row["loss"] = self.loss
        if self.interval is not None:
            row["loss_lo"], row["loss_hi"] = self.interval
        return pd.DataFrame([row])

    def to_dict(self) -> dict:
        out = {"law": self.law.to_dict(), "at": dict(self.at), "inputs": {k: float(v) for k, v in self.inputs.items()},
               "loss": self.loss, "warnings": list(self.warnings), "ranges": _ranges_dict(self.ranges)}
        if self.interval is not None:
            out["interval"] = list(self.interval)
        return plain(out)

    def plot(self, ax=None):
        """The law against its first variable (N for a law of N and D, the other inputs held) through the
        point, with the bootstrap band, the runs' range shaded and the point marked. Returns the Axes."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        x = self.law.form.variables[0]
        x0 = float(self.inputs[x])
        lo, hi = (self.ranges or {}).get(x) or (None, None)
        ends = [v for v in (x0, lo, hi) if v is not None]
        grid = np.geomspace(min(ends) / 3, max(ends) * 3, 80)
        held = {k: np.full_like(grid, float(self.inputs[k])) for k in self.law.form.variables[1:]}
        ax.plot(grid, self.law.predict(**{x: grid}, **held), color="tab:red", lw=1.6, label=self.law.name)
        if self.boot_laws:
            preds = np.array([b.predict(**{x: grid}, **held) for b in self.boot_laws])
            ax.fill_between(grid, np.percentile(preds, 2.5, axis=0), np.percentile(preds, 97.5, axis=0),
                            color="tab:red", alpha=0.2, lw=0, label="95% bootstrap band")
        if lo is not None or hi is not None:
            ax.axvspan(lo or grid[0], hi or grid[-1], color="0.92", lw=0, zorder=0,
                       label=f"{x} of the runs the law was fitted on")
        ax.scatter([x0], [self.loss], color="k", zorder=3, label="prediction")
        if self.interval is not None:
            ax.errorbar([x0], [self.loss], yerr=[[self.loss - self.interval[0]], [self.interval[1] - self.loss]],
                        color="k", capsize=3)
        ax.set_xscale("log")
        ax.set_yscale("log")
        others = ", ".join(f"{k} = {number(self.inputs[k])}" for k in self.law.form.variables[1:])
        ax.set_xlabel({"N": "parameters N", "D": "tokens D", "C": "compute C"}[x] + (f" ({others})" if others else ""))
        ax.set_ylabel("predicted loss")
        ax.set_title(f"{self.law.name}: {self.law.form.formula}", fontsize="small")
        ax.legend(fontsize="small")
        return ax


def predict(law="chinchilla", *, N=None, D=None, C=None) -> Prediction:
    """The loss ``law`` predicts at ``N`` (parameters), ``D`` (tokens) or ``C`` (compute; for a law of N and
    D, C = 6ND stands for the one not given), with its interval and extrapolation warnings.

    Parameters
    ----------
    law : str, ScalingLaw, ScalingFit, path or dict
        A preset (``chinchilla``, ``kaplan``, ``kaplan_N``, ``kaplan_D``, ``kaplan_C``), a law, a fit or
        the JSON of a fit. A fit with a bootstrap gives an interval.
    N, D, C : float, optional
        The point (> 0): two of them for a law of N and D, its one variable otherwise.

    Returns
    -------
    Prediction
    """
    law, boots, runs = load_law(law)
    where = {k: check_positive(v, k) for k, v in (("N", N), ("D", D), ("C", C)) if v is not None}
    if len(law.form.variables) == 1:
        ignored = [k for k in where if k != law.form.variables[0]]
        if ignored:
            raise GenlabError(f"the {law.name} law ({law.form.name}) predicts from {law.form.variables[0]} alone; "
                              f"{' and '.join(ignored)} would be ignored: leave {'it' if len(ignored) == 1 else 'them'} out")
    loss = float(law.predict(**where))
    interval = None
    if boots:
        preds = np.array([b.predict(**where) for b in boots])
        interval = (float(np.percentile(preds, 2.5)), float(np.percentile(preds, 97.5)))
    used = used_inputs(law.form, **where)
    ranges, who = fitted_on(law, runs)
    return Prediction(law, where, used, loss, interval, extrapolation(used, ranges, who=who), ranges, boots)
