"""Curves for any estimator and any knob (`genlab curve validation`, `genlab curve learning`, and the
library's validation_curve / learning_curve), on a source, a bundled set or the user's CSV; the
rough edges of `fit` and `curve capacity` (--n is the training points)."""

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.linear_model import LinearRegression, Ridge  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

from genlab import GenlabError  # noqa: E402
from genlab.analysis.estimator_curve import EstimatorCurve  # noqa: E402
from genlab.analysis.validation import _plan, learning_curve, parse_values, validation_curve  # noqa: E402
from genlab.cli.app import main  # noqa: E402
from genlab.core.io import plain  # noqa: E402
from genlab.data.sources import SyntheticSource, column_list, load_csv, load_dataset  # noqa: E402

WAVE = SyntheticSource("sin(2*pi*x)", 0.3)
TREE = "sklearn.tree.DecisionTreeRegressor()"


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def write_csv(path, n=120, seed=0, *, extra=""):
    """x1, x2, noise column and target = sin(2 pi x1) + x2 + noise (σ 0.2)."""
    g = np.random.default_rng(seed)
    x1, x2, z = g.uniform(0, 1, n), g.uniform(0, 1, n), g.normal(size=n)
    y = np.sin(2 * np.pi * x1) + x2 + 0.2 * g.normal(size=n)
    rows = "".join(f"{a!r},{b!r},{c!r},{t!r}\n" for a, b, c, t in zip(*(v.tolist() for v in (x1, x2, z, y))))
    path.write_text("x1,x2,z,target\n" + rows + extra)
    return path


# -- parsing --------------------------------------------------------------------------------------

def test_parse_values():
    assert parse_values("1-5") == [1, 2, 3, 4, 5]
    assert parse_values("1-9:4") == [1, 5, 9]
    assert parse_values("10,1,5,5") == [1, 5, 10]
    assert parse_values("1e-3,1e-2, 0.5") == [0.001, 0.01, 0.5]
    assert parse_values("None,1,2") == [None, 1, 2]
    assert parse_values("uniform,distance,uniform") == ["uniform", "distance"]
    assert parse_values("True,False") == [True, False]
    for bad in ("5-1", "", "1,,2", "inf", "a b", "1-100000000"):
        with pytest.raises(GenlabError):
            parse_values(bad)


def test_column_list_and_csv_default_columns(tmp_path):
    assert column_list(None) is None
    assert column_list(["a,b", "c", "a"]) == ("a", "b", "c")
    with pytest.raises(GenlabError, match="target"):
        column_list(["a", "y"], "y")
    ds = load_csv(write_csv(tmp_path / "d.csv"), x=None, y="target")
    assert ds.feature_names == ("x1", "x2", "z") and ds.X.shape == (120, 3)
    assert ds.origin["x"] == ["x1", "x2", "z"]
    with pytest.raises(GenlabError, match="no column 'nope'"):
        load_csv(tmp_path / "d.csv", x=None, y="nope")


# -- validation curves ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def depth_curve():
    return validation_curve(DecisionTreeRegressor(), WAVE, param="max_depth", values="1-8", n=100, n_val=500,
                            repeats=20, seed=0)


def test_tree_depth_curve_is_u_shaped(depth_curve):
    s = depth_curve.summary().set_index("max_depth")
    v = s["val_median"]
    best = depth_curve.best["DecisionTreeRegressor()"]["value"]
    assert 3 <= best <= 5
    assert v[1] > v[best] and v[8] > v[best]
    # deeper trees refine shallower ones on the same data (same random_state): training error never rises
    tr = depth_curve.train[0]
    assert np.all(np.diff(tr, axis=1) <= 1e-12)
    # no model beats the noise floor σ² = 0.09 on average over fresh validation points
    assert np.all(s["val_mean"] > 0.09 - 3 * s["val_se"])
    assert set(s["val_verdict"]) == {"finite variance"} and (s["datasets"] == 20).all()


def test_least_squares_validation_error_matches_theory():
    # least squares with an intercept on the true linear model: E[val MSE] = σ² (1 + 1/n + E[(x - x̄)²/Sxx])
    # ≈ σ² (1 + 2/n + O(1/n²)) for x ~ U(0, 1); the mean over 200 datasets lies within 4 s.e. of it
    src = SyntheticSource("2*x + 1", 0.5)
    c = validation_curve(Ridge(), src, param="alpha", values=[1e-12], n=20, n_val=2000, repeats=200, seed=3)
    mse = c.val[0, :, 0]
    expected = 0.25 * (1 + 2 / 20)
    assert abs(mse.mean() - expected) < 4 * mse.std(ddof=1) / np.sqrt(mse.size) + 0.25 * 4 / 20 ** 2


