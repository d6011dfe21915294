"""The §4.2 page of `genlab lab` (issue 18): the optimal ridge and the regularizers side by side.

The page's callback is called as Dash calls it. Its optimal α is the library's (the decomposition against α on
the page's grid and on a finer grid around its minimum), lies within its own one-s.e. range and agrees with the
grid's minimum; every number of the side-by-side table is what the library and the command printed beside it
(run through the CLI in this process) give. Hostile values of the new field are refused under it, a side-by-side
too slow for a request is refused with its commands, and moving the α slider recomputes nothing but the fit.
"""

from __future__ import annotations

import json
import math
import shlex

import numpy as np
import pytest

from genlab.cli.app import main
from genlab.lab.pages import ridge
from labkit import call, unchanged

#: Small settings: the tests stay fast, the numbers are those of any setting.
SMALL = dict(datasets=300, compare_datasets=30)


@pytest.fixture(scope="module")
def app():
    from genlab.lab.app import make_app

    return make_app("en")


def run_cli(capsys, command_line: str, out) -> dict:
    """Run a command the page printed, with --json, through the CLI in this process."""
    args = shlex.split(command_line.split("   #")[0])
    assert args[0] == "genlab"
    rc = main(args[1:] + ["--json", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return json.loads(captured.out)



def shown(out: dict) -> dict:
    return {r.children[0].children: r.children[1].children for r in out["ridge-numbers.children"]}


@pytest.fixture(scope="module")
def small(app):
    return call(app, ridge, **SMALL)


# -- the optimal ridge ------------------------------------------------------------------------------------------------

def test_the_optimal_alpha_is_the_library_minimum_refined(small):
    from genlab.analysis.biasvar import decompose_polynomial
    from genlab.data.sources import ARTICLE_SOURCE

    opt = small["ridge-raw.data"]["optimum"]
    coarse = decompose_polynomial(ARTICLE_SOURCE, [30], alphas=ridge.GRID, n=30, n_datasets=300, seed=0)
    i = int(np.argmin(coarse.error))
    assert opt["grid_alpha"] == ridge.GRID[i] and opt["grid_error"] == coarse.error[i]
    fine = ridge.fine_grid(i)
    assert opt["fine_alphas"] == fine and len(fine) == ridge.FINE - 2
    assert fine[0] > ridge.GRID[i - 1] and fine[-1] < ridge.GRID[i + 1]  # inside the grid's neighbours
    refined = decompose_polynomial(ARTICLE_SOURCE, [30], alphas=fine, n=30, n_datasets=300, seed=0)
    assert opt["fine_error"] == refined.error.tolist()
    alphas = np.concatenate([coarse.values, refined.values])
    errors = np.concatenate([coarse.error, refined.error])
    assert opt["alpha"] == alphas[np.argmin(errors)]
    at = decompose_polynomial(ARTICLE_SOURCE, [30], alphas=[opt["alpha"]], n=30, n_datasets=300, seed=0)
    for key in ("bias2", "variance", "error", "error_se"):
        assert opt[key] == getattr(at, key)[0], key


def test_the_optimal_alpha_is_within_its_range_and_consistent_with_the_grid(small):
    opt = small["ridge-raw.data"]["optimum"]
    a, lo, hi = opt["alpha"], *opt["range"]
    assert lo <= a <= hi and lo < hi
    # refined: never worse than the grid's best point (the optimum's numbers come from a call at its α alone, equal
    # to the grid's up to rounding)
    assert opt["error"] <= opt["grid_error"] * (1 + 1e-12)
    assert abs(math.log10(a / opt["grid_alpha"])) <= 0.5  # within the grid minimum's neighbours
    threshold = opt["error"] + opt["error_se"]
    assert opt["grid_error"] <= threshold and lo <= opt["grid_alpha"] <= hi  # the grid's minimum is within 1 s.e.
    alpha, error = np.array(opt["curve_alpha"]), np.array(opt["curve_error"])
    inside = (alpha > lo) & (alpha < hi)
    assert np.all(error[inside] <= threshold)
    assert error[alpha < lo].size == 0 or error[alpha < lo][-1] > threshold  # the range ends where the curve crosses
    assert error[alpha > hi].size == 0 or error[alpha > hi][0] > threshold
    numbers = shown(small)
    assert numbers["optimal α (lowest expected test error over the datasets)"] == f"{a:.3g}"
    assert numbers["α whose test error is within 1 s.e. of the optimum's"] == f"{lo:.3g} – {hi:.3g}"
    assert numbers["test error at the optimal α (datasets: 300)"] == f"{opt['error']:.4g} ± {opt['error_se']:.2g}"


def test_the_cross_validated_alpha_beside_it(small):
    raw = small["ridge-raw.data"]
    at_cv = raw["at_cv"]
    i = int(np.flatnonzero(np.isclose(ridge.GRID, raw["cv_alpha"]))[0])  # ridge_cv's grid is the page's
    assert at_cv["alpha"] == raw["cv_alpha"] and at_cv["command"] == small["ridge-command.children"].splitlines()[1]
    assert at_cv["error"] == raw["error_curve"][i]
    assert at_cv["error"] >= raw["optimum"]["error"]  # the optimum is the lowest expected error


def test_the_optimum_and_its_commands_through_the_cli(small, capsys, tmp_path):
    opt = small["ridge-raw.data"]["optimum"]
    rec = run_cli(capsys, opt["command"], tmp_path / "one")
    model = rec["models"][0]
    assert model["alpha"] == opt["alpha"]
    for key in ("bias2", "variance", "error", "error_se"):
        assert model[key] == opt[key], key
    grid_line = small["ridge-command.children"].splitlines()[1]
    assert "--datasets 300" in grid_line
    coarse = run_cli(capsys, grid_line, tmp_path / "grid")["models"]
    fine = run_cli(capsys, opt["fine_command"], tmp_path / "fine")["models"]
    assert [m["alpha"] for m in fine] == opt["fine_alphas"]
    best = min(coarse + fine, key=lambda m: m["error"])
    assert best["alpha"] == opt["alpha"] and best["error"] == min(opt["curve_error"])


def test_the_optimum_is_marked_on_the_alpha_figure(small):
    opt = small["ridge-raw.data"]["optimum"]
    traces = small["ridge-graph-alpha.figure"]["data"]
    names = {t.get("name") for t in traces}
    assert {"optimal α (expected test error)", "within 1 s.e. of its error", "α chosen by cross-validation"} <= names
    line = next(t for t in traces if t.get("name") == "optimal α (expected test error)")
    assert list(line["x"]) == [pytest.approx(opt["alpha"], rel=1e-6)] * 2


@pytest.mark.parametrize("errors, lo, hi, opened", [
    ([5, 3, 1, 3, 5], 10 ** 1.5, 10 ** 2.5, (False, False)),   # crosses halfway between the points
    ([1, 1.5, 3, 5, 7], 1.0, 10 ** (4 / 3), (True, False)),     # the best at the curve's end: open there
    ([2, 2, 1, 2, 2], 1.0, 1e4, (True, True)),                  # everything within: open on both sides
    ([9, 9, 1, math.inf, 1], 10 ** (1 + 7 / 8), 100.0, (False, False)),  # a non-finite neighbour ends it
])
def test_the_range_within_one_se(errors, lo, hi, opened):
    alpha = np.logspace(0, 4, 5)
    best = int(np.argmin(errors))
    got = ridge.within_se(alpha, np.array(errors, dtype=float), best, 2.0)
    assert got[0] == pytest.approx(lo) and got[1] == pytest.approx(hi) and got[2:] == opened


# -- the regularizers side by side ----------------------------------------------------------------------------------

def test_the_side_by_side_numbers_are_the_library_and_its_commands(small, capsys, tmp_path):
    from genlab.analysis.biasvar import decompose_polynomial
    from genlab.data.sources import ARTICLE_SOURCE

    side = small["ridge-raw.data"]["side_by_side"]
    assert side["datasets"] == 30
    rows = {r["method"]: r for r in side["methods"]}
    assert list(rows) == ["none", "ridge", "lasso"]
    lasso = side["lasso_curve"]
    for a, e in zip(lasso["alpha"], lasso["error"]):  # each lasso α: one decomposition, the lowest chosen
        assert e == decompose_polynomial(ARTICLE_SOURCE, [30], solver="lasso", alpha=a, n=30, n_datasets=30,
                                         seed=0).error[0]
    assert rows["lasso"]["alpha"] == lasso["alpha"][int(np.argmin(lasso["error"]))]
    assert rows["ridge"]["error"] == pytest.approx(min(side["ridge_curve"]["error"]), rel=1e-12)
    for method, row in rows.items():
        model = run_cli(capsys, row["command"], tmp_path / method)["models"][0]
        for key in ("bias2", "variance", "error", "error_se"):
            assert model[key] == row[key], (method, key)
    table = small["ridge-table.children"]
    body = [[td.children for td in tr.children] for tr in table[1].children]
    assert body[2][0] == "lasso (L1)" and body[2][1] == f"{rows['lasso']['alpha']:.3g}"
    assert body[2][2] == f"{rows['lasso']['bias2']:.4g}" and body[2][5] == rows["lasso"]["command"]
    assert body[3][5] == "genlab regularize --method side-by-side --quick"  # early stopping: from the shell
    figure = small["ridge-graph-regularizers.figure"]
    bars = [t for t in figure["data"] if t.get("type") == "bar"]
    assert [b["name"] for b in bars] == ["bias²", "variance", "test error"]
    assert list(bars[2]["y"])[:2] == pytest.approx([rows["ridge"]["error"], rows["lasso"]["error"]], rel=1e-4)


def test_the_side_by_side_can_be_left_out(app):
    out = call(app, ridge, datasets=300, compare_datasets=0)
    assert out["ridge-raw.data"]["side_by_side"] is None and out["ridge-table.children"] == []
    assert out["ridge-graph-regularizers.figure"]["data"] == []
    assert out["ridge-general.children"] == ""


HOSTILE = [
    (dict(compare_datasets=10**7), ["genlab's limit"]),
    (dict(compare_datasets=5_000), ["lab's limit", "genlab biasvar --degrees 30 --alphas"]),
    (dict(compare_datasets=-1), ["at least 0"]),
    (dict(compare_datasets="many"), ["integer"]),
    (dict(compare_datasets=float("nan")), ["finite"]),
    (dict(compare_datasets=[100]), ["integer"]),
    (dict(compare_datasets=2_000, n=1_000, degree=60),
     ["past the lab's 20 s", "genlab biasvar --degrees 60 --solver lasso --alpha A --datasets 2000 --n 1000"]),
]


@pytest.mark.parametrize("raw, words", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_hostile_values_are_refused_under_the_field(app, raw, words):
    out = call(app, ridge, **raw)
    msg = out["ridge-compare_datasets-msg.children"]
    for word in words:
        assert word in msg, msg
    for k, v in out.items():
        if k.endswith((".figure", "-numbers.children", "-table.children", "-raw.data", "-command.children")):
            assert unchanged(v), k


def test_moving_the_slider_recomputes_only_the_fit(app, monkeypatch):
    import genlab.analysis.biasvar as lib

    call(app, ridge, **SMALL, log_alpha=-3.0)
    monkeypatch.setattr(lib, "decompose_polynomial", lambda *a, **k: pytest.fail("recomputed"))
    for log_alpha in (-2.0, -6.5, 1.5):
        out = call(app, ridge, **SMALL, log_alpha=log_alpha)
        assert out["ridge-raw.data"]["alpha"] == 10.0 ** log_alpha
        assert out["ridge-raw.data"]["optimum"]["alpha"] > 0 and out["ridge-table.children"]


def test_the_japanese_page(app):
    out = call(app, ridge, lang="ja", **SMALL)
    labels = " ".join(shown(out))
    assert "最適な α" in labels and "1 標準誤差以内" in labels
    assert out["ridge-table.children"][1].children[2].children[0].children == "ラッソ(L1)"
