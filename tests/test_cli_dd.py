"""`genlab double-descent` and `genlab regularize`: small runs end to end, and every bad input."""

import json

import pytest

from genlab.cli.app import main


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("args, check", [
    (("double-descent", "--kind", "samples", "--model", "linear", "--data", "isotropic", "--n", 20, "--seeds", 8),
     lambda r: 16 <= r["peak_n"] <= 24),
    (("double-descent", "--kind", "model", "--model", "relu", "--n", 60, "--seeds", 2),
     lambda r: 54 <= r["peak"]["at"] <= 66),
    (("double-descent", "--kind", "model", "--model", "poly", "--data", "hard", "--seeds", 3),
     lambda r: set(r["verdicts"]) >= {"legendre", "chebyshev", "monomial"}),
    (("double-descent", "--kind", "epochs", "--seeds", 3), lambda r: r["phases"]["peak_test"] > r["phases"]["first_min_test"]),
    (("double-descent", "--kind", "ablations", "--data", "diabetes", "--seeds", 10), lambda r: "verdicts" in r),
    (("regularize", "--method", "ridge-cv"), lambda r: r["best_alpha"] > 0),
    (("regularize", "--method", "implicit"), lambda r: r["final_gap_from_zero"] < 1e-6),
])
def test_commands_write_results(tmp_path, capsys, monkeypatch, args, check):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, *args, "--jobs", 1, "--json", "--out", "o")
    assert rc == 0, err
    record = json.loads(out)
    assert check(record), record
    names = {p.suffix for p in (tmp_path / "o").iterdir()}
    assert {".png", ".svg", ".csv", ".json"} <= names
    if args[0] == "double-descent" and "epochs" not in args and "ablations" not in args:
        assert (tmp_path / "o" / "runs.sqlite").exists()   # the sweep went through the store


