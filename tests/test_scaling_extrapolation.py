"""Scaling laws say when they extrapolate: `scaling fit --budget`, `plan` and `predict` compare the N, D and C
they use with the ranges of the runs the law was fitted on (or what genlab records of a published law's), one
warning line each on stderr; intervals on the console are labelled "95% bootstrap"; `predict` writes its
files under `--out`, all or none; bad input is one line, exit 2, nothing written."""

import json

import numpy as np
import pytest

import genlab.analysis.scaling as sc
from genlab.analysis.scaling.allocation import predict
from genlab.analysis.scaling.forms import PRESET_RANGES, extrapolation, number, times, used_inputs
from test_scaling import _cli  # genlab scaling with genlab.cli.app.main's error handling

CHIN = sc.preset("chinchilla")
NS = np.geomspace(1e7, 1.6e9, 5)
DS = np.geomspace(2e8, 4.7e9, 4)
WHO = "the runs the law was fitted on"


@pytest.fixture(scope="module")
def runs():
    return sc.synthetic_runs(CHIN, NS, DS, noise=0.005, seed=1)


@pytest.fixture(scope="module")
def fitted(runs):
    return sc.fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=8, seed=0, holdout=False)


@pytest.fixture()
def law_file(fitted, tmp_path):
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(fitted.to_dict()))
    return path


def _beyond(k, value, largest, what):
    return (f"{k} = {number(value)} is {times(value / largest)}x the largest {k} of {WHO} ({number(largest)}); "
            f"{what} is an extrapolation")


# -- the ranges of the runs, recorded --------------------------------------------------------------------

def test_factors_read_as_numbers():
    assert [times(v) for v in (2.0, 5.047, 43.94, 443.2, 5474.0, 2.2e10)] == ["2", "5.05", "43.9", "443", "5,470",
                                                                           "2.2e10"]


def test_a_fit_records_the_ranges_of_its_runs(fitted, runs):
    C = 6 * runs.N * runs.D
    expected = {"N": [NS.min(), NS.max()], "D": [DS.min(), DS.max()], "C": [C.min(), C.max()]}
    recorded = json.loads(json.dumps(fitted.to_dict()))["ranges"]
    assert set(recorded) == set(expected)
    for k, v in expected.items():
        np.testing.assert_allclose(recorded[k], v, rtol=1e-12)


# -- plan, predict and fit warn in N, D and C alike ---------------------------------------------------------

def test_a_plan_beyond_the_runs_warns_in_n_d_and_c(fitted, law_file):
    p = sc.plan(1e22, law=str(law_file))
    top = fitted.ranges
    assert p.D[0] / top["D"][1] > 10 and p.N[0] / top["N"][1] > 1          # D is far further out than N
    assert p.warnings == [_beyond("N", p.N[0], top["N"][1], "the plan"),
                          _beyond("D", p.D[0], top["D"][1], "the plan"),
                          _beyond("C", 1e22, top["C"][1], "the plan")]
    assert p.to_dict()["ranges"] == {k: list(v) for k, v in top.items()}


def test_a_plan_from_the_recorded_ranges_alone_still_warns(fitted, tmp_path):
    record = fitted.to_dict()
    record.pop("runs")
    path = tmp_path / "ranges_only.json"
    path.write_text(json.dumps(record))
    assert sc.plan(1e22, law=str(path)).warnings == sc.plan(1e22, law=fitted).warnings
    assert len(sc.plan(1e22, law=str(path)).warnings) == 3


def test_inside_the_runs_nothing_is_said(fitted):
    n, d = float(np.sqrt(NS[1] * NS[2])), float(np.sqrt(DS[1] * DS[2]))
    assert predict(fitted, N=n, D=d).warnings == []
    assert extrapolation(used_inputs(fitted.form, N=n, D=d), fitted.ranges) == []


def test_a_prediction_warns_below_the_smallest_run_too(fitted):
    p = predict(fitted, N=1e5, D=1e9)
    lo, c_lo = fitted.ranges["N"][0], fitted.ranges["C"][0]
    assert p.warnings == [f"N = 1e5 is {times(lo / 1e5)}x below the smallest N of {WHO} ({number(lo)}); "
                          "the prediction is an extrapolation",
                          f"C = 6e14 is {times(c_lo / 6e14)}x below the smallest C of {WHO} ({number(c_lo)}); "
                          "the prediction is an extrapolation"]
    assert p.inputs["C"] == pytest.approx(6e14)


def test_a_prediction_checks_the_c_it_implies(fitted):
    # runs off a grid (large N with few tokens, small N with many): N and D each inside, 6ND beyond them all
    ranges = {"N": (1e7, 1e9), "D": (1e9, 1e10), "C": (6e16, 6e18)}
    used = used_inputs(fitted.form, N=1e9, D=1e10)
    assert used["C"] == pytest.approx(6e19)
    assert extrapolation(used, ranges) == [f"C = 6e19 is 10x the largest C of {WHO} (6e18); the prediction is an "
                                           "extrapolation"]
    n, d = NS[-1] * 0.99, DS[-1] * 0.99
    assert predict(fitted, N=n, D=d).warnings == []
    p = predict(fitted, N=n, C=6 * n * d * 1.5)                    # D = C/(6N) is beyond the runs
    assert [w.split(" ")[0] for w in p.warnings] == ["D", "C"]
    assert p.inputs["D"] == pytest.approx(d * 1.5)


