"""Neural scaling laws: forms, fits with honest uncertainty, compute-optimal allocation.

Forms (``FORMS``), each a :class:`Form` with parameter names, bounds and a
log-space parametrization:

* ``power`` (``power_N``, ``power_D``, ``power_C``): L(X) = (X_c / X)^α;
* ``saturating``: L(N) = E + A·N^−α;
* ``chinchilla``: L(N, D) = E + A/N^α + B/D^β;
* ``kaplan``: L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D.

Fitting follows Hoffmann et al. 2022 and its replication by Besiroglu et al.
2024: parameters in log space with a log-sum-exp parametrization (Chinchilla:
log L̂ = LSE(a − α log N, b − β log D, e), A = eᵃ, B = eᵇ, E = eᵉ), a Huber loss
(δ = 1e-3) on log L̂ − log L *summed* over runs (averaging makes L-BFGS stop
early), L-BFGS-B from a grid of starting points, best fit kept. The grid (the
paper's: 4 500 points for Chinchilla) is screened by its objective and the best
``n_starts`` points are optimized.

Uncertainty: a bootstrap over runs (rows resampled with replacement, one
seeded stream per replicate) for every parameter and derived quantity, a
hold-out check (fit without the largest model, predict it), and warnings.

Compute-optimal allocation (C ≈ 6ND) for the Chinchilla form, in closed form::

    N*(C) = G (C/6)^a,  D*(C) = G^−1 (C/6)^b,  a = β/(α+β), b = α/(α+β),
    G = (αA / (βB))^(1/(α+β))

and by numerical minimization along the iso-FLOP line for Kaplan's form.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import numpy as np

from ...core.checks import check_int, check_nonnegative, check_positive
from ...core.errors import GenlabError
from ...core.seeding import check_seed, rng as make_rng

HUBER_DELTA = 1e-3
PF_DAY = 8.64e19  # FLOPs in one petaflop/s-day (Kaplan's unit of compute)


# -- forms ------------------------------------------------------------------------

@dataclass(frozen=True)
class Form:
    """A scaling-law form and its fitting parametrization.

    Attributes
    ----------
    name : str
    variables : tuple of str
        The inputs it needs, among ``"N"``, ``"D"``, ``"C"``.
    names : tuple of str
        The natural parameters (e.g. ``E, A, alpha, B, beta``).
    theta_names : tuple of str
        The fitted parameters (e.g. ``e = log E``).
    bounds : dict
        ``theta_name -> (lo, hi)``, the box of the L-BFGS-B search.
    grid : dict
        ``theta_name -> starting values``; their product is the grid of starts.
    """

    name: str
    variables: tuple
    names: tuple
    theta_names: tuple
    bounds: dict
    grid: dict
    formula: str

    @property
    def n_params(self) -> int:
        return len(self.names)

    # theta <-> natural parameters
    def to_params(self, theta) -> dict:
        t = dict(zip(self.theta_names, map(float, theta)))
        if self.name in ("chinchilla", "saturating"):
            out = {"E": math.exp(t["e"]), "A": math.exp(t["a"]), "alpha": t["alpha"]}
            if self.name == "chinchilla":
                out.update(B=math.exp(t["b"]), beta=t["beta"])
            return out
        if self.name == "kaplan":
            return {"N_c": math.exp(t["log_N_c"]), "D_c": math.exp(t["log_D_c"]),
                    "alpha_N": t["alpha_N"], "alpha_D": t["alpha_D"]}
        x = self.variables[0]
        return {f"{x}_c": math.exp(t["c"] / t["alpha"]), "alpha": t["alpha"]}

    def to_theta(self, params: dict) -> np.ndarray:
        p = {k: float(v) for k, v in params.items()}
        missing = [n for n in self.names if n not in p]
        if missing:
            raise GenlabError(f"a {self.name} law needs parameter {missing[0]!r}; it needs {', '.join(self.names)}")
        if self.name in ("chinchilla", "saturating"):
            t = [math.log(p["E"]), math.log(p["A"]), p["alpha"]]
            if self.name == "chinchilla":
                t += [math.log(p["B"]), p["beta"]]
            return np.array(t)
        if self.name == "kaplan":
            return np.array([math.log(p["N_c"]), math.log(p["D_c"]), p["alpha_N"], p["alpha_D"]])
        x = self.variables[0]
        return np.array([p["alpha"] * math.log(p[f"{x}_c"]), p["alpha"]])

    def log_predict(self, theta, logs: dict, jac: bool = False):
        """log L̂ at ``logs`` (``{"N": log N, ...}``, arrays of shape (n,)); with ``jac``
        also its Jacobian of shape (n, n_theta) with respect to theta."""
        th = np.asarray(theta, dtype=float)
        if self.name in ("chinchilla", "saturating"):
            lN = logs["N"]
            e, a, al = th[0], th[1], th[2]
            cols = [a - al * lN, np.full_like(lN, e)]
            if self.name == "chinchilla":
                cols.append(th[3] - th[4] * logs["D"])
            z = np.column_stack(cols)
            m = z.max(axis=1, keepdims=True)
            ez = np.exp(z - m)
            s = ez.sum(axis=1, keepdims=True)
            f = (m + np.log(s))[:, 0]
            if not jac:
                return f
            w = ez / s
            J = [w[:, 1], w[:, 0], -w[:, 0] * lN]
            if self.name == "chinchilla":
                J += [w[:, 2], -w[:, 2] * logs["D"]]
            return f, np.column_stack(J)
        if self.name == "kaplan":
            lNc, lDc, aN, aD = th
            r = aN / aD
            z = np.column_stack([r * (lNc - logs["N"]), lDc - logs["D"]])
            m = z.max(axis=1, keepdims=True)
            ez = np.exp(z - m)
            s = ez.sum(axis=1, keepdims=True)
            lse = (m + np.log(s))[:, 0]
            f = aD * lse
            if not jac:
                return f
            w = ez / s
            u = lNc - logs["N"]
            J = np.column_stack([w[:, 0] * aN, aD * w[:, 1], w[:, 0] * u, lse - w[:, 0] * r * u])
            return f, J
        lX = logs[self.variables[0]]
        c, al = th
        f = c - al * lX
        if not jac:
            return f
        return f, np.column_stack([np.ones_like(lX), -lX])


def _power(x: str) -> Form:
    return Form(f"power_{x}", (x,), (f"{x}_c", "alpha"), ("c", "alpha"),
                {"c": (-200.0, 200.0), "alpha": (1e-4, 5.0)},
                {"c": np.linspace(-2, 6, 9), "alpha": np.array([0.02, 0.05, 0.1, 0.2, 0.5, 1.0])},
                f"L = ({x}_c/{x})^alpha")


_AB_GRID = np.arange(0.0, 26.0, 5.0)
_EXP_GRID = np.array([0.05, 0.5, 1.0, 1.5, 2.0])
_E_GRID = np.arange(-1.0, 1.01, 0.5)

FORMS: dict = {
    "chinchilla": Form("chinchilla", ("N", "D"), ("E", "A", "alpha", "B", "beta"),
                       ("e", "a", "alpha", "b", "beta"),
                       {"e": (-10.0, 5.0), "a": (-10.0, 40.0), "alpha": (1e-3, 3.0),
                        "b": (-10.0, 40.0), "beta": (1e-3, 3.0)},
                       {"e": _E_GRID, "a": _AB_GRID, "alpha": _EXP_GRID, "b": _AB_GRID, "beta": _EXP_GRID},
                       "L = E + A/N^alpha + B/D^beta"),
    "saturating": Form("saturating", ("N",), ("E", "A", "alpha"), ("e", "a", "alpha"),
                       {"e": (-10.0, 5.0), "a": (-10.0, 40.0), "alpha": (1e-3, 3.0)},
                       {"e": _E_GRID, "a": _AB_GRID, "alpha": _EXP_GRID},
                       "L = E + A*N^-alpha"),
    "kaplan": Form("kaplan", ("N", "D"), ("N_c", "D_c", "alpha_N", "alpha_D"),
                   ("log_N_c", "log_D_c", "alpha_N", "alpha_D"),
                   {"log_N_c": (-20.0, 100.0), "log_D_c": (-20.0, 100.0),
                    "alpha_N": (1e-3, 3.0), "alpha_D": (1e-3, 3.0)},
                   {"log_N_c": np.array([5.0, 15.0, 25.0, 35.0]), "log_D_c": np.array([5.0, 15.0, 25.0, 35.0]),
                    "alpha_N": np.array([0.05, 0.2, 0.5, 1.0]), "alpha_D": np.array([0.05, 0.2, 0.5, 1.0])},
                   "L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D"),
    "power_N": _power("N"),
    "power_D": _power("D"),
    "power_C": _power("C"),
}
ALIASES = {"power": "power_N"}
FORM_NAMES = ("chinchilla", "kaplan", "power", "power_N", "power_D", "power_C", "saturating")


def get_form(form) -> Form:
    """The :class:`Form` called ``form`` (``power`` is ``power_N``), or a one-line error."""
    if isinstance(form, Form):
        return form
    key = ALIASES.get(form, form)
    if not isinstance(key, str) or key not in FORMS:
        raise GenlabError(f"unknown scaling-law form {form!r}; choose one of {', '.join(FORM_NAMES)}")
    return FORMS[key]


# -- laws and presets -----------------------------------------------------------------

@dataclass
class ScalingLaw:
    """A form with parameter values: ``law.predict(N=1e9, D=2e10)``.

    Parameters
    ----------
    form : str or Form
    params : dict
        Natural parameters (``form.names``).
    name : str, optional
        A label (e.g. ``"chinchilla"`` for the preset).
    note : str, optional
        Units and source.
    """

    form: Form
    params: dict
    name: str = ""
    note: str = ""

    def __post_init__(self):
        self.form = get_form(self.form)
        self.theta = self.form.to_theta(self.params)
        self.params = {k: float(self.params[k]) for k in self.form.names}
        self.name = self.name or self.form.name

    def _logs(self, N=None, D=None, C=None) -> tuple[dict, tuple]:
        vals = {"N": N, "D": D, "C": C}
        need = self.form.variables
        if need == ("N", "D"):
            given = [k for k in ("N", "D", "C") if vals[k] is not None]
            if len(given) != 2:
                raise GenlabError(f"a {self.form.name} law predicts from two of N, D and C (C = 6ND); got {given or 'none'}")
            if vals["N"] is None:
                vals["N"] = np.asarray(vals["C"], float) / (6.0 * np.asarray(vals["D"], float))
            elif vals["D"] is None:
                vals["D"] = np.asarray(vals["C"], float) / (6.0 * np.asarray(vals["N"], float))
        elif vals[need[0]] is None:
            raise GenlabError(f"a {self.form.name} law predicts from {need[0]}; give {need[0]}=...")
        arrs = {}
        for k in need:
            v = np.asarray(vals[k], dtype=float)
            if not np.all(np.isfinite(v) & (v > 0)):
                raise GenlabError(f"{k} must be numbers > 0, got {vals[k]!r}")
            arrs[k] = v
        b = np.broadcast_arrays(*arrs.values())
        shape = b[0].shape
        return {k: np.log(x.ravel()) for k, x in zip(arrs, b)}, shape

    def predict(self, N=None, D=None, C=None):
        """The predicted loss at ``N`` (parameters), ``D`` (tokens) or ``C`` (compute; for
        two-variable laws C = 6ND stands for the missing one). Scalars give a float."""
        logs, shape = self._logs(N, D, C)
        out = np.exp(self.form.log_predict(self.theta, logs)).reshape(shape)
        return float(out) if out.ndim == 0 else out

    __call__ = predict

    def to_dict(self) -> dict:
        return {"form": self.form.name, "name": self.name, "params": dict(self.params), "note": self.note,
                "formula": self.form.formula}


PRESETS: dict = {
    "kaplan_N": ScalingLaw("power_N", {"N_c": 8.8e13, "alpha": 0.076}, "kaplan_N",
                           "Kaplan et al. 2020 L(N): N = non-embedding parameters, loss in nats/token"),
    "kaplan_D": ScalingLaw("power_D", {"D_c": 5.4e13, "alpha": 0.095}, "kaplan_D",
                           "Kaplan et al. 2020 L(D): D = tokens"),
    "kaplan_C": ScalingLaw("power_C", {"C_c": 3.1e8, "alpha": 0.050}, "kaplan_C",
                           "Kaplan et al. 2020 L(C_min): C in PF-days (1 PF-day = 8.64e19 FLOPs)"),
    "kaplan": ScalingLaw("kaplan", {"N_c": 8.8e13, "D_c": 5.4e13, "alpha_N": 0.076, "alpha_D": 0.095}, "kaplan",
                         "Kaplan et al. 2020 L(N, D) (eq. 1.5) with the L(N) and L(D) constants; their joint "
                         "fit (Table 2) gives alpha_D 0.103, N_c 6.4e13, D_c 1.8e13"),
    "chinchilla": ScalingLaw("chinchilla", {"E": 1.69337, "A": 406.401, "alpha": 0.33917, "B": 410.723,
                                            "beta": 0.28491}, "chinchilla",
                             "Hoffmann et al. 2022 approach 3, unrounded (Besiroglu et al. 2024 replication)"),
}


def preset(name: str) -> ScalingLaw:
    """A published law: ``kaplan_N``, ``kaplan_D``, ``kaplan_C``, ``kaplan`` (L(N, D)) or ``chinchilla``."""
    if name not in PRESETS:
        raise GenlabError(f"unknown scaling law {name!r}; choose one of {', '.join(PRESETS)} or a fit's JSON file")
    return PRESETS[name]


# -- the fit ------------------------------------------------------------------------------

def _objective(form: Form, logs: dict, logL: np.ndarray, delta: float):
    def fun(theta):
        f, J = form.log_predict(theta, logs, jac=True)
        r = f - logL
        ar = np.abs(r)
        quad = ar <= delta
        loss = np.where(quad, 0.5 * r * r, delta * (ar - 0.5 * delta)).sum()
        return float(loss), (J * np.clip(r, -delta, delta)[:, None]).sum(axis=0)  # no BLAS: no thread storms
    return fun


def _minimize(fun, starts, bounds):
    from scipy.optimize import minimize

    best = None
    finals = []
    for x0 in starts:
        res = minimize(fun, np.clip(x0, [b[0] for b in bounds], [b[1] for b in bounds]), jac=True,
                       method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 20})
        finals.append((float(res.fun), res.x))
        if best is None or res.fun < best[0]:
            best = (float(res.fun), res.x)
    finals.sort(key=lambda t: t[0])
    return best, finals


def _grid_starts(form: Form, fun, n_starts: int):
    grid = np.array(list(product(*[form.grid[n] for n in form.theta_names])), dtype=float)
    values = np.array([fun(t)[0] for t in grid])
    return grid[np.argsort(values, kind="stable")[:n_starts]]


def _fit_theta(form: Form, logs, logL, delta, n_starts, extra_starts=()):
    fun = _objective(form, logs, logL, delta)
    bounds = [form.bounds[n] for n in form.theta_names]
    starts = list(extra_starts) + list(_grid_starts(form, fun, n_starts) if n_starts else [])
    return _minimize(fun, starts, bounds)


def _derived(form: Form, params: dict, budget, predict_at) -> dict:
    out = {}
    if form.name == "chinchilla":
        al, be = params["alpha"], params["beta"]
        out["a"] = be / (al + be)
        out["b"] = al / (al + be)
        out["G"] = (al * params["A"] / (be * params["B"])) ** (1.0 / (al + be))
    law = ScalingLaw(form, params)
    if budget is not None and form.variables == ("N", "D"):
        n, d, loss = _optimum(law, budget)
        out.update({"N_opt": n, "D_opt": d, "tokens_per_param": d / n, "loss_opt": loss})
    if predict_at is not None:
        out["loss_at"] = law.predict(**predict_at)
    return out


@dataclass
class ScalingFit:
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

    def predict(self, N=None, D=None, C=None):
        return self.law.predict(N=N, D=D, C=C)

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
        """One row per parameter and derived quantity: value, interval, s.e."""
        import pandas as pd

        iv, se = self.intervals, self.se
        rows = []
        for kind, values in (("parameter", self.params), ("derived", self.derived)):
            for k, v in values.items():
                lo, hi = iv.get(k, (math.nan, math.nan))
                rows.append({"quantity": k, "kind": kind, "value": v, "lo": lo, "hi": hi,
                             "se": se.get(k, math.nan)})
        return pd.DataFrame(rows)

    to_frame = summary

    def to_dict(self) -> dict:
        def col(x):
            return None if x is None else [float(v) for v in x]
        return {"form": self.form.name, "formula": self.form.formula, "params": self.params,
                "intervals": self.intervals, "se": self.se, "derived": self.derived,
                "holdout": self.holdout, "warnings": list(self.warnings), "objective": self.objective,
                "n_runs": int(len(self.loss)), "config": self.config,
                "bootstrap_params": [list(map(float, r)) for r in self.boot_params],
                "runs": {"N": col(self.N), "D": col(self.D), "C": col(self.C), "loss": col(self.loss)}}

    def band(self, **where):
        """(lo, hi) percentile band (2.5–97.5) of the bootstrap laws' predictions at ``where``."""
        preds = np.array([ScalingLaw(self.form, dict(zip(self.form.names, p))).predict(**where)
                          for p in self.boot_params])
        return np.percentile(preds, 2.5, axis=0), np.percentile(preds, 97.5, axis=0)

    def plot(self, ax=None, *, max_curves: int = 6):
        """Measured runs and the fitted law with its bootstrap band, on log axes."""
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
        ax.set_xlabel({"N": "parameters N", "D": "tokens D", "C": "compute C"}[x_name])
        ax.set_ylabel("loss")
        ax.set_title(self.form.formula, fontsize="small")
        ax.legend(fontsize="small")
        return ax


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
        delta: float = HUBER_DELTA, holdout: bool = True) -> ScalingFit:
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
        default: the largest 6ND among the runs.
    predict_at : dict, optional
        E.g. ``{"N": 1e10, "D": 2e11}``: the loss there, with its interval, and its
        extrapolation factor among the warnings.
    n_starts : int
        Grid points (best by objective) from which L-BFGS-B starts.
    delta : float
        Huber δ on log-residuals.
    holdout : bool
        Run the hold-out check.

    Returns
    -------
    ScalingFit
    """
    f = get_form(form)
    bootstrap = check_int(bootstrap, "bootstrap", lo=0)
    seed = check_seed(seed)
    n_starts = check_int(n_starts, "n_starts", lo=1)
    delta = check_positive(delta, "delta")
    inputs = {"N": _as_array(N, "N"), "D": _as_array(D, "D"), "C": _as_array(C, "C")}
    L = _as_array(loss, "loss")
    if L is None:
        raise GenlabError("loss is required")
    if inputs["C"] is None and inputs["N"] is not None and inputs["D"] is not None:
        inputs["C"] = 6.0 * inputs["N"] * inputs["D"]
    for v in f.variables:
        if inputs[v] is None:
            raise GenlabError(f"the {f.name} form needs {v} for every run")
        if len(inputs[v]) != len(L):
            raise GenlabError(f"{v} has {len(inputs[v])} values but loss has {len(L)}")
    n = len(L)
    if n < f.n_params:
        raise GenlabError(f"the {f.name} form has {f.n_params} parameters but there are only {n} runs; "
                          f"give at least {f.n_params}")
    if budget is None and f.variables == ("N", "D"):
        budget = float(np.max(6.0 * inputs["N"] * inputs["D"]))
    elif budget is not None:
        budget = check_positive(budget, "budget")
    logs = {v: np.log(inputs[v]) for v in f.variables}
    logL = np.log(L)

    (obj, theta), finals = _fit_theta(f, logs, logL, delta, n_starts)
    law = ScalingLaw(f, f.to_params(theta))
    derived = _derived(f, law.params, budget, predict_at)

    # bootstrap: rows with replacement, one stream per replicate, warm starts from the full fit
    starts = [theta] + [x for _, x in finals[1:3]]
    boot, boot_d = [], {k: [] for k in derived}
    for i in range(bootstrap):
        idx = make_rng(seed, "scaling-bootstrap", i).integers(0, n, n)
        (_, th), _ = _fit_theta(f, {k: v[idx] for k, v in logs.items()}, logL[idx], delta, 0, starts)
        p = f.to_params(th)
        boot.append([p[k] for k in f.names])
        for k, v in _derived(f, p, budget, predict_at).items():
            boot_d[k].append(v)
    boot = np.array(boot, dtype=float).reshape(-1, f.n_params)
    boot_d = {k: np.array(v, dtype=float) for k, v in boot_d.items()}

    warns = _warnings(f, theta, inputs, L, seeds, predict_at)
    ho = _holdout(f, inputs, L, delta, n_starts) if holdout else None
    if holdout and ho is None:
        warns.append("hold-out check skipped: without the largest model there are fewer runs than parameters")
    config = {"form": f.name, "bootstrap": bootstrap, "seed": seed, "huber_delta": delta,
              "n_starts": n_starts, "budget": budget, "predict_at": predict_at}
    return ScalingFit(law, law.params, obj, derived, boot, boot_d, ho, warns,
                      inputs["N"], inputs["D"], inputs["C"], L, config)


def _warnings(f: Form, theta, inputs, L, seeds, predict_at) -> list:
    warns = []
    configs = np.unique(np.column_stack([inputs[v] for v in f.variables]), axis=0)
    if len(configs) < 3 * f.n_params:
        warns.append(f"too few configurations: {len(configs)} distinct for {f.n_params} parameters "
                     f"(want >= {3 * f.n_params}); intervals and extrapolations are fragile")
    for name, t in zip(f.theta_names, theta):
        lo, hi = f.bounds[name]
        if min(t - lo, hi - t) <= 1e-6 * (hi - lo):
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
    if predict_at is not None:
        for v in f.variables:
            if predict_at.get(v) is not None and inputs[v] is not None:
                factor = float(np.max(predict_at[v])) / float(inputs[v].max())
                if factor > 1:
                    warns.append(f"prediction extrapolates {v} by {factor:.3g}x beyond the largest seen "
                                 f"({inputs[v].max():.3g})")
    return warns


def _holdout(f: Form, inputs, L, delta, n_starts):
    x = inputs[f.variables[0]]
    top = x.max()
    keep = x < top
    if keep.sum() < f.n_params or keep.all():
        return None
    logs = {v: np.log(inputs[v][keep]) for v in f.variables}
    (_, theta), _ = _fit_theta(f, logs, np.log(L[keep]), delta, n_starts)
    law = ScalingLaw(f, f.to_params(theta))
    held = ~keep
    pred = law.predict(**{v: inputs[v][held] for v in f.variables})
    rel = pred / L[held] - 1.0
    return {"variable": f.variables[0], "held_out": float(top), "n_held_out": int(held.sum()),
            "largest_fitted": float(x[keep].max()),
            "mean_abs_rel_error": float(np.mean(np.abs(rel))), "max_abs_rel_error": float(np.max(np.abs(rel))),
            "mean_rel_error": float(np.mean(rel))}


# -- CSV and synthetic runs --------------------------------------------------------------------------

def fit_csv(path, form: str = "chinchilla", *, n_col: str = "N", d_col: str = "D", loss_col: str = "loss",
            c_col: str = "C", seed_col: str = "seed", **kwargs) -> ScalingFit:
    """:func:`fit` on a CSV with a header row (one run per row).

    The columns the form needs (``n_col``, ``d_col``, ``c_col`` and ``loss_col``)
    must hold finite numbers > 0; ``seed_col`` is used when present. Every mistake
    is a one-line :class:`GenlabError` naming the column and row.
    """
    from ...data.sources import csv_column, read_csv

    f = get_form(form)
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
    return fit(**var, loss=cols[loss_col], form=f.name, seeds=seeds, **kwargs)


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


# -- compute-optimal allocation ------------------------------------------------------------------

def chinchilla_optimum(law: ScalingLaw, flops):
    """Closed-form N*(C), D*(C) of a Chinchilla law under C = 6ND."""
    p = law.params
    al, be = p["alpha"], p["beta"]
    a, b = be / (al + be), al / (al + be)
    G = (al * p["A"] / (be * p["B"])) ** (1.0 / (al + be))
    c6 = np.asarray(flops, dtype=float) / 6.0
    return G * c6 ** a, c6 ** b / G


def _optimum(law: ScalingLaw, flops):
    """(N*, D*, L*) at one budget: closed form for Chinchilla, numerical along the iso-FLOP line otherwise."""
    if law.form.name == "chinchilla":
        n, d = chinchilla_optimum(law, flops)
        n, d = float(n), float(d)
    elif law.form.name == "kaplan":
        from scipy.optimize import minimize_scalar

        lc = math.log(flops / 6.0)
        res = minimize_scalar(lambda x: float(law.predict(N=math.exp(x), D=math.exp(lc - x))),
                              bounds=(lc * 0.05 - 5, lc * 0.95 + 5), method="bounded",
                              options={"xatol": 1e-10})
        n = math.exp(res.x)
        d = flops / (6.0 * n)
    else:
        raise GenlabError(f"compute-optimal allocation needs a law of N and D (chinchilla or kaplan), "
                          f"not {law.form.name}")
    return n, d, float(law.predict(N=n, D=d))


@dataclass
class ComputePlan:
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
        import pandas as pd

        cols = {"flops": self.flops, "N": self.N, "D": self.D, "tokens_per_param": self.tokens_per_param,
                "loss": self.loss}
        for k, (lo, hi) in self.intervals.items():
            cols[f"{k}_lo"], cols[f"{k}_hi"] = lo, hi
        return pd.DataFrame(cols)

    to_frame = summary

    def to_dict(self) -> dict:
        return {"law": self.law.to_dict(), "plans": self.summary().to_dict(orient="records"),
                "warnings": list(self.warnings)}

    def plot(self, ax=None):
        """The frontier N*(C) (and D*(C)) on log axes, with the proposed budgets marked."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        lo, hi = self.flops.min() / 1e3, self.flops.max() * 1e3
        grid = np.geomspace(lo, hi, 60)
        opt = np.array([_optimum(self.law, c)[:2] for c in grid])
        ax.plot(grid, opt[:, 0], color="tab:blue", label=f"N*(C), {self.law.name}")
        ax.plot(grid, opt[:, 1], color="tab:orange", label="D*(C)")
        if self.boot_laws:
            bo = np.array([[_optimum(b, c)[:2] for c in grid] for b in self.boot_laws])
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
        boots = [ScalingLaw(source.form, dict(zip(source.form.names, p))) for p in source.boot_params]
        return source.law, boots, source.to_dict()["runs"]
    if isinstance(source, (str, Path)) and str(source) in PRESETS:
        return PRESETS[str(source)], [], None
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.suffix == ".json" and not path.exists():
            preset(str(source))  # raises the unknown-law error
        from ...data.sources import open_regular_file
        from ...core.limits import LIMITS

        if not path.exists():
            raise GenlabError(f"law file {str(path)!r} does not exist; give a preset "
                              f"({', '.join(PRESETS)}) or the JSON of a fit")
        try:
            with open_regular_file(path, "law file", int(LIMITS["law_bytes"].cap)) as fh:
                source = json.loads(fh.read())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise GenlabError(f"law file {str(path)!r} is not JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(source, dict) or "form" not in source or "params" not in source:
        raise GenlabError("a law file must be the JSON of a fit (with 'form' and 'params')")
    try:
        law = ScalingLaw(source["form"], source["params"], name=f"fit ({source['form']})")
        f = law.form
        boots = [ScalingLaw(f, dict(zip(f.names, p))) for p in source.get("bootstrap_params") or []]
    except (TypeError, ValueError, KeyError) as exc:
        raise GenlabError(f"the law file has bad parameters: {exc}") from None
    return law, boots, source.get("runs")


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
    opt = np.array([_optimum(law, v) for v in c])
    if runs and runs.get("N"):
        factor = opt[:, 0].max() / max(runs["N"])
        if factor > 1:
            warns.append(f"the plan extrapolates N by {factor:.3g}x beyond the largest model fitted "
                         f"({max(runs['N']):.3g})")
    intervals = {}
    if boots:
        bo = np.array([[_optimum(b, v) for v in c] for b in boots])  # (B, n_budgets, 3)
        for j, k in enumerate(("N", "D", "loss")):
            intervals[k] = (np.percentile(bo[:, :, j], 2.5, axis=0), np.percentile(bo[:, :, j], 97.5, axis=0))
    return ComputePlan(law, c, opt[:, 0], opt[:, 1], opt[:, 2], intervals, warns, boots)
