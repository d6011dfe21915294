"""The objective of a scaling-law fit and its minimization (used by :mod:`.fits`): a Huber loss on log L̂ −
log L summed over runs, L-BFGS-B from a screened grid of starts, all starts advanced side by side."""

from __future__ import annotations

import math
from itertools import product

import numpy as np

from ...core.errors import GenlabError
from .forms import Form, ScalingLaw

HUBER_DELTA = 1e-3
#: What overflows when a form's fitted parameters leave floating point (see :func:`_untrusted`).
_OVERFLOWS = {"chinchilla": "G = (alpha A/(beta B))^(1/(alpha+beta)) of the compute optimum"}


# -- the objective and its minimization ---------------------------------------------------
#
# Two engines give the same fit, bit for bit. The reference (``engine="reference"``, :func:`_fit_reference`:
# what genlab ran until the fast one) builds the objective from :meth:`Form.log_predict` and calls
# ``scipy.optimize.minimize`` once per start, and its per-evaluation wrappers cost more than the objective
# itself (about 120 µs an evaluation on 16 runs, 70 of them scipy's). The fast engine (the default):
#
# * :func:`_lbfgsb_many` runs scipy's L-BFGS-B (``setulb``) from many starts side by side with
#   ``scipy.optimize.minimize``'s own loop for each, without its wrappers: the same iterates as
#   ``minimize``, start by start; whenever some runs want the objective, one vectorized call gives it to
#   all of them (the bootstrap's replicates x starts, the grid's best starts);
# * :func:`_objective_many` and :func:`_log_predict_many` compute :func:`_objective` for many parameter
#   vectors (and resamples) at once with the same operations in the same order, so the same bits;
# * :func:`_grid_values` screens the grid of starts in blocks of points the same way.
#
# Same starts (the grid's best ``n_starts`` for the fit and the hold-out fit; the full fit's three best
# optima for each bootstrap replicate), same iterates, same numbers: ``tests/test_scaling_speed_equiv.py``
# compares the engines. ``setulb`` is scipy's private interface (its arguments changed in scipy 1.15):
# pyproject pins scipy, and ``test_lbfgsb_many_follows_scipy_minimize`` fails on a scipy whose loop differs.

#: L-BFGS-B's settings: tight, so that the optimum is the objective's to the last digits it resolves.
_LBFGSB_OPTIONS = {"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 20}
_ENGINES = ("fast", "reference")
#: Grid points screened per vectorized block (fewer past :data:`_ELEMENTS` point-runs); the numbers do not
#: depend on it.
_GRID_BLOCK = 256
#: The most (points x runs) one vectorized evaluation holds: about 15 arrays of that many floats, 120 MB.
_ELEMENTS = 1 << 20


def _objective(form: Form, logs: dict, logL: np.ndarray, delta: float):
    """The Huber loss (δ = ``delta``) of log L̂ − log L summed over runs, and its gradient in θ: the
    reference engine's (:func:`_objective_many` computes the same numbers for many θ at once)."""
    def fun(theta):
        f, J = form.log_predict(theta, logs, jac=True)
        r = f - logL
        ar = np.abs(r)
        quad = ar <= delta
        loss = np.where(quad, 0.5 * r * r, delta * (ar - 0.5 * delta)).sum()
        return float(loss), (J * np.clip(r, -delta, delta)[:, None]).sum(axis=0)  # no BLAS: no thread storms
    return fun


def _log_predict_many(form: Form, X, logs: dict, jac: bool = False):
    """log L̂ for ``k`` parameter vectors at once: row ``j`` is :meth:`Form.log_predict` of ``X[j]`` at row ``j``
    of ``logs`` (``{"N": array of shape (k, n) or (1, n), ...}``), with the same operations in the same order
    (so the same bits: a row's log-sum-exp adds its terms left to right, as ``ndarray.sum`` does for two or
    three); with ``jac`` also the Jacobians, of shape (k, n, n_theta)."""
    T = [c[:, None] for c in np.asarray(X, dtype=np.float64).T]      # each of shape (k, 1)
    name = form.name
    if name in ("chinchilla", "saturating"):
        lN = logs["N"]
        e = T[0]
        z0 = T[1] - T[2] * lN
        if name == "chinchilla":
            lD = logs["D"]
            z2 = T[3] - T[4] * lD
            m = np.maximum(np.maximum(z0, e), z2)
            e0, e1, e2 = np.exp(z0 - m), np.exp(e - m), np.exp(z2 - m)
            s = e0 + e1 + e2
        else:
            m = np.maximum(z0, e)
            e0, e1 = np.exp(z0 - m), np.exp(e - m)
            s = e0 + e1
        f = m + np.log(s)
        if not jac:
            return f
        J = np.empty(f.shape + (form.n_params,))
        w0 = e0 / s
        J[..., 0] = e1 / s
        J[..., 1] = w0
        J[..., 2] = -w0 * lN
        if name == "chinchilla":
            w2 = e2 / s
            J[..., 3] = w2
            J[..., 4] = -w2 * lD
        return f, J
    if name == "kaplan":
        lNc, lDc, aN, aD = T
        r = aN / aD
        u = lNc - logs["N"]
        z0 = r * u
        z1 = lDc - logs["D"]
        m = np.maximum(z0, z1)
        e0, e1 = np.exp(z0 - m), np.exp(z1 - m)
        s = e0 + e1
        lse = m + np.log(s)
        f = aD * lse
        if not jac:
            return f
        J = np.empty(f.shape + (4,))
        w0 = e0 / s
        J[..., 0] = w0 * aN
        J[..., 1] = aD * (e1 / s)
        J[..., 2] = w0 * u
        J[..., 3] = lse - w0 * r * u
        return f, J
    lX = logs[form.variables[0]]
    f = T[0] - T[1] * lX
    if not jac:
        return f
    J = np.empty(f.shape + (2,))
    J[..., 0] = 1.0
    J[..., 1] = -lX
    return f, J


def _huber_many(f, logL, delta):
    """``(loss, r)``: the Huber loss of each row of ``f - logL`` summed over the row (as ``_objective``)."""
    r = f - logL
    ar = np.abs(r)
    return np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta)).sum(axis=-1), r


