import numpy as np
import pytest

from genlab import GenlabError
from genlab.analysis.curves import capacity_curve, parse_degrees
from genlab.data.sources import ARTICLE_SOURCE, load_csv
from genlab.core.stats import summarize


def test_parse_degrees():
    assert parse_degrees("0-3") == [0, 1, 2, 3]
    assert parse_degrees("1,2, 5-7") == [1, 2, 5, 6, 7]
    assert parse_degrees("0-10:5") == [0, 5, 10]
    for bad in ("5-1", "a", "-1", "1.5", "", "1,,2"):
        with pytest.raises(GenlabError):
            parse_degrees(bad)


@pytest.fixture(scope="module")
def holdout():
    return capacity_curve(ARTICLE_SOURCE, "0-25", repeats=60, seed=1)


def test_training_error_never_rises_with_degree_below_threshold(holdout):
    # Nested least-squares models on the same split: training error is non-increasing.
    below = holdout.degrees < holdout.n_train - 1
    tr = holdout.train_rmse[:, below]
    assert np.all(np.diff(tr, axis=1) <= 1e-10)


def test_validation_is_u_shaped(holdout):
    s = holdout.summary().set_index("degree")
    v = s["val_median"]
    assert v[2] < v[0] and v[2] < v[12]
    assert 2 <= holdout.best_degree <= 4
    # near the interpolation threshold the mean is dominated by a few datasets: flagged
    assert s.loc[holdout.n_train - 1, "val_heavy_tail"] and not s.loc[2, "val_heavy_tail"]


def test_degree2_validation_error_matches_theory(holdout):
    # Correct model, 3 parameters, 20 training points: E[val MSE] ~ sigma^2 (1 + p / n_train)
    # to first order; the mean validation MSE over repeats lies within 4 standard errors.
    mse = holdout.val_rmse[:, list(holdout.degrees).index(2)] ** 2
    expected = 0.01 * (1 + 3 / holdout.n_train)
    assert abs(mse.mean() - expected) < 4 * mse.std(ddof=1) / np.sqrt(mse.size) + 0.001


def test_kfold_and_determinism():
    a = capacity_curve(ARTICLE_SOURCE, [0, 1, 2, 3], method="kfold", folds=5, repeats=10, seed=3)
    b = capacity_curve(ARTICLE_SOURCE, [0, 1, 2, 3], method="kfold", folds=5, repeats=10, seed=3)
    c = capacity_curve(ARTICLE_SOURCE, [0, 1, 2, 3], method="kfold", folds=5, repeats=10, seed=4)
    np.testing.assert_array_equal(a.val_rmse, b.val_rmse)
    assert not np.array_equal(a.val_rmse, c.val_rmse)
    assert a.n_train == 24 and a.val_rmse.shape == (10, 4)


def test_curve_on_a_csv(tmp_path):
    ds = ARTICLE_SOURCE.draw(60, 0, "csv")
    p = tmp_path / "d.csv"
    p.write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in zip(ds.x, ds.y)))
    curve = capacity_curve(load_csv(p), "0-6", repeats=20, method="kfold", folds=3)
    assert curve.config["data"] == "d.csv" and curve.best_degree >= 1


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "loo"}, "unknown method"),
    ({"repeats": 0}, "repeats must be"),
    ({"val_fraction": 1.0}, "val_fraction"),
    ({"method": "kfold", "folds": 1}, "folds must be"),
    ({"basis": "x"}, "unknown basis"),
    ({"n": 1}, "empty set"),
])
def test_bad_curve_options(kwargs, match):
    with pytest.raises(GenlabError, match=match):
        capacity_curve(ARTICLE_SOURCE, "0-3", **kwargs)


def test_summarize_flags_heavy_tails_only():
    g = np.random.default_rng(0)
    light = summarize(g.normal(10, 1, (2000, 1)))
    heavy = summarize(g.pareto(0.7, (2000, 1)))
    assert not light["heavy_tail"][0] and heavy["heavy_tail"][0]
    assert light["se"][0] == pytest.approx(1 / np.sqrt(2000), rel=0.1)
    assert heavy["median"][0] < heavy["trimmed"][0] < heavy["mean"][0]


def test_n_val_validation_points_beside_n_training_points():
    # n training points and n_val validation points: the same draws and splits as n + n_val with a fraction
    a = capacity_curve(ARTICLE_SOURCE, "0-6", n=30, val_fraction=1 / 3, repeats=10, seed=5)
    b = capacity_curve(ARTICLE_SOURCE, "0-6", n=20, n_val=10, repeats=10, seed=5)
    np.testing.assert_array_equal(a.val_rmse, b.val_rmse)
    assert b.n_train == 20 and b.config["n_val"] == 10 and "val_fraction" not in b.config
    with pytest.raises(GenlabError, match="n_val"):
        capacity_curve(ARTICLE_SOURCE, "0-3", method="kfold", n_val=5)


def test_capacity_plot_limits_follow_the_data():
    # y in the tens of thousands: the validation RMSE is ~1e4, and the axis shows all of it
    from genlab.data.sources import SyntheticSource

    c = capacity_curve(SyntheticSource("1e5*x", 3e4), "0-5", repeats=10, seed=0)
    med = np.median(c.val_rmse, axis=0)
    lo, hi = c.plot().get_ylim()
    assert lo < med.min() and hi > med.max() > 1e4
    assert "RMSE" in c.plot().get_ylabel()