def test_same_seed_same_numbers_whatever_jobs():
    from sklearn.ensemble import RandomForestRegressor

    kw = dict(param="max_depth", values="2,4", n=60, n_val=100, repeats=6)
    est = RandomForestRegressor(n_estimators=5)   # random_state None: set per repeat from the seed
    a = validation_curve(est, WAVE, seed=1, jobs=1, **kw)
    b = validation_curve(est, WAVE, seed=1, jobs=2, **kw)
    c = validation_curve(est, WAVE, seed=2, jobs=1, **kw)
    np.testing.assert_array_equal(a.val, b.val)
    np.testing.assert_array_equal(a.train, b.train)
    assert not np.array_equal(a.val, c.val)


def test_several_estimators_and_nested_parameters():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    pipe = make_pipeline(PolynomialFeatures(degree=5), Ridge())
    c = validation_curve(pipe, WAVE, param="ridge__alpha", values="1e-6,1e-2,1", n=40, n_val=200, repeats=5)
    assert c.knob == "ridge__alpha" and c.values == [1e-6, 1e-2, 1]
    two = validation_curve([DecisionTreeRegressor(), DecisionTreeRegressor(min_samples_leaf=5)], WAVE,
                           param="max_depth", values="2,6", n=50, n_val=100, repeats=4)
    assert two.val.shape == (2, 4, 2)
    assert two.labels == ["DecisionTreeRegressor()", "DecisionTreeRegressor(min_samples_leaf=5)"]
    assert list(two.summary()["estimator"]) == [two.labels[0]] * 2 + [two.labels[1]] * 2


@pytest.mark.parametrize("kwargs, match", [
    ({"param": "depth", "values": "1-3"}, "has no parameter 'depth'"),
    ({"param": "max_depth", "values": "abc"}, "max_depth='abc' is not a valid value"),
    ({"param": "max_depth", "values": "1.5"}, "max_depth=1.5 is not a valid value"),
    ({"param": "max_depth", "values": "2", "metric": "error"}, "metric error is for classifiers"),
    ({"param": "max_depth", "values": "2", "method": "kfold"}, "unknown method"),
    ({"param": "max_depth", "values": "2", "repeats": 1}, "repeats must be"),
])
def test_bad_validation_inputs(kwargs, match):
    with pytest.raises(GenlabError, match=match):
        validation_curve(DecisionTreeRegressor(), WAVE, n=20, n_val=20, **kwargs)


def test_mixing_a_classifier_and_a_regressor_is_refused():
    with pytest.raises(GenlabError, match="classifier"):
        validation_curve([DecisionTreeRegressor(), DecisionTreeClassifier()], load_dataset("digits"),
                         param="max_depth", values="2")


def test_a_fit_that_fails_on_the_first_dataset_is_bad_input():
    from sklearn.linear_model import LogisticRegression

    # a classifier on a continuous target: the settings, not one unlucky dataset, are at fault
    with pytest.raises(GenlabError, match="failed to fit"):
        validation_curve(LogisticRegression(), WAVE, param="C", values="1", n=20, n_val=20, repeats=2)


def test_classifier_on_a_bundled_set_uses_the_0_1_error():
    c = validation_curve(DecisionTreeClassifier(), load_dataset("digits"), param="max_depth", values="2,8",
                         n=150, repeats=5)
    s = c.summary()
    assert c.metric == "error" and s["val_median"].between(0, 1).all()
    assert s.loc[1, "val_median"] < s.loc[0, "val_median"]   # depth 8 beats depth 2 on digits
    assert s["val_verdict"].str.startswith("finite variance (bounded").all()


# -- learning curves and the splits of a dataset ----------------------------------------------------

def test_learning_curve_from_a_source_falls_with_n():
    c = learning_curve(LinearRegression(), SyntheticSource("2*x + 1", 0.5), sizes="5,20,200", n_val=500,
                       repeats=30, seed=0)
    v = c.summary()["val_median"].to_numpy()
    assert v[0] > v[1] > v[2] > 0.25                      # towards the noise floor σ² = 0.25, never below
    assert c.knob == "n_train" and c.values == [5, 20, 200]


