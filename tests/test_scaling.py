"""genlab.analysis.scaling (forms, fits, allocation): forms, presets, fits with bootstrap intervals,
compute-optimal plans, the CLI."""

import json

import numpy as np
import pytest
import typer

from genlab.core.errors import GenlabError
import genlab.analysis.scaling as sc
from genlab.cli.scaling import scaling_app

CHIN = sc.preset("chinchilla")
NS = np.geomspace(1e7, 2e9, 8)
DS = np.geomspace(1e9, 2e11, 6)


@pytest.fixture(scope="module")
def noisy_fit():
    runs = sc.synthetic_runs(CHIN, NS, DS, noise=0.005, seed=3)
    return sc.fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=60, seed=0,
                  predict_at={"N": 1e10, "D": 2e11})


# -- presets and forms ---------------------------------------------------------------------

def test_kaplan_preset_at_85M():
    assert sc.preset("kaplan_N").predict(N=8.5e7) == pytest.approx(2.87, abs=0.01)
    assert sc.preset("kaplan_N").predict(N=8.5e7) == pytest.approx((8.8e13 / 8.5e7) ** 0.076, rel=1e-12)


def test_forms_predict_their_formulas():
    p = CHIN.params
    N, D = 1e9, 2e10
    assert CHIN.predict(N=N, D=D) == pytest.approx(p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"])
    k = sc.preset("kaplan").params
    want = ((k["N_c"] / N) ** (k["alpha_N"] / k["alpha_D"]) + k["D_c"] / D) ** k["alpha_D"]
    assert sc.preset("kaplan").predict(N=N, D=D) == pytest.approx(want, rel=1e-12)
    sat = sc.ScalingLaw("saturating", {"E": 1.5, "A": 20.0, "alpha": 0.3})
    assert sat.predict(N=1e6) == pytest.approx(1.5 + 20 * 1e6 ** -0.3)
    # C stands for the missing variable under C = 6ND
    assert CHIN.predict(N=N, C=6 * N * D) == pytest.approx(CHIN.predict(N=N, D=D))
    assert sc.get_form("power") is sc.FORMS["power_N"]
    assert set(sc.FORMS["chinchilla"].bounds) == set(sc.FORMS["chinchilla"].theta_names)


def test_jacobians_match_finite_differences():
    g = np.random.default_rng(0)
    logs = {"N": np.log(g.uniform(1e6, 1e9, 7)), "D": np.log(g.uniform(1e8, 1e11, 7)),
            "C": np.log(g.uniform(1e15, 1e20, 7))}
    thetas = {"chinchilla": [0.5, 6.0, 0.34, 6.0, 0.28], "saturating": [0.5, 6.0, 0.34],
              "kaplan": [31.0, 31.0, 0.076, 0.095], "power_C": [3.0, 0.05]}
    for name, th in thetas.items():
        f = sc.FORMS[name]
        _, J = f.log_predict(np.array(th), logs, jac=True)
        for j in range(len(th)):
            h = 1e-6 * max(1.0, abs(th[j]))
            up, dn = np.array(th, float), np.array(th, float)
            up[j] += h
            dn[j] -= h
            fd = (f.log_predict(up, logs) - f.log_predict(dn, logs)) / (2 * h)
            np.testing.assert_allclose(J[:, j], fd, rtol=1e-5, atol=1e-7)


# -- fitting -------------------------------------------------------------------------------------

def test_recovery_from_noisy_runs(noisy_fit):
    r = noisy_fit
    iv = r.intervals
    for k, true in CHIN.params.items():
        assert iv[k][0] <= true <= iv[k][1], (k, true, iv[k])
    assert r.params["alpha"] == pytest.approx(CHIN.params["alpha"], rel=0.10)
    assert r.params["beta"] == pytest.approx(CHIN.params["beta"], rel=0.10)
    a_true = CHIN.params["beta"] / (CHIN.params["alpha"] + CHIN.params["beta"])
    assert iv["a"][0] <= a_true <= iv["a"][1]
    for k in ("a", "tokens_per_param", "N_opt", "loss_opt", "loss_at"):
        assert k in r.derived and r.se[k] > 0
    assert "N = 1e10 is 5x the largest N of the runs the law was fitted on (2e9); the prediction is an " \
        "extrapolation" in r.warnings
    frame = r.summary()
    assert {"quantity", "value", "lo", "hi", "se"} <= set(frame.columns)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["form"] == "chinchilla" and len(d["bootstrap_params"]) == 60


def test_exact_data_recovered_and_holdout_small():
    runs = sc.synthetic_runs(CHIN, NS[:6], DS[:5], noise=0.0, seed=0)
    r = sc.fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=0)
    for k, v in CHIN.params.items():
        assert r.params[k] == pytest.approx(v, rel=1e-5)
    assert r.holdout["held_out"] == pytest.approx(NS[5])
    assert r.holdout["mean_abs_rel_error"] < 1e-4