def test_fit_warns_when_its_budget_or_prediction_extrapolates(runs):
    f = sc.fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=0, holdout=False, budget=1e22,
               predict_at={"N": 1e10, "C": 6e21})
    top = f.ranges
    what = "the compute optimum at the budget (C = 1e22)"
    for line in (_beyond("N", f.derived["N_opt"], top["N"][1], what), _beyond("D", f.derived["D_opt"], top["D"][1], what),
                 _beyond("C", 1e22, top["C"][1], what), _beyond("N", 1e10, top["N"][1], "the prediction"),
                 _beyond("D", 1e11, top["D"][1], "the prediction"), _beyond("C", 6e21, top["C"][1], "the prediction")):
        assert line in f.warnings, (line, f.warnings)
    inside = sc.fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=0, holdout=False)  # at the largest 6ND
    n_opt, d_opt = inside.derived["N_opt"], inside.derived["D_opt"]
    expected = [_beyond(k, v, top[k][1], f"the compute optimum at the budget (C = {number(top['C'][1])})")
                for k, v in (("N", n_opt), ("D", d_opt)) if v > top[k][1]]
    assert expected and [w for w in inside.warnings if "compute optimum" in w] == expected


# -- published laws: the ranges their papers fitted, or "unknown" ------------------------------------------

def test_a_published_law_says_what_its_paper_fitted():
    p = sc.plan(1e25, "chinchilla")
    who = "the runs Hoffmann et al. 2022 fitted chinchilla on"
    assert f"N = {number(p.N[0])} is {times(p.N[0] / 1.6e10)}x the largest N of {who} (1.6e10); the plan is an " \
           "extrapolation" in p.warnings
    assert any(w.startswith("D = ") and "(5e11)" in w for w in p.warnings)
    assert f"the range of C of {who} is not recorded in genlab, so whether C = 1e25 is an extrapolation is " \
           "unknown" in p.warnings
    assert PRESET_RANGES["chinchilla"][1]["N"] == (7e7, 1.6e10)
    assert predict("kaplan_N", N=1e11).warnings == [
        "N = 1e11 is 66.7x the largest N of the runs Kaplan et al. 2020 fitted kaplan_N on (1.5e9); "
        "the prediction is an extrapolation"]
    assert predict("kaplan_N", N=8.5e7).warnings == []
    assert predict("kaplan_C", C=1.0).warnings == [
        "the range of C of the runs Kaplan et al. 2020 fitted kaplan_C on is not recorded in genlab, so whether "
        "C = 1 is an extrapolation is unknown"]


def test_a_law_given_by_its_parameters_says_it_cannot_check():
    law = sc.ScalingLaw("chinchilla", {**CHIN.params, "E": 1.8})       # not a published law, no runs
    assert predict(sc.ScalingLaw("chinchilla", dict(CHIN.params)), N=1e9, D=2e10).warnings == \
        predict("chinchilla", N=1e9, D=2e10).warnings                   # the published numbers: the preset
    assert predict(law, N=1e9, D=2e10).warnings == [
        "the runs this law was fitted on are unknown (a law given by its parameters), so whether N = 1e9, "
        "D = 2e10, C = 1.2e20 are extrapolations cannot be checked"]


# -- the console: warnings on stderr, intervals labelled -------------------------------------------------------

def test_cli_plan_warns_on_stderr_and_labels_its_intervals(law_file, tmp_path, capsys):
    rc, out, err = _cli(["plan", "--flops", "1e22", "--law", str(law_file), "--out", str(tmp_path)], capsys)
    assert rc == 0
    p = sc.plan(1e22, law=str(law_file))
    assert err.splitlines() == [f"warning: {w}" for w in p.warnings] and "warning" not in out
    row = out.splitlines()[0]
    lo, hi = p.intervals["N"]
    assert f"N = {p.N[0]:.3g} [{lo[0]:.3g}, {hi[0]:.3g}]" in row and row.endswith("(95% bootstrap intervals, 8 replicates)")


