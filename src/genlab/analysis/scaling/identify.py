"""Which parameters of a fitted scaling law the runs identify: :func:`identification`.

A parameter is *not identified by these runs* when the runs do not pin it to a value inside the
search range. Three rules, checked in this order (the first that applies is reported):

1. ``at_bound``: its estimate is at a bound of the search, within :data:`BOUND_TOL` of the
   bound's width, in the fitting parametrization (log E, log A, α, ...;
   :meth:`~genlab.analysis.scaling.forms.Form.at_bound` uses 1e-6 for its warning). The objective
   still falls towards the bound, so the best value lies at or beyond it, and the number printed is
   the edge of the box, not a measurement. L-BFGS-B stops exactly on a bound; the tolerance also
   catches a search that stalled just inside it. (The report's Chinchilla fit of the CPU runs puts
   log E at −10, the lower bound: E = 4.5e−5 nats/token.)
2. ``bootstrap_at_bound``: more than :data:`BOOT_SHARE` (2.5 %) of the bootstrap replicates end at a
   bound (same tolerance). The 2.5th (or 97.5th) percentile is then at, or next to, the bound, so the
   95 % interval reaches the edge of the search: the runs cannot exclude it, even when the full fit
   stopped inside it.
3. ``span``: its 95 % interval spans a factor of :data:`SPAN_LIMIT` (10) or more, hi/lo ≥ 10: the
   runs do not fix even its order of magnitude. Every natural parameter is > 0 by construction
   (exponents included), so the ratio means the same for each; an exponent known only within
   [0.05, 0.53] is not a result, and a coefficient A that trades off against its exponent
   (A·N^−α is what the runs see) over more than a decade is not either.

Quantities derived from the parameters (a = β/(α+β) and b from α and β; G, N_opt, D_opt and
tokens_per_param from α, β, A and B, or from all four of Kaplan's) are not identified
(``depends_on``) when a parameter they are computed from is not. None of them involves E. Predicted
losses (``loss_opt``, ``loss_at``) are not judged: inside the runs' range a law whose E is not
identified can still predict well, and the hold-out check and the extrapolation warnings speak for them.

Without a bootstrap only rule 1 applies. When E is not identified at its lower bound, the other
parameters are those of the law with no floor (E ≈ 0): identified or not, they are conditional on that.

Each entry also names what would identify the parameter (``needs``: ``"floor"`` for E, or the variable
whose range fixes it, ``"N"``, ``"D"`` or ``"C"``) and says so in English (``suggestion``); the report
words it from ``needs`` in its own language.
"""

from __future__ import annotations

import math

import numpy as np

from .forms import Form

#: Rule 1 and 2's tolerance, as a share of the width of the parameter's search range.
BOUND_TOL = 1e-3
#: Rule 2: the share of bootstrap replicates at a bound above which the 95% interval reaches the bound.
BOOT_SHARE = 0.025
#: Rule 3: an interval with hi/lo at least this wide does not identify a parameter.
SPAN_LIMIT = 10.0

#: The parameters each derived quantity is computed from (form name -> derived -> parameters).
_DEPENDS = {
    "chinchilla": {"a": ("alpha", "beta"), "b": ("alpha", "beta"), "G": ("A", "alpha", "B", "beta"),
                   "N_opt": ("A", "alpha", "B", "beta"), "D_opt": ("A", "alpha", "B", "beta"),
                   "tokens_per_param": ("A", "alpha", "B", "beta")},
    "kaplan": {k: ("N_c", "D_c", "alpha_N", "alpha_D") for k in ("N_opt", "D_opt", "tokens_per_param")},
}


def needs(form: Form, name: str) -> str:
    """What identifies the natural parameter ``name`` of ``form``: ``"floor"`` (E) or a variable."""
    if name == "E":
        return "floor"
    if name in ("B", "beta", "D_c", "alpha_D"):
        return "D"
    return form.variables[0]


def suggestion(form: Form, names, runs: dict) -> str:
    """What runs would identify the parameters ``names`` (a name or a list; grouped by what they
    need, one English clause per group); ``runs``: ``{"N": array, ..., "loss": array}``."""
    names = [names] if isinstance(names, str) else list(names)
    groups = {}
    for name in names:
        groups.setdefault(needs(form, name), []).append(name)
    out = []
    for what, group in groups.items():
        who = _and(group)
        if what == "floor":
            more = "N and D" if "D" in form.variables else "N"
            out.append(f"to identify {who}, add runs at larger {more}, where the loss flattens towards its floor "
                       f"(the lowest loss here is {float(np.min(runs['loss'])):.4g})")
            continue
        x = np.asarray(runs[what], dtype=float)
        text = f"to identify {who}, add runs that vary {what} over more than the factor of {float(x.max() / x.min()):.3g} here"
        other = {"N": "D", "D": "N"}.get(what) if len(form.variables) == 2 else None
        if other:
            text += f", at a {other} large enough not to limit the loss (only there does the loss follow {what} alone)"
        out.append(text)
    return "; ".join(out)


