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
    # classification: the 0-1 and cross-entropy decompositions of the same fits, per width, in every output
    assert "net variance (V_u − V_b)" in out2 and "CE variance" in out2
    assert "0-1 loss: the net variance peaks at width" in out2 and "cross-entropy: the variance" in out2
    assert rec["device"] == "cpu" and rec["identity_residual_zero_one"] < 1e-12
    assert rec["peak_zero_one"] in (2, 8) and rec["identity_residual_cross_entropy"] < 1e-12
    for p in rec["points"]:
        z, ce = p["zero_one"], p["cross_entropy"]
        assert z["error"] == pytest.approx(z["bias_incl_noise"] + z["v_unbiased"] - z["v_biased"], abs=1e-12)
        assert z["net_variance"] == pytest.approx(z["v_unbiased"] - z["v_biased"], abs=1e-15)
        assert ce["error"] == pytest.approx(ce["bias_incl_noise"] + ce["variance"], rel=1e-12)
        assert 0 < z["error"] < 1 and ce["variance"] > 0 and "error_se" in z
    header = (tmp_path / "o" / f"{stem}.csv").read_text().splitlines()[0].split(",")
    assert {"zero_one_error", "zero_one_net_variance_se", "cross_entropy_variance", "device"} <= set(header)
    from matplotlib.image import imread

    h, w = imread(tmp_path / "o" / f"{stem}.png").shape[:2]
    assert h / w == pytest.approx(8.8 / 12.8, rel=0.05)  # a second row: the 0-1 and cross-entropy panels


def test_mlp_regressor_on_the_synthetic_source(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", "--model", "mlp", "--data", "source", "--noise", 0.2, *TINY, "--json",
                       "--jobs", 1, "--out", "o")
    assert rc == 0, err
    rec = json.loads(out)
    assert rec["mode"] == "source" and rec["config"]["task"] == "regression"
    assert all(p["noise"] == pytest.approx(0.04) for p in rec["points"])
    assert all(np.isfinite(p["bias2"]) for p in rec["points"])
    assert all("zero_one" not in p and "cross_entropy" not in p for p in rec["points"])   # regression: squared only
    assert "peak_zero_one" not in rec


def test_noise_draws_make_the_three_way_design(tmp_path, capsys, monkeypatch):
    """--noise-draws 3: data × seed × label noise, the seven parts adding up to the variance in the table, the
    JSON and the CSV; --noise-draws 1 gives what no option gives."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "220")
    tiny = ("biasvar", "--model", "mlp", "--widths", "2,8", "--datasets", 3, "--seeds", 3, "--epochs", 3,
            "--n-train", 30, "--n-test", 30, "--label-noise", 0.2, "--jobs", 1)
    rc, out, err = run(capsys, *tiny, "--noise-draws", 3, "--out", "o")
    assert rc == 0, err
    for col in ("V_data", "V_init", "V_noise", "V_data×init", "V_data×noise", "V_init×noise", "V_data×init×noise"):
        assert col in out
    (path,) = (tmp_path / "o").glob("*.json")
    rec = json.loads(path.read_text())
    assert rec["K"] == 3 and rec["factors"] == ["x", "init", "eps"] and rec["identity_gap"] < 1e-10
    parts = ("v_x", "v_init", "v_eps", "v_x_init", "v_x_eps", "v_init_eps", "v_x_init_eps")
    for p in rec["points"]:
        assert sum(p[k] for k in parts) == pytest.approx(p["total"], rel=1e-12)
        assert p["v_data"] == pytest.approx(p["v_x"] + p["v_eps"] + p["v_x_eps"], rel=1e-12)
        assert all(np.isfinite(p[f"{k}_se"]) for k in parts) and "zero_one" in p
    header = path.with_suffix(".csv").read_text().splitlines()[0].split(",")
    assert set(parts) | {f"{k}_se" for k in parts} <= set(header)
    rc, one, err = run(capsys, *tiny, "--noise-draws", 1, "--json", "--out", "a")
    rc2, default, err2 = run(capsys, *tiny, "--json", "--out", "b")
    assert rc == rc2 == 0, err + err2
    assert json.loads(one) == json.loads(default) and json.loads(one)["K"] == 1


def test_device_cpu_and_auto_agree_and_cuda_is_refused_without_it(tmp_path, capsys, monkeypatch):
    """Without CUDA, auto is the CPU: the same numbers, and the device travels in the jobs' estimator spec."""
    import torch

    from genlab.runs.store import Store

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)   # so on any machine, as on this one
    rc, out, err = run(capsys, "biasvar", "--model", "mlp", *TINY, "--device", "cuda", "--out", "c")
    assert rc == 2 and "--device cuda: torch sees no CUDA device" in err and "--device cpu or auto" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "c").exists()
    recs = {}
    for device in ("cpu", "auto"):
        rc, out, err = run(capsys, "biasvar", "--model", "mlp", *TINY, "--device", device, "--json", "--jobs", 1,
                           "--out", device)
        assert rc == 0, err
        recs[device] = json.loads(out)
        assert recs[device]["device"] == "cpu"
        with Store(tmp_path / device / "runs.sqlite", readonly=True) as st:
            assert {j["config"]["estimator"]["params"]["device"] for j in st.jobs()} == {"cpu"}
    assert recs["cpu"]["points"] == recs["auto"]["points"]


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
    (("--noise-draws", 2), "give --label-noise > 0"),
    (("--noise-draws", 0, "--label-noise", 0.2), "--noise-draws must be an integer >= 1"),
    (("--noise-draws", 20_000, "--label-noise", 0.2), "--noise-draws 20,000 is above the limit"),
    (("--noise-draws", 2, "--data", "diabetes"), "give --label-noise > 0"),
    (("--noise-draws", 2, "--data", "source", "--noise", 0), "--noise is 0"),
    (("--device", "gpu"), "--device 'gpu' is unknown; choose auto, cpu, cuda"),
    (("--device", ""), "--device '' is unknown"),
    (("--device", "cuda:-1"), "--device 'cuda:-1' is unknown"),
    (("--device", "cuda:\u0663"), "is unknown"),                       # a digit, but not an ASCII one
    (("--device", "cuda:" + "9" * 5000), "--device 'cuda:999"),        # huge: refused, shown cut
    (("--device", "cpu; rm -rf ~"), "is unknown"),
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
    for flag, value in (("--noise-draws", 2), ("--device", "cpu")):
        rc, out, err = run(capsys, "biasvar", flag, value, "--out", "o")
        assert rc == 2 and f"{flag} would be ignored" in err and not (tmp_path / "o").exists()
