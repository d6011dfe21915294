"""Double descent: the random-features model, the nested engine and the experiments (issue 5).

Sizes are small (digits with n = 100, diabetes with d = 10, polynomials with n = 15);
each statistical assertion has a margin measured against the quantity it tests.
"""

import json

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from genlab import GenlabError
from genlab.data.sources import ARTICLE_SOURCE
from genlab.analysis.double_descent import (CurveFamily, DoubleDescentCurve, VarianceSplit, default_ps,
                                            label_noise_sweep, linear_sample_wise, polynomial_model_wise,
                                            random_features_sweep, random_features_variance_split,
                                            schaeffer_ablations, singular_value_analysis)
from genlab.linalg.minnorm import nested_least_squares, svd_minnorm
from genlab.core.io import to_json
from genlab.models.random_features import RandomFeaturesRegressor, draw_weights, random_features

N = 100  # training points of the digits sweeps
SMALL = dict(n_train=40, n_test=100, ps=[10, 30, 40, 50, 200], seeds=2)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """In-process fits on one BLAS thread, as the sweep's workers run: two test workers with
    two threads each on two cores spend their time waiting on one another."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


# ------------------------------------------------------------------------------ the estimator

@parametrize_with_checks([RandomFeaturesRegressor(), RandomFeaturesRegressor(30, kind="fourier", alpha=0.1),
                          RandomFeaturesRegressor(500, scale=0.5, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_draws_are_nested_and_seeded():
    X = np.random.default_rng(0).normal(size=(30, 4))
    for kind in ("relu", "fourier"):
        big = random_features(X, 200, kind=kind, seed=7)
        assert np.array_equal(big[:, :50], random_features(X, 50, kind=kind, seed=7))
        assert not np.allclose(big[:, :50], random_features(X, 50, kind=kind, seed=8))
    W1 = RandomFeaturesRegressor(20, random_state=3).fit(X, X[:, 0]).weights_
    W2 = RandomFeaturesRegressor(60, random_state=3).fit(X, X[:, 0]).weights_
    assert np.array_equal(W1, W2[:, :20])
    W, b = draw_weights(4, 5000, kind="fourier", seed=1)
    assert abs(W.std() - 1 / 2) < 0.02 and b.min() >= 0 and b.max() <= 2 * np.pi   # N(0, 1/d), U[0, 2π]


def test_estimator_is_minimum_norm_or_ridge():
    g = np.random.default_rng(1)
    X, Y = g.normal(size=(40, 3)), g.normal(size=(40, 2))   # multi-output targets
    for p in (10, 40, 120):
        m = RandomFeaturesRegressor(p, random_state=0).fit(X, Y)
        Phi = m.features(X)
        np.testing.assert_allclose(m.coef_, np.linalg.pinv(Phi) @ Y, rtol=1e-7, atol=1e-9)
        assert m.predict(X).shape == (40, 2)
        r = RandomFeaturesRegressor(p, alpha=0.3, random_state=0).fit(X, Y)
        np.testing.assert_allclose(r.coef_, np.linalg.solve(Phi.T @ Phi + 0.3 * np.eye(p), Phi.T @ Y), atol=1e-9)
    assert np.abs(m.predict(X) - Y).max() < 1e-8           # p = 120 > n = 40 interpolates
    # sqrt(2/p) normalization: ΦΦᵀ approaches a kernel whose diagonal for Fourier features is 1
    f = RandomFeaturesRegressor(20000, kind="fourier", random_state=0).fit(X, Y[:, 0]).features(X)
    assert abs(np.mean(np.sum(f ** 2, axis=1)) - 1) < 0.02


def test_estimator_rejects_bad_parameters():
    X, y = np.zeros((5, 2)), np.zeros(5)
    for bad in (dict(kind="tanh"), dict(n_features=0), dict(alpha=-1.0), dict(scale=0.0)):
        with pytest.raises(GenlabError):
            RandomFeaturesRegressor(**bad).fit(X, y)


# ------------------------------------------------------------------------------ the engine

def test_nested_engine_equals_pinv_per_p():
    g = np.random.default_rng(2)
    n, P = 50, 260
    Phi = np.maximum(g.normal(size=(n, 6)) @ g.normal(size=(6, P)) + g.normal(size=P), 0)
    Phi[:, 30] = Phi[:, 29]               # a rank-deficient block below and above the threshold
    Y = g.normal(size=(n, 3))
    ps = [1, 7, 29, 31, 49, 50, 51, 52, 80, 260]
    fits = list(nested_least_squares(Phi, Y, ps))
    assert [f.p for f in fits] == ps
    for f in fits:
        A = Phi[:, :f.p]
        ref = np.linalg.pinv(A) @ Y
        assert np.abs(f.coef - ref).max() <= 1e-8 * np.abs(ref).max()
        s = np.linalg.svd(A, compute_uv=False)
        assert f.rank == np.linalg.matrix_rank(A)
        assert f.sigma_min == pytest.approx(s[f.rank - 1], rel=1e-8)
    lams = [0.0, 0.5, 20.0]
    for f in nested_least_squares(Phi, Y, ps, alphas=lams):
        A = Phi[:, :f.p]
        for j, lam in enumerate(lams[1:], 1):
            ref = np.linalg.solve(A.T @ A + lam * np.eye(f.p), A.T @ Y)
            assert np.abs(f.coef[:, :, j] - ref).max() <= 1e-8 * np.abs(ref).max()
    with pytest.raises(GenlabError):
        next(nested_least_squares(Phi, Y, [5, 3]))



def test_svd_minnorm_is_the_pseudo_inverse_and_ridge():
    g = np.random.default_rng(3)
    A = g.normal(size=(20, 8)) @ g.normal(size=(8, 40))    # rank 8: the cut-off drops 12 directions
    Y = g.normal(size=(20, 2))
    coef, info = svd_minnorm(A, Y)
    assert info.rank == 8 and info.n_params == 40
    np.testing.assert_allclose(coef, np.linalg.pinv(A) @ Y, rtol=0, atol=1e-10 * np.abs(coef).max())
    c1, _ = svd_minnorm(A, Y[:, 0])
    assert c1.shape == (40,) and np.allclose(c1, coef[:, 0])
    ridge, _ = svd_minnorm(A, Y, alpha=0.7)
    np.testing.assert_allclose(ridge, np.linalg.solve(A.T @ A + 0.7 * np.eye(40), A.T @ Y), atol=1e-10)


# ------------------------------------------------------------------------------ random features on digits

@pytest.fixture(scope="module")
def relu():
    return random_features_sweep("digits", n_train=N, n_test=500, seeds=5, seed=0)


def test_rf_peak_sits_at_the_threshold(relu):
    assert len(relu.values) >= 35 and relu.values[0] == 10 and relu.values[-1] == 20 * N
    assert 0.9 * N <= relu.peak <= 1.1 * N
    med = relu.median()
    i = list(relu.values).index(N)
    assert med[i] > 10 * relu.minimum["classical"]["value"]            # a real peak, not a bump
    assert 0.9 * N <= relu.values[np.argmin(relu.median("sigma_min"))] <= 1.1 * N
    assert 0.9 * N <= relu.values[np.argmax(relu.median("coef_norm"))] <= 1.1 * N
    assert 0.9 * N <= relu.find_peak("test_error")["at"] <= 1.1 * N


def test_rf_interpolates_past_the_threshold(relu):
    past = relu.values > N
    assert relu.train_mse[:, past].max() < 1e-8
    assert relu.train_mse[:, relu.values < 0.9 * N].min() > 1e-3    # and does not below it


def test_rf_second_descent_beats_the_classical_minimum(relu):
    mn = relu.minimum
    assert mn["classical"]["at"] < N < mn["after_peak"]["at"]
    assert mn["ratio"] < 0.7                                          # measured ≈ 0.41
    err = relu.median("test_error")
    assert err[-1] < err[list(relu.values).index(mn["classical"]["at"])]


def test_rf_result_api(relu, tmp_path):
    frame = relu.summary()
    assert len(frame) == len(relu.values)
    for col in ("test_mse_mean", "test_mse_se", "test_mse_median", "test_mse_q25", "test_mse_q75",
                "test_mse_heavy_tail", "test_error_median", "sigma_min_median", "coef_norm_median"):
        assert col in frame
    d = json.loads(to_json(relu.to_dict()))
    assert d["peak"]["at"] == relu.peak and len(d["points"]) == len(relu.values)
    import matplotlib.pyplot as plt

    ax = relu.plot()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    relu.plot(metric="sigma_min")
    plt.close("all")


def test_rf_reproducible_from_its_seed_whatever_the_workers():
    a = random_features_sweep("digits", kind="fourier", label_noise=0.1, seed=3, jobs=1, **SMALL)
    b = random_features_sweep("digits", kind="fourier", label_noise=0.1, seed=3, jobs=2, **SMALL)
    c = random_features_sweep("digits", kind="fourier", label_noise=0.1, seed=4, jobs=1, **SMALL)
    for name in a.metrics:
        assert np.array_equal(a.metric(name), b.metric(name))
    assert not np.array_equal(a.test_mse, c.test_mse)


def test_tuned_ridge_is_monotone_in_p():
    # Nakkiran et al. (2020): optimally tuned ridge removes the peak. λ is tuned per p on a
    # validation split (100 points), so "monotone" holds up to that split's noise: the median
    # test error never rises more than 2% above the best so far (measured: at most 0.7%).
    ps = default_ps(N, factor=10, count=20)
    tuned = random_features_sweep("digits", n_train=N, n_test=500, ps=ps, seeds=5, ridge="tuned", seed=0)
    med = tuned.median()
    assert np.all(med <= 1.02 * np.minimum.accumulate(med))
    assert med[-1] < 0.5 * med[0]
    assert np.all(tuned.metric("ridge_lambda") >= 0)
    plain = random_features_sweep("digits", n_train=N, n_test=500, ps=ps, seeds=5, seed=0)
    assert not np.all(plain.median() <= 1.02 * np.minimum.accumulate(plain.median()))  # the test can fail


def test_label_noise_raises_the_peak():
    fam = label_noise_sweep("digits", rates=(0.0, 0.2), n_train=N, n_test=500, ps=[20, 50, 90, 100, 110, 200, 2000],
                            seeds=5, seed=0)
    assert isinstance(fam, CurveFamily) and list(fam) == ["0%", "20%"]
    clean, noisy = fam["0%"], fam["20%"]
    assert noisy.find_peak()["value"] > 1.5 * clean.find_peak()["value"]
    assert noisy.median("test_error")[-1] > clean.median("test_error")[-1]   # it fits the flipped labels
    assert noisy.train_mse[:, -1].max() < 1e-8
    assert "peak" in fam.verdicts["20%"]


def test_label_noise_flips_training_labels_only():
    # Two classes, every training label flipped: the one-hot targets become 1 − Y, the least-squares
    # predictions f(1) − f(Y), so on clean test labels the 0-1 error is exactly 1 − the clean one.
    # (Flipped test labels too would give the clean error back; a rate that touched the split or the
    # features would give something else.)
    kw = dict(n_train=60, n_test=200, ps=[10, 30, 60, 300], seeds=2, seed=5)
    clean = random_features_sweep("breast_cancer", **kw)
    flipped = random_features_sweep("breast_cancer", label_noise=1.0, **kw)
    np.testing.assert_allclose(flipped.test_error, 1 - clean.test_error, atol=1e-12)
    assert clean.median("test_error")[-1] < 0.2


# ------------------------------------------------------------------------------ polynomials

def test_polynomial_basis_decides_the_second_descent():
    fam = polynomial_model_wise(n=15, degrees=range(0, 61, 2), seeds=10,
                                bases=("legendre", "legendre-normalized", "chebyshev"), seed=0)
    leg, ortho = fam["legendre"], fam["legendre-normalized"]
    below = leg.values < 14
    np.testing.assert_allclose(leg.test_mse[:, below], ortho.test_mse[:, below], rtol=1e-6)  # same functions
    assert leg.threshold == 14 and 12 <= leg.peak <= 16
    assert leg.train_mse[:, leg.values > 14].max() < 1e-8
    assert leg.minimum["ratio"] < 0.9            # unnormalized Legendre goes below (measured ≈ 0.7)
    assert ortho.minimum["ratio"] > 1.2          # orthonormal Legendre stays above (≈ 2.2)
    assert "goes below" in fam.verdicts["legendre"] and "stays above" in fam.verdicts["legendre-normalized"]
    assert "legendre" in fam.caption
    frame = fam.table()
    assert list(frame["curve"]) == ["legendre", "legendre-normalized", "chebyshev"]
    json.loads(to_json(fam.to_dict()))


def test_polynomial_on_the_article_source():
    fam = polynomial_model_wise(ARTICLE_SOURCE, n=15, degrees=range(0, 41), seeds=5, bases=("legendre",))
    c = fam["legendre"]
    assert c.minimum["classical"]["at"] == 2 and c.peak == 14


# ------------------------------------------------------------------------------ variance split

def test_variance_split_identity_and_peak():
    ps = [20, 50, 80, 90, 100, 110, 125, 200, 400]
    v = random_features_variance_split("digits", n_train=N, n_test=150, ps=ps, data_seeds=4, feature_seeds=4)
    assert isinstance(v, VarianceSplit)
    np.testing.assert_allclose(v.data + v.features, v.total, rtol=1e-9)       # law of total variance
    np.testing.assert_allclose(v.bias2 + v.total, v.error, rtol=1e-9)
    assert v.identity_gap < 1e-9
    assert 0.9 * N <= v.peak <= 1.1 * N
    assert np.all(v.features > 0) and np.all(v.data > 0)
    assert v.total[ps.index(100)] > 10 * v.total[ps.index(400)]
    assert set(v.summary()) >= {"variance_data", "variance_features", "bias2_incl_noise"}


# ------------------------------------------------------------------------------ why the peak

@pytest.fixture(scope="module")
def ablations():
    return schaeffer_ablations("diabetes", seeds=20, seed=0)


def test_schaeffer_ablations_each_remove_the_peak(ablations):
    base = ablations["baseline"]
    assert base.threshold == 10 and base.peak == 10
    i = list(base.values).index(10)
    for name in ("no_small_singular_values", "test_projected_top_k", "no_residual"):
        c = ablations[name]
        assert c.median()[i] < 0.2 * base.median()[i], name      # measured: 0.09x, 0.05x, 1e-31x
        assert c.find_peak()["value"] < 0.2 * base.find_peak()["value"], name
    assert ablations["no_residual"].median()[i + 1:].max() < 1e-20  # no residual, n > d: exact recovery
    assert set(ablations.verdicts) == {"baseline", "no_small_singular_values", "test_projected_top_k",
                                       "no_residual"}


def test_singular_value_analysis(ablations):
    sva = singular_value_analysis(ablations["baseline"])
    at = sva.at_peak
    assert at["peak"]["sigma_min"] < 0.1 * at["classical_minimum"]["sigma_min"]
    assert at["peak"]["coef_norm"] > 10 * at["classical_minimum"]["coef_norm"]
    assert sva.rank_corr_sigma > 0.3 and sva.rank_corr_norm > 0.3
    json.loads(to_json(sva.to_dict()))
    curve = linear_sample_wise("diabetes", ns=[5, 10, 20], seeds=3)
    assert isinstance(curve, DoubleDescentCurve) and curve.knob == "n"


# ------------------------------------------------------------------------------ user mistakes

@pytest.mark.parametrize("kwargs", [
    dict(ps=[]), dict(ps=[10, 2.5]), dict(kind="tanh"), dict(label_noise=-0.1), dict(label_noise=1.5),
    dict(data="mnist"), dict(n_train=1500, n_test=1000), dict(ridge="auto"), dict(ridge=-1.0), dict(seeds=0),
    dict(ps=[10, 10**8]),
])
def test_bad_input_raises_genlab_error(kwargs):
    with pytest.raises(GenlabError):
        random_features_sweep(**{"n_train": 40, "n_test": 100, "seeds": 1, **kwargs})


def test_bad_input_elsewhere():
    with pytest.raises(GenlabError):
        label_noise_sweep(rates=(0.0, 2.0))
    with pytest.raises(GenlabError):
        random_features_sweep("diabetes", label_noise=0.1, n_train=40, n_test=100)   # no classes to flip
    with pytest.raises(GenlabError):
        polynomial_model_wise(bases=("hermite",))
    with pytest.raises(GenlabError):
        schaeffer_ablations("diabetes", ns=[])
    with pytest.raises(GenlabError):
        random_features_variance_split(data_seeds=1)
    with pytest.raises(GenlabError):
        singular_value_analysis("wine-2")
