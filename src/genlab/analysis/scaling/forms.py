"""Scaling-law forms, laws with parameter values, published presets and compute-optimal points.

Forms (:data:`FORMS`), each a :class:`Form` with parameter names, bounds and a
log-space parametrization:

* ``power`` (``power_N``, ``power_D``, ``power_C``): L(X) = (X_c / X)^α;
* ``saturating``: L(N) = E + A·N^−α;
* ``chinchilla``: L(N, D) = E + A/N^α + B/D^β;
* ``kaplan``: L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D.

The fitted parameters θ live in log space with a log-sum-exp parametrization
(Chinchilla: log L̂ = LSE(a − α log N, b − β log D, e), A = eᵃ, B = eᵇ, E = eᵉ);
:meth:`Form.log_predict` gives log L̂ and its Jacobian in θ for the fit
(:mod:`genlab.analysis.scaling.fits`).

A :class:`ScalingLaw` is a form with natural parameter values; :data:`PRESETS`
holds Kaplan et al. 2020's and Hoffmann et al. 2022's. The compute-optimal point
of a law of N and D under C ≈ 6ND (:meth:`ScalingLaw.optimum`) is in closed form
for the Chinchilla form::

    N*(C) = G (C/6)^a,  D*(C) = G^−1 (C/6)^b,  a = β/(α+β), b = α/(α+β),
    G = (αA / (βB))^(1/(α+β))

and found by numerical minimization along the iso-FLOP line for Kaplan's form.

Where a law stops being a measurement: :func:`fitted_on` gives the ranges of N, D and C of the runs a
law was fitted on (a fit's runs, or :data:`PRESET_RANGES`, what genlab records of a published law's),
:func:`used_inputs` the N, D and C a prediction uses (C = 6ND), and :func:`extrapolation` one warning
line for each beyond them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...core.errors import GenlabError
from ...core.results import Result

#: Which parameters N counts: ``non_embedding`` (Kaplan et al. 2020: without the token and position
#: embeddings) or ``total`` (Hoffmann et al. 2022: every parameter). A transformer of genlab's ladder
#: (:mod:`genlab.models.transformer`, head tied to the token embedding) has
#: N_total = N_non_embedding + (vocab_size + block_size)·n_embd; an untied head would add vocab_size·n_embd.
N_KINDS = ("non_embedding", "total")
#: The column of each kind in the runs of a sweep (:class:`genlab.analysis.scaling.sweep.ScalingSweep`).
N_COLUMNS = {"non_embedding": "N", "total": "N_total"}
#: How figures and tables name each kind.
N_LABELS = {"non_embedding": "non-embedding parameters", "total": "total parameters"}
#: Which N each published law counts.
PRESET_N_KINDS = {"kaplan_N": "non_embedding", "kaplan": "non_embedding", "chinchilla": "total"}

#: Where :meth:`ScalingLaw.plot` draws a variable unless told: (smallest, largest).
PLOT_RANGES = {"N": (1e6, 1e12), "D": (1e8, 1e13), "C": (1e17, 1e25)}
#: The token counts of the curves :meth:`ScalingLaw.plot` draws for a law of N and D.
PLOT_TOKENS = (1e9, 1e10, 1e11, 1e12)


def check_n_kind(kind) -> str:
    """``"non_embedding"`` or ``"total"`` (``non-embedding`` with a hyphen, as the CLI spells it, too),
    or a one-line error."""
    key = kind.replace("-", "_") if isinstance(kind, str) else kind
    if key not in N_KINDS:
        raise GenlabError(f"unknown kind of parameter count {kind!r}; choose non-embedding "
                          f"(Kaplan's N) or total (Chinchilla's N)")
    return key


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
    formula : str
        The form in plain text (``L = E + A/N^alpha + B/D^beta``).
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
        """The natural parameters of ``theta`` (``OverflowError`` when one is beyond floating point)."""
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
        """The fitted parameters of natural ones (``params``: ``name -> value``)."""
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

    def at_bound(self, theta) -> list:
        """``(theta_name, value, lo, hi)`` for every fitted parameter at (within 1e-6 of the width of)
        its search bound: the optimum lies outside the box, so the form may not fit the runs."""
        out = []
        for name, t in zip(self.theta_names, theta):
            lo, hi = self.bounds[name]
            if min(t - lo, hi - t) <= 1e-6 * (hi - lo):
                out.append((name, t, lo, hi))
        return out

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

#: Every form by name (``power`` is an alias of ``power_N``, see :func:`get_form`).
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


# -- laws -------------------------------------------------------------------------------

@dataclass
class ScalingLaw(Result):
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

    def optimum(self, flops) -> tuple[float, float, float]:
        """``(N*, D*, L*)`` at one compute budget ``flops`` (C ≈ 6ND): closed form for the Chinchilla
        form, numerical along the iso-FLOP line for Kaplan's."""
        if self.form.name == "chinchilla":
            n, d = chinchilla_optimum(self, flops)
            n, d = float(n), float(d)
        elif self.form.name == "kaplan":
            from scipy.optimize import minimize_scalar

            lc = math.log(flops / 6.0)
            res = minimize_scalar(lambda x: float(self.predict(N=math.exp(x), D=math.exp(lc - x))),
                                  bounds=(lc * 0.05 - 5, lc * 0.95 + 5), method="bounded",
                                  options={"xatol": 1e-10})
            n = math.exp(res.x)
            d = flops / (6.0 * n)
        else:
            raise GenlabError(f"compute-optimal allocation needs a law of N and D (chinchilla or kaplan), "
                              f"not {self.form.name}")
        return n, d, float(self.predict(N=n, D=d))

    def summary(self):
        """One row per natural parameter: ``parameter``, ``value``."""
        import pandas as pd

        return pd.DataFrame({"parameter": list(self.params), "value": list(self.params.values())})

    def to_dict(self) -> dict:
        return {"form": self.form.name, "name": self.name, "params": dict(self.params), "note": self.note,
                "formula": self.form.formula}

    def plot(self, ax=None, *, N=None, D=None, C=None, **kw):
        """The law's loss on log axes: against N for a few token counts D (a law of N and D),
        or against its one variable.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Drawn into (a new figure when None).
        N, D, C : array-like, optional
            The x grid (N, or the law's variable; default :data:`PLOT_RANGES`) and, for a law of
            N and D, the token counts of the curves (default :data:`PLOT_TOKENS`).
        **kw
            Passed to ``ax.plot`` (``color``, ``lw``, ...).

        Returns
        -------
        matplotlib.axes.Axes
        """
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        given = {"N": N, "D": D, "C": C}
        x_name = self.form.variables[0]
        x = given[x_name]
        x = np.geomspace(*PLOT_RANGES[x_name], 60) if x is None else np.asarray(x, dtype=float)
        if self.form.variables == ("N", "D"):
            import matplotlib.pyplot as plt

            ds = np.atleast_1d(np.asarray(PLOT_TOKENS if D is None else D, dtype=float))
            cmap = plt.get_cmap("viridis")
            for i, d in enumerate(ds):
                style = {"color": cmap(i / max(1, len(ds) - 1)), "lw": 1.4, **kw}
                ax.plot(x, self.predict(N=x, D=np.full_like(x, d)), label=f"D = {d:.3g}", **style)
            ax.legend(fontsize="small")
        else:
            ax.plot(x, self.predict(**{x_name: x}), **{"color": "tab:red", "lw": 1.6, **kw})
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel({"N": "parameters N", "D": "tokens D", "C": "compute C"}[x_name])
        ax.set_ylabel("predicted loss")
        ax.set_title(f"{self.name}: {self.form.formula}", fontsize="small")
        return ax