def _and(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _side(t: float, lo: float, hi: float) -> str | None:
    tol = BOUND_TOL * (hi - lo)
    return "lower" if t - lo <= tol else "upper" if hi - t <= tol else None


def _judge(form: Form, i: int, theta, boot_theta, interval) -> dict:
    """The rule that makes parameter ``i`` not identified, with its numbers, or ``{}``."""
    tname = form.theta_names[i]
    lo, hi = form.bounds[tname]
    side = _side(float(theta[i]), lo, hi)
    if side:
        return {"rule": "at_bound", "bound": side, "search": [lo, hi], "theta_name": tname,
                "theta": float(theta[i])}
    if len(boot_theta):
        sides = [_side(float(t), lo, hi) for t in boot_theta[:, i]]
        for s in ("lower", "upper"):
            share = sides.count(s) / len(sides)
            if share > BOOT_SHARE:
                return {"rule": "bootstrap_at_bound", "bound": s, "share": share, "search": [lo, hi],
                        "theta_name": tname}
    if interval is not None and interval[0] > 0 and interval[1] / interval[0] >= SPAN_LIMIT:
        return {"rule": "span", "span": float(interval[1] / interval[0]), "interval": list(interval)}
    return {}


def _reason(name: str, value: float, j: dict) -> str:
    """The English reason of a judgement ``j`` of the parameter ``name`` (estimate ``value``)."""
    rule = j["rule"]
    if rule == "at_bound":
        lo, hi = j["search"]
        text = (f"{name} = {value:.3g} is at the {j['bound']} bound of its search "
                f"({j['theta_name']} = {j['theta']:.4g} in [{lo:g}, {hi:g}])")
        if name == "E" and j["bound"] == "lower":
            text += ": the fit puts no floor under these losses, and the other parameters are those of a law with E = 0"
        elif name != "E" and j["theta_name"] in ("alpha", "beta", "alpha_N", "alpha_D") and j["bound"] == "lower":
            text += ": the loss does not fall with this variable over these runs"
        return text
    if rule == "bootstrap_at_bound":
        return (f"{j['share']:.0%} of the bootstrap replicates put it at the {j['bound']} bound of its search, "
                f"so the bound is inside its 95% interval")
    if rule == "span":
        lo, hi = j["interval"]
        return f"its 95% interval [{lo:.3g}, {hi:.3g}] spans a factor of {j['span']:.3g} (>= {SPAN_LIMIT:g})"
    bad = j["depends_on"]
    return f"it is computed from {_and(bad)}, which {'is' if len(bad) == 1 else 'are'} not identified"


def identification(form: Form, theta, boot_params, intervals: dict, params: dict, derived: dict,
                   runs: dict) -> dict:
    """``name -> {"identified", "rule", "reason", "needs", "suggestion", ...}`` for every natural parameter
    and every derived quantity computed from them, by the rules of this module's docstring.

    Parameters
    ----------
    form : Form
    theta : array of shape (n_params,)
        The fit in the fitting parametrization.
    boot_params : array of shape (n_bootstrap, n_params)
        Natural parameters of the bootstrap replicates (may have no rows).
    intervals : dict
        ``name -> (lo, hi)``, the 95% bootstrap intervals.
    params, derived : dict
        The fit's natural parameters and derived quantities.
    runs : dict
        ``{"N": ..., "D": ..., "C": ..., "loss": ...}`` arrays (those the form has), for the suggestions.

    Returns
    -------
    dict
        Identified entries are ``{"identified": True, "rule": None, "reason": None, "needs": ...,
        "suggestion": None}``; the others carry the rule's numbers (``bound``, ``share``, ``span``,
        ``interval``, ``depends_on``) besides.
    """
    boot = np.asarray(boot_params, dtype=float).reshape(-1, form.n_params)
    boot_theta = np.array([form.to_theta(dict(zip(form.names, row))) for row in boot]).reshape(-1, form.n_params)
    out = {}
    for i, name in enumerate(form.names):
        j = _judge(form, i, theta, boot_theta, intervals.get(name))
        entry = {"identified": not j, "rule": j.get("rule"), "reason": None, "needs": needs(form, name),
                 "suggestion": None}
        if j:
            entry.update({k: v for k, v in j.items() if k != "rule"},
                         reason=_reason(name, params[name], j), suggestion=suggestion(form, [name], runs))
        out[name] = entry
    for name, inputs in _DEPENDS.get(form.name, {}).items():
        if name not in derived:
            continue
        bad = [p for p in inputs if not out[p]["identified"]]
        entry = {"identified": not bad, "rule": "depends_on" if bad else None, "reason": None, "needs": None,
                 "suggestion": None}
        if bad:
            entry.update(depends_on=bad, reason=_reason(name, derived[name], {"rule": "depends_on", "depends_on": bad}),
                         suggestion=suggestion(form, bad, runs))
        out[name] = entry
    return out


def describe(name: str, value: float, interval, entry: dict | None) -> str:
    """``name = value [lo, hi]``, or ``name = not identified`` (the CLI's table)."""
    if entry is not None and not entry["identified"]:
        return f"{name} = not identified"
    iv = f" [{interval[0]:.4g}, {interval[1]:.4g}]" if interval is not None else ""
    return f"{name} = {value:.4g}{iv}" if math.isfinite(value) else f"{name} = {value}"