@pytest.mark.parametrize("name,Ns,Ds", [("kaplan_N", NS, None), ("kaplan", NS, DS)])
def test_other_forms_recover(name, Ns, Ds):
    law = sc.preset(name)
    runs = sc.synthetic_runs(law, Ns, Ds, noise=0.0, seed=0)
    r = sc.fit(runs.N, runs.get("D") if Ds is not None else None, runs.loss, law.form.name, bootstrap=0)
    assert r.predict(N=1e10, **({"D": 1e12} if Ds is not None else {})) == pytest.approx(
        law.predict(N=1e10, **({"D": 1e12} if Ds is not None else {})), rel=1e-3)


def test_saturating_recovery():
    law = sc.ScalingLaw("saturating", {"E": 1.2, "A": 30.0, "alpha": 0.4})
    runs = sc.synthetic_runs(law, np.geomspace(1e3, 1e7, 12), noise=0.0, seed=0)
    r = sc.fit(N=runs.N, loss=runs.loss, form="saturating", bootstrap=0)
    for k, v in law.params.items():
        assert r.params[k] == pytest.approx(v, rel=1e-4)


def test_fit_is_deterministic_given_seed():
    runs = sc.synthetic_runs(CHIN, NS[:5], DS[:5], noise=0.01, seed=1, repeats=2)
    r1 = sc.fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=10, seed=7, seeds=runs.seed, holdout=False)
    r2 = sc.fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=10, seed=7, seeds=runs.seed, holdout=False)
    np.testing.assert_array_equal(r1.boot_params, r2.boot_params)
    assert r1.intervals == r2.intervals
    r3 = sc.fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=10, seed=8, seeds=runs.seed, holdout=False)
    assert not np.array_equal(r1.boot_params, r3.boot_params)
    assert not any("seed" in w for w in r1.warnings)  # two seeds per configuration


def test_warnings_few_configs_one_seed_and_bound():
    runs = sc.synthetic_runs(CHIN, NS[:3], DS[:3], noise=0.0, seed=0)
    r = sc.fit(runs.N, runs.D, runs.loss, "chinchilla", bootstrap=0, seeds=runs.seed)
    assert any("too few configurations" in w for w in r.warnings)
    assert any("one seed per configuration" in w for w in r.warnings)
    # a pure power law has no floor: the saturating form's log E runs to its lower bound
    N = np.geomspace(1e6, 1e9, 10)
    r = sc.fit(N=N, loss=10 * N ** -0.1, form="saturating", bootstrap=0, holdout=False)
    assert any("parameter e = -10 is at its bound" in w for w in r.warnings)


def test_a_fit_whose_parameters_overflow_says_why_it_cannot_be_trusted():
    # two runs where the larger model is no better (`scaling train --sizes 6.4e4,1.6e4 --tokens 1e5`):
    # alpha runs to its bound and N_c = exp(c/alpha) overflowed (an OverflowError, "a number is too large");
    # below a loss of 1 it underflowed to 0 instead (a ValueError from log 0)
    for loss in ([4.0, 4.1], [4.0, 4.0], [0.5, 0.51]):
        with pytest.raises(GenlabError, match=r"alpha = 0.0001 is at its bound .*does not fall with N.*"
                                              r"2 runs are too few .* give at least 6") as exc:
            sc.fit([1.6e4, 6.4e4], None, loss, "power_N", bootstrap=0)
        assert "\n" not in str(exc.value)
    # a replicate that reaches the bound is refused too, named
    with pytest.raises(GenlabError, match=r"power_N fit \(bootstrap replicate \d+ of 50\) cannot be trusted"):
        sc.fit([1e4, 3e4, 1e5], None, [4.1, 4.0, 4.05], "power_N", bootstrap=50)


