"""The scaling fit's fast engine against its reference (``fits._fit_reference``, the engine genlab ran before):
the same objective and gradient, the same L-BFGS-B iterates as ``scipy.optimize.minimize``, so the same fit
bit for bit (point estimate, hold-out check, every bootstrap replicate); numbers that do not depend on how
many replicates or grid points are computed side by side; and intervals that agree within the bootstrap's
Monte-Carlo error (the criterion that would remain if exact equality were ever given up).
``bench/scaling_fit.py`` times the two."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import norm

import genlab.analysis.scaling as sc
from genlab.analysis.scaling import fits as F
from genlab.analysis.scaling import objective as O
from genlab.core.errors import GenlabError

# the lab's sample runs (genlab.lab.pages.scaling.sample_csv): Chinchilla's law on a 4 x 4 grid, 1% noise
LAB = sc.synthetic_runs("chinchilla", Ns=np.geomspace(1e6, 1e9, 4), Ds=np.geomspace(1e8, 1e11, 4), noise=0.01,
                        seed=0)
# a lopsided, noisier set: flat directions, starts that stall at different points
ODD = sc.synthetic_runs("chinchilla", Ns=np.geomspace(1e7, 2e8, 5), Ds=np.geomspace(1e9, 2e11, 3), noise=0.03,
                        seed=5)
FORMS = ("chinchilla", "kaplan", "saturating", "power_N", "power_D", "power_C")


def _data(form, runs):
    f = sc.FORMS[form]
    return f, {v: np.log(runs[v].to_numpy(float)) for v in f.variables}, np.log(runs["loss"].to_numpy(float))


def _points(f, k, seed=0):
    """``k`` points of the search box: uniform, near its edges and at its corners."""
    lo, hi = F._box(f)
    g = np.random.default_rng(seed)
    u = g.uniform(size=(k, len(lo)))
    u[: k // 3] = u[: k // 3] ** 6
    u[k // 3: k // 2] = np.round(u[k // 3: k // 2])
    return lo + (hi - lo) * u


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("delta", [F.HUBER_DELTA, 0.05])
def test_objective_many_is_the_reference_objective_bit_for_bit(form, delta):
    f, logs, logL = _data(form, LAB)
    n = len(logL)
    X = np.vstack([_points(f, 60), F._grid_starts(f, lambda g: np.zeros(len(g)), 40)])
    # each point on its own resample of the runs (rows of the batch), and all on the runs themselves
    idx = np.random.default_rng(1).integers(0, n, (len(X), n))
    rows = np.arange(len(X))
    values, grads = F._objective_many(f, {v: a[idx] for v, a in logs.items()}, logL[idx], delta, rows)(rows, X)
    for j, x in enumerate(X):
        v, g = F._objective(f, {k: a[idx[j]] for k, a in logs.items()}, logL[idx[j]], delta)(x)
        assert v == values[j]
        np.testing.assert_array_equal(g, grads[j])
    # the grid screen: every point's objective as the reference's loop gives it
    grid = np.array(list(F.product(*[f.grid[k] for k in f.theta_names])), dtype=float)
    ref = F._objective(f, logs, logL, delta)
    loop = np.array([ref(t)[0] for t in grid])
    np.testing.assert_array_equal(F._grid_values(f, {v: a[None] for v, a in logs.items()}, logL[None], delta, grid),
                                  loop)


@pytest.mark.parametrize("form,runs", [("chinchilla", LAB), ("chinchilla", ODD), ("kaplan", LAB),
                                       ("saturating", ODD), ("power_N", LAB)])
def test_lbfgsb_many_follows_scipy_minimize(form, runs):
    """From the grid's best starts and from points of the box, ``maxiter`` stopping many of them (the fits'
    tests below go through the other exits: convergence of f or of the projected gradient)."""
    f, logs, logL = _data(form, runs)
    lo, hi = F._box(f)
    bounds = [f.bounds[k] for k in f.theta_names]
    ref = F._objective(f, logs, logL, F.HUBER_DELTA)
    starts = np.vstack([F._grid_starts(f, lambda g: F._grid_values(f, {v: a[None] for v, a in logs.items()},
                                                                   logL[None], F.HUBER_DELTA, g), 5),
                        _points(f, 5, seed=2)])
    options = {**F._LBFGSB_OPTIONS, "maxiter": 40}
    fun = F._objective_many(f, {v: a[None] for v, a in logs.items()}, logL[None], F.HUBER_DELTA,
                            np.zeros(len(starts), dtype=np.intp))
    fast = F._lbfgsb_many(fun, starts, lo, hi, **options)
    for x0, (value, x) in zip(starts, fast):
        res = minimize(ref, np.clip(x0, lo, hi), jac=True, method="L-BFGS-B", bounds=bounds, options=options)
        assert value == float(res.fun)
        np.testing.assert_array_equal(x, res.x)


@pytest.mark.parametrize("form,runs,kw", [
    ("chinchilla", LAB, {"seeds": LAB["seed"]}),                                   # the lab's call
    ("chinchilla", ODD, {"predict_at": {"N": 1e9, "D": 1e12}, "budget": 1e21, "delta": 0.01}),
    ("kaplan", ODD, {}),
    ("saturating", LAB, {"n_starts": 5}),
    ("power_C", ODD, {}),
])
def test_fast_fit_is_the_reference_fit(form, runs, kw):
    args = {v: runs[v] for v in sc.FORMS[form].variables}
    fast = sc.fit(**args, loss=runs["loss"], form=form, bootstrap=8, seed=3, **kw)
    ref = F._fit_reference(**args, loss=runs["loss"], form=form, bootstrap=8, seed=3, **kw)
    np.testing.assert_array_equal(fast.boot_params, ref.boot_params)
    assert fast.params == ref.params and fast.objective == ref.objective and fast.holdout == ref.holdout
    assert fast.to_dict() == ref.to_dict()


def test_numbers_do_not_depend_on_block_sizes(monkeypatch):
    kw = dict(N=ODD["N"], D=ODD["D"], loss=ODD["loss"], bootstrap=11, seed=9, holdout=False)
    default = sc.fit(**kw)
    assert sc.fit(**kw).to_dict() == default.to_dict()          # same seed, same numbers
    monkeypatch.setattr(F, "_BOOT_BLOCK", 4)                      # replicates 4 at a time, the last block of 3
    monkeypatch.setattr(O, "_GRID_BLOCK", 7)            # the grid screened 7 starts at a time
    assert sc.fit(**kw).to_dict() == default.to_dict()
    monkeypatch.setattr(F, "_BOOT_BLOCK", 1)
    assert sc.fit(**kw).to_dict() == default.to_dict()
    monkeypatch.setattr(F, "_BOOT_BLOCK", 64)
    monkeypatch.setattr(F, "_ELEMENTS", 50)                       # many runs: evaluations of 3 points at a time
    assert sc.fit(**kw).to_dict() == default.to_dict()
    assert sc.fit(**{**kw, "seed": 10}).to_dict() != default.to_dict()


def test_a_replicate_beyond_floating_point_is_refused_alike():
    args = ([1e4, 3e4, 1e5], None, [4.1, 4.0, 4.05], "power_N")
    messages = []
    for fn in (sc.fit, F._fit_reference):
        with pytest.raises(GenlabError, match=r"power_N fit \(bootstrap replicate \d+ of 50\) cannot be trusted") \
                as exc:
            fn(*args, bootstrap=50)
        messages.append(str(exc.value))
    assert messages[0] == messages[1]


def test_unknown_engine_is_one_line():
    with pytest.raises(GenlabError, match="unknown fitting engine 'turbo'"):
        F._fit(LAB["N"], LAB["D"], LAB["loss"], bootstrap=0, engine="turbo")


def test_intervals_agree_within_monte_carlo_error():
    """The criterion for the bootstrap: each 95% interval's ends, new against reference on the same
    resamples, within one Monte-Carlo standard error of a percentile of B replicates,
    sqrt(p (1 - p) / B) / phi(z_p) x s.e. (about 0.43 s.e. for p = 2.5% and B = 40)."""
    B = 40
    kw = dict(N=LAB["N"], D=LAB["D"], loss=LAB["loss"], seeds=LAB["seed"], bootstrap=B, seed=0, holdout=False)
    fast, ref = sc.fit(**kw), F._fit_reference(**kw)
    p = 0.025
    mc = np.sqrt(p * (1 - p) / B) / norm.pdf(norm.ppf(p))
    for key, (lo, hi) in ref.intervals.items():
        tol = mc * ref.se[key]
        assert abs(fast.intervals[key][0] - lo) <= tol and abs(fast.intervals[key][1] - hi) <= tol, key
    assert fast.params == ref.params