def test_disjoint_splits_of_a_dataset(tmp_path):
    ds = load_csv(write_csv(tmp_path / "d.csv", n=200), x=None, y="target")
    X, y, train, val, notes, n_val = _plan(ds, [10, 40], n_val=50, repeats=5, method="disjoint", seed=0)
    assert n_val == 50 and len(set(val[0])) == 50
    for v, size in enumerate([10, 40]):
        sets = [t[v] for t in train if t[v] is not None]
        assert len(sets) == min(5, 150 // size)           # as many disjoint training sets as fit
        rows = np.concatenate(sets)
        assert len(set(rows)) == rows.size and not set(rows) & set(val[0])
    assert "3 to 5 of the 5 repeats" in notes[0]
    c = learning_curve(Ridge(), ds, sizes=[10, 40], n_val=50, repeats=5)
    assert list(c.summary()["datasets"]) == [5, 3]
    with pytest.raises(GenlabError, match="fewer than 2 disjoint"):
        learning_curve(Ridge(), ds, sizes=[100], n_val=50)
    shuffled = learning_curve(Ridge(), ds, sizes=[100], n_val=50, repeats=4, method="shuffle")
    assert list(shuffled.summary()["datasets"]) == [4] and "overlap" in shuffled.config["notes"][0]


# -- the result: tail verdicts, figures from the data, the protocol ----------------------------------

def _curve(val, train=None, metric="mse", values=(1, 2)):
    val = np.asarray(val, dtype=float)
    return EstimatorCurve("validation", "k", list(values), ["m"], val if train is None else train, val, metric,
                          np.full(val.shape[2], val.shape[1]), 10, 100, {})


def test_tail_verdicts_follow_the_per_dataset_errors():
    g = np.random.default_rng(0)
    light = g.exponential(1.0, (1, 400, 1))
    heavy = g.pareto(0.6, (1, 400, 1)) + 1.0        # P(X > s) ~ s^-0.6: no finite mean
    c = _curve(np.concatenate([light, heavy], axis=2))
    verdicts = list(c.summary()["val_verdict"])
    assert verdicts == ["finite variance", "infinite mean"]
    few = _curve(light[:, :10], values=(1,))
    assert few.summary()["val_verdict"][0].startswith("too few")


def test_plot_limits_come_from_the_data():
    val = np.full((1, 5, 3), 0.0) + np.array([4000.0, 5000.0, 6000.0])
    ax = _curve(val, values=(1, 2, 3)).plot(train=False)
    lo, hi = ax.get_ylim()
    assert 3000 < lo < 4000 and 6000 < hi < 7000 and ax.get_yscale() == "linear"
    spread = np.full((1, 5, 3), 0.0) + np.array([1e-3, 1.0, 1e3])
    assert _curve(spread, values=(1, 2, 3)).plot().get_yscale() == "log"
    assert "MSE" in ax.get_ylabel() and "y²" in ax.get_ylabel()


def test_result_protocol(depth_curve):
    frame = depth_curve.summary()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 8 and frame.equals(depth_curve.to_frame())
    record = depth_curve.to_dict()
    assert json.loads(json.dumps(plain(record))) == plain(record)
    assert record["best"]["DecisionTreeRegressor()"]["value"] == depth_curve.best["DecisionTreeRegressor()"]["value"]
    fig = Figure()
    ax = fig.add_subplot()
    assert depth_curve.plot(ax) is ax and ax.has_data()
    assert isinstance(depth_curve.plot(), Axes)
    html = depth_curve._repr_html_()
    assert "<svg" in html and "<table" in html and "EstimatorCurve" in html


# -- the commands -----------------------------------------------------------------------------------

def test_curve_validation_on_a_csv(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "d.csv", n=300)
    args = ("curve", "validation", "--estimator", TREE, "--estimator", "sklearn.linear_model.Ridge()",
            "--param", "random_state", "--values", "0", "--csv", "d.csv", "--y-col", "target", "--x-col", "x1,x2",
            "--n", 40, "--repeats", 4, "--json")
    rc, out, err = run(capsys, *args, "--jobs", 1, "--out", "a")
    assert rc == 0, err
    record = json.loads(out)
    assert record["command"] == "curve validation" and record["estimators"] == ["DecisionTreeRegressor()", "Ridge()"]
    assert record["estimator_texts"] == [TREE, "sklearn.linear_model.Ridge()"]
    assert record["config"]["features"] == ["x1", "x2"] and record["n_train"] == 40 and record["n_val"] == 75
    stem = ("curve_validation_DecisionTreeRegressor+Ridge_random_state=0_n=40_repeats=4_csv=d.csv_x-col=x1,x2_"
            "y-col=target")
    assert {p.name for p in (tmp_path / "a").iterdir()} == {f"{stem}.{e}" for e in ("png", "svg", "csv", "json")}
    rc, out2, _ = run(capsys, *args, "--jobs", 2, "--out", "b")
    assert rc == 0 and out2 == out                       # the same numbers whatever --jobs
    assert {p.name for p in (tmp_path / "b").iterdir()} == {p.name for p in (tmp_path / "a").iterdir()}


def test_curve_learning_human_output_names_its_units(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "curve", "learning", "--estimator", TREE, "--sizes", "10,40", "--repeats", 3,
                       "--n-val", 100, "--out", "o")
    assert rc == 0, err
    assert "MSE, units of y²" in out and "noise floor of the source: 0.01 MSE" in out
    assert "lowest median validation MSE: n_train = 40" in out
    saved = json.loads((tmp_path / "o" / "curve_learning_DecisionTreeRegressor_sizes=10,40_n-val=100_repeats=3.json").read_text())
    assert saved["values"] == [10, 40] and saved["metric"] == "mse"


@pytest.mark.parametrize("args, match", [
    (("--param", "depth", "--values", "1-3"), "has no parameter 'depth'"),
    (("--param", "max_depth", "--values", "abc"), "not a valid value"),
    (("--param", "max_depth", "--values", "5-1"), "is empty"),
    (("--param", "max_depth", "--values", "2", "--csv", "d.csv"), "no column 'y'"),
    (("--param", "max_depth", "--values", "2", "--csv", "nan.csv", "--y-col", "target"), "NaN"),
    (("--param", "max_depth", "--values", "2", "--csv", "text.csv", "--y-col", "target"), "'oops' is not a finite"),
    (("--param", "max_depth", "--values", "2", "--csv", "empty.csv", "--y-col", "target"), "no data rows"),
    (("--param", "max_depth", "--values", "2", "--csv", "blank.csv", "--y-col", "target"), "cannot be read"),
    (("--param", "max_depth", "--values", "2", "--csv", "d.csv", "--y-col", "target", "--data", "digits"),
     "either --data or --csv"),
    (("--param", "max_depth", "--values", "2", "--method", "shuffle"), "--method would be ignored"),
    (("--param", "max_depth", "--values", "2", "--x-col", "a"), "--x-col would be ignored"),
    (("--param", "max_depth", "--values", "2", "--data", "mnist"), "unknown dataset"),
    (("--param", "max_depth", "--values", "2", "--data", "digits", "--estimator",
      "sklearn.tree.DecisionTreeClassifier()"), "classifier"),
    (("--param", "max_depth", "--values", "2", "--repeats", 0), "repeats"),
])
def test_curve_bad_input(tmp_path, capsys, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "d.csv", n=30)
    write_csv(tmp_path / "nan.csv", n=5, extra="0.5,0.5,,1.0\n")
    write_csv(tmp_path / "text.csv", n=5, extra="0.5,oops,0.1,1.0\n")
    (tmp_path / "empty.csv").write_text("x1,x2,z,target\n")
    (tmp_path / "blank.csv").write_text("")
    rc, out, err = run(capsys, "curve", "validation", "--estimator", TREE, *args, "--out", "o")
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genlab: error:") and match in lines[0], err
    assert not (tmp_path / "o").exists()


def test_learning_bad_sizes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "curve", "learning", "--estimator", TREE, "--sizes", "0,10", "--out", "o")
    assert rc == 2 and "sizes must be integers >= 1" in err and not (tmp_path / "o").exists()


