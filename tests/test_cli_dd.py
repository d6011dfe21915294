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
