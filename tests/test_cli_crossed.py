"""`genlab biasvar --model mlp`: the crossed data × seed width sweep end to end — its files, its table, that it
resumes and gives the same numbers for any worker count — and every bad input refused before anything is written."""

import json

import numpy as np
import pytest

from genlab.cli.app import main
from genlab.cli.crossed import parse_widths

TINY = ("--widths", "2,8", "--datasets", 3, "--seeds", 3, "--epochs", 5, "--n-train", 30, "--n-test", 40)


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_widths_ladder_and_lists():
    assert parse_widths("2-2048") == [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]
    assert parse_widths("3-20") == [3, 6, 12, 20]          # doubling from a, b itself included
    assert parse_widths("2-8,100,4") == [2, 4, 8, 100]


def test_mlp_width_sweep_on_digits_writes_its_files_and_resumes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "220")
    args = ("biasvar", "--model", "mlp", *TINY, "--label-noise", 0.2, "--jobs", 1, "--out", "o")
    rc, out, err = run(capsys, *args, "--json")
    assert rc == 0, err
    rec = json.loads(out)
    assert rec["model"] == "mlp" and rec["knob"] == "width" and (rec["R"], rec["S"]) == (3, 3)
    assert [p["width"] for p in rec["points"]] == [2, 8]
    assert rec["config"]["task"] == "classification" and rec["config"]["label_noise"] == 0.2
    assert rec["identity_gap"] < 1e-10 and rec["identity_residual"] < 1e-10
    assert rec["threshold"] == pytest.approx(3.87, abs=0.05)   # 65w + 10(w + 1) = 30 · 10
    for p in rec["points"]:
        assert p["v_data"] + p["v_init"] + p["v_interaction"] == pytest.approx(p["total"])
        assert p["v_init"] > 0 and p["ensemble_3"] <= p["ensemble_1"]
    stem = "biasvar_mlp_datasets=3_label-noise=0.2_n-test=40_n-train=30_widths=2,8_seeds=3_epochs=5"
    names = {p.name for p in (tmp_path / "o").iterdir()}
    assert {f"{stem}.{e}" for e in ("png", "svg", "csv", "json")} <= names and "runs.sqlite" in names
    # the same command again takes every job from the store, with two workers: the same numbers
    rc, out2, err = run(capsys, *args[:-4], "--jobs", 2, "--out", "o")
    assert rc == 0, err
    assert json.loads((tmp_path / "o" / f"{stem}.json").read_text()) == rec
    assert "V_data×init" in out2 and "interpolation threshold" in out2 and "ensemble of 3" in out2


def test_mlp_regressor_on_the_synthetic_source(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", "--model", "mlp", "--data", "source", "--noise", 0.2, *TINY, "--json",
                       "--jobs", 1, "--out", "o")
    assert rc == 0, err
    rec = json.loads(out)
    assert rec["mode"] == "source" and rec["config"]["task"] == "regression"
    assert all(p["noise"] == pytest.approx(0.04) for p in rec["points"])
    assert all(np.isfinite(p["bias2"]) for p in rec["points"])


def test_mlp_on_a_csv(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g = np.random.default_rng(0)
    x = g.uniform(-1, 1, size=(120, 2))
    y = x[:, 0] ** 2 - x[:, 1] + 0.1 * g.standard_normal(120)
    (tmp_path / "d.csv").write_text("a,b,t\n" + "\n".join(f"{u},{v},{w}" for (u, v), w in zip(x, y)) + "\n")
    rc, out, err = run(capsys, "biasvar", "--model", "mlp", "--csv", "d.csv", "--y-col", "t", *TINY, "--json",
                       "--jobs", 1, "--out", "o")
    assert rc == 0, err
    rec = json.loads(out)
    assert rec["config"]["task"] == "regression" and rec["config"]["n_inputs"] == 2 and rec["data"] == "d.csv"


@pytest.mark.parametrize("args, message", [
    (("--datasets", 1), "--datasets must be at least 2"),
    (("--seeds", 1), "--seeds must be at least 2"),
    (("--widths", "0-8"), "--widths"),
    (("--widths", "16-4"), "--widths"),
    (("--widths", "2,abc"), "--widths"),
    (("--widths", "2-20000"), "above the limit"),
    (("--model", "cnn"), "--model 'cnn' is unknown"),
    (("--degrees", "0-5"), "--degrees would be ignored"),
    (("--estimator", "sklearn.linear_model.Ridge()"), "--estimator would be ignored"),
    (("--rounds", 5), "--rounds would be ignored"),
    (("--noise", 0.3), "--noise would be ignored"),
    (("--data", "diabetes", "--label-noise", 0.2), "regression set"),
    (("--data", "source", "--label-noise", 0.2), "--label-noise flips class labels"),
    (("--data", "digits", "--csv", "d.csv"), "either --data or --csv"),
    (("--csv", "missing.csv"), "missing.csv"),
    (("--csv", "bad.csv", "--y-col", "t"), "bad.csv"),
    (("--n-train", 1000, "--n-test", 1000), "do not fit"),
    (("--label-noise", 1.5), "--label-noise"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("a,t\n1,2\nx,3\n")
    model = () if args[0] == "--model" else ("--model", "mlp")
    rc, out, err = run(capsys, "biasvar", *model, *args, "--out", "o")
    assert rc == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_model_options_refused_without_model(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", "--seeds", 4, "--out", "o")
    assert rc == 2 and "--seeds would be ignored" in err and not (tmp_path / "o").exists()
