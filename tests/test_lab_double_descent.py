"""`genlab lab`'s §4.1 page (double descent): its callbacks called as the server calls them.

Hostile values (NaN, huge numbers, programs, lists, None, a 10 MB CSV) are refused under their field and
nothing else changes; the numbers shown are the library's for the same configuration and those of the shell
command the page prints, run through the CLI in this process; a small MLP width sweep runs as a job of the
lab's store (progress, its records in the store, the same setting again read back without training), and a
cancelled sweep stops and resumes from the store. One browser test loads the page, moves a control, starts and
cancels the network's sweep and reads the Japanese page.
"""

from __future__ import annotations

import json
import shlex
import time

import numpy as np
import pytest

from genlab.cli.app import main
from genlab.lab.pages import double_descent as dd
import labkit
from labkit import call, lab_browser, lab_server, numbers, unchanged  # noqa: F401

KEY = dd.KEY
CSV = "a,b,y\n" + "".join(f"{i % 7},{(i * 3) % 11},{(i % 7) * 0.5 + ((i * 3) % 11) * 0.1 + (i % 5) * 0.01}\n"
                          for i in range(300))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("dd") / "store" / "runs.sqlite"


@pytest.fixture(scope="module")
def app(store):
    from genlab.lab.app import make_app

    return make_app("en", store=store)



def shown(out: dict) -> dict:
    return {r.children[0].children: r.children[1].children for r in out[f"{KEY}-numbers.children"]}


def assert_refused(out: dict, field: str, *words: str) -> str:
    return labkit.assert_refused(out, KEY, field, *words)