def test_sweep_laws_record_what_cannot_be_fitted():
    from genlab.cli.scaling import summary_lines, train_record

    frame = __import__("pandas").DataFrame({"N": [1.6e4, 6.4e4], "D": [1e5, 1e5], "C": [9.6e9, 3.84e10],
                                            "loss": [4.0, 4.1], "repeat": [0, 0]})
    fits, failed = sc.ScalingSweep(frame, [], {}, {}).fit_laws(bootstrap=0)
    assert fits == {} and set(failed) == {"power_N", "chinchilla"}
    assert "only 2 runs" in failed["chinchilla"] and "at its bound" in failed["power_N"]
    record = train_record(sc.ScalingSweep(frame, [], {}, {}), bootstrap=0)
    assert record.pop("_fits") == {"power_N": None, "chinchilla": None, "chinchilla_total": None}
    assert record["L_of_N"] == {"error": failed["power_N"]}
    assert "do not record N_total" in record["chinchilla_total"]["error"]   # runs without total counts
    lines = summary_lines(record)
    assert lines[0].startswith("L(N) fit skipped: the power_N fit cannot be trusted")
    assert any(line.startswith("Chinchilla fit (total N) skipped") for line in lines)


# -- which N: non-embedding or total parameters ----------------------------------------------------

VOCAB, BLOCK = 50257, 1024   # GPT-2's: the embeddings are most of a small model


