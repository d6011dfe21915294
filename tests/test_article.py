"""The whole article, quick: every section present, with its figures, data and numbers."""

import json

import pytest

from genlab.article.build import SECTIONS
from genlab.cli.app import main


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("article") / "report"
    assert main(["article", "--quick", "--jobs", "2", "--out", str(out)]) == 0
    return out


def test_every_section_is_in_the_report(report):
    results = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert set(results["sections"]) == set(SECTIONS)
    html = (report / "index.html").read_text(encoding="utf-8")
    for key in SECTIONS:
        assert f"<section id='{key}'>" in html
    for title in ("Fig. 13", "Fig. 14", "Epoch-wise", "Sample-wise", "Implicit regularization"):
        assert title in html


def test_every_figure_has_its_files(report):
    results = json.loads((report / "results.json").read_text(encoding="utf-8"))
    for section in results["sections"].values():
        for key, fig in section["figures"].items():
            assert {"png", "svg"} <= set(fig["files"]), key
            for path in fig["files"].values():
                assert (report / path).stat().st_size > 0


def test_section_4_numbers(report):
    sec = json.loads((report / "results.json").read_text(encoding="utf-8"))["sections"]
    dd, reg = sec["double_descent"]["numbers"], sec["regularization"]["numbers"]
    n = 100  # the quick random-features sweep
    assert 0.9 * n <= dd["rf_peak_p"]["value"] <= 1.1 * n
    assert dd["rf_after_peak_min"]["value"] < dd["rf_classical_min"]["value"]
    assert reg["implicit_gap"]["value"] < 1e-6
    assert reg["optimal_ridge_rise"]["value"] < 0.05
    # the sweeps went through the report's store: a rerun would resume from it
    assert (report / "runs.sqlite").exists()


def test_section_4_1_crossed_split_of_the_mlp_variance(report):
    # the MLP's variance across width split into data, seed and interaction: the figure and its numbers
    sec = json.loads((report / "results.json").read_text(encoding="utf-8"))["sections"]["double_descent"]
    nums, crossed = sec["numbers"], sec["results"]["crossed"]
    assert "crossed" in sec["figures"] and crossed["knob"] == "width" and crossed["identity_gap"] < 1e-9
    widths = [p["width"] for p in crossed["points"]]
    assert nums["crossed_peak_width"]["value"] == crossed["peak"] in widths[:-1]   # a peak, not the widest net
    for where in ("peak", "last"):
        shares = [nums[f"crossed_{p}_share_{where}"]["value"] for p in ("data", "init", "interaction")]
        assert sum(shares) == pytest.approx(1.0)
    # the seed-dependent parts make the peak; far past it the data's part is nearly all the variance
    assert nums["crossed_interaction_share_peak"]["value"] + nums["crossed_init_share_peak"]["value"] > 0.5
    assert nums["crossed_data_share_last"]["value"] > 0.8
    # averaging seeds removes the seed-dependent parts: the ensembles beat one network at the peak
    assert (nums["crossed_ensemble_all_at_peak"]["value"] <= nums["crossed_ensemble4_at_peak"]["value"]
            < nums["crossed_error_at_peak"]["value"])


def test_section_5_lottery_numbers(report):
    sec = json.loads((report / "results.json").read_text(encoding="utf-8"))["sections"]["lottery"]
    nums = sec["numbers"]
    assert 0.85 < nums["dense_acc"]["value"] <= 1.0 and nums["dense_acc"]["se"] > 0
    # the ticket at the lowest sparsity stays closer to dense than its re-initialized control
    assert nums["ticket_acc_at_last"]["value"] > nums["reinit_acc_at_last"]["value"]
    assert {"lottery", "lottery_sizes"} <= set(sec["figures"])


def test_section_4_3_scaling_numbers(report):
    sec = json.loads((report / "results.json").read_text(encoding="utf-8"))["sections"]["scaling"]
    nums = sec["numbers"]
    a = nums["alpha_N"]
    assert a["value"] > 0 and a["interval"][0] <= a["value"] <= a["interval"][1]
    assert a["article"] == 0.076
    assert {"fig15", "measured", "curves", "isoflop", "frontier"} <= set(sec["figures"])
    # the Markov corpus' entropy rate is exact, and its runs' loss cannot go below it by more than noise
    H = nums["markov_entropy_rate"]["value"]
    assert 2.0 < H < 3.5 and nums["markov_E_saturating"]["value"] > H - 0.05


def test_every_sweep_ran_in_one_plan(report):
    # the sections' sweeps ran as one plan on one pool (longest jobs first, no worker idle between
    # sections), and each section took its results from it rather than running anything itself
    from genlab.runs.store import Store

    with Store(report / "runs.sqlite") as st:
        sessions, counts = st.sessions(), st.counts()
    assert len(sessions) == 1 and sessions[0]["status"] == "finished"
    assert counts["done"] == sessions[0]["n_jobs"] > 100
    kinds = {k.rpartition(":")[2] for k in sessions[0]["kind"].split(", ")}
    assert {"lm_job", "mlp_job", "lottery_job", "rf_job"} <= kinds