def run_cli(capsys, line: str, out, *extra: str) -> dict:
    args = shlex.split(line)
    assert args[0] == "genlab"
    rc = main(args[1:] + list(extra) + ["--json", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return json.loads(captured.out)


def command_line(out: dict) -> str:
    return [ln for ln in out[f"{KEY}-command.children"].splitlines() if not ln.startswith("#")][0]


def finish(app, out: dict, timeout: float = 120.0, cancel_after: int | None = None, **raw) -> tuple[list, list]:
    """Poll the page's job as its timer does until it ends: (the last outputs, the progress lines seen); with
    ``cancel_after``, press cancel once that many of its jobs are done."""
    job = out[f"{KEY}-job.data"]
    assert job, {k: v for k, v in out.items() if k.endswith(("msg.children", "general.children")) and v}
    poll = app.genlab["callbacks"][f"{KEY}-poll"]
    fields = [f for f in dd.FIELDS if f.control != "hidden"]
    values = [raw.get(f.name, f.default) for f in fields]
    seen, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        if cancel_after is not None:
            running = app.genlab["jobs"].poll(job)
            if running is not None and running.state == "running" and running.done >= cancel_after:
                assert app.genlab["callbacks"][f"{KEY}-cancel"](1, job) == "…"
                cancel_after = None
        res = poll(1, job, "en", *values)
        if res[-6] is None:
            return res, seen
        seen.append((res[-3], res[-2], res[-1]))
        time.sleep(0.1)
    raise AssertionError("the job did not end")


def result(res) -> dict:
    """The raw numbers of a finished job's outputs."""
    return res[len(dd.GRAPHS) + 2]


# -- limits and hostile values ---------------------------------------------------------------------------------

def test_lab_limits_are_within_the_cli_limits():
    from genlab.core.limits import LIMITS
    from genlab.lab.words import WORDS

    for f in dd.FIELDS:
        if f.cap is not None:
            assert f.hi is None or f.hi <= LIMITS[f.cap].cap, f.name
        for lang in ("en", "ja"):
            assert f.name in WORDS[lang]["fields"], f.name
    assert dd.WORDS["en"].keys() == dd.WORDS["ja"].keys()


HOSTILE = [
    ({"n": 10**12}, "n", ["genlab's limit"]),
    ({"n": 5_000}, "n", ["lab's limit", "genlab double-descent --kind model --model relu --data digits --n 5000"]),
    ({"n": float("nan")}, "n", ["finite"]),
    ({"n": None}, "n", ["integer"]),
    ({"n": [100]}, "n", ["integer"]),
    ({"n": "__import__('os').system('true')"}, "n", ["integer"]),
    ({"n": 0}, "n", ["at least 1"]),
    ({"n": 1_797, "data": "digits"}, "n", ["1,797 rows"]),
    ({"seeds": 10**6}, "seeds", ["genlab's limit"]),
    ({"seeds": "1e400"}, "seeds", ["finite"]),
    ({"label_noise": 1.0}, "label_noise", ["[0, 1)"]),
    ({"label_noise": 10**400}, "label_noise", ["finite"]),
    ({"label_noise": "nan"}, "label_noise", ["finite"]),
    ({"label_noise": -0.1}, "label_noise", ["at least 0"]),
    ({"label_noise": 0.2, "data": "diabetes"}, "label_noise", ["regression"]),
    ({"model": "os.system"}, "model", ["relu"]),
    ({"model": ["relu"]}, "model", ["relu"]),
    ({"data": {"$ne": 1}}, "data", ["digits"]),
    ({"data": "article"}, "data", ["relu runs on"]),
    ({"model": "poly", "data": "article", "n": 100}, "n", ["at most 61"]),
    ({"p_grid": "log", "p_from": 500, "p_to": 20}, "p_to", ["at least the smallest"]),
    ({"p_to": 10**9}, "p_to", ["at most 20,000"]),
    ({"model": "mlp", "widths": "__import__('os')"}, "widths", ["--widths"]),
    ({"model": "mlp", "widths": "2-99999"}, "widths", ["limit"]),
    ({"model": "mlp", "widths": "2-4096"}, "widths", ["up to 2,048"]),
    ({"model": "mlp", "widths": "x" * 10_000}, "widths", ["10,000 characters"]),
    ({"model": "mlp", "seeds": 1}, "seeds", ["2 seeds"]),
    ({"model": "mlp", "n_test": 1_790}, "n_test", ["do not fit"]),
    ({"epochs": 10**7}, "epochs", ["genlab's limit"]),
    ({"seed": 2**64}, "seed", ["genlab's limit"]),
    ({"seed": -1}, "seed", ["at least 0"]),
    ({"data": "csv", "data_csv": "a,y\n" + "1,2\n" * 2_700_000}, "data_csv", ["10,800,004", "1,048,576"]),
    ({"data": "csv", "data_csv": 12345}, "data_csv", ["text"]),
    ({"data": "csv", "data_csv": "   "}, "data_csv", ["paste"]),
    ({"data": "csv", "data_csv": CSV, "y_col": "target"}, "y_col", ["no column 'target'", "'a'"]),
    ({"data": "csv", "data_csv": CSV, "x_cols": "a,zz"}, "x_cols", ["no column 'zz'"]),
    ({"data": "csv", "data_csv": CSV, "x_cols": "a,y"}, "x_cols", ["target"]),
    ({"data": "csv", "data_csv": "a,y\n1,2\n3,nan\n"}, "data_csv", ["row 2", "NaN"]),
    ({"data": "csv", "data_csv": "a,y\n" + "1,2\n" * 25_000}, "data_csv", ["20,000"]),
    ({"data": "csv", "data_csv": CSV, "n": 300}, "n", ["300 rows"]),
]


@pytest.mark.parametrize("raw, field, words", HOSTILE, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(HOSTILE)])
def test_bad_values_are_refused_under_their_field(app, raw, field, words):
    assert_refused(call(app, dd, **raw), field, *words)


def test_messages_follow_the_language(app):
    msg = assert_refused(call(app, dd, lang="ja", label_noise=1.5), "label_noise")
    assert "ラベルノイズ" in msg


def test_the_page_survives_bad_values_and_an_unforeseen_error(app, monkeypatch, capsys):
    good = call(app, dd, n=40, seeds=2)[f"{KEY}-raw.data"]
    for raw, _, _ in HOSTILE[:12]:
        call(app, dd, **raw)
    monkeypatch.setattr(dd, "sweep_of", lambda *a, **k: 1 / 0)
    out = call(app, dd, n=41, seeds=2)
    assert "ZeroDivisionError" in out[f"{KEY}-general.children"] and unchanged(out[f"{KEY}-graph-curve.figure"])
    assert "ZeroDivisionError" in capsys.readouterr().err
    monkeypatch.undo()
    assert call(app, dd, n=40, seeds=2)[f"{KEY}-raw.data"] == good


def test_an_oversize_or_broken_upload_changes_nothing(app):
    import base64

    upload = app.genlab["callbacks"][f"{KEY}-upload"]
    big = "data:text/csv;base64," + base64.b64encode(b"a,y\n" + b"1,2\n" * 3_000_000).decode()
    text, msg, count = upload(big, "d.csv", 0, "en")
    assert unchanged(text) and unchanged(count) and "limit is 1 MiB" in msg
    broken = "data:," + base64.b64encode(b"\xff\x00").decode()
    for contents in ("data:text/csv;base64,@@@", "no comma", None, ["x"], broken):
        text, msg, count = upload(contents, "x.csv", 0, "en")
        assert unchanged(text) and msg
    text, msg, count = upload("data:text/csv;base64," + base64.b64encode(CSV.encode()).decode(), "d.csv", 2, "en")
    assert text == CSV and count == 3 and "300 rows" in msg


# -- the numbers are the library's and the command's -----------------------------------------------------------

def test_random_features_numbers_are_the_library_and_the_command(app, capsys, tmp_path):
    from genlab.analysis.double_descent import random_features_sweep

    out = call(app, dd, n="60", seeds="3", label_noise="0.1", seed=4)
    raw = out[f"{KEY}-raw.data"]
    assert out[f"{KEY}-job.data"] is None  # computed in the request
    r = random_features_sweep("digits", n_train=60, seeds=3, label_noise=0.1, seed=4)
    assert raw["peak"] == r.find_peak() and raw["minimum"] == r.minimum
    assert raw["test_mse_median"] == r.median().tolist() and raw["threshold"] == 60
    assert shown(out)["peak of the median test error"] == f"{r.find_peak()['value']:.4g} at random features p 60"
    line = command_line(out)
    assert line == ("genlab double-descent --kind model --model relu --data digits --n 60 --label-noise 0.1 "
                    "--seeds 3 --seed 4")
    rec = run_cli(capsys, line, tmp_path, "--jobs", "1")
    assert rec["peak"] == raw["peak"] and rec["minimum"] == raw["minimum"]
    assert [p["test_mse_median"] for p in rec["points"]] == raw["test_mse_median"]
    assert [p["train_mse_median"] for p in rec["points"]] == raw["train_mse_median"]
    assert "&n=60&" in out[f"{KEY}-url.search"] and out[f"{KEY}-url.search"].startswith("?model=relu")


def test_a_grid_of_p_is_the_python_line(app, capsys):
    out = call(app, dd, model="fourier", data="wine", n=50, seeds=2, p_grid="log", p_from=5, p_to=400, p_count=9)
    raw = out[f"{KEY}-raw.data"]
    assert raw["values"] == sorted({int(p) for p in np.round(np.geomspace(5, 400, 9))})
    python = out[f"{KEY}-command.children"].splitlines()[-1]
    args = shlex.split(python)
    assert args[:2] == ["python", "-c"]
    exec(args[2], {})
    rec = json.loads(capsys.readouterr().out)
    assert rec == {"peak": raw["peak"], "minimum": raw["minimum"]}


def test_polynomial_and_sample_wise_numbers_are_the_library_and_the_command(app, capsys, tmp_path):
    from genlab.analysis.double_descent import linear_sample_wise, polynomial_model_wise
    from genlab.analysis.regularize import sample_wise_linear
    from genlab.data.sources import SyntheticSource

    out = call(app, dd, model="poly", data="hard", n=12, noise=0.2, seeds=4)
    raw = out[f"{KEY}-raw.data"]
    fam = polynomial_model_wise(SyntheticSource("2*x + cos(25*x)", 0.2), n=12, seeds=4)
    rec = run_cli(capsys, command_line(out), tmp_path / "poly", "--jobs", "1")
    for basis, c in fam.curves.items():
        assert raw["curves"][basis]["peak"] == c.find_peak() == rec["curves"][basis]["peak"]
        assert raw["curves"][basis]["minimum"]["ratio"] == rec["curves"][basis]["minimum"]["ratio"]
    top = fam["monomial"].find_peak()["value"]
    assert shown(out)["monomial: peak of the median test error"].startswith(f"{top:.4g}")

    out = call(app, dd, model="samples", data="wine", seeds=3)
    raw = out[f"{KEY}-raw.data"]
    c = linear_sample_wise("wine", seeds=3)
    assert raw["peak"] == c.find_peak() and raw["threshold"] == c.threshold
    rec = run_cli(capsys, command_line(out), tmp_path / "samples")
    assert rec["peak"] == raw["peak"] and [p["test_mse_median"] for p in rec["points"]] == raw["test_mse_median"]

    out = call(app, dd, model="samples", data="isotropic", n=30, noise=0.5, seeds=3)
    raw = out[f"{KEY}-raw.data"]
    s = sample_wise_linear(d=30, sigma=0.5, seeds=3)
    assert raw["peak_n"] == s.peak_n
    rec = run_cli(capsys, command_line(out), tmp_path / "iso", "--jobs", "1")
    assert rec["peak_n"] == raw["peak_n"] and [p["test_median"] for p in rec["by_n"]] == raw["test_mse_median"]


# -- sweeps of the lab's store ---------------------------------------------------------------------------------

MLP = dict(model="mlp", widths="2,8", datasets=2, seeds=2, epochs=5, n=40, n_test=40)


def test_a_small_mlp_width_sweep_runs_in_the_store_and_is_read_back(app, store, capsys, tmp_path):
    from genlab.runs.store import Store

    out = call(app, dd, **MLP)
    assert unchanged(out[f"{KEY}-raw.data"]) and out[f"{KEY}-poll.disabled"] is False
    res, seen = finish(app, out, **MLP)
    assert any("of 4 jobs done" in text for text, _, _ in seen)  # the progress line and bar
    assert all("of 4 jobs done" in text or "waiting" in text for text, _, _ in seen)
    assert {total for _, _, total in seen} == {"4"}
    raw = result(res)
    assert raw["values"] == [2, 8] and raw["n_cached"] == 0 and raw["total_jobs"] == 4
    with Store(store, readonly=True) as st:
        assert st.counts()["done"] >= 4
    assert main(["runs", "ls", "--store", str(store), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sum(r["kind"].endswith("crossed_job") and r["status"] == "done" for r in listed) == 4
    # the page's command, on the lab's store: every job read back, the same numbers
    rec = run_cli(capsys, command_line(res_command(app)), tmp_path, "--store", str(store), "--jobs", "2")
    assert [p["error"] for p in rec["points"]] == raw["error"] and rec["threshold"] == raw["threshold"]
    assert [p["train_error"] for p in rec["points"]] == raw["train_error"]
    # the same setting again: from the page's cache, no job
    again = call(app, dd, **MLP)
    assert again[f"{KEY}-job.data"] is None and again[f"{KEY}-raw.data"]["error"] == raw["error"]
    # after a restart (an empty cache): a job that reads every record back from the store
    dd.CACHE.clear()
    res, _ = finish(app, call(app, dd, **MLP), **MLP)
    assert result(res)["n_cached"] == 4 and result(res)["error"] == raw["error"]


def res_command(app) -> dict:
    return call(app, dd, **MLP)


def test_a_cancelled_sweep_stops_and_resumes_from_the_store(app, store):
    from genlab.analysis.double_descent import random_features_sweep
    from genlab.runs.store import Store

    big = dict(n=350, seeds=6, seed=21)
    out = call(app, dd, **big)
    assert out[f"{KEY}-job.data"], "a large sweep runs as a job"
    res, _ = finish(app, out, cancel_after=1, **big)
    assert "Cancelled" in res[len(dd.GRAPHS) + 5] and unchanged(result(res))
    with Store(store, readonly=True) as st:
        assert st.counts()["running"] == 0  # the workers stopped; unfinished jobs went back to pending
    res, _ = finish(app, call(app, dd, **big), **big)
    raw = result(res)
    assert 0 < raw["n_cached"] < 6, raw["n_cached"]  # resumed: what was done was read back
    r = random_features_sweep("digits", n_train=350, seeds=6, seed=21, store=store, jobs=2)
    assert raw["peak"] == r.find_peak() and raw["test_mse_median"] == r.median().tolist()


def test_your_csv_runs_as_a_store_sweep_and_matches_the_command(app, store, capsys, tmp_path, monkeypatch):
    setting = dict(data="csv", data_csv=CSV, x_cols="a, b", n=60, seeds=2)
    res, _ = finish(app, call(app, dd, **setting), **setting)
    raw = result(res)
    files = list((store.parent / "lab-data").glob("*.csv"))
    assert len(files) == 1 and files[0].read_text() == CSV  # written only under the store's folder
    out = call(app, dd, **setting)
    lines = out[f"{KEY}-command.children"].splitlines()
    assert lines[0].startswith("#") and "--csv data.csv --y-col y --x-col a,b" in lines[1]
    (tmp_path / "data.csv").write_text(CSV)
    monkeypatch.chdir(tmp_path)
    rec = run_cli(capsys, lines[1], tmp_path / "out", "--jobs", "1")
    assert rec["peak"] == raw["peak"] and [p["test_mse_median"] for p in rec["points"]] == raw["test_mse_median"]


# -- in a browser ----------------------------------------------------------------------------------------------

def test_in_a_browser_the_page_moves_runs_a_sweep_cancels_and_speaks_japanese(lab_browser):  # noqa: F811
    from genlab.analysis.double_descent import random_features_sweep

    page = lab_browser("/double-descent?n=40&seeds=2&seed=1")
    label = "peak of the median test error"
    got = numbers(page, KEY)[label]
    r = random_features_sweep("digits", n_train=40, seeds=2, seed=1)
    assert got == f"{r.find_peak()['value']:.4g} at random features p 40"
    page.fill(f"#{KEY}-seeds", "3")
    page.press(f"#{KEY}-seeds", "Enter")
    r3 = random_features_sweep("digits", n_train=40, seeds=3, seed=1)
    want = f"{r3.find_peak()['value']:.4g} at random features p 40"
    page.wait_for_function(f"Array.from(document.querySelectorAll('#{KEY}-numbers td')).some(td => "
                           f"td.innerText === {json.dumps(want)})", timeout=60_000)
    assert "seeds=3" in page.url
    page.goto(page.url.split("/double-descent")[0] + "/double-descent?model=mlp&widths=2-256&datasets=3&seeds=4"
              "&epochs=3000&n=200&n_test=200")
    page.wait_for_selector(f"#{KEY}-progress", state="visible", timeout=60_000)
    assert page.locator(f"#{KEY}-progress-bar").count() == 1
    page.click(f"#{KEY}-cancel")
    page.wait_for_function(f"document.getElementById('{KEY}-general').innerText.includes('Cancelled')",
                           timeout=60_000)
    ja = lab_browser("/double-descent?n=40&seeds=2&seed=1&lang=ja")
    assert "テスト誤差の中央値の山" in numbers(ja, KEY)
    assert "Double Descent" in ja.inner_text("h1")
    for p in (page, ja):
        assert not p.outside, p.outside
        assert not p.errors, p.errors