def test_cli_fit_with_a_budget_warns_and_labels_its_intervals(runs, tmp_path, capsys):
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    rc, out, err = _cli(["fit", str(csv), "--bootstrap", "4", "--budget", "1e22", "--out", str(tmp_path)], capsys)
    assert rc == 0
    assert out.splitlines()[1].startswith("95% bootstrap intervals in brackets (4 replicates): E = ")
    extrapolating = [line for line in err.splitlines() if "the compute optimum at the budget (C = 1e22)" in line]
    assert [line.split(" ")[1] for line in extrapolating] == ["N", "D", "C"]
    assert all(line.startswith("warning: ") for line in err.splitlines()) and "warning" not in out
    [saved] = tmp_path.glob("scaling_fit_chinchilla_runs.csv*budget=1e+22.json")
    rec = json.loads(saved.read_text())
    assert rec["ranges"]["D"] == pytest.approx([DS.min(), DS.max()])
    rc, out, _ = _cli(["fit", str(csv), "--bootstrap", "0", "--out", str(tmp_path)], capsys)
    assert rc == 0 and "bootstrap interval" not in out         # no interval, no label


def test_cli_predict_writes_its_files_under_out(law_file, tmp_path, capsys):
    out_dir = tmp_path / "out"
    rc, out, err = _cli(["predict", "--n", "1e10", "--d", "1e11", "--law", str(law_file), "--out", str(out_dir)], capsys)
    assert rc == 0
    p = predict(str(law_file), N=1e10, D=1e11)
    assert f"= {p.loss:.4g} [{p.interval[0]:.4g}, {p.interval[1]:.4g}] (95% bootstrap interval, 8 replicates)" in out
    assert err.splitlines() == [f"warning: {w}" for w in p.warnings] and len(p.warnings) == 3
    names = sorted(f.name for f in out_dir.iterdir())
    stem = f"scaling_predict_{law_file.name}_n=1e+10_d=1e+11"  # the law's file and the point name the set
    assert names == [f"{stem}.{ext}" for ext in ("csv", "json", "png", "svg")]
    rec = json.loads((out_dir / f"{stem}.json").read_text())
    assert rec["command"] == "scaling predict" and rec["loss"] == p.loss and rec["interval"] == list(p.interval)
    assert rec["warnings"] == p.warnings and rec["inputs"]["C"] == pytest.approx(6e21)
    header, row = (out_dir / f"{stem}.csv").read_text().splitlines()
    assert header == "N,D,C,loss,loss_lo,loss_hi" and float(row.split(",")[3]) == pytest.approx(p.loss)
    rc, out, err = _cli(["predict", "--n", "8.5e7", "--law", "kaplan_N", "--json", "--out", str(out_dir)], capsys)
    assert rc == 0 and json.loads(out)["loss"] == pytest.approx(2.865, abs=1e-3) and "interval" not in out


def test_cli_predict_writes_nothing_when_writing_fails(tmp_path, capsys, monkeypatch):
    from genlab.core import io

    def fail(self, name, obj):
        raise io.OutputError(f"cannot write {name}: no space left on device")

    monkeypatch.setattr(io.OutputSet, "add_json", fail)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc, _, err = _cli(["predict", "--n", "1e9", "--d", "2e10", "--out", str(out_dir)], capsys)
    assert rc == 2 and err.count("\n") == 1
    assert list(out_dir.iterdir()) == []                   # not the figure or the CSV without the JSON


@pytest.mark.parametrize("argv,match", [
    (["predict", "--n", "-5"], "--n must be a number > 0"),
    (["predict", "--n", "1e9"], "two of N, D and C"),
    (["predict", "--n", "1e9", "--d", "2e10", "--c", "1e20"], "two of N, D and C"),
    (["predict", "--n", "1e9", "--d", "2e10", "--law", "kaplan_N"], "D would be ignored"),
    (["predict", "--n", "1e9", "--law", "{tmp}/missing.json"], "does not exist"),
    (["predict", "--n", "1e9", "--d", "2e10", "--out", "{tmp}/taken"], "is a file"),
    (["fit", "{csv}", "--budget", "-1"], "--budget must be a number of FLOPs > 0"),
    (["fit", "{csv}", "--budget", "1e21", "--form", "power"], "--budget would be ignored"),
    (["plan", "--flops", "1e10", "--law", "{law}"], "below the smallest run"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(runs, law_file, tmp_path, capsys, argv, match):
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    (tmp_path / "taken").write_text("mine")
    out_dir = tmp_path / "out"
    argv = [a.format(csv=csv, tmp=tmp_path, law=law_file) for a in argv]
    rc, out, err = _cli(argv + ([] if "--out" in argv else ["--out", str(out_dir)]), capsys)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and match in err, err
    assert not out_dir.exists() and (tmp_path / "taken").read_text() == "mine"


def test_a_prediction_follows_the_results_protocol(fitted):
    import pandas as pd
    from matplotlib.axes import Axes

    from genlab.core.results import Result

    for p in (predict(fitted, N=1e10, D=1e11), predict("kaplan_D", D=1e9), predict("kaplan_C", C=1.0)):
        assert isinstance(p, Result)
        assert isinstance(p.summary(), pd.DataFrame) and len(p.to_frame()) == 1
        assert json.loads(json.dumps(p.to_dict()))["loss"] == p.loss
        assert isinstance(p.plot(), Axes) and "<svg" in p._repr_html_()