def chinchilla_optimum(law: ScalingLaw, flops):
    """Closed-form N*(C), D*(C) of a Chinchilla law under C = 6ND."""
    p = law.params
    al, be = p["alpha"], p["beta"]
    a, b = be / (al + be), al / (al + be)
    G = (al * p["A"] / (be * p["B"])) ** (1.0 / (al + be))
    c6 = np.asarray(flops, dtype=float) / 6.0
    return G * c6 ** a, c6 ** b / G


# -- presets ------------------------------------------------------------------------------------

#: Published laws by name (see :func:`preset`).
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


# -- the runs a law was fitted on: extrapolation ---------------------------------------------------

#: What genlab records of the runs behind each published law: who fitted it, and ``{variable: (smallest,
#: largest)}`` as the paper states them (None where it is not recorded here; a variable missing: its range is
#: not recorded). Hoffmann et al. 2022: "over 400 language models ranging from 70 million to over 16 billion
#: parameters on 5 to 500 billion tokens". Kaplan et al. 2020: models of 768 to 1.5e9 non-embedding
#: parameters, trained on at most WebText2's 2.3e10 tokens.
PRESET_RANGES = {
    "kaplan_N": ("Kaplan et al. 2020", {"N": (768.0, 1.5e9)}),
    "kaplan_D": ("Kaplan et al. 2020", {"D": (None, 2.3e10)}),
    "kaplan_C": ("Kaplan et al. 2020", {}),
    "kaplan": ("Kaplan et al. 2020", {"N": (768.0, 1.5e9), "D": (None, 2.3e10)}),
    "chinchilla": ("Hoffmann et al. 2022", {"N": (7e7, 1.6e10), "D": (5e9, 5e11)}),
}


