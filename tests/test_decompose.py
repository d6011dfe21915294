"""Bias-variance decomposition: exact where algebra says so, within standard errors where Monte Carlo does."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.neighbors import KNeighborsRegressor

from genlab import GenlabError, PolynomialRegression
from genlab.data.sources import ARTICLE_SOURCE, SyntheticSource
from genlab.analysis.biasvar import decompose, decompose_polynomial

TERMS = ("bias2", "variance", "noise", "error", "error_median", "bias2_se", "variance_se", "error_se")


def _agree(a, b, rtol=1e-8):
    for k in TERMS:
        x, y = getattr(a, k), getattr(b, k)
        np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol * np.max(np.abs(y)), err_msg=k)
    np.testing.assert_allclose(a.hbar, b.hbar, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(a.var_x, b.var_x, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(a.first_fits, b.first_fits, rtol=rtol, atol=1e-10)


def test_fast_and_general_engines_agree_on_the_same_datasets():
    degs = [0, 1, 2, 4, 7]
    fast = decompose_polynomial(ARTICLE_SOURCE, degs, n_datasets=300, seed=5)
    general = decompose([PolynomialRegression(d, domain=(0, 1)) for d in degs], ARTICLE_SOURCE,
                        n_datasets=300, seed=5)
    _agree(fast, general)


@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
def test_test_basis_recurrence_gives_the_design_coordinates(basis):
    # on the support's window, as the engine uses it (there design @ T is accurate enough to compare with)
    from genlab.linalg.nested import TestBasis

    x_test = ARTICLE_SOURCE.x_dist.quantiles(200)
    tb = TestBasis(x_test, 29, basis, (0.0, 1.0))
    x = np.random.default_rng(0).uniform(0, 1, (7, 30))
    direct = tb.design(x) @ tb.T
    np.testing.assert_allclose(tb(x), direct, rtol=0, atol=1e-11 * np.abs(direct).max())
    at_test = tb(x_test)
    np.testing.assert_allclose(at_test.T @ at_test / 200, np.eye(30), atol=1e-11)


@pytest.mark.parametrize("n", [30, 45])  # square (LAPACK works in place) and tall (dtrtri hands back a copy)
def test_nested_lstsq_gives_every_degrees_least_squares_fit(n):
    from genlab.linalg.nested import nested_lstsq

    g = np.random.default_rng(1)
    Phi, Y = g.standard_normal((4, n, 30)), g.standard_normal((4, n))
    C, rdiag = nested_lstsq(Phi, Y)
    for b in range(4):
        for d in (0, 5, 29):
            ref = np.linalg.lstsq(Phi[b, :, : d + 1], Y[b], rcond=None)[0]
            np.testing.assert_allclose(C[b, : d + 1, d], ref, rtol=1e-8, atol=1e-10)
            assert not C[b, d + 1:, d].any()
        np.testing.assert_allclose(rdiag[b], np.abs(np.diagonal(np.linalg.qr(Phi[b], mode="r"))), rtol=1e-10)


def test_exact_least_squares_does_not_depend_on_the_basis_asked_for():
    # an unscaled monomial basis is far too ill-conditioned at degree 20 to carry the coordinates itself
    kw = dict(n=30, n_datasets=200, seed=3)
    mono = decompose_polynomial(ARTICLE_SOURCE, [2, 20], basis="monomial", **kw)
    leg = decompose_polynomial(ARTICLE_SOURCE, [2, 20], basis="legendre", **kw)
    np.testing.assert_allclose(mono.per_dataset_error, leg.per_dataset_error, rtol=1e-12)
    assert mono.config["basis"] == "monomial"


@pytest.mark.parametrize("kwargs, models", [
    ({"degrees": [3, 9], "solver": "minnorm", "basis": "chebyshev"},
     [PolynomialRegression(3, basis="chebyshev", solver="minnorm", domain=(0, 1)),
      PolynomialRegression(9, basis="chebyshev", solver="minnorm", domain=(0, 1))]),
    ({"degrees": [10], "alphas": [1e-4, 1e-2, 1.0]},
     [PolynomialRegression(10, solver="ridge", alpha=a, domain=(0, 1)) for a in (1e-4, 1e-2, 1.0)]),
])
def test_solver_and_ridge_paths_agree_with_general(kwargs, models):
    _agree(decompose_polynomial(ARTICLE_SOURCE, n_datasets=200, seed=2, **kwargs),
           decompose(models, ARTICLE_SOURCE, n_datasets=200, seed=2))


@settings(max_examples=12, deadline=None, derandomize=True)
@given(target=st.sampled_from(["2*x**2 + 1", "sin(6*x)", "exp(x) - x**3", "abs(x - 0.4)"]),
       noise=st.floats(0.0, 0.5), n=st.integers(8, 25), n_datasets=st.integers(2, 120),
       degrees=st.lists(st.integers(0, 7), min_size=1, max_size=4), seed=st.integers(0, 2 ** 31))
def test_sample_identity_is_exact(target, noise, n, n_datasets, degrees, seed):
    # mean over datasets of mean_x (h_D - ȳ)² = bias² + variance, exactly (bias² is bias-corrected).
    res = decompose_polynomial(SyntheticSource(target, noise), degrees, n=n, n_datasets=n_datasets,
                               n_test=30, seed=seed)
    lhs = res.per_dataset_dist.mean(axis=0)
    np.testing.assert_allclose(lhs, res.bias2 + res.variance, rtol=1e-9, atol=1e-12)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(target=st.sampled_from(["2*x**2 + 1", "sin(6*x)", "x**3"]), noise=st.floats(0.05, 0.5),
       degree=st.integers(0, 4), seed=st.integers(0, 2 ** 31))
def test_measured_error_equals_the_sum_within_standard_errors(target, noise, degree, seed):
    res = decompose_polynomial(SyntheticSource(target, noise), [degree], n_datasets=3000, seed=seed)
    assert abs(res.identity_z[0]) < 4
    assert abs(res.noise[0] - noise ** 2) < 4 * res.noise_se[0]


@pytest.mark.parametrize("degree", [2, 4])
def test_fixed_design_variance_is_sigma2_p_over_n(degree):
    # x on a fixed grid, tested at the training points, correct model: variance = σ² p / n, bias² = 0.
    n, sigma = 20, 0.3
    src = SyntheticSource("2*x**2 + 1", sigma, "grid(0, 1)")
    res = decompose_polynomial(src, [degree], n=n, n_datasets=4000, x_test=np.linspace(0, 1, n), seed=1)
    expected = sigma ** 2 * (degree + 1) / n
    assert abs(res.variance[0] - expected) < 4 * res.variance_se[0]
    assert abs(res.bias2[0]) < 4 * res.bias2_se[0] + 1e-12
    assert res.variance_se[0] < 0.05 * expected  # the check has teeth


def test_article_values_match_an_independent_computation():
    # The reference numbers use 200 evenly spaced test points including the ends.
    grid = np.linspace(0, 1, 200)
    res = decompose_polynomial(ARTICLE_SOURCE, [1, 2], n_datasets=20_000, x_test=grid, seed=0)
    g = np.random.default_rng(12345)  # a separate brute-force Monte Carlo with np.polyfit
    m = 4000
    preds = {1: np.empty((m, grid.size)), 2: np.empty((m, grid.size))}
    for i in range(m):
        x = g.uniform(0, 1, 30)
        y = 2 * x ** 2 + 1 + g.normal(0, 0.1, 30)
        for d in (1, 2):
            preds[d][i] = np.polyval(np.polyfit(x, y, d), grid)
    truth = 2 * grid ** 2 + 1
    bias2_1 = np.mean((preds[1].mean(axis=0) - truth) ** 2)
    var_2 = np.mean(preds[2].var(axis=0, ddof=1))
    var_2_se = np.std(np.mean((preds[2] - preds[2].mean(axis=0)) ** 2, axis=1), ddof=1) / np.sqrt(m)
    assert abs(res.bias2[0] - bias2_1) < 4 * np.hypot(res.bias2_se[0], 3e-5)
    assert abs(res.variance[1] - var_2) < 4 * np.hypot(res.variance_se[1], var_2_se)
    assert res.bias2[0] == pytest.approx(0.0227, rel=0.02)
    assert res.variance[1] == pytest.approx(0.00115, rel=0.03)


def test_high_degrees_get_a_tail_verdict_and_no_standard_error():
    res = decompose_polynomial(ARTICLE_SOURCE, [1, 2, 29], n_datasets=2000, seed=0)
    assert res.tail["verdict"][:2] == ["finite variance"] * 2 and res.tail["verdict"][2] == "infinite mean"
    assert list(res.se_valid) == [True, True, False]
    frame = res.summary()
    assert np.isnan(frame["error_se"][2]) and np.isfinite(frame["error_se"][:2]).all()
    assert res.error[2] > 100 * res.error_median[2]
    d30 = decompose_polynomial(ARTICLE_SOURCE, [30], basis="monomial", solver="lstsq", n_datasets=1000)
    assert d30.tail["verdict"] == ["infinite mean"]
    assert d30.tail_theory["verdict"] == ["undetermined"]   # past n - 1 (a cut-off fit) theory says nothing


def test_results_do_not_depend_on_worker_count():
    a = decompose_polynomial(ARTICLE_SOURCE, [0, 3, 8], n_datasets=400, seed=9, jobs=1)
    b = decompose_polynomial(ARTICLE_SOURCE, [0, 3, 8], n_datasets=400, seed=9, jobs=2)
    for k in TERMS:
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    knn = KNeighborsRegressor(n_neighbors=5)
    c = decompose(knn, ARTICLE_SOURCE, n_datasets=60, seed=9, jobs=1)
    d = decompose(knn, ARTICLE_SOURCE, n_datasets=60, seed=9, jobs=2)
    assert np.array_equal(c.error, d.error) and np.array_equal(c.variance, d.variance)


def test_a_nonparametric_estimator():
    res = decompose(KNeighborsRegressor(n_neighbors=1), ARTICLE_SOURCE, n_datasets=400, seed=0)
    # 1-NN predicts one noisy label, ȳ(x_nn) + ε: its variance is σ² plus the spread of ȳ(x_nn)
    assert 0.01 - 4 * res.variance_se[0] < res.variance[0] < 0.02
    assert abs(res.identity_z[0]) < 4


class NoPredict:
    def fit(self, X, y):
        return self

    def get_params(self, deep=True):
        return {}


@pytest.mark.parametrize("call, match", [
    (lambda: decompose_polynomial(ARTICLE_SOURCE, [1], n_datasets=1), "at least 2 datasets"),
    (lambda: decompose_polynomial(ARTICLE_SOURCE, [1], x_test=[]), "test grid is empty"),
    (lambda: decompose_polynomial(ARTICLE_SOURCE, [1], n_test=0), "at least 1 point"),
    (lambda: decompose_polynomial(ARTICLE_SOURCE, [30]), "not unique"),
    (lambda: decompose_polynomial(ARTICLE_SOURCE, [3, 4], alphas=[1.0]), "single degree"),
    (lambda: decompose(NoPredict(), ARTICLE_SOURCE), "no predict"),
    (lambda: decompose(KNeighborsRegressor(), ARTICLE_SOURCE, loss="hinge"), "unknown loss"),
])
def test_bad_input(call, match):
    with pytest.raises(GenlabError, match=match):
        call()


# -- classification losses -----------------------------------------------------

from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from genlab.data.sources import ClassificationSource  # noqa: E402


@pytest.mark.parametrize("source", [ClassificationSource(),
                                    ClassificationSource(["1", "exp(3*x)", "2*x"], label_noise=0.1)])
def test_domingos_zero_one_identity_is_exact(source):
    models = [DecisionTreeClassifier(max_depth=d, random_state=0) for d in (1, 4)] + [KNeighborsClassifier(1)]
    res = decompose(models, source, loss="zero_one", n_datasets=120, seed=4)
    # E_D E_y[loss] = c1·noise + bias + net variance, pointwise and exactly (Domingos 2000, Thm 2)
    np.testing.assert_allclose(res.per_dataset_error.mean(axis=0), res.total, rtol=0, atol=1e-12)
    p = source.proba(res.x_test)
    assert res.noise[0] == pytest.approx(np.mean(1 - p.max(axis=1)), abs=1e-12)
    assert np.all((res.bias2 >= 0) & (res.bias2 <= 1) & (res.variance >= 0) & (res.variance <= 1))
    assert np.all(res.net_variance <= res.variance + 1e-12)
    # 1-NN on noisy labels varies far more than a stump
    assert res.variance[2] > res.variance[0]


def test_zero_one_terms_of_a_constant_classifier():
    # A classifier that always predicts the training majority: main prediction = global majority.
    from sklearn.dummy import DummyClassifier

    src = ClassificationSource("0.5 + 0.4 * sign(x - 0.5)")  # P(y=1) = 0.1 left, 0.9 right
    res = decompose(DummyClassifier(strategy="most_frequent"), src, loss="zero_one", n_datasets=200, seed=1)
    # the optimal class differs from any constant on half the inputs: bias = 1/2
    assert res.bias2[0] == pytest.approx(0.5, abs=0.01)
    assert res.noise[0] == pytest.approx(0.1, abs=1e-12)


def test_cross_entropy_identity_is_exact():
    src = ClassificationSource("0.5 + 0.4*sin(2*pi*x)")
    res = decompose([LogisticRegression(), KNeighborsClassifier(n_neighbors=10)], src, loss="cross_entropy",
                    n_datasets=100, seed=2)
    # E_D E_y[-log q_D] = H(p) + KL(p || q̄) + E_D KL(q̄ || q_D), with q̄ the normalized geometric mean
    np.testing.assert_allclose(res.per_dataset_error.mean(axis=0), res.total, rtol=1e-12, atol=1e-12)
    assert np.all(res.bias2 >= 0) and np.all(res.variance >= 0)
    p = src.proba(res.x_test)
    assert res.noise[0] == pytest.approx(np.mean(-(p * np.log(p)).sum(axis=1)), rel=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: decompose(DecisionTreeClassifier(), ARTICLE_SOURCE, loss="zero_one"), "target is continuous"),
    (lambda: decompose(LinearRegression(), ClassificationSource(), loss="zero_one"), "not a classifier"),
    (lambda: decompose(DecisionTreeClassifier(), ClassificationSource(), loss="squared"), "regression source"),
    (lambda: decompose(NoPredict(), ClassificationSource(), loss="cross_entropy"), "no predict_proba"),
    (lambda: ClassificationSource("1.5*x"), r"must lie in \[0, 1\]"),
])
def test_classification_bad_input(call, match):
    with pytest.raises(GenlabError, match=match):
        call()


# -- real data ----------------------------------------------------------------------

from sklearn.linear_model import Ridge  # noqa: E402

from genlab.data.sources import load_dataset  # noqa: E402
from genlab.analysis.biasvar import decompose_data  # noqa: E402


def test_real_data_identity_and_honest_labels():
    data = load_dataset("diabetes")
    res = decompose_data([Ridge(alpha=1.0), KNeighborsRegressor(n_neighbors=1)], data, n_train=40, seed=0)
    # measured error = (bias² + noise) + variance exactly, with the plug-in terms
    np.testing.assert_allclose(res.per_dataset_error.mean(axis=0), res.total, rtol=1e-12)
    frame = res.summary()
    assert "bias2_plus_noise" in frame and "noise" not in frame
    assert res.mode == "disjoint-splits" and any("noise cannot be separated" in n for n in res.config["notes"])
    assert res.n_datasets == (data.n - round(0.25 * data.n)) // 40
    assert res.variance[1] > res.variance[0]  # 1-NN varies more than ridge


def test_real_data_disjoint_against_a_known_source():
    # On data drawn from a known source, disjoint subsets estimate the same variance as fresh datasets.
    big = ARTICLE_SOURCE.draw(15_000, 0, "pool")
    est = PolynomialRegression(3, domain=(0, 1))
    real = decompose_data(est, big, n_train=30, rounds=400, test_fraction=0.1, seed=1)
    fresh = decompose(est, ARTICLE_SOURCE, n=30, n_datasets=2000, seed=1)
    assert abs(real.variance[0] - fresh.variance[0]) < 4 * np.hypot(real.variance_se[0], fresh.variance_se[0])


def test_bootstrap_is_labelled_and_zero_one_identity_holds():
    data = load_dataset("wine")
    res = decompose_data(DecisionTreeClassifier(max_depth=3, random_state=0), data, method="bootstrap",
                         rounds=30, loss="zero_one", seed=3)
    np.testing.assert_allclose(res.per_dataset_error.mean(axis=0), res.total, atol=1e-12)
    assert res.mode == "bootstrap" and any("bootstrap" in n for n in res.config["notes"])
    assert "bias_incl_noise" in res.summary()


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "jackknife"}, "unknown method"),
    ({"n_train": 400}, "fewer than 2 disjoint"),
    ({"loss": "zero_one"}, "continuous"),
    ({"test_fraction": 1.0}, "test_fraction"),
])
def test_real_data_bad_input(kwargs, match):
    with pytest.raises(GenlabError, match=match):
        decompose_data(Ridge(), load_dataset("diabetes"), **kwargs)


def test_real_data_jackknife_matches_brute_force():
    res = decompose_data([Ridge(alpha=1.0), KNeighborsRegressor(n_neighbors=3)], load_dataset("diabetes"),
                         n_train=25, seed=2)
    H = res.first_fits.transpose(0, 2, 1)  # all rounds (R <= 100): (R, m, M)
    R, y = H.shape[0], res.ybar
    assert R == res.n_datasets

    def terms(Hs):
        var = Hs.var(axis=0, ddof=1).mean(axis=0)
        return ((Hs.mean(axis=0) - y[:, None]) ** 2).mean(axis=0) - var / Hs.shape[0], var

    loo = [terms(np.delete(H, r, axis=0)) for r in range(R)]
    for i, se in ((0, res.bias2_se), (1, res.variance_se)):
        r = np.array([t[i] for t in loo])
        np.testing.assert_allclose(se, np.sqrt((R - 1) / R * ((r - r.mean(0)) ** 2).sum(0)), rtol=1e-9)
