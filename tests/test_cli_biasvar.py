"""`genlab biasvar` end to end: outputs, determinism, and every bad input."""

import json

import pytest

from genlab.cli.app import main


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_polynomial_decomposition_outputs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", "--degrees", "0-4", "--datasets", 400, "--json", "--out", "o")
    assert rc == 0
    record = json.loads(out)
    models = record["models"]
    assert [m["degree"] for m in models] == [0, 1, 2, 3, 4]
    assert models[1]["bias2"] == pytest.approx(0.0222, rel=0.05)   # the line's bias² (1/45)
    assert abs(models[2]["bias2"]) < 4 * models[2]["bias2_se"]     # the quadratic is unbiased
    assert all(abs(m["identity_z"]) < 4 for m in models[:3])   # light tails: the identity's z exists
    assert all(m["bias2_plugin"] == pytest.approx(m["bias2"] + m["variance"] / 400) for m in models)
    assert {p.name for p in (tmp_path / "o").iterdir()} == {"biasvar.png", "biasvar.svg", "biasvar.csv",
                                                             "biasvar.json"}
    assert json.loads((tmp_path / "o" / "biasvar.json").read_text()) == record


def test_same_seed_same_bytes_whatever_the_jobs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ("biasvar", "--degrees", "1,3", "--datasets", 200, "--json", "--seed", 4)
    a = run(capsys, *args, "--jobs", 1)[1]
    b = run(capsys, *args, "--jobs", 2)[1]
    c = run(capsys, *args[:-1], 5, "--jobs", 1)[1]
    assert a == b and a != c


def test_text_table_gives_tail_verdicts_and_withholds_invalid_standard_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    rc, out, err = run(capsys, "biasvar", "--degrees", "1,2,29", "--datasets", 1000)
    assert rc == 0
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert "≈ 0 (|b²| < 2 s.e.)" in rows["2"] and "±" in rows["1"]     # the quadratic's bias² is unresolved
    assert "∞ mean" in rows["29"] and "†" in rows["29"] and "±" not in rows["29"]
    assert "finite var" in rows["1"]
    assert "† no valid standard error" in out


@pytest.mark.parametrize("args", [
    ("--estimator", "sklearn.tree.DecisionTreeRegressor(max_depth=2)", "--datasets", 60),
    ("--loss", "zero_one", "--estimator", "sklearn.tree.DecisionTreeClassifier(max_depth=2)", "--datasets", 60),
    ("--loss", "cross_entropy", "--estimator", "sklearn.linear_model.LogisticRegression()", "--datasets", 40),
    ("--data", "wine", "--loss", "zero_one", "--estimator", "sklearn.tree.DecisionTreeClassifier(max_depth=2)",
     "--method", "bootstrap", "--rounds", 10),
    ("--degrees", 30, "--alphas", "1e-6,1e-2,1", "--datasets", 100),
    ("--degrees", 30, "--solver", "lstsq", "--basis", "monomial", "--datasets", 100),
])
def test_other_models_and_losses(tmp_path, capsys, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", *args, "--json")
    assert rc == 0, err
    record = json.loads(out)
    assert record["models"] and all(m["error"] > 0 for m in record["models"])


@pytest.mark.parametrize("args, match", [
    (("--datasets", 1), "at least 2"),
    (("--n-test", 0), "test grid"),
    (("--degrees", "5-1"), "empty"),
    (("--degrees", 30), "not unique"),
    (("--estimator", "sklearn.cluster.KMeans()"), "not a regressor"),
    (("--estimator", "sklearn.preprocessing.StandardScaler()"), "no fit/predict"),
    (("--estimator", "os.system('echo hi')"), "keyword arguments"),
    (("--estimator", "subprocess.Popen(args='ls')"), "not allowed"),
    (("--estimator", "sklearn.tree.NoSuchTree()"), "does not exist"),
    (("--estimator", "sklearn.tree.DecisionTreeRegressor(max_depth=__import__('os'))"), "not a literal"),
    (("--loss", "zero_one"), "needs a classifier"),
    (("--loss", "zero_one", "--estimator", "sklearn.linear_model.LinearRegression()"), "not a classifier"),
    (("--loss", "zero_one", "--estimator", "sklearn.tree.DecisionTreeClassifier()", "--data", "diabetes"),
     "continuous"),
    (("--loss", "hinge"), "unknown loss"),
    (("--data", "mnist", "--estimator", "sklearn.linear_model.Ridge()"), "unknown dataset"),
    (("--data", "diabetes"), "needs --estimator"),
    (("--alphas", "1,x", "--degrees", 3), "numbers separated by commas"),
    (("--jobs", 0), "--jobs"),
    (("--noise", -1), "noise must be"),
    # options the chosen mode would silently ignore
    (("--estimator", "sklearn.linear_model.Ridge()", "--alpha", 2, "--degrees", 3), "--degrees, --alpha would be"),
    (("--method", "bootstrap"), "need --data or --csv"),
    (("--probs", "0.3"), "need --loss zero_one"),
    (("--data", "diabetes", "--estimator", "sklearn.linear_model.Ridge()", "--noise", 0.3), "--noise would be"),
    (("--alpha", 0.5), "exact least squares"),
])
def test_bad_input(tmp_path, capsys, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", *args, "--out", "o")
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genlab: error:") and match in lines[0], err
    assert not (tmp_path / "o").exists() and "hi" not in out


def test_columns_are_written_as_pandas_writes_them():
    """The command line writes the table and JSON from plain columns (no pandas import): byte for byte
    what pandas writes for the same table, NaN, bools, strings and ints included."""
    from genlab.analysis.biasvar import decompose_polynomial
    from genlab.core.io import csv_text, to_json

    res = decompose_polynomial(degrees=[0, 2, 25], n_datasets=300, seed=1)
    cols = res.summary(as_frame=False)
    frame = res.summary()
    assert frame["error_se"].isna().any() and frame["bias2_resolved"].dtype == bool   # the awkward cases are here
    assert csv_text(cols) == csv_text(frame)
    assert to_json(res.to_dict()["models"]) == to_json(frame.to_dict(orient="records"))
