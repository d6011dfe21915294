"""The crossed data × initialization decomposition (genlab.analysis.crossed).

The arithmetic is checked against independent computations (a brute-force U-statistic, the textbook
mean squares, all k-subsets of seeds measured directly), its unbiasedness and standard errors by
simulation of random-effects models with known components (fixed seeds, tolerances from the
simulations' own spread), the agreement with the law-of-total-variance split and with the
random-features split on the same draws, the experiment through the store (the same numbers for one
or two workers, resumed), and the refusals of bad input.
"""

import itertools
import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from genlab import GenlabError  # noqa: E402
from genlab.analysis.crossed import CrossedDecomposition, crossed_decomposition, crossed_sweep, threshold  # noqa: E402
from genlab.analysis.crossed.anova import u_total  # noqa: E402
from genlab.data.sources import SyntheticSource  # noqa: E402
from genlab.models import RandomFeaturesRegressor  # noqa: E402

TERMS = ("v_data", "v_init", "v_interaction", "total")


def _one(res: CrossedDecomposition, name: str):
    return float(res.terms[name][0]), float(res.se[name][0])


# -- the identity of the parts -----------------------------------------------------------------------

def test_u_total_is_the_brute_force_u_statistic():
    rng = np.random.default_rng(1)
    for shape in [(3, 4, 5), (3, 3, 2, 4)]:
        T = rng.normal(size=shape)
        f = len(shape) - 1
        cells = list(itertools.product(*[range(n) for n in shape[:f]]))
        pairs = [(a, b) for a in cells for b in cells if all(x != y for x, y in zip(a, b))]
        cross = np.mean([T[a] * T[b] for a, b in pairs], axis=0)
        brute = (T ** 2).reshape(-1, shape[-1]).mean(axis=0) - cross
        np.testing.assert_allclose(u_total(T, f), brute, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("shape, outputs", [((5, 4, 30), False), ((2, 2, 7), False), ((7, 3, 11, 3), True),
                                            ((4, 3, 3, 9), False), ((3, 5, 2, 6, 2), True)])
def test_parts_add_up_to_the_unbiased_total_exactly(shape, outputs):
    rng = np.random.default_rng(sum(shape))
    T = rng.standard_t(3, size=shape) * rng.uniform(0.1, 10) + rng.normal(size=shape[-1 - outputs:])
    y = rng.normal(size=shape[-1 - outputs:])
    res = crossed_decomposition(T, y_test=y, outputs=outputs)
    total_u = float(res.terms["total_u"][0])
    parts = sum(res.parts.values())[0]
    assert abs(res.v_data[0] + res.v_init[0] + res.v_interaction[0] - total_u) <= 1e-12 * abs(total_u)
    assert abs(parts - total_u) <= 1e-12 * abs(total_u)
    assert res.identity_gap <= 1e-12 * abs(total_u)
    # bias² + variance (+ noise) is the measured error exactly: the corrected bias² makes it so
    assert abs(res.bias2[0] + res.total[0] - res.error[0]) <= 1e-12 * res.error[0]


def test_two_way_parts_are_the_textbook_mean_squares():
    rng = np.random.default_rng(2)
    R, S = 6, 5
    T = rng.normal(size=(R, S, 1)) * 2 + rng.normal(size=(R, 1, 1)) + rng.normal(size=(1, S, 1))
    f = T[:, :, 0]
    r, c, m = f.mean(axis=1), f.mean(axis=0), f.mean()
    ms_d = S * ((r - m) ** 2).sum() / (R - 1)
    ms_i = R * ((c - m) ** 2).sum() / (S - 1)
    ms_e = ((f - r[:, None] - c[None, :] + m) ** 2).sum() / ((R - 1) * (S - 1))
    res = crossed_decomposition(T, y_mean=np.zeros(1))
    np.testing.assert_allclose([res.v_data[0], res.v_init[0], res.v_interaction[0]],
                               [(ms_d - ms_e) / S, (ms_i - ms_e) / R, ms_e], rtol=1e-12)
    assert set(res.parts) == {"data", "init", "data:init"}


# -- unbiasedness and standard errors, by simulation ---------------------------------------------------

def _random_effects(rng, R, S, n, sd, beta):
    """f = μ + a_i + b_j + c_ij per test point with the given standard deviations; targets μ + β."""
    mu = np.linspace(-1, 1, n)
    f = mu + rng.normal(0, sd[0], (R, 1, n)) + rng.normal(0, sd[1], (1, S, n)) + rng.normal(0, sd[2], (R, S, n))
    return f, mu + beta


def test_unbiased_and_covered_on_a_random_effects_model():
    """Known components (1, 0.5, 0.3), bias² 0.04, noise 0.1: every term is unbiased (mean over 300 tables
    within 4 of its Monte-Carlo s.e.), and ±2 s.e. covers the truth in at least 85% of the tables (the
    jackknife sum is conservative: about 93-99% here) without being wildly wide."""
    rng = np.random.default_rng(3)
    var, bias2, noise, R, S, n = (1.0, 0.5, 0.3), 0.04, 0.1, 6, 6, 8
    truth = {"v_data": var[0], "v_init": var[1], "v_interaction": var[2], "total": sum(var), "bias2": bias2,
             "error": bias2 + sum(var) + noise}
    for k in (1, 2, S):
        truth[f"ensemble_{k}"] = bias2 + var[0] + (var[1] + var[2]) / k + noise
    est, se = {k: [] for k in truth}, {k: [] for k in truth}
    for _ in range(300):
        f, y = _random_effects(rng, R, S, n, np.sqrt(var), np.sqrt(bias2))
        res = crossed_decomposition(f, y_mean=y, noise=noise)
        for k in truth:
            e, s = _one(res, k)
            est[k].append(e)
            se[k].append(s)
    for k, t in truth.items():
        e, s = np.array(est[k]), np.array(se[k])
        assert abs(e.mean() - t) <= 4 * e.std() / np.sqrt(e.size), (k, e.mean(), t)
        cover = np.mean(np.abs(e - t) <= 2 * s)
        assert cover >= 0.85, (k, cover)
        assert 0.8 <= np.sqrt(np.mean(s ** 2)) / e.std() <= 2.0, (k, np.sqrt(np.mean(s ** 2)), e.std())


def test_unbiased_for_a_nonlinear_model_of_independent_data_and_seed():
    """f(u, v) = (u + v)² with u (data) and v (seed) standard normal: Hoeffding's parts are Var E[f|u] = 2,
    Var E[f|v] = 2 and the interaction E[(2uv)²] = 4; the cells of a row are dependent but uncorrelated."""
    rng = np.random.default_rng(4)
    got = []
    for _ in range(400):
        u, v = rng.normal(size=(5, 1, 1)), rng.normal(size=(1, 5, 1))
        res = crossed_decomposition((u + v) ** 2, y_mean=np.zeros(1))
        got.append([res.v_data[0], res.v_init[0], res.v_interaction[0]])
    got = np.array(got)
    err = got.std(axis=0) / np.sqrt(len(got))
    assert np.all(np.abs(got.mean(axis=0) - [2.0, 2.0, 4.0]) <= 4 * err), (got.mean(axis=0), err)


def test_three_way_components_are_unbiased():
    """x × init × ε with seven known components: each estimate's mean over 150 tables is within 4 of its s.e.
    and the two-way summaries are the sums of the parts."""
    rng = np.random.default_rng(5)
    R, S, K, n = 4, 4, 3, 6
    sd = {"x": 1.0, "init": 0.7, "eps": 0.5, "x:init": 0.6, "x:eps": 0.4, "init:eps": 0.3, "x:init:eps": 0.5}
    shapes = {"x": (R, 1, 1), "init": (1, S, 1), "eps": (1, 1, K), "x:init": (R, S, 1), "x:eps": (R, 1, K),
              "init:eps": (1, S, K), "x:init:eps": (R, S, K)}
    got = {p: [] for p in sd}
    sums = []
    for _ in range(150):
        T = sum(rng.normal(0, s, shapes[p] + (n,)) for p, s in sd.items())
        res = crossed_decomposition(T, y_mean=np.zeros(n))
        for p in sd:
            got[p].append(res.parts[p][0])
        sums.append([res.v_data[0] - (res.parts["x"] + res.parts["eps"] + res.parts["x:eps"])[0],
                     res.v_interaction[0] - (res.parts["x:init"] + res.parts["init:eps"]
                                             + res.parts["x:init:eps"])[0]])
    for p, s in sd.items():
        g = np.array(got[p])
        assert abs(g.mean() - s ** 2) <= 4 * g.std() / np.sqrt(g.size), (p, g.mean(), s ** 2)
    assert np.max(np.abs(sums)) < 1e-12


# -- ensembles -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 5, 9), (3, 4, 3, 6)])
def test_ensemble_curve_is_the_measured_error_of_k_seed_averages(shape):
    """For every k, bias² + V_data + (V_init + V_data×init)/k + noise equals the mean over all k-subsets of
    the seeds of the directly measured error of their average — exactly, finite-sample corrections included
    (the plug-in parts would miss it by O(1/R + 1/S))."""
    rng = np.random.default_rng(6)
    T = rng.normal(size=shape) + rng.normal(size=(shape[0],) + (1,) * (len(shape) - 1))
    y, noise = rng.normal(size=shape[-1]), 0.3
    res = crossed_decomposition(T, y_mean=y, noise=noise)
    S = shape[1]
    for k in range(1, S + 1):
        measured = np.mean([np.mean((T[:, list(J)].mean(axis=1) - y) ** 2) + noise
                            for J in itertools.combinations(range(S), k)])
        assert res.ensemble[0, k - 1] == pytest.approx(measured, rel=1e-12)
    assert np.all(np.diff(res.ensemble[0]) <= 0) or res.v_init[0] + res.v_interaction[0] < 0


# -- agreement with the law of total variance ------------------------------------------------------------

def test_law_of_total_variance_agrees():
    """Seed outside: E_θ Var_D (the mean of the columns' unbiased variances, computed here) is exactly
    V_data + V_int, and Var_θ E_D is V_init. Without interaction (an additive model) the order does not
    matter: both orders' one-way estimates (computed here, the usual within/between corrections) agree
    with V_data and V_init within 3 standard errors."""
    rng = np.random.default_rng(7)
    R, S, n = 8, 8, 20
    T = rng.normal(0, 1.0, (R, 1, n)) + rng.normal(0, 0.6, (1, S, n))          # additive: no interaction
    res = crossed_decomposition(T, y_mean=np.zeros(n))
    within_seed = T.var(axis=0, ddof=1).mean()
    assert res.law_of_total_variance("init")["within"][0] == pytest.approx(within_seed, rel=1e-12)
    assert res.v_data[0] + res.v_interaction[0] == pytest.approx(within_seed, rel=1e-12)
    # one-way estimates, each order: between-group variance of the group means less the within part / size
    between_data = (T.mean(axis=1).var(axis=0, ddof=1) - T.var(axis=1, ddof=1).mean(axis=0) / S).mean()
    between_seed = (T.mean(axis=0).var(axis=0, ddof=1) - T.var(axis=0, ddof=1).mean(axis=0) / R).mean()
    for got, want, se in [(between_data, res.v_data[0], res.v_data_se[0]),
                          (between_seed, res.v_init[0], res.v_init_se[0]),
                          (T.var(axis=1, ddof=1).mean(), res.v_init[0], res.v_init_se[0]),
                          (within_seed, res.v_data[0], res.v_data_se[0])]:
        assert abs(got - want) <= 3 * se, (got, want, se)
    assert abs(res.v_interaction[0]) <= 3 * res.v_interaction_se[0]


def _rf_table(vs_config, ps, feature_seeds, seed):
    """The predictions behind random_features_variance_split: every training set × feature draw, per p
    (the same draws: the job's own seed is rebuilt from its config as the sweep does)."""
    from genlab.analysis.double_descent._common import standardizer, targets
    from genlab.analysis.double_descent.variance import _training_targets, _variance_design, rf_variance_job
    from genlab.linalg.minnorm import nested_least_squares
    from genlab.models.random_features import draw_weights, features_from_weights
    from genlab.runs.worker import Job

    base = vs_config
    ds, test, pool, trains = _variance_design(base)
    std = standardizer(ds.X[pool])
    Y_te = targets(ds, ds.y[test])
    table = np.empty((len(ps), len(trains), feature_seeds, len(test), Y_te.shape[1]))
    for j in range(feature_seeds):
        ss = Job.make(rf_variance_job, {**base, "feature_seed": j}, seed).seed_sequence()
        W, b = draw_weights(ds.X.shape[1], ps[-1], kind=base["kind"], scale=base["scale"], seed=ss)
        F_te = features_from_weights(std(ds.X[test]), W, b, kind=base["kind"], normalize=False)
        for i, tr in enumerate(trains):
            Y = _training_targets(ds, base, tr, i, 0, 1)
            F = features_from_weights(std(ds.X[tr]), W, b, kind=base["kind"], normalize=False)
            for q, fit in enumerate(nested_least_squares(F, Y, ps)):
                table[q, i, j] = F_te[:, :fit.p] @ fit.coef
    return table, Y_te


def test_random_features_agree_with_the_existing_split_on_the_same_draws():
    """random_features_variance_split's total, data part (E_F Var_D) and features part (Var_F E_D) are the
    population-moment law-of-total-variance split of the same grid: rebuilt from the same draws, the
    crossed table's plug-in split equals them to rounding; the unbiased parts relate to them exactly by
    data = (R−1)/R (V_data + V_int) and features = (S−1)/S (V_init + V_int / R); its error is the same."""
    from genlab import random_features_variance_split

    ps, D, J, seed = [5, 20, 60], 3, 3, 0
    vs = random_features_variance_split(n_train=20, n_test=40, ps=ps, data_seeds=D, feature_seeds=J, seed=seed)
    base = {"data": "digits", "kind": "relu", "n_train": 20, "n_test": 40, "ps": ps, "data_seeds": D,
            "data_seed": seed, "label_noise": 0.0, "scale": 1.0}
    table, Y_te = _rf_table(base, ps, J, seed)
    for q in range(len(ps)):
        res = crossed_decomposition(table[q], y_test=Y_te, outputs=True)
        plug = res.plugin_split()
        np.testing.assert_allclose([plug["total"][0], plug["data"][0], plug["init"][0], res.error[0]],
                                   [vs.total[q], vs.data[q], vs.features[q], vs.error[q]], rtol=1e-8)
        np.testing.assert_allclose(vs.data[q], (D - 1) / D * (res.v_data[0] + res.v_interaction[0]), rtol=1e-8)
        np.testing.assert_allclose(vs.features[q], (J - 1) / J * (res.v_init[0] + res.v_interaction[0] / D),
                                   rtol=1e-8)


# -- the experiment --------------------------------------------------------------------------------------

SOURCE = SyntheticSource("sin(2*pi*x)", 0.3)


def _rf_sweep(**kw):
    args = dict(knob="n_features", values=[4, 64], data=SOURCE, R=3, S=3, n_train=16, n_test=25, seed=3)
    args.update(kw)
    return crossed_sweep(RandomFeaturesRegressor(kind="fourier", scale=6.0), **args)


def test_sweep_gives_the_same_numbers_for_any_worker_count_and_resumes(tmp_path):
    from genlab.runs.store import Store

    one = _rf_sweep(jobs=1)
    path = tmp_path / "runs.sqlite"
    first = _rf_sweep(values=[4], jobs=1, store=path)                   # an interrupted sweep: one value done
    two = _rf_sweep(jobs=2, store=path)                                  # resumed with two workers
    for name in one.terms:
        np.testing.assert_array_equal(one.terms[name], two.terms[name])
        np.testing.assert_array_equal(one.se[name], two.se[name])
    np.testing.assert_array_equal(first.terms["total"], one.terms["total"][:1])
    with Store(path, readonly=True) as st:
        sessions = st.sessions()
    assert [s["n_jobs"] for s in sessions] == [3, 3]                     # the second ran only the new value
    assert one.threshold == 16.0 and one.mode == "source" and one.noise[0] == pytest.approx(0.09)
    assert np.all(one.v_init > 0) and np.all(np.isfinite(one.train_error))
    assert one.identity_gap < 1e-12 and one.identity_residual < 1e-12
    assert not one.classification and not any(k.startswith("zero_one") for k in one.summary().columns)


def test_three_way_sweep_with_noise_draws():
    res = _rf_sweep(values=[64], noise_draws=2, R=3, S=3)
    assert res.K == 2 and set(res.parts) == {"x", "init", "eps", "x:init", "x:eps", "init:eps", "x:init:eps"}
    assert res.identity_gap < 1e-12
    frame = res.summary()
    assert {"v_x", "v_eps", "v_x_init_eps", "ensemble_3"} <= set(frame.columns)


def test_torch_width_sweep_on_digits():
    """genlab's TorchMLPClassifier swept by width on digits with label noise: the squared error of the class
    probabilities, its parts, the ensembles and the threshold where the parameters reach n_train · classes."""
    from genlab.models import TorchMLPClassifier

    est = TorchMLPClassifier(width=2, epochs=3, batch_size=None, lr=1e-2, device="cpu")
    res = crossed_sweep(est, knob="width", values=[2, 16], data="digits", R=3, S=3, n_train=40, n_test=60,
                        label_noise=0.2, seed=1)
    assert res.mode == "data" and res.config["n_outputs"] == 10 and np.isnan(res.noise).all()
    assert np.all(res.v_init > 0) and res.identity_gap < 1e-12
    w = res.threshold
    from genlab.models.mlp import MLPConfig

    lo, hi = MLPConfig(n_inputs=64, width=int(np.floor(w)), n_classes=10), MLPConfig(64, int(np.ceil(w)), 1, 10)
    assert lo.n_params <= 40 * 10 <= hi.n_params
    assert res.ensemble.shape == (2, 3) and "bias2_incl_noise" in res.summary().columns
    # the same class probabilities under the 0-1 loss and the cross-entropy, each adding up exactly
    assert res.classification and res.loss_residual("zero_one") < 1e-12 and res.loss_residual("cross_entropy") < 1e-12
    z, ce = res.zero_one, res.cross_entropy
    assert np.all((0 <= z["bias"]) & (z["bias"] <= 1)) and np.all(z["v_biased"] <= z["bias"])
    assert np.all(ce["variance"] > 0) and np.isnan(z["noise"]).all() and np.isnan(ce["noise"]).all()
    assert np.all(np.isfinite(res.se["zero_one_error"])) and res.config["probability_floor"] == 1e-12


def test_threshold_solves_the_parameter_count():
    from genlab.models import TorchMLPRegressor
    from genlab.models.mlp import MLPConfig

    for depth in (1, 2, 3):
        w = threshold(TorchMLPRegressor(depth=depth), "width", n_inputs=5, n_outputs=3, n_train=200)
        exact = MLPConfig(n_inputs=5, width=1, depth=depth, n_classes=3)
        count = lambda v: ((5 + 1) * v + (depth - 1) * (v + 1) * v + (v + 1) * 3)  # noqa: E731
        assert count(1) == exact.n_params
        assert count(w) == pytest.approx(600, rel=1e-9)
    assert threshold(RandomFeaturesRegressor(), "alpha", n_inputs=1, n_outputs=1, n_train=9) is None


def test_result_follows_the_protocol():
    res = _rf_sweep(jobs=1)
    frame = res.summary()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 2
    pd.testing.assert_frame_equal(res.to_frame(), frame)
    json.dumps(res.to_dict(), allow_nan=True)
    ax = Figure().add_subplot()
    assert res.plot(ax) is ax and ax.has_data() and ax.get_xscale() == "log"
    assert isinstance(res.plot(), Axes)
    assert res.plot_ensembles(Figure().add_subplot()).has_data()
    html = res._repr_html_()
    assert "<svg" in html and "<table" in html


def test_a_list_of_estimators_and_a_factory():
    """Unordered models (a list) get the knob "model" and are drawn by name; a factory value -> estimator
    runs in the driver (only the estimators travel) and gives what the knob gives."""
    from sklearn.ensemble import ExtraTreesRegressor

    both = crossed_sweep([RandomFeaturesRegressor(n_features=8), ExtraTreesRegressor(n_estimators=3, max_depth=3)],
                         data=SOURCE, R=3, S=3, n_train=16, n_test=20)
    assert both.knob == "model" and both.labels == ["RandomFeaturesRegressor", "ExtraTreesRegressor"]
    assert both.plot(Figure().add_subplot()).has_data()
    made = crossed_sweep(lambda p: RandomFeaturesRegressor(kind="fourier", scale=6.0, n_features=p), knob="n_features",
                         values=[4], data=SOURCE, R=3, S=3, n_train=16, n_test=25, seed=3)
    np.testing.assert_array_equal(made.total, _rf_sweep(values=[4]).total)


# -- bad input -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 4, 5), (4, 1, 5)])
def test_refuses_fewer_than_two_draws_or_seeds(shape):
    with pytest.raises(GenlabError, match="at least 2 data draws and 2 seeds"):
        crossed_decomposition(np.random.default_rng(0).normal(size=shape), y_test=np.zeros(5))
    with pytest.raises(GenlabError, match="must be an integer >= 2"):
        _rf_sweep(R=shape[0], S=shape[1])


def test_refuses_an_estimator_that_ignores_its_seed():
    T = np.broadcast_to(np.random.default_rng(0).normal(size=(3, 1, 5)), (3, 4, 5))
    with pytest.raises(GenlabError, match="identical predictions, so V_init = 0 exactly"):
        crossed_decomposition(T, y_test=np.zeros(5))
    from sklearn.linear_model import LinearRegression, Ridge

    with pytest.raises(GenlabError, match="Ridge.*ignores its seed"):  # has random_state, never uses it (cholesky)
        crossed_sweep(Ridge(), knob="alpha", values=[1.0], data=SOURCE, R=2, S=2, n_train=8, n_test=5)
    with pytest.raises(GenlabError, match="LinearRegression has no random_state"):
        crossed_sweep(LinearRegression(), knob="fit_intercept", values=[True, False], data=SOURCE)


def test_refuses_non_finite_and_mismatched_input():
    rng = np.random.default_rng(0)
    T = rng.normal(size=(3, 3, 5))
    bad = T.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(GenlabError, match="1 predictions are not finite .*lower the learning rate"):
        crossed_decomposition(bad, y_test=np.zeros(5))
    with pytest.raises(GenlabError, match="y_test has shape"):
        crossed_decomposition(T, y_test=np.zeros(4))
    with pytest.raises(GenlabError, match="give \\(R, S, n_test\\)"):
        crossed_decomposition(T[0], y_test=np.zeros(5))
    with pytest.raises(GenlabError, match="either y_test .* or y_mean"):
        crossed_decomposition(T, y_test=np.zeros(5), y_mean=np.zeros(5))
    with pytest.raises(GenlabError, match="noise must be"):
        crossed_decomposition(T, y_mean=np.zeros(5), noise=np.ones(3))
    with pytest.raises(GenlabError, match="label noise flips class labels"):
        crossed_sweep(RandomFeaturesRegressor(), knob="n_features", values=[3], data="diabetes", label_noise=0.1)
    with pytest.raises(GenlabError, match="no parameter 'width'"):
        crossed_sweep(RandomFeaturesRegressor(), knob="width", values=[3], data=SOURCE)
