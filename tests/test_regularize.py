import numpy as np
import pytest

from genlab import GenlabError
from genlab.data.sources import ARTICLE_SOURCE
from genlab.analysis.regularize import implicit_regularization, ridge_cv, sample_wise_linear


def test_fig14_ridge_cv_removes_the_overfitting():
    data = ARTICLE_SOURCE.draw(30, 0, "data")
    res = ridge_cv(data, 30, source=ARTICLE_SOURCE, seed=0)
    assert res.alphas[0] < res.best_alpha < res.alphas[-1]          # an interior optimum
    fresh = ARTICLE_SOURCE.draw(4000, 1, "fresh")
    mse_ridge = np.mean((res.predict(fresh.x) - fresh.y) ** 2)
    mse_free = np.mean((res.predict(fresh.x, res.coef_unregularized) - fresh.y) ** 2)
    assert mse_ridge < 0.05 < 1.0 < mse_free                           # σ² = 0.01; the free fit is wild
    assert res.summary().shape == (res.alphas.size, 3)


def test_gradient_descent_from_zero_finds_the_minimum_norm_solution():
    res = implicit_regularization(n=20, p=100, steps=20_000, seed=0)
    assert res.final_gap < 1e-6
    # from a random start the part in the null space of X never changes
    assert res.dist_random[-1] == pytest.approx(res.null_part, rel=1e-6)
    assert res.null_part > 0.1


@pytest.fixture(scope="module")
def minnorm():
    return sample_wise_linear(d=40, ns=list(range(5, 121, 5)) + [39, 40, 41], sigma=0.5, seeds=40, seed=1)


def test_sample_wise_peak_and_theory(minnorm):
    s = minnorm.summary().set_index("n")
    assert 0.9 * 40 <= minnorm.peak_n <= 1.1 * 40
    # more data hurts near n = d: the error at n = d is above that at n = d / 2
    assert s.loc[40, "test_median"] > 2 * s.loc[20, "test_median"]
    # Monte Carlo against the closed form, away from the peak where the mean is heavy-tailed
    far = s[(np.abs(s.index - 40) >= 10)]
    z = np.abs(far["test_mean"] - far["theory"]) / far["test_se"]
    assert np.all(z < 4), z[z >= 4]


def test_optimal_ridge_is_monotone_in_n():
    opt = sample_wise_linear(d=40, ns=list(range(5, 121, 5)), sigma=0.5, ridge="optimal", seeds=40, seed=1)
    mean = opt.summary()["test_mean"].to_numpy()
    assert np.all(mean[1:] <= mean[:-1] * 1.02)
    assert opt.lam == pytest.approx(40 * 0.25)


def test_sample_wise_does_not_depend_on_jobs():
    a = sample_wise_linear(d=10, ns=[5, 10, 20], seeds=4, seed=3, jobs=1)
    b = sample_wise_linear(d=10, ns=[5, 10, 20], seeds=4, seed=3, jobs=2)
    assert np.array_equal(a.test, b.test)


@pytest.mark.parametrize("call, match", [
    (lambda: sample_wise_linear(d=0), "d must be"),
    (lambda: sample_wise_linear(d=5, ridge="big"), "ridge must be"),
    (lambda: sample_wise_linear(d=5, ridge=-1), "ridge must be"),
    (lambda: implicit_regularization(n=10, p=5), "p > n"),
    (lambda: ridge_cv(ARTICLE_SOURCE.draw(30, 0), folds=1), "folds"),
    (lambda: ridge_cv(ARTICLE_SOURCE.draw(30, 0), degree=-2), "degree"),
])
def test_bad_input(call, match):
    with pytest.raises(GenlabError, match=match):
        call()