def number(value) -> str:
    """``value`` in 3 significant digits, exponents without '+' (``2.1e12``)."""
    mantissa, _, exponent = f"{float(value):.3g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def times(factor) -> str:
    """A factor in 3 significant digits, ``443``, ``5,470``, ``2.4e7``."""
    g = float(f"{float(factor):.3g}")
    return f"{g:,.0f}" if 100 <= g < 1e6 else number(g)


def run_ranges(runs) -> dict:
    """``{variable: (smallest, largest)}`` of the runs' N, D and C (``runs``: ``{"N": values or None, ...}``,
    as in a fit's JSON; those given)."""
    out = {}
    for k in ("N", "D", "C"):
        values = (runs or {}).get(k)
        if values is not None and len(values):
            a = np.asarray(values, dtype=float)
            out[k] = (float(a.min()), float(a.max()))
    return out


def fitted_on(law: ScalingLaw, runs=None) -> tuple:
    """``(ranges, who)``: the ranges of the runs ``law`` was fitted on (:func:`run_ranges` of ``runs``, or
    :data:`PRESET_RANGES` for a published law; None when unknown) and how to name those runs in a sentence."""
    if runs and run_ranges(runs):
        return run_ranges(runs), "the runs the law was fitted on"
    published = PRESETS.get(law.name)
    if published is not None and published.form is law.form and published.params == law.params:
        who, ranges = PRESET_RANGES[law.name]
        return dict(ranges), f"the runs {who} fitted {law.name} on"
    return None, "the runs the law was fitted on"


def used_inputs(form: Form, N=None, D=None, C=None) -> dict:
    """The N, D and C a law of ``form`` uses at a point: all three for a law of N and D (the one not
    given from C = 6ND), else its one variable. Values may be arrays."""
    given = {k: None if v is None else np.asarray(v, dtype=float) for k, v in (("N", N), ("D", D), ("C", C))}
    if form.variables != ("N", "D"):
        x = form.variables[0]
        return {} if given[x] is None else {x: given[x]}
    n, d, c = given["N"], given["D"], given["C"]
    if n is None and d is not None and c is not None:
        n = c / (6.0 * d)
    elif d is None and n is not None and c is not None:
        d = c / (6.0 * n)
    if c is None and n is not None and d is not None:
        c = 6.0 * n * d
    return {k: v for k, v in (("N", n), ("D", d), ("C", c)) if v is not None}


def extrapolation(used: dict, ranges, *, who: str = "the runs the law was fitted on",
                  what: str = "the prediction") -> list[str]:
    """One line for each variable of ``used`` (``{"N": value or values, ...}``) beyond ``ranges`` (how far
    beyond the largest, or below the smallest, of ``who``), or whose range is not recorded; ``ranges=None``
    (a law given by its parameters): one line saying that nothing can be checked."""
    if not used:
        return []
    if ranges is None:
        names = ", ".join(f"{k} = {number(np.max(v))}" for k, v in used.items())
        return [f"the runs this law was fitted on are unknown (a law given by its parameters), so whether "
                f"{names} {'is an extrapolation' if len(used) == 1 else 'are extrapolations'} cannot be checked"]
    lines = []
    for k, v in used.items():
        a = np.asarray(v, dtype=float)
        lo, hi = ranges.get(k) or (None, None)
        if lo is None and hi is None:
            lines.append(f"the range of {k} of {who} is not recorded in genlab, so whether {k} = "
                         f"{number(a.max())} is an extrapolation is unknown")
            continue
        if hi is not None and a.max() > hi * (1 + 1e-9):
            lines.append(f"{k} = {number(a.max())} is {times(a.max() / hi)}x the largest {k} of {who} "
                         f"({number(hi)}); {what} is an extrapolation")
        if lo is not None and a.min() < lo * (1 - 1e-9):
            lines.append(f"{k} = {number(a.min())} is {times(lo / a.min())}x below the smallest {k} of {who} "
                         f"({number(lo)}); {what} is an extrapolation")
    return lines
