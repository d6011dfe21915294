import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from genlab import GenlabError, IllConditionedWarning, PolynomialRegression
from genlab.data.sources import ARTICLE_SOURCE
from genlab.linalg.bases import design, vander, window


@parametrize_with_checks([PolynomialRegression(), PolynomialRegression(3, basis="chebyshev", solver="ridge", alpha=0.1),
                          PolynomialRegression(1, basis="monomial", solver="minnorm")])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture
def data():
    ds = ARTICLE_SOURCE.draw(30, 0, "data")
    return ds.X, ds.y


@pytest.mark.parametrize("degree", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("solver", ["lstsq", "minnorm", "ridge"])
def test_bases_give_the_same_function_at_low_degree(data, degree, solver):
    X, y = data
    grid = np.linspace(0, 1, 50)[:, None]
    preds = [PolynomialRegression(degree, basis=b, solver=solver, alpha=0.0, domain=(0, 1)).fit(X, y).predict(grid)
             for b in ("monomial", "legendre", "chebyshev")]
    np.testing.assert_allclose(preds[0], preds[1], rtol=0, atol=1e-8)
    np.testing.assert_allclose(preds[1], preds[2], rtol=0, atol=1e-8)


@pytest.mark.parametrize("basis", ["legendre", "chebyshev"])
@pytest.mark.parametrize("degree", [29, 30, 45])
def test_minnorm_interpolates_past_threshold(data, basis, degree):
    X, y = data
    model = PolynomialRegression(degree, basis=basis, solver="minnorm", domain=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        model.fit(X, y)
    A = vander(2 * X[:, 0] - 1, degree, basis)
    # Interpolation up to the backward error of a stable solver, eps * ||A|| * ||coef||
    # (near the threshold the interpolant's coefficients are ~1e10, so ~1e-5 is exact).
    bound = 50 * np.finfo(float).eps * np.linalg.norm(A, 2) * np.linalg.norm(model.coef_)
    residual = np.max(np.abs(model.predict(X) - y))
    assert residual < bound and residual < 1e-3 * ARTICLE_SOURCE.noise
    if degree + 1 > len(y):  # the minimum-norm interpolant: orthogonal to the null space of A
        null = np.linalg.svd(A)[2][len(y):]
        assert np.max(np.abs(null @ model.coef_)) < 1e-8 * np.linalg.norm(model.coef_)


def test_lstsq_is_np_polyfit_for_monomials(data):
    X, y = data
    x = X[:, 0]
    for degree in (1, 2, 5, 30):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = PolynomialRegression(degree, basis="monomial").fit(X, y).predict(X)
            theirs = np.polyval(np.polyfit(x, y, degree), x)
        if degree < 30:
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
        else:  # at the cut-off, rounding decides which directions survive: same error, not same digits
            rmse = [np.sqrt(np.mean((p - y) ** 2)) for p in (ours, theirs)]
            assert rmse[0] == pytest.approx(rmse[1], rel=0.02)


def test_ridge_matches_sklearn_with_unpenalized_intercept(data):
    X, y = data
    model = PolynomialRegression(8, solver="ridge", alpha=0.3, domain=(0, 1)).fit(X, y)
    A = vander(2 * X[:, 0] - 1, 8, "legendre")
    ref = Ridge(alpha=0.3, fit_intercept=True, solver="svd").fit(A[:, 1:], y)
    np.testing.assert_allclose(model.coef_[1:], ref.coef_, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(model.coef_[0], ref.intercept_, rtol=1e-10)


def test_ridge_shrinks_and_lasso_sparsifies(data):
    X, y = data
    norms = [np.linalg.norm(PolynomialRegression(12, solver="ridge", alpha=a, domain=(0, 1)).fit(X, y).coef_[1:])
             for a in (1e-6, 1e-2, 1.0)]
    assert norms[0] > norms[1] > norms[2]
    nonzero = [np.count_nonzero(PolynomialRegression(12, solver="lasso", alpha=a, domain=(0, 1)).fit(X, y).coef_[1:])
               for a in (1e-4, 1e-2)]
    assert nonzero[1] < nonzero[0]


def test_ill_conditioning_is_reported(data):
    X, y = data
    with pytest.warns(IllConditionedWarning, match="condition number"):
        model = PolynomialRegression(30, basis="monomial").fit(X, y)
    assert model.rank_ < 31 and model.condition_number_ > 1e12
    with warnings.catch_warnings():
        warnings.simplefilter("error", IllConditionedWarning)
        model = PolynomialRegression(3).fit(X, y)
    assert model.condition_number_ < 10


def test_normalize_changes_minnorm_but_not_least_squares(data):
    X, y = data
    grid = np.linspace(0, 1, 40)[:, None]
    kw = dict(domain=(0, 1))
    a = PolynomialRegression(6, normalize=False, **kw).fit(X, y).predict(grid)
    b = PolynomialRegression(6, normalize=True, **kw).fit(X, y).predict(grid)
    np.testing.assert_allclose(a, b, atol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = PolynomialRegression(60, solver="minnorm", normalize=False, **kw).fit(X, y).predict(grid)
        d = PolynomialRegression(60, solver="minnorm", normalize=True, **kw).fit(X, y).predict(grid)
    assert np.max(np.abs(c - d)) > 1e-3


def test_additive_design_for_several_features():
    X = np.random.default_rng(0).uniform(-1, 1, (10, 3))
    A = design(X, 4, "legendre")
    assert A.shape == (10, 1 + 3 * 4)
    np.testing.assert_allclose(A[:, 0], 1.0)
    np.testing.assert_allclose(A[:, 1:5], vander(X[:, 0], 4, "legendre")[:, 1:])


@pytest.mark.parametrize("params, match", [
    ({"degree": -1}, "degree must be an integer >= 0"),
    ({"degree": 2.5}, "degree must be an integer >= 0"),
    ({"degree": "3"}, "degree must be an integer >= 0"),
    ({"basis": "hermite"}, "unknown basis 'hermite'"),
    ({"solver": "sgd"}, "unknown solver 'sgd'"),
    ({"solver": "ridge", "alpha": -1.0}, "alpha must be a number >= 0"),
    ({"solver": "lasso", "alpha": 0.0}, "lasso needs alpha > 0"),
    ({"basis": "monomial", "normalize": True}, "normalize applies to the orthogonal bases"),
    ({"domain": (1.0, 0.0)}, "low < high"),
])
def test_bad_parameters_raise_genlab_error(data, params, match):
    X, y = data
    with pytest.raises(GenlabError, match=match):
        PolynomialRegression(**params).fit(X, y)


def test_window_maps_the_domain_onto_minus_one_one():
    assert np.array_equal(window(np.array([2.0, 3.0, 4.0]), (2.0, 4.0)), [-1.0, 0.0, 1.0])
    lo, hi = np.array([0.0, -1.0]), np.array([1.0, 1.0])    # one interval per feature
    assert np.array_equal(window(np.array([[0.0, -1.0], [1.0, 1.0]]), (lo, hi)), [[-1.0, -1.0], [1.0, 1.0]])
