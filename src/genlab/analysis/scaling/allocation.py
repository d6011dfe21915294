"""Compute-optimal allocation: the model size N* and tokens D* a law proposes for a budget C ≈ 6ND.

:func:`plan` takes a law (a preset, a :class:`~genlab.analysis.scaling.forms.ScalingLaw`,
a :class:`~genlab.analysis.scaling.fits.ScalingFit` or the JSON of a fit, read by
:func:`load_law`) and budgets, and returns a :class:`ComputePlan`: N*, D*, the
predicted loss, with bootstrap intervals when the law comes from a fit with a
bootstrap. The optimum itself is :meth:`ScalingLaw.optimum`
(closed form for the Chinchilla form, numerical for Kaplan's).
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
from .forms import N_LABELS, PRESETS, ScalingLaw, preset


@dataclass
class ComputePlan(Result):
    """Proposed model sizes and token counts for compute budgets (C ≈ 6ND).

    Attributes ``flops``, ``N``, ``D``, ``loss``, ``tokens_per_param`` have shape
    (n_budgets,); ``intervals`` maps each to ``(lo, hi)`` arrays when the law comes
    from a fit with a bootstrap.
    """

    law: ScalingLaw
    flops: np.ndarray
    N: np.ndarray
    D: np.ndarray
    loss: np.ndarray
    intervals: dict
    warnings: list
    boot_laws: list = field(default_factory=list, repr=False)

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
                      "warnings": list(self.warnings)})

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
    return law, boots, source.get("runs")


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
    if runs and runs.get("N"):
        factor = opt[:, 0].max() / max(runs["N"])
        if factor > 1:
            warns.append(f"the plan extrapolates N by {factor:.3g}x beyond the largest model fitted "
                         f"({max(runs['N']):.3g})")
    intervals = {}
    if boots:
        bo = np.array([[b.optimum(v) for v in c] for b in boots])  # (B, n_budgets, 3)
        for j, k in enumerate(("N", "D", "loss")):
            intervals[k] = (np.percentile(bo[:, :, j], 2.5, axis=0), np.percentile(bo[:, :, j], 97.5, axis=0))
    return ComputePlan(law, c, opt[:, 0], opt[:, 1], opt[:, 2], intervals, warns, boots)