def test_rerun_resumes_from_the_store(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ("double-descent", "--kind", "samples", "--model", "linear", "--data", "isotropic", "--n", 10,
            "--seeds", 4, "--jobs", 1, "--json", "--out", "o")
    first = run(capsys, *args)
    second = run(capsys, *args)
    assert first[0] == second[0] == 0 and first[1] == second[1]
    rc, out, err = run(capsys, "runs", "ls", "--store", "o/runs.sqlite", "--json")
    assert rc == 0 and len(json.loads(out)) == 4   # four jobs, not eight


@pytest.mark.parametrize("args, match", [
    (("double-descent", "--kind", "sideways"), "unknown kind"),
    (("double-descent", "--model", "transformer"), "unknown model"),
    (("double-descent", "--label-noise", "1.5"), "fractions in [0, 1]"),
    (("double-descent", "--label-noise", "a,b"), "separated by commas"),
    (("double-descent", "--ridge", "lots"), "--ridge must be"),
    (("double-descent", "--ridge", "-1"), "--ridge must be"),
    (("double-descent", "--model", "poly", "--data", "digits"), "synthetic source"),
    (("double-descent", "--data", "mnist"), "mnist"),
    (("double-descent", "--kind", "variance", "--model", "poly"), "random features"),
    (("double-descent", "--kind", "epochs", "--model", "mlp", "--seeds", 0), "seeds"),
    (("double-descent", "--jobs", 0), "jobs"),
    (("double-descent", "--n", 0), "--n must be >= 1"),  # not quietly the default
    (("double-descent", "--kind", "epochs", "--n", 50), "drop --n"),  # not quietly ignored
    (("double-descent", "--kind", "samples", "--model", "linear", "--n", 30), "drop --n"),
    (("double-descent", "--kind", "epochs", "--noise", 0.3), "--noise would be ignored"),
    (("double-descent", "--model", "mlp", "--ridge", "1"), "--ridge would be ignored"),
    (("double-descent", "--model", "poly", "--data", "article", "--label-noise", "0.2"), "--label-noise would be"),
    (("double-descent", "--model", "mlp", "--label-noise", "0,0.2"), "one rate here"),
    (("regularize", "--method", "magic"), "unknown method"),
    (("regularize", "--method", "ridge-cv", "--folds", 1), "folds"),
    (("regularize", "--method", "ridge-cv", "--degree", -3), "degree"),
    (("regularize", "--method", "implicit", "--folds", 3), "--folds would be ignored"),
    (("regularize", "--method", "ridge-cv", "--seeds", 3), "--seeds would be ignored"),
])
def test_bad_input(tmp_path, capsys, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, *args, "--out", "o")
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genlab: error:") and match in lines[0], err
    assert not (tmp_path / "o").exists()


# -- double descent on the user's data (--csv) ---------------------------------------------------------

def _write_csv(path, n=160, seed=0):
    """Three inputs and a regression target: target = a - 2b + sin(3a) + 0.3 noise (c is an unused column)."""
    import numpy as np

    g = np.random.default_rng(seed)
    X = g.uniform(-1, 1, (n, 3))
    y = X[:, 0] - 2 * X[:, 1] + np.sin(3 * X[:, 0]) + 0.3 * g.normal(size=n)
    path.write_text("a,b,c,target\n" + "".join(",".join(repr(v) for v in [*r, t]) + "\n"
                                                for r, t in zip(X.tolist(), y.tolist())))
    return path


def test_random_features_on_a_csv_peak_at_the_threshold(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_csv(tmp_path / "d.csv")
    rc, out, err = run(capsys, "double-descent", "--kind", "model", "--model", "relu", "--csv", "d.csv",
                       "--y-col", "target", "--x-col", "a", "--x-col", "b", "--n", 40, "--seeds", 3, "--jobs", 1,
                       "--json", "--out", "o")
    assert rc == 0, err
    r = json.loads(out)
    # minimum-norm least squares on random features: the test error peaks where p reaches the 40 training rows
    assert r["threshold"] == 40 and 32 <= r["peak"]["at"] <= 50, r["peak"]
    assert r["data"] == "d.csv" and r["config"]["data"]["x"] == ["a", "b"] and r["config"]["n_test"] == 120
    assert r["config"]["y_units"].startswith("standardized y")
    stem = "double_descent_model_relu_n=40_seeds=3_csv=d.csv_x-col=a,b_y-col=target"
    assert {p.name for p in (tmp_path / "o").iterdir()} == {f"{stem}.{e}" for e in ("png", "svg", "csv", "json")} \
        | {"runs.sqlite"}
    rc, out, err = run(capsys, "double-descent", "--model", "relu", "--csv", "d.csv", "--y-col", "target",
                       "--x-col", "a,b", "--n", 40, "--seeds", 3, "--jobs", 1, "--out", "o")
    assert rc == 0 and "standardized y" in out and "peak" in out   # resumed from the store, units named


def test_a_csv_gives_the_same_numbers_as_the_bundled_set(tmp_path):
    import numpy as np

    from genlab.analysis.double_descent import random_features_sweep
    from genlab.data.sources import load_dataset

    a = random_features_sweep("diabetes", n_train=30, n_test=100, ps=[10, 30, 60], seeds=2)
    b = random_features_sweep(load_dataset("diabetes"), n_train=30, n_test=100, ps=[10, 30, 60], seeds=2)
    np.testing.assert_array_equal(a.test_mse, b.test_mse)   # a bundled Dataset is named as before: same jobs
    assert a.config == b.config


def test_the_workers_check_the_csv_has_not_changed(tmp_path):
    from genlab import GenlabError
    from genlab.analysis.double_descent._common import data_key, dataset
    from genlab.data.sources import load_csv

    path = _write_csv(tmp_path / "d.csv", n=30)
    key = data_key(load_csv(path, x=None, y="target"))
    _write_csv(path, n=30, seed=1)
    with pytest.raises(GenlabError, match="changed since the sweep started"):
        dataset(key)


def test_mlp_width_sweep_on_a_csv(tmp_path):
    import numpy as np

    from genlab.analysis.double_descent import mlp_regression_width_sweep
    from genlab.data.sources import load_csv

    data = load_csv(_write_csv(tmp_path / "d.csv", n=80), x=None, y="target")
    c = mlp_regression_width_sweep(data, [2, 256], n_train=30, n_test=50, seeds=2, epochs=300, jobs=1)
    assert c.knob == "width" and c.test_mse.shape == (2, 2) and c.threshold == pytest.approx(29 / 5)
    # a wide network fits its 30 training rows far better than a 2-unit one, on every seed
    assert np.all(c.train_mse[:, 1] < 0.25 * c.train_mse[:, 0])
    assert np.all(np.isfinite(c.test_mse)) and c.config["y_units"].startswith("standardized y")


@pytest.mark.parametrize("args, match", [
    (("--csv", "d.csv"), "no column 'y'"),
    (("--csv", "nan.csv", "--y-col", "target"), "NaN"),
    (("--csv", "text.csv", "--y-col", "target"), "not a finite number"),
    (("--csv", "empty.csv", "--y-col", "target"), "no data rows"),
    (("--csv", "d.csv", "--y-col", "target", "--x-col", "target"), "cannot be an input"),
    (("--csv", "d.csv", "--y-col", "target", "--kind", "samples", "--model", "linear"), "--csv is for --kind model"),
    (("--csv", "d.csv", "--y-col", "target", "--model", "poly"), "--csv is for --kind model"),
    (("--csv", "d.csv", "--y-col", "target", "--data", "wine"), "--data would be ignored"),
    (("--csv", "d.csv", "--y-col", "target", "--label-noise", "0.2"), "regression target"),
    (("--csv", "d.csv", "--y-col", "target", "--n", 160), "leaves no test rows"),
    (("--x-col", "a"), "--x-col would be ignored"),
    (("--model", "mlp", "--data", "diabetes", "--label-noise", "0.2"), "regression target"),
])
def test_bad_csv_input(tmp_path, capsys, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    _write_csv(tmp_path / "d.csv")
    (tmp_path / "nan.csv").write_text("a,target\n1,2\n,3\n")
    (tmp_path / "text.csv").write_text("a,target\n1,2\nx,3\n")
    (tmp_path / "empty.csv").write_text("a,target\n")
    rc, out, err = run(capsys, "double-descent", *args, "--seeds", 2, "--out", "o")
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genlab: error:") and match in lines[0], err
    assert not (tmp_path / "o").exists()


def test_unknown_data_names_what_to_give(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, "double-descent", "--model", "relu", "--data", "mnist", "--out", "o")
    assert rc == 2 and "--csv FILE --y-col COLUMN" in err
    rc, _, err = run(capsys, "double-descent", "--kind", "variance", "--data", "mnist", "--out", "o")
    assert rc == 2 and "unknown dataset 'mnist'" in err and "CSV" not in err and "csv" not in err
