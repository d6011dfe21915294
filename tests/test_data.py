import numpy as np
import pytest

from genlab import GenlabError
from genlab.data.sources import ARTICLE_SOURCE, SyntheticSource, XDistribution, flip_labels, load_csv, load_dataset
from genlab.core.seeding import rng


def test_article_source_defaults():
    s = ARTICLE_SOURCE
    assert (s.target, s.noise, str(s.x_dist)) == ("2*x**2 + 1", 0.1, "uniform(0, 1)")
    np.testing.assert_allclose(s.mean([0.0, 0.5, 1.0]), [1.0, 1.5, 3.0])
    assert s.noise_var == pytest.approx(0.01)


def test_draws_depend_on_seed_and_key_only():
    a = ARTICLE_SOURCE.draw(30, 7, "data")
    b = ARTICLE_SOURCE.draw(30, 7, "data")
    c = ARTICLE_SOURCE.draw(30, 8, "data")
    d = ARTICLE_SOURCE.draw(30, 7, "validation")
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.allclose(a.y, c.y) and not np.allclose(a.y, d.y)
    assert a.X.shape == (30, 1) and np.all((a.x >= 0) & (a.x <= 1))


def test_noise_has_the_stated_variance():
    # Residual variance over 20,000 points: its standard error is sigma^2 * sqrt(2 / n).
    ds = ARTICLE_SOURCE.draw(20_000, 0, "noise")
    resid = ds.y - ARTICLE_SOURCE.mean(ds.x)
    se = 0.01 * np.sqrt(2 / 20_000)
    assert abs(resid.var() - 0.01) < 4 * se
    assert abs(resid.mean()) < 4 * 0.1 / np.sqrt(20_000)


def test_x_distributions():
    g = rng(0, "x")
    grid = SyntheticSource(x_dist="grid(-1, 1)").sample(5, g)
    np.testing.assert_allclose(grid.x, [-1, -0.5, 0, 0.5, 1])
    normal = SyntheticSource(x_dist="normal(2, 0.5)").sample(20_000, g).x
    assert abs(normal.mean() - 2) < 4 * 0.5 / np.sqrt(20_000)
    assert XDistribution.parse("uniform").support == (0.0, 1.0)
    assert XDistribution.parse("normal(0, 1)").support is None


@pytest.mark.parametrize("text", ["beta(1, 2)", "uniform(1)", "uniform(a, b)", "grid(1, 0)", "normal(0, -1)"])
def test_bad_x_distribution(text):
    with pytest.raises(GenlabError):
        XDistribution.parse(text)


def test_callable_and_expression_targets_agree():
    a = SyntheticSource(target="sin(2*pi*x) + x**2")
    b = SyntheticSource(target=lambda x: np.sin(2 * np.pi * x) + x ** 2)
    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(a.mean(x), b.mean(x), rtol=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    ({"noise": -0.1}, "noise must be a number >= 0"),
    ({"target": "2*x**"}, "malformed"),
    ({"target": "os.system('ls')"}, "not allowed"),
    ({"target": "log(x)"}, "not finite at x = 0"),
    ({"target": 3}, "expression string or a callable"),
])
def test_bad_sources(kwargs, match):
    with pytest.raises(GenlabError, match=match):
        SyntheticSource(**kwargs)


def test_bad_n():
    with pytest.raises(GenlabError, match="n must be an integer >= 1"):
        ARTICLE_SOURCE.draw(0, 0)


def test_label_noise_rate_and_flips():
    y = np.repeat(np.arange(10), 1000)
    noisy, flipped = flip_labels(y, 0.2, rng(0, "labels"))
    n = y.size
    assert abs(flipped.mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / n)
    assert np.all(noisy[flipped] != y[flipped]) and np.all(noisy[~flipped] == y[~flipped])
    # a flipped label is uniform over the other classes
    counts = np.bincount(noisy[flipped & (y == 0)], minlength=10)[1:]
    expected = counts.sum() / 9
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))
    with pytest.raises(GenlabError):
        flip_labels(y, 1.5, rng(0))


@pytest.mark.parametrize("name, shape, task", [("digits", (1797, 64), "classification"),
                                               ("diabetes", (442, 10), "regression"),
                                               ("wine", (178, 13), "classification"),
                                               ("breast_cancer", (569, 30), "classification")])
def test_bundled_datasets(name, shape, task):
    ds = load_dataset(name)
    assert ds.X.shape == shape and ds.y.shape == (shape[0],) and ds.task == task
    assert len(ds.feature_names) == shape[1]


def test_bundled_unknown_and_select():
    with pytest.raises(GenlabError, match="unknown dataset 'mnist'"):
        load_dataset("mnist")
    bmi = load_dataset("diabetes").select("bmi")
    assert bmi.X.shape == (442, 1)
    with pytest.raises(GenlabError, match="no feature 'age2'"):
        load_dataset("diabetes").select("age2")


def test_csv_round_trip(tmp_path):
    p = tmp_path / "runs.csv"
    p.write_text("x, y ,other\n0.1,1.0,a\n0.5, 2.0,b\n0.9,3.5,c\n")
    ds = load_csv(p)
    np.testing.assert_allclose(ds.x, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(ds.y, [1.0, 2.0, 3.5])


@pytest.mark.parametrize("content, kwargs, match", [
    ("x,y\n1,2\n", {"y": "z"}, "has no column 'z'"),
    ("x,y\n1,2\n3,\n", {}, r"column 'y', data row 2: a missing value \(NaN\)"),
    ("x,y\n1,2\nabc,3\n", {}, r"column 'x', data row 2: 'abc' is not a finite number"),
    ("x,y\n1,2\n2,nan\n", {}, r"column 'y', data row 2"),
    ("x,y\n1,2\n2,inf\n", {}, r"column 'y', data row 2"),
    ("x,y\n", {}, "no data rows"),
    ("", {}, "cannot be read"),
])
def test_csv_errors(tmp_path, content, kwargs, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(GenlabError, match=match):
        load_csv(p, **kwargs)


def test_csv_missing_file(tmp_path):
    with pytest.raises(GenlabError, match="does not exist"):
        load_csv(tmp_path / "nope.csv")