def _ladder_runs(law):
    """Runs of transformers (n_embd 64 to 2048) whose loss follows ``law`` in *total* parameters:
    the embeddings, (vocab + block)·n_embd, are 98% of the smallest and 6% of the largest."""
    import pandas as pd

    rows = []
    for d in (64, 128, 256, 512, 1024, 2048):
        n = max(1, d // 64) * (12 * d * d + 13 * d) + 2 * d          # non_embedding_params(n_layer, d)
        for D in DS:
            rows.append({"N": n, "N_total": n + (VOCAB + BLOCK) * d, "D": D, "repeat": 0})
    frame = pd.DataFrame(rows)
    frame["C"] = 6 * frame["N"] * frame["D"]
    frame["loss"] = law.predict(N=frame["N_total"].to_numpy(), D=frame["D"].to_numpy())
    return sc.ScalingSweep(frame, [], {}, {})


def test_a_law_in_total_parameters_is_recovered_in_total_parameters_only():
    sweep = _ladder_runs(CHIN)
    total = sweep.fit("chinchilla", bootstrap=0, n_kind="total")
    assert total.n_kind == "total" and total.to_dict()["n_kind"] == "total"
    for k, v in CHIN.params.items():
        assert total.params[k] == pytest.approx(v, rel=1e-4), k
    a_true = CHIN.params["beta"] / (CHIN.params["alpha"] + CHIN.params["beta"])
    assert total.derived["a"] == pytest.approx(a_true, rel=1e-4)
    # the same runs counted without their embeddings give another law, and a steeper frontier
    # (Pearce & Song 2024: much of Kaplan's a = 0.73 against Chinchilla's 0.5)
    ne = sweep.fit("chinchilla", bootstrap=0, n_kind="non-embedding")
    assert ne.n_kind == "non_embedding"
    assert abs(ne.params["alpha"] - CHIN.params["alpha"]) > 0.1
    assert ne.derived["a"] > a_true + 0.2
    with pytest.raises(GenlabError, match="unknown kind of parameter count 'embedding'"):
        sweep.fit("chinchilla", bootstrap=0, n_kind="embedding")


def test_the_frontier_figure_labels_which_n_each_curve_counts():
    from matplotlib.figure import Figure

    sweep = _ladder_runs(CHIN)
    fits = [sweep.fit("chinchilla", bootstrap=0, n_kind=k, holdout=False) for k in sc.N_KINDS]
    ax = sweep.plot_frontier(Figure().add_subplot(), *fits)
    labels = [line.get_label() for line in ax.lines]
    assert any(lb.startswith("ours, N = non-embedding parameters (a = 0.") for lb in labels)
    assert any(lb.startswith("ours, N = total parameters (a = 0.46") for lb in labels)
    assert any("Chinchilla" in lb and "N = total parameters" in lb for lb in labels)
    assert any("Kaplan" in lb and "N = non-embedding parameters" in lb for lb in labels)


def test_total_parameters_of_the_ladder_are_the_non_embedding_ones_plus_the_embeddings():
    from genlab.models.transformer import GPT, GPTConfig, non_embedding_params

    c = GPTConfig(vocab_size=103, block_size=64, n_layer=2, n_head=3, n_embd=24)
    model = GPT(c, seed=0)
    assert model.n_params(non_embedding=True) == non_embedding_params(2, 24)
    assert model.n_params(non_embedding=False) == non_embedding_params(2, 24) + (103 + 64) * 24   # head tied


# -- identification -------------------------------------------------------------------------------

NO_FLOOR = sc.ScalingLaw("chinchilla", {"E": 1e-6, "A": 50.0, "alpha": 0.3, "B": 80.0, "beta": 0.25})


@pytest.fixture(scope="module")
def no_floor_runs():
    """Runs far from any floor (E = 1e-6 beneath losses of 2 to 20), like the CPU runs of the report."""
    return sc.synthetic_runs(NO_FLOOR, np.geomspace(1e3, 1e6, 5), np.geomspace(1e4, 1e7, 4), noise=0.01, seed=0)


@pytest.fixture(scope="module")
def no_floor_fit(no_floor_runs):
    r = no_floor_runs
    return sc.fit(r.N, r.D, r.loss, bootstrap=20, seed=0, holdout=False)


def test_a_parameter_at_its_bound_is_not_identified(no_floor_fit):
    r = no_floor_fit
    e = r.identification["E"]
    assert e["identified"] is False and e["rule"] == "at_bound" and e["bound"] == "lower"
    assert "no floor" in e["reason"] and "larger N and D" in e["suggestion"]
    assert r.not_identified == ["E"]                  # the exponents and a are identified here
    assert "E = not identified" in r.describe() and any(d.startswith("alpha = 0.3") for d in r.describe())
    row = r.summary().set_index("quantity")
    assert not row.loc["E", "identified"] and "not identified by these runs" in row.loc["E", "note"]
    assert row.loc["a", "identified"] and row.loc["loss_opt", "identified"] is None
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["identification"]["E"]["identified"] is False and d["identification"]["alpha"]["identified"] is True


def test_a_well_measured_fit_identifies_everything(noisy_fit):
    assert noisy_fit.not_identified == []
    assert all(e["identified"] and e["reason"] is None for e in noisy_fit.identification.values())


def test_identification_rules_on_the_bootstrap():
    from genlab.analysis.scaling.identify import identification

    f = sc.FORMS["chinchilla"]
    params = dict(CHIN.params)
    theta = f.to_theta(params)
    runs = {"N": NS, "D": DS, "loss": np.array([2.0, 3.0])}
    g = np.random.default_rng(0)
    boot = np.tile([params[k] for k in f.names], (40, 1)) * np.exp(0.01 * g.standard_normal((40, 5)))
    boot[:2, 0] = np.exp(-10.0)                               # 2 of 40 (5%) replicates put E on its bound
    ivs = {k: (float(np.percentile(boot[:, i], 2.5)), float(np.percentile(boot[:, i], 97.5)))
           for i, k in enumerate(f.names)}
    ivs["beta"] = (0.05, 0.6)                                  # beta's interval spans a factor of 12
    derived = {"a": 0.45, "b": 0.55, "G": 1.0, "N_opt": 1e9, "D_opt": 1e10, "tokens_per_param": 10.0,
               "loss_opt": 2.0}
    ident = identification(f, theta, boot, ivs, params, derived, runs)
    assert ident["E"]["rule"] == "bootstrap_at_bound" and ident["E"]["share"] == pytest.approx(0.05)
    assert ident["beta"]["rule"] == "span" and ident["beta"]["span"] == pytest.approx(12.0)
    assert "vary D over more than the factor of 200" in ident["beta"]["suggestion"]
    assert ident["alpha"]["identified"] and ident["A"]["identified"] and ident["B"]["identified"]
    assert ident["a"]["identified"] is False and ident["a"]["depends_on"] == ["beta"]
    assert ident["N_opt"]["depends_on"] == ["beta"] and "loss_opt" not in ident   # losses are not judged
    # at the thresholds: 1 of 40 replicates (2.5%) at the bound leaves the 95% interval off it; a span of 9.9
    boot[1, 0] = params["E"]
    ivs["E"] = (float(np.percentile(boot[:, 0], 2.5)), float(np.percentile(boot[:, 0], 97.5)))
    ivs["beta"] = (0.05, 0.495)
    ident = identification(f, theta, boot, ivs, params, derived, runs)
    assert all(e["identified"] for e in ident.values())


def test_the_report_says_not_identified_instead_of_a_number(no_floor_fit):
    from genlab.article.report.i18n import load_text
    from genlab.article.sections.scaling import _chinchilla_numbers, _fit_text, _identification_text

    r = no_floor_fit
    for lang in ("en", "ja"):
        t = load_text(lang)["scaling"]
        w = t["ident"]
        text = _fit_text(r, w) + _identification_text([r], w)
        assert w["not_identified"].format(name="E") in text and w["intro"] in text
        assert f"{r.params['alpha']:.3g}" in text and f"{r.params['E']:.3g}" not in text
        keys = {n.key for n in _chinchilla_numbers([r], t)}
        assert keys == {"chinchilla_alpha", "chinchilla_beta", "chinchilla_a"}


# -- the results protocol ---------------------------------------------------------------------------

def test_fit_law_and_plan_follow_the_results_protocol(noisy_fit):
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from genlab.core.results import Result

    plan = sc.plan([1e21, 1e23], law=noisy_fit)
    sat = sc.ScalingLaw("saturating", {"E": 1.5, "A": 20.0, "alpha": 0.3})
    for obj in (noisy_fit, CHIN, sat, sc.preset("kaplan_C"), plan):
        assert isinstance(obj, Result)
        frame = obj.summary()
        assert isinstance(frame, pd.DataFrame) and len(frame) and obj.to_frame().equals(frame)
        json.dumps(obj.to_dict(), allow_nan=False)
        ax = Figure().add_subplot()
        assert obj.plot(ax) is ax and isinstance(ax, Axes) and ax.lines
        assert "<svg" in obj._repr_html_()
    assert noisy_fit.to_dict()["params"] == noisy_fit.params          # same content, plain values
    assert CHIN.summary().set_index("parameter")["value"].to_dict() == CHIN.params
    assert len(CHIN.plot(Figure().add_subplot(), D=[1e10, 1e11]).lines) == 2


# -- compute-optimal allocation -------------------------------------------------------------------

def test_closed_form_optimum_matches_numerical_minimum():
    from scipy.optimize import minimize_scalar

    for C in (1e19, 5.76e23, 1e26):
        n, d = sc.chinchilla_optimum(CHIN, C)
        assert 6 * n * d == pytest.approx(C, rel=1e-12)
        lc = np.log(C / 6)
        res = minimize_scalar(lambda x: CHIN.predict(N=np.exp(x), D=np.exp(lc - x)),
                              bounds=(0, lc), method="bounded", options={"xatol": 1e-12})
        assert np.exp(res.x) == pytest.approx(n, rel=1e-4)
        assert CHIN.predict(N=n, D=d) <= CHIN.predict(N=n * 1.01, D=d / 1.01)
        assert CHIN.predict(N=n, D=d) <= CHIN.predict(N=n / 1.01, D=d * 1.01)
    p = sc.plan([1e21, 1e23], "chinchilla")
    assert p.N[1] > p.N[0] and np.all(p.tokens_per_param > 1)
    k = sc.plan(1e21, "kaplan")
    assert 6 * k.N[0] * k.D[0] == pytest.approx(1e21)


def test_plan_from_fit_json(noisy_fit, tmp_path):
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(noisy_fit.to_dict()))
    p = sc.plan(1e21, law=str(path))
    lo, hi = p.intervals["N"]
    assert lo[0] <= p.N[0] <= hi[0]
    with pytest.raises(GenlabError, match="below the smallest run"):
        sc.plan(1e10, law=str(path))