# -- rough edges: --n is the training points ----------------------------------------------------------

def test_curve_capacity_n_is_training_points(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "curve", "capacity", "--degrees", "0-4", "--repeats", 5, "--n", 25, "--n-val", 7,
                       "--json", "--out", "o")
    assert rc == 0, err
    record = json.loads(out)
    assert record["n_train"] == 25 and record["config"]["n_val"] == 7
    for args, match in ((("--method", "kfold", "--n-val", 5), "--n-val would be ignored"),
                        (("--csv", "d.csv", "--n", 10), "--n would be ignored"),
                        (("--val-fraction", 0.3), "No such option")):
        (tmp_path / "d.csv").write_text("x,y\n0,1\n0.5,2\n1,3\n")
        rc, _, err = run(capsys, "curve", "capacity", *args, "--out", "bad")
        assert rc == 2 and match in err and not (tmp_path / "bad").exists()


def test_fit_n_is_training_points(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, "fit", "--val-fraction", 0.3, "--out", "o")
    assert rc == 2 and "--n-val" in err and not (tmp_path / "o").exists()
    (tmp_path / "d.csv").write_text("x,y\n0,1\n0.5,2\n1,3\n0.2,1.5\n")
    rc, _, err = run(capsys, "fit", "--csv", "d.csv", "--n", 10, "--out", "o")
    assert rc == 2 and "--n would be ignored" in err and not (tmp_path / "o").exists()
    rc, out, err = run(capsys, "fit", "--n", 12, "--n-val", 8, "--json", "--out", "o")
    assert rc == 0 and json.loads(out)["n_train"] == 12 and json.loads(out)["n_val"] == 8
