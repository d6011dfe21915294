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
    stem = "biasvar_polynomial_degrees=0-4_datasets=400"   # the command, the models, the options changed
    assert {p.name for p in (tmp_path / "o").iterdir()} == {f"{stem}.{ext}" for ext in ("png", "svg", "csv", "json")}
    assert json.loads((tmp_path / "o" / f"{stem}.json").read_text()) == record


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


# -- several estimators, one comparison (issue 16) --------------------------------------------------------

TWO = ["sklearn.tree.DecisionTreeRegressor(max_depth=3)", "sklearn.linear_model.LinearRegression()"]


def test_two_estimators_one_run_one_table_one_figure_one_record(tmp_path, capsys, monkeypatch):
    """--estimator twice: both models in one record, table and figure (bars, named), the same numbers as the
    library gives for the two together; before, the last one silently won."""
    from matplotlib.figure import Figure
    from sklearn.linear_model import LinearRegression
    from sklearn.tree import DecisionTreeRegressor

    from genlab.analysis.biasvar import decompose

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    args = ["biasvar", "--estimator", TWO[0], "--estimator", TWO[1], "--datasets", 60, "--jobs", 1, "--out", "o"]
    rc, out, err = run(capsys, *args)
    assert rc == 0, err
    rows = [line for line in out.splitlines() if line.count("│") > 5]
    assert [r.split("│")[1].strip() for r in rows] == ["DecisionTreeRegressor(max_depth=3)", "LinearRegression()"]
    stem = tmp_path / "o" / "biasvar_DecisionTreeRegressor-max_depth=3+LinearRegression_datasets=60"
    record = json.loads(stem.with_suffix(".json").read_text())
    assert record["knob"] == "model" and [m["label"] for m in record["models"]] == TWO
    csv_rows = stem.with_suffix(".csv").read_text().strip().splitlines()
    assert len(csv_rows) == 3 and TWO[1] in csv_rows[2]
    ref = decompose([DecisionTreeRegressor(max_depth=3), LinearRegression()], n_datasets=60, labels=TWO)
    assert [m["bias2"] for m in record["models"]] == pytest.approx(list(ref.bias2), rel=1e-12)
    assert [m["error"] for m in record["models"]] == pytest.approx(list(ref.error), rel=1e-12)
    assert record["models"][1]["bias2"] == pytest.approx(1 / 45, rel=0.15)    # the line's, as the article's
    ax = ref.plot(Figure().add_subplot())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["DecisionTreeRegressor(max_depth=3)", "LinearRegression()"]
    assert len(ax.patches) == 2 * 4                                         # bias², variance, noise, error each
    assert ax.get_legend() is not None


def test_two_estimators_on_bundled_data_and_the_unreliable_note(tmp_path, capsys, monkeypatch):
    """A dataset's decomposition of two models; few rounds say which option gives more."""
    monkeypatch.chdir(tmp_path)
    base = ["biasvar", "--data", "diabetes", "--estimator", "sklearn.linear_model.Ridge(alpha=0.1)", "--estimator",
            "sklearn.tree.DecisionTreeRegressor(max_depth=2)", "--jobs", 1, "--out", "o"]
    rc, out, err = run(capsys, *base)
    assert rc == 0, err
    notes = [line for line in out.splitlines() if line.startswith("note: unreliable")]
    assert len(notes) == 1 and "only 10 rounds" in notes[0] and "give a smaller --n-train" in notes[0]
    assert "332 training points hold only 10 disjoint sets of 33" in notes[0]
    stem = "biasvar_Ridge-alpha=0.1+DecisionTreeRegressor-max_depth=2_data=diabetes"
    record = json.loads((tmp_path / "o" / f"{stem}.json").read_text())
    assert len(record["models"]) == 2 and record["config"]["reliability"]["reliable"] is False
    rc, out, err = run(capsys, *base, "--method", "bootstrap", "--rounds", 8)
    assert rc == 0 and "note: unreliable: only 8 rounds" in out and "give more --rounds (now 8)" in out
    rc, out, err = run(capsys, *base, "--method", "bootstrap", "--rounds", 60)   # light tails, resolved terms
    record = json.loads((tmp_path / "o" / f"{stem}_method=bootstrap_rounds=60.json").read_text())
    assert rc == 0 and record["n_datasets"] == 60 and record["config"]["reliability"]["reliable"] is True
    assert "unreliable" not in out


def test_one_estimator_keeps_its_record(tmp_path, capsys, monkeypatch):
    """A single --estimator writes the record it wrote before: one model, labelled with its text."""
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", "--estimator", TWO[1], "--datasets", 40, "--jobs", 1, "--json")
    record = json.loads(out)
    assert rc == 0 and [m["label"] for m in record["models"]] == [TWO[1]] and record["models"][0]["model"] == 0
    assert "degenerate" not in record["models"][0]


def test_estimator_help_says_naming_a_module_imports_it(capsys):
    rc = main(["biasvar", "--help"])
    text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert rc == 0 and "Naming a module imports it, so its code runs" in text
    assert "repeat it to compare several in one run" in text