# -- bad input ---------------------------------------------------------------------------------------

def _csv(tmp_path, text):
    p = tmp_path / "runs.csv"
    p.write_text(text)
    return p


GOOD = "N,D,loss\n" + "\n".join(f"{n},{d},{CHIN.predict(N=n, D=d)}" for n in NS[:4] for d in DS[:3]) + "\n"


@pytest.mark.parametrize("text,form,kw,match", [
    (GOOD, "nonsense", {}, "unknown scaling-law form"),
    (GOOD.replace("loss", "L", 1), "chinchilla", {}, "no column 'loss'"),
    (GOOD, "chinchilla", {"n_col": "params"}, "no column 'params'"),
    ("N,D,loss\n1e6,1e9,nan\n" + GOOD.split("\n", 1)[1], "chinchilla", {}, "row 1: a missing value"),
    ("N,D,loss\n1e6,abc,3\n" + GOOD.split("\n", 1)[1], "chinchilla", {}, "column 'D', data row 1"),
    ("N,D,loss\n-1e6,1e9,3\n" + GOOD.split("\n", 1)[1], "chinchilla", {}, "is not > 0"),
    ("N,D,loss\n1e6,1e9,0\n" + GOOD.split("\n", 1)[1], "chinchilla", {}, "column 'loss'"),
    ("N,D,loss\n1e6,1e9,3\n1e7,1e9,2.5\n", "chinchilla", {}, "2 rows but the chinchilla form has 5"),
])
def test_bad_csv(tmp_path, text, form, kw, match):
    with pytest.raises(GenlabError, match=match) as exc:
        sc.fit_csv(_csv(tmp_path, text), form, bootstrap=0, **kw)
    assert "\n" not in str(exc.value)