def _objective_many(form: Form, logs: dict, logL: np.ndarray, delta: float, rows: np.ndarray):
    """``fun(which, X) -> (values, gradients)``, of shapes (k,) and (k, n_theta): :func:`_objective` of the runs
    of row ``rows[which[j]]`` of ``logs`` and ``logL`` (one row per set of runs, shape (n_sets, n)) at ``X[j]``,
    the same numbers."""
    step = max(1, _ELEMENTS // logL.shape[1])

    def part(which, X):
        sel = rows[which]
        f, J = _log_predict_many(form, X, {v: a[sel] for v, a in logs.items()}, jac=True)
        loss, r = _huber_many(f, logL[sel], delta)
        J *= np.clip(r, -delta, delta)[..., None]
        return loss, np.add.reduce(J, axis=1)   # the runs added one after another, as sum(axis=0) of one

    def fun(which, X):
        if len(which) <= step:
            return part(which, X)
        parts = [part(which[i:i + step], X[i:i + step]) for i in range(0, len(which), step)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return fun


def _grid_values(form: Form, logs: dict, logL: np.ndarray, delta: float, grid: np.ndarray) -> np.ndarray:
    """The objective at every row of ``grid`` (shape (n_points, n_theta)) for one set of runs (``logs``,
    ``logL`` of shape (1, n)), as :func:`_objective` gives it point by point."""
    out = np.empty(len(grid))
    step = max(1, min(_GRID_BLOCK, _ELEMENTS // logL.shape[1]))
    for start in range(0, len(grid), step):
        block = grid[start:start + step]
        out[start:start + len(block)] = _huber_many(_log_predict_many(form, block, logs), logL, delta)[0]
    return out


class _Run:
    """One L-BFGS-B minimization's state in :func:`_lbfgsb_many` (``minimize``'s locals)."""

    __slots__ = ("x", "f", "g", "wa", "iwa", "task", "ln_task", "lsave", "isave", "dsave", "last", "fx", "gx",
                 "nfev", "nit")

    def __init__(self, x0, lo, hi, m):
        n = len(lo)
        self.x = np.clip(np.asarray(x0, dtype=np.float64), lo, hi)
        self.f = np.array(0.0, dtype=np.float64)
        self.g = np.zeros(n, dtype=np.float64)
        self.wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m, np.float64)
        self.iwa = np.zeros(3 * n, np.int32)
        self.task = np.zeros(2, np.int32)
        self.ln_task = np.zeros(2, np.int32)
        self.lsave = np.zeros(4, np.int32)
        self.isave = np.zeros(44, np.int32)
        self.dsave = np.zeros(29, np.float64)
        self.last = self.fx = self.gx = None
        self.nfev = self.nit = 0


def _lbfgsb_many(fun, starts, lo, hi, *, maxiter: int = 2000, ftol: float = 1e-15, gtol: float = 1e-12,
                 maxcor: int = 20, maxls: int = 20, maxfun: int = 15000) -> list:
    """``[(objective, theta)]``: L-BFGS-B from each of ``starts`` in the box [``lo``, ``hi``] (finite bounds),
    each run as ``scipy.optimize.minimize(fun_j, start, jac=True, method="L-BFGS-B", bounds=..., options=...)``
    runs it (scipy ≥ 1.15: ``scipy.optimize._lbfgsb_py._minimize_lbfgsb``'s loop over the same ``setulb``, an
    evaluation at the point of the previous one reused as its ``ScalarFunction`` does), so the same iterates
    and the same result; the runs advance side by side, and ``fun(which, X)`` (:func:`_objective_many`) gives
    the objectives and gradients of the runs ``which`` at their points ``X`` in one call."""
    from scipy.optimize import _lbfgsb

    setulb = _lbfgsb.setulb
    m = maxcor
    nbd = np.full(len(lo), 2, np.int32)                  # every parameter bounded below and above
    factr = ftol / np.finfo(float).eps
    runs = [_Run(x0, lo, hi, m) for x0 in starts]
    out = [None] * len(runs)
    active = list(range(len(runs)))
    while active:
        want = []
        for i in active:
            r = runs[i]
            while True:
                r.g = np.array(r.g, dtype=np.float64)     # minimize passes a fresh float64 copy of the gradient
                setulb(m, r.x, lo, hi, nbd, r.f, r.g, factr, gtol, r.wa, r.iwa, r.task, r.lsave, r.isave,
                       r.dsave, maxls, r.ln_task)
                task = r.task[0]
                if task == 3:                             # f and g wanted at x
                    key = r.x.tolist()
                    if key != r.last:
                        r.last = key
                        want.append(i)
                        break
                    r.f, r.g = r.fx, r.gx                 # the same x: the same values, not evaluated again
                elif task == 1:                           # a new iteration
                    r.nit += 1
                    if r.nit >= maxiter:
                        r.task[0], r.task[1] = 5, 504
                    elif r.nfev > maxfun:
                        r.task[0], r.task[1] = 5, 502
                else:
                    out[i] = (float(r.f), r.x)
                    break
        if want:
            values, grads = fun(np.array(want), np.array([runs[i].x for i in want]))
            for j, i in enumerate(want):
                r = runs[i]
                r.fx, r.gx = float(values[j]), grads[j]
                r.f, r.g = r.fx, r.gx
                r.nfev += 1
        active = want
    return out


def _best(results) -> tuple:
    """``(best, finals)`` of ``[(objective, theta)]`` in start order: ``best`` the first of the lowest,
    ``finals`` all of them sorted by objective (ties in start order)."""
    best = None
    for value, x in results:
        if best is None or value < best[0]:
            best = (value, x)
    return best, sorted(results, key=lambda t: t[0])


def _minimize(fun, starts, bounds):
    """The reference engine's ``(best, finals)`` (:func:`_best`): ``scipy.optimize.minimize`` from each start."""
    from scipy.optimize import minimize

    lo, hi = [b[0] for b in bounds], [b[1] for b in bounds]
    results = []
    for x0 in starts:
        res = minimize(fun, np.clip(x0, lo, hi), jac=True, method="L-BFGS-B", bounds=bounds, options=_LBFGSB_OPTIONS)
        results.append((float(res.fun), res.x))
    return _best(results)


def _box(form: Form) -> tuple[np.ndarray, np.ndarray]:
    """The search box ``(lo, hi)`` of the fitted parameters."""
    return (np.array([form.bounds[n][0] for n in form.theta_names], dtype=np.float64),
            np.array([form.bounds[n][1] for n in form.theta_names], dtype=np.float64))


def _grid_starts(form: Form, values_of, n_starts: int):
    """The ``n_starts`` grid points of lowest objective (ties in grid order); ``values_of(grid)`` gives the
    objective at every point."""
    grid = np.array(list(product(*[form.grid[n] for n in form.theta_names])), dtype=float)
    return grid[np.argsort(values_of(grid), kind="stable")[:n_starts]]


def _fit_theta(form: Form, logs, logL, delta, n_starts, extra_starts=(), engine: str = "fast"):
    """``(best, finals)`` (:func:`_best`) of L-BFGS-B from ``extra_starts`` and the best ``n_starts`` grid points."""
    if engine == "reference":
        fun = _objective(form, logs, logL, delta)
        grid = list(_grid_starts(form, lambda g: np.array([fun(t)[0] for t in g]), n_starts)) if n_starts else []
        return _minimize(fun, list(extra_starts) + grid, [form.bounds[n] for n in form.theta_names])
    one, L1 = {v: a[None, :] for v, a in logs.items()}, logL[None, :]
    grid = list(_grid_starts(form, lambda g: _grid_values(form, one, L1, delta, g), n_starts)) if n_starts else []
    starts = list(extra_starts) + grid
    fun = _objective_many(form, one, L1, delta, np.zeros(len(starts), dtype=np.intp))
    return _best(_lbfgsb_many(fun, starts, *_box(form), **_LBFGSB_OPTIONS))


def _boot_starts(theta, finals) -> list:
    """Where each bootstrap replicate starts: the full fit's optimum and its next two best finals."""
    return [theta] + [x for _, x in finals[1:3]]


def _boot_thetas(form: Form, logs, logL, starts, delta, idx, engine: str = "fast") -> list:
    """The fitted θ of each bootstrap resample (rows of ``idx``: the runs drawn), from ``starts``."""
    if engine == "reference":
        return [_fit_theta(form, {k: v[ix] for k, v in logs.items()}, logL[ix], delta, 0, starts, engine)[0][1]
                for ix in idx]
    k = len(starts)
    fun = _objective_many(form, {v: a[idx] for v, a in logs.items()}, logL[idx], delta,
                          np.repeat(np.arange(len(idx)), k))
    results = _lbfgsb_many(fun, [s for _ in idx for s in starts], *_box(form), **_LBFGSB_OPTIONS)
    return [_best(results[j * k:(j + 1) * k])[0][1] for j in range(len(idx))]


def _derived(form: Form, params: dict, budget, predict_at) -> dict:
    out = {}
    if form.name == "chinchilla":
        al, be = params["alpha"], params["beta"]
        out["a"] = be / (al + be)
        out["b"] = al / (al + be)
        out["G"] = (al * params["A"] / (be * params["B"])) ** (1.0 / (al + be))
    law = ScalingLaw(form, params)
    if budget is not None and form.variables == ("N", "D"):
        n, d, loss = law.optimum(budget)
        out.update({"N_opt": n, "D_opt": d, "tokens_per_param": d / n, "loss_opt": loss})
    if predict_at is not None:
        out["loss_at"] = law.predict(**predict_at)
    return out


def _natural(form: Form, theta, budget, predict_at, *, n_runs: int, where: str = "") -> tuple[dict, dict]:
    """``(params, derived)`` of the fitted ``theta``, or a :class:`GenlabError` saying why they do not exist
    (a natural parameter, all > 0 by construction, that overflows or underflows to 0)."""
    try:
        params = form.to_params(theta)
        if all(0 < v < math.inf for v in params.values()):
            return params, _derived(form, params, budget, predict_at)
    except OverflowError:
        pass
    raise GenlabError(_untrusted(form, theta, n_runs, where))


def _untrusted(form: Form, theta, n_runs: int, where: str = "") -> str:
    """Why a fit whose parameters overflow cannot be trusted, and what would help (one line)."""
    bounded = []
    for name, t, lo, hi in form.at_bound(theta):
        text = f"{name} = {t:.4g} is at its bound [{lo:g}, {hi:g}]"
        variable = _exponent_of(form, name)
        if variable and t - lo <= hi - t:
            text += f" (the loss does not fall with {variable} over these runs)"
        bounded.append(text)
    what = _OVERFLOWS.get(form.name, f"{form.variables[0]}_c = exp(c/alpha)")
    need = 3 * form.n_params
    advice = (f"{n_runs} runs are too few to trust its {form.n_params} parameters: give at least {need} "
              f"(3 per parameter)" if n_runs < need else "the form may not describe these runs")
    if where:
        advice += ", or fit without a bootstrap"
    return (f"the {form.name} fit{where} cannot be trusted: {'; '.join(bounded) or 'its parameters are extreme'}, "
            f"which puts {what} beyond floating point; {advice}")


def _exponent_of(form: Form, theta_name: str):
    """The variable (``N``, ``D`` or ``C``) whose exponent ``theta_name`` is, or None."""
    if theta_name in ("alpha_N", "alpha_D"):
        return theta_name[-1]
    if theta_name == "beta":
        return "D"
    return form.variables[0] if theta_name == "alpha" else None
