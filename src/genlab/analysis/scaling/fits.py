"""Fitting a scaling law to runs, with honest uncertainty: :func:`fit`, :func:`fit_csv`, :class:`ScalingFit`.

Fitting follows Hoffmann et al. 2022 and its replication by Besiroglu et al.
2024: parameters in log space with a log-sum-exp parametrization (see
:mod:`genlab.analysis.scaling.forms`), a Huber loss (δ = 1e-3) on
log L̂ − log L *summed* over runs (averaging makes L-BFGS stop early),
L-BFGS-B from a grid of starting points, best fit kept. The grid (the paper's:
4 500 points for Chinchilla) is screened by its objective and the best
``n_starts`` points are optimized. The minimizations run side by side, their
objectives computed for all of them at once: the numbers of one
``scipy.optimize.minimize`` per start, bit for bit, about 5x faster (the
comment above :func:`_objective`; ``bench/scaling_fit.py``).

Uncertainty: a bootstrap over runs (rows resampled with replacement, one
seeded stream per replicate) for every parameter and derived quantity, a
hold-out check (fit without the largest model, predict it), and warnings.
A fit whose parameters leave floating point (an exponent at its bound makes
N_c = exp(c/α) overflow) is refused with a :class:`GenlabError` saying why. A
parameter that the runs do not pin down (at a bound of the search, or with an
interval over a decade) is reported as *not identified by these runs*, with what
would identify it (:attr:`ScalingFit.identification`, rules in
:mod:`genlab.analysis.scaling.identify`).

N is what the caller passes; ``n_kind`` says which parameters it counts
(``non_embedding``, Kaplan's, or ``total``, Chinchilla's; see
:data:`~genlab.analysis.scaling.forms.N_KINDS`), and travels with the fit.

:func:`synthetic_runs` draws runs from a known law, to test all of this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import numpy as np

from ...core.checks import check_int, check_nonnegative, check_positive
from ...core.errors import GenlabError
from ...core.io import plain
from ...core.results import Result
from ...core.seeding import check_seed, rng as make_rng
from .forms import (N_LABELS, Form, ScalingLaw, check_n_kind, extrapolation, get_form, number, preset,
                    run_ranges, used_inputs)
from .identify import describe, identification
from .objective import (  # noqa: F401 - the tests and bench/scaling_fit.py reach these through fits
    HUBER_DELTA, _ELEMENTS, _ENGINES, _LBFGSB_OPTIONS, _boot_starts, _boot_thetas, _box, _fit_theta,
    _grid_starts, _grid_values, _lbfgsb_many, _natural, _objective, _objective_many, _untrusted)

#: Bootstrap replicates fitted side by side by the fast engine (each start holds about 40 kB of L-BFGS-B
#: workspace); fewer when they would hold more than ``objective._ELEMENTS`` resampled runs. The numbers do
#: not depend on it.
_BOOT_BLOCK = 64


# -- the result ------------------------------------------------------------------------------

@dataclass
class ScalingFit(Result):
    """A fitted scaling law with bootstrap intervals, a hold-out check and warnings.

    Attributes
    ----------
    law : ScalingLaw
        The best fit.
    params : dict
        Its natural parameters.
    intervals, se : dict
        ``name -> (lo, hi)`` (percentile, 2.5–97.5) and ``name -> s.e.`` for every
        parameter and derived quantity (bootstrap over runs).
    derived : dict
        Chinchilla: ``a = β/(α+β)``, ``b``, ``G``; at ``budget``: ``N_opt``, ``D_opt``,
        ``tokens_per_param``, ``loss_opt``; at ``predict_at``: ``loss_at``.
    boot_params : ndarray of shape (n_bootstrap, n_params)
    holdout : dict or None
        Fit without the largest N, predicted against measured loss there.
    warnings : list of str
    N, D, C, loss : ndarray of shape (n_runs,) (absent inputs are None)
    config : dict
        The fit's settings, ``n_kind`` (which parameters N counts) among them.
    identification : dict (property)
        Which parameters these runs identify (see :mod:`genlab.analysis.scaling.identify`).
    ranges : dict (property)
        ``{variable: (smallest, largest)}`` of the runs (in the JSON too): beyond them a prediction or a
        plan of the law is an extrapolation, and says so among the warnings.
    """

    law: ScalingLaw
    params: dict
    objective: float
    derived: dict
    boot_params: np.ndarray
    boot_derived: dict
    holdout: dict | None
    warnings: list
    N: np.ndarray | None
    D: np.ndarray | None
    C: np.ndarray | None
    loss: np.ndarray
    config: dict = field(default_factory=dict)

    @property
    def form(self) -> Form:
        return self.law.form

    @property
    def n_kind(self) -> str:
        """Which parameters N counts: ``non_embedding`` or ``total``."""
        return self.config.get("n_kind", "non_embedding")

    @property
    def identification(self) -> dict:
        """``name -> {"identified": bool, "rule", "reason", "needs", "suggestion", ...}`` for every natural
        parameter and every quantity derived from them (:func:`genlab.analysis.scaling.identify.identification`)."""
        runs = {"N": self.N, "D": self.D, "C": self.C, "loss": self.loss}
        return identification(self.form, self.law.theta, self.boot_params, self.intervals, self.params,
                              self.derived, runs)

    @property
    def not_identified(self) -> list:
        """The names (parameters, then derived quantities) these runs do not identify."""
        return [k for k, v in self.identification.items() if not v["identified"]]

    def describe(self) -> list:
        """``name = value [lo, hi]`` for every parameter and derived quantity, ``name = not identified``
        for those the runs do not identify (the CLI's table)."""
        ident, iv = self.identification, self.intervals
        return [describe(k, v, iv.get(k), ident.get(k)) for k, v in {**self.params, **self.derived}.items()]

    def predict(self, N=None, D=None, C=None):
        return self.law.predict(N=N, D=D, C=C)

    @property
    def boot_laws(self) -> list:
        """The bootstrap replicates as :class:`ScalingLaw` objects (one per row of ``boot_params``)."""
        return [ScalingLaw(self.form, dict(zip(self.form.names, p))) for p in self.boot_params]

    @property
    def at_bound(self) -> list:
        """The fitted parameters (by their names in the fitting parametrization, e.g. ``"e"`` for
        log E) that ended at their search bound."""
        return [name for name, *_ in self.form.at_bound(self.law.theta)]

    def _samples(self) -> dict:
        s = {n: self.boot_params[:, i] for i, n in enumerate(self.form.names)}
        s.update(self.boot_derived)
        return s

    @property
    def intervals(self) -> dict:
        return {k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
                for k, v in self._samples().items() if len(v)}

    @property
    def se(self) -> dict:
        return {k: float(np.std(v, ddof=1)) for k, v in self._samples().items() if len(v) > 1}

    def summary(self):
        """One row per parameter and derived quantity: value, interval, s.e., ``identified`` (None for
        the predicted losses, which are not judged) and ``note`` (why not, and what would identify it)."""
        import pandas as pd

        iv, se, ident = self.intervals, self.se, self.identification
        rows = []
        for kind, values in (("parameter", self.params), ("derived", self.derived)):
            for k, v in values.items():
                lo, hi = iv.get(k, (math.nan, math.nan))
                e = ident.get(k)
                note = f"not identified by these runs: {e['reason']}; {e['suggestion']}" if e and e["reason"] else ""
                rows.append({"quantity": k, "kind": kind, "value": v, "lo": lo, "hi": hi,
                             "se": se.get(k, math.nan), "identified": None if e is None else e["identified"],
                             "note": note})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        def col(x):
            return None if x is None else [float(v) for v in x]
        return plain({"form": self.form.name, "formula": self.form.formula, "n_kind": self.n_kind,
                      "params": self.params, "intervals": self.intervals, "se": self.se, "derived": self.derived,
                      "identification": self.identification,
                      "holdout": self.holdout, "warnings": list(self.warnings), "objective": self.objective,
                      "n_runs": int(len(self.loss)), "config": self.config,
                      "bootstrap_params": [list(map(float, r)) for r in self.boot_params],
                      "runs": {"N": col(self.N), "D": col(self.D), "C": col(self.C), "loss": col(self.loss)},
                      "ranges": {k: list(v) for k, v in self.ranges.items()}})

    @property
    def ranges(self) -> dict:
        """``{variable: (smallest, largest)}`` of the runs' N, D and C (those known): where predictions and
        plans of this law stop being extrapolations."""
        return run_ranges({"N": self.N, "D": self.D, "C": self.C})

    def band(self, **where):
        """(lo, hi) percentile band (2.5–97.5) of the bootstrap laws' predictions at ``where``."""
        preds = np.array([law.predict(**where) for law in self.boot_laws])
        return np.percentile(preds, 2.5, axis=0), np.percentile(preds, 97.5, axis=0)

    def plot(self, ax=None, *, max_curves: int = 6):
        """Measured runs and the fitted law with its bootstrap band, on log axes (a law of N and D:
        against N, one curve for each of up to ``max_curves`` token counts). Returns the Axes."""
        from ...plots.helpers import axes, scatter

        ax = axes(ax, (6.4, 4.2))
        x_name = self.form.variables[0]
        x = {"N": self.N, "D": self.D, "C": self.C}[x_name]
        grid = np.geomspace(x.min(), x.max(), 60)
        if self.form.variables == ("N", "D"):
            import matplotlib.pyplot as plt

            ds = np.unique(self.D)
            if len(ds) > max_curves:
                ds = ds[np.unique(np.linspace(0, len(ds) - 1, max_curves).round().astype(int))]
            cmap = plt.get_cmap("viridis")
            for i, d in enumerate(ds):
                color = cmap(i / max(1, len(ds) - 1))
                sel = np.isclose(self.D, d)
                scatter(ax, self.N[sel], self.loss[sel], color=color, s=14, zorder=3)
                ax.plot(grid, self.law.predict(N=grid, D=d), color=color, lw=1.4, label=f"D = {d:.3g}")
                if len(self.boot_params):
                    lo, hi = self.band(N=grid, D=np.full_like(grid, d))
                    ax.fill_between(grid, lo, hi, color=color, alpha=0.2, lw=0)
        else:
            scatter(ax, x, self.loss, color="k", s=14, zorder=3, label="runs")
            ax.plot(grid, self.law.predict(**{x_name: grid}), color="tab:red", lw=1.6, label=f"{self.form.name} fit")
            if len(self.boot_params):
                lo, hi = self.band(**{x_name: grid})
                ax.fill_between(grid, lo, hi, color="tab:red", alpha=0.2, lw=0, label="95% bootstrap band")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel({"N": f"{N_LABELS[self.n_kind]} N", "D": "tokens D", "C": "compute C"}[x_name])
        ax.set_ylabel("loss")
        ax.set_title(self.form.formula, fontsize="small")
        ax.legend(fontsize="small")
        return ax


# -- the fit ------------------------------------------------------------------------------------

def _as_array(values, what: str):
    if values is None:
        return None
    try:
        a = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise GenlabError(f"{what} must be numbers") from None
    bad = ~(np.isfinite(a) & (a > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise GenlabError(f"{what} must be finite numbers > 0; run {i + 1} has {a[i]!r}")
    return a


def _runs(form: Form, N, D, C, loss) -> tuple[dict, np.ndarray]:
    """``({"N": ..., "D": ..., "C": ...}, loss)`` as checked arrays (C = 6ND when N and D are given)."""
    inputs = {"N": _as_array(N, "N"), "D": _as_array(D, "D"), "C": _as_array(C, "C")}
    L = _as_array(loss, "loss")
    if L is None:
        raise GenlabError("loss is required")
    if inputs["C"] is None and inputs["N"] is not None and inputs["D"] is not None:
        inputs["C"] = 6.0 * inputs["N"] * inputs["D"]
    for v in form.variables:
        if inputs[v] is None:
            raise GenlabError(f"the {form.name} form needs {v} for every run")
        if len(inputs[v]) != len(L):
            raise GenlabError(f"{v} has {len(inputs[v])} values but loss has {len(L)}")
    if len(L) < form.n_params:
        raise GenlabError(f"the {form.name} form has {form.n_params} parameters but there are only {len(L)} runs; "
                          f"give at least {form.n_params}")
    return inputs, L


def _one_blas_thread(fn):
    """Run ``fn`` with BLAS limited to one thread: L-BFGS-B calls BLAS on vectors of a few numbers, and
    with two BLAS threads on a busy 2-core machine a 3-second fit was measured to take 30-100 s (the
    threads spin waiting for each other)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import scipy.optimize  # noqa: F401  (load scipy's BLAS before limiting it)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return fn(*args, **kwargs)

    return wrapper


@_one_blas_thread
def fit(N=None, D=None, loss=None, form: str = "chinchilla", *, C=None, seeds=None, bootstrap: int = 200,
        seed: int = 0, budget=None, predict_at: dict | None = None, n_starts: int = 20,
        delta: float = HUBER_DELTA, holdout: bool = True, n_kind: str = "non_embedding") -> ScalingFit:
    """Fit a scaling law to runs, with bootstrap intervals, a hold-out check and warnings.

    Parameters
    ----------
    N, D, C : array-like of shape (n_runs,), optional
        Parameters, tokens, compute of each run (those the form needs).
    loss : array-like of shape (n_runs,)
        Final loss of each run (> 0).
    form : str
        ``chinchilla``, ``kaplan``, ``power`` (= ``power_N``), ``power_D``, ``power_C`` or ``saturating``.
    seeds : array-like of shape (n_runs,), optional
        The training seed of each run (used only for the one-seed warning).
    bootstrap : int
        Bootstrap replicates (0: none).
    seed : int
        Seed of the bootstrap: same seed, same intervals.
    budget : float, optional
        Compute (FLOPs) at which the compute optimum is reported (two-variable forms);
        default: the largest 6ND among the runs. Its N, D or C beyond the runs' ranges is warned of.
    predict_at : dict, optional
        E.g. ``{"N": 1e10, "D": 2e11}``: the loss there, with its interval, and its
        extrapolation factor among the warnings.
    n_starts : int
        Grid points (best by objective) from which L-BFGS-B starts.
    delta : float
        Huber δ on log-residuals.
    holdout : bool
        Run the hold-out check.
    n_kind : {"non_embedding", "total"}
        Which parameters ``N`` counts (``non-embedding`` is accepted too): a label, recorded with the
        fit and shown with it (the compute optimum's N and the budget's C = 6ND are in the same count).

    Returns
    -------
    ScalingFit

    Raises
    ------
    GenlabError
        Bad runs, fewer runs than the form has parameters, or a fit (or a bootstrap replicate)
        whose parameters overflow: an exponent at its bound, named in the message.
    """
    return _fit(N, D, loss, form, C=C, seeds=seeds, bootstrap=bootstrap, seed=seed, budget=budget,
                predict_at=predict_at, n_starts=n_starts, delta=delta, holdout=holdout, n_kind=n_kind)


@_one_blas_thread
def _fit_reference(N=None, D=None, loss=None, form: str = "chinchilla", **kwargs) -> ScalingFit:
    """:func:`fit` computed as genlab did before its fast engine (``scipy.optimize.minimize`` per start on
    :func:`_objective`, the grid screened point by point, each bootstrap replicate started from the full
    fit's three best finals): for ``bench/scaling_fit.py`` and ``tests/test_scaling_speed_equiv.py``."""
    return _fit(N, D, loss, form, engine="reference", **kwargs)


def _fit(N=None, D=None, loss=None, form: str = "chinchilla", *, C=None, seeds=None, bootstrap: int = 200,
         seed: int = 0, budget=None, predict_at: dict | None = None, n_starts: int = 20,
         delta: float = HUBER_DELTA, holdout: bool = True, n_kind: str = "non_embedding",
         engine: str = "fast") -> ScalingFit:
    """:func:`fit` with the engine named (:data:`_ENGINES`; see the comment above :func:`_objective`)."""
    if engine not in _ENGINES:
        raise GenlabError(f"unknown fitting engine {engine!r}; choose one of {', '.join(_ENGINES)}")
    f = get_form(form)
    n_kind = check_n_kind(n_kind)
    bootstrap = check_int(bootstrap, "bootstrap", lo=0)
    seed = check_seed(seed)
    n_starts = check_int(n_starts, "n_starts", lo=1)
    delta = check_positive(delta, "delta")
    inputs, L = _runs(f, N, D, C, loss)
    if budget is None and f.variables == ("N", "D"):
        budget = float(np.max(6.0 * inputs["N"] * inputs["D"]))
    elif budget is not None:
        budget = check_positive(budget, "budget")
    logs = {v: np.log(inputs[v]) for v in f.variables}
    logL = np.log(L)

    (obj, theta), finals = _fit_theta(f, logs, logL, delta, n_starts, engine=engine)
    params, derived = _natural(f, theta, budget, predict_at, n_runs=len(L))
    law = ScalingLaw(f, params, name=f"fit ({f.name}, N = {N_LABELS[n_kind]})" if "N" in f.variables else "")
    starts = _boot_starts(theta, finals)   # the bootstrap starts from the full fit's best
    boot, boot_d = _bootstrap(f, logs, logL, starts, delta, bootstrap, seed, budget, predict_at, list(derived),
                              engine)

    warns = _warnings(f, theta, inputs, L, seeds)
    if predict_at is not None:
        warns += extrapolation(used_inputs(f, **predict_at), run_ranges(inputs))
    if "N_opt" in derived:
        warns += extrapolation({"N": derived["N_opt"], "D": derived["D_opt"], "C": budget}, run_ranges(inputs),
                               what=f"the compute optimum at the budget (C = {number(budget)})")
    ho, skipped = _holdout(f, inputs, L, delta, n_starts, engine) if holdout else (None, None)
    if skipped:
        warns.append(f"hold-out check skipped: {skipped}")
    config = {"form": f.name, "n_kind": n_kind, "bootstrap": bootstrap, "seed": seed, "huber_delta": delta,
              "n_starts": n_starts, "budget": budget, "predict_at": predict_at}
    return ScalingFit(law, law.params, obj, derived, boot, boot_d, ho, warns,
                      inputs["N"], inputs["D"], inputs["C"], L, config)


def _bootstrap(f: Form, logs, logL, starts, delta, bootstrap, seed, budget, predict_at, keys, engine="fast"):
    """``(boot_params, boot_derived)`` of ``bootstrap`` replicates: runs resampled with replacement (one
    seeded stream per replicate), each fitted from ``starts`` (blocks of up to :data:`_BOOT_BLOCK` side by
    side); ``keys`` name the derived quantities."""
    n = len(logL)
    boot, boot_d = [], {k: [] for k in keys}
    block = max(1, min(_BOOT_BLOCK, _ELEMENTS // n))
    for first in range(0, bootstrap, block):
        reps = range(first, min(bootstrap, first + block))
        idx = np.array([make_rng(seed, "scaling-bootstrap", i).integers(0, n, n) for i in reps]).reshape(-1, n)
        for i, th in zip(reps, _boot_thetas(f, logs, logL, starts, delta, idx, engine)):
            p, derived = _natural(f, th, budget, predict_at, n_runs=n,
                                  where=f" (bootstrap replicate {i + 1} of {bootstrap})")
            boot.append([p[k] for k in f.names])
            for k, v in derived.items():
                boot_d[k].append(v)
    return (np.array(boot, dtype=float).reshape(-1, f.n_params),
            {k: np.array(v, dtype=float) for k, v in boot_d.items()})


def _warnings(f: Form, theta, inputs, L, seeds) -> list:
    warns = []
    configs = np.unique(np.column_stack([inputs[v] for v in f.variables]), axis=0)
    if len(configs) < 3 * f.n_params:
        warns.append(f"too few configurations: {len(configs)} distinct for {f.n_params} parameters "
                     f"(want >= {3 * f.n_params}); intervals and extrapolations are fragile")
    for name, t, lo, hi in f.at_bound(theta):
        warns.append(f"parameter {name} = {t:.4g} is at its bound [{lo:g}, {hi:g}]; the form may not fit "
                     f"these runs")
    keys = [tuple(r) for r in np.column_stack([inputs[v] for v in f.variables])]
    if seeds is not None:
        s = np.asarray(seeds).ravel()
        if len(s) == len(L):
            per = {}
            for k, v in zip(keys, s):
                per.setdefault(k, set()).add(v)
            if all(len(v) == 1 for v in per.values()):
                warns.append("one seed per configuration: seed-to-seed spread is only in the intervals "
                             "through the scatter between configurations")
    elif len(set(keys)) == len(keys):
        warns.append("one seed only (no repeated configurations): seed-to-seed spread is not measured")
    return warns


def _holdout(f: Form, inputs, L, delta, n_starts, engine: str = "fast") -> tuple[dict | None, str | None]:
    """``(check, None)``: the fit without the largest model predicting it; or ``(None, why it was skipped)``."""
    x = inputs[f.variables[0]]
    top = x.max()
    keep = x < top
    if keep.sum() < f.n_params or keep.all():
        return None, "without the largest model there are fewer runs than parameters"
    logs = {v: np.log(inputs[v][keep]) for v in f.variables}
    (_, theta), _ = _fit_theta(f, logs, np.log(L[keep]), delta, n_starts, engine=engine)
    try:
        law = ScalingLaw(f, f.to_params(theta))
    except (OverflowError, ValueError):   # a natural parameter beyond floating point (log of 0 for an underflow)
        return None, f"without the largest model {_untrusted(f, theta, int(keep.sum()))}"
    held = ~keep
    pred = law.predict(**{v: inputs[v][held] for v in f.variables})
    rel = pred / L[held] - 1.0
    return {"variable": f.variables[0], "held_out": float(top), "n_held_out": int(held.sum()),
            "largest_fitted": float(x[keep].max()),
            "mean_abs_rel_error": float(np.mean(np.abs(rel))), "max_abs_rel_error": float(np.max(np.abs(rel))),
            "mean_rel_error": float(np.mean(rel))}, None


# -- CSV and synthetic runs --------------------------------------------------------------------------

def fit_csv(path, form: str = "chinchilla", *, n_kind: str = "non_embedding", n_col: str | None = None,
            d_col: str = "D", loss_col: str = "loss", c_col: str = "C", seed_col: str = "seed",
            **kwargs) -> ScalingFit:
    """:func:`fit` on a CSV with a header row (one run per row).

    The columns the form needs (``n_col``, ``d_col``, ``c_col`` and ``loss_col``)
    must hold finite numbers > 0; ``seed_col`` is used when present. ``n_kind`` says
    which parameters N counts; ``n_col`` defaults to that kind's column in the
    ``runs.csv`` of ``genlab scaling train`` (``N`` or ``N_total``, see
    :data:`~genlab.analysis.scaling.forms.N_COLUMNS`). Every mistake is a one-line
    :class:`GenlabError` naming the column and row.
    """
    from ...data.sources import csv_column, read_csv
    from .forms import N_COLUMNS

    f = get_form(form)
    n_kind = check_n_kind(n_kind)
    n_col = N_COLUMNS[n_kind] if n_col is None else n_col
    path = Path(path)
    frame = read_csv(path)
    names = {"N": (n_col, "--n-col"), "D": (d_col, "--d-col"), "C": (c_col, "--c-col")}
    need = [names[v] for v in f.variables] + [(loss_col, "--loss-col")]
    for col, opt in need:
        if col not in frame.columns:
            raise GenlabError(f"CSV file {str(path)!r} has no column {col!r}; its columns are "
                              f"{', '.join(frame.columns)} (choose with {opt})")
    if len(frame) < f.n_params:
        raise GenlabError(f"CSV file {str(path)!r} has {len(frame)} rows but the {f.name} form has "
                          f"{f.n_params} parameters; give at least {f.n_params} runs")
    cols = {col: csv_column(frame, col, path, positive=True) for col, _ in need}
    var = {v: cols[names[v][0]] for v in f.variables}
    seeds = frame[seed_col].to_numpy() if seed_col in frame.columns else None
    return fit(**var, loss=cols[loss_col], form=f.name, seeds=seeds, n_kind=n_kind, **kwargs)


def synthetic_runs(law, Ns=None, Ds=None, noise: float = 0.01, seed: int = 0, *, Cs=None, repeats: int = 1):
    """Runs drawn from a known law: every (N, D) pair (or every N, D or C) with multiplicative
    log-normal noise, loss = L(N, D) · exp(noise · ε), ε ~ N(0, 1).

    Returns
    -------
    pandas.DataFrame with columns N, D, C (= 6ND when both given), loss, seed.
    """
    import pandas as pd

    law = preset(law) if isinstance(law, str) else law
    noise = check_nonnegative(noise, "noise")
    repeats = check_int(repeats, "repeats")
    g = make_rng(check_seed(seed), "scaling-synthetic")
    vs = law.form.variables
    grids = {"N": Ns, "D": Ds, "C": Cs}
    for v in vs:
        if grids[v] is None:
            raise GenlabError(f"synthetic runs of a {law.form.name} law need {v}s")
    axes_ = [np.asarray(grids[v], dtype=float).ravel() for v in vs]
    rows = np.array(list(product(*axes_)), dtype=float)
    rows = np.repeat(rows, repeats, axis=0)
    cols = {v: rows[:, i] for i, v in enumerate(vs)}
    clean = law.predict(**cols)
    loss = clean * np.exp(noise * g.standard_normal(len(rows)))
    out = {"N": cols.get("N"), "D": cols.get("D"), "C": cols.get("C")}
    if out["C"] is None and out["N"] is not None and out["D"] is not None:
        out["C"] = 6.0 * out["N"] * out["D"]
    frame = pd.DataFrame({k: v for k, v in out.items() if v is not None})
    frame["loss"] = loss
    frame["seed"] = np.tile(np.arange(repeats), len(rows) // repeats)
    return frame