def test_bad_values():
    with pytest.raises(GenlabError, match="unknown scaling law"):
        sc.preset("gpt5")
    with pytest.raises(GenlabError, match="needs a law of N and D"):
        sc.plan(1e21, "kaplan_N")
    with pytest.raises(GenlabError, match="flops"):
        sc.plan(-1, "chinchilla")
    with pytest.raises(GenlabError, match="two of N, D and C"):
        CHIN.predict(N=1e9)
    with pytest.raises(GenlabError, match="only 3 runs"):
        sc.fit([1e6, 1e7, 1e8], [1e9] * 3, [3, 2.5, 2.2], "chinchilla")


# -- CLI -------------------------------------------------------------------------------------------------

def _cli(argv, capsys):
    """What ``genlab scaling ...`` does once registered: ``genlab.cli.app.main``'s error handling."""
    command = typer.main.get_command(scaling_app)
    try:
        command.main(args=argv, prog_name="genlab scaling", standalone_mode=False)
        rc = 0
    except GenlabError as exc:
        print(f"genlab: error: {exc}", file=__import__("sys").stderr)
        rc = 2
    except typer.TyperException as exc:  # click usage errors
        print(f"genlab: error: {' '.join(exc.format_message().split())}", file=__import__("sys").stderr)
        rc = 2
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_fit_plan_predict(tmp_path, capsys):
    runs = sc.synthetic_runs(CHIN, NS[:5], DS[:4], noise=0.005, seed=2)
    csv = tmp_path / "runs.csv"
    runs.rename(columns={"loss": "val_loss"}).to_csv(csv, index=False)
    rc, out, _ = _cli(["fit", str(csv), "--loss-col", "val_loss", "--bootstrap", "10", "--json",
                       "--out", str(tmp_path)], capsys)
    assert rc == 0
    rec = json.loads(out)
    assert rec["form"] == "chinchilla" and "alpha" in rec["intervals"]
    fit_stem = "scaling_fit_chinchilla_runs.csv_loss-col=val_loss_bootstrap=10"  # what differs from the defaults
    for ext in ("png", "svg", "csv", "json"):
        assert (tmp_path / f"{fit_stem}.{ext}").exists()
    rc, out, _ = _cli(["plan", "--flops", "1e19,1e21", "--law", str(tmp_path / f"{fit_stem}.json"),
                       "--json", "--out", str(tmp_path)], capsys)
    assert rc == 0 and len(json.loads(out)["plans"]) == 2
    assert [p.name for p in tmp_path.glob("scaling_plan_*.png")] == [f"scaling_plan_{fit_stem}.json_flops=1e19,1e21.png"]
    rc, out, _ = _cli(["predict", "--n", "8.5e7", "--law", "kaplan_N", "--json", "--out", str(tmp_path)], capsys)
    assert rc == 0 and json.loads(out)["loss"] == pytest.approx(2.865, abs=1e-3)
    [saved] = tmp_path.glob("scaling_predict_kaplan_N_n=8.5e*.json")  # the law and --n name the files
    assert json.loads(saved.read_text())["loss"] == json.loads(out)["loss"]
    rc, out, _ = _cli(["predict", "--n", "1e9", "--d", "2e10", "--out", str(tmp_path)], capsys)
    assert rc == 0 and "chinchilla" in out


def test_cli_fit_says_what_is_not_identified(tmp_path, capsys, no_floor_runs):
    csv = tmp_path / "runs.csv"
    no_floor_runs.assign(N_total=no_floor_runs.N * 3).to_csv(csv, index=False)
    rc, out, _ = _cli(["fit", str(csv), "--bootstrap", "10", "--out", str(tmp_path)], capsys)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "N = non-embedding parameters"
    assert "E = not identified" in lines[1] and "E = 4.54e-05" not in lines[1] and "alpha = 0.3" in lines[1]
    assert any(line.startswith("not identified by these runs: E: E = 4.54e-05 is at the lower bound")
               and "to identify E, add runs at larger N and D" in line for line in lines)
    rc, out, _ = _cli(["fit", str(csv), "--bootstrap", "10", "--params", "total", "--json", "--out", str(tmp_path)],
                      capsys)
    rec = json.loads(out)
    assert rc == 0 and rec["n_kind"] == "total" and rec["runs"]["N"] == pytest.approx(list(no_floor_runs.N * 3))
    assert rec["identification"]["E"]["identified"] is False
    assert rec["identification"]["E"]["rule"] == "at_bound"
    assert (tmp_path / "scaling_fit_chinchilla_runs.csv_params=total_bootstrap=10.json").exists()


@pytest.mark.parametrize("argv,match", [
    (["fit", "{csv}", "--form", "cubic"], "unknown scaling-law form"),
    (["fit", "{csv}", "--params", "all"], "unknown kind of parameter count 'all'; choose non-embedding"),
    (["fit", "{csv}", "--params", "total"], "no column 'N_total'"),
    (["fit", "{tmp}/missing.csv"], "does not exist"),
    (["fit", "{csv}", "--d-col", "tokens"], "no column 'tokens'"),
    (["plan", "--flops", "lots"], "--flops"),
    (["plan", "--law", "gpt5"], "unknown scaling law"),
    (["predict", "--n", "-5"], "--n must be"),
    (["predict", "--n", "1e9", "--law", "kaplan", "--d", "x"], "--d"),
])
def test_cli_bad_inputs_exit_2_one_line(tmp_path, capsys, argv, match):
    csv = _csv(tmp_path, GOOD)
    argv = [a.format(csv=csv, tmp=tmp_path) for a in argv]
    rc, out, err = _cli(argv + ["--out", str(tmp_path)], capsys)
    assert rc == 2
    assert err.count("\n") == 1 and match in err
    assert not (tmp_path / "scaling_plan.png").exists() and not (tmp_path / "scaling_predict.json").exists()


def test_fit_runs_with_one_blas_thread_and_restores_the_caller_s_setting():
    # L-BFGS-B on a few parameters with two spinning BLAS threads on a busy 2-core machine took 30-100 s
    from threadpoolctl import threadpool_info, threadpool_limits

    from genlab.analysis.scaling import fits as scaling

    seen = []
    original = scaling.get_form

    def spy(name):
        seen.append(max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"))
        return original(name)

    runs = scaling.synthetic_runs("chinchilla", NS, DS, seed=0)
    with threadpool_limits(2, user_api="blas"):
        before = max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
        scaling.get_form = spy
        try:
            scaling.fit(runs["N"], runs["D"], runs["loss"], "chinchilla", bootstrap=0, holdout=False, n_starts=2)
        finally:
            scaling.get_form = original
        after = max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
    assert seen and set(seen) == {1} and before == after == 2
