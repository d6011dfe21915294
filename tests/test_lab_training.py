"""`genlab lab`, §4.3: the transformer sweep of `genlab scaling train` under the fit, as a store job of the lab.

The training section's callbacks are called directly, as the server calls them: hostile values are refused
under their field with no job started and nothing else changed (the fit goes on); a grid estimated past the
lab's hour is refused with the shell command; a tiny grid trains in the lab's store with its progress, its
runs fill the runs' text area in the page's CSV format and their fit equals the one `genlab scaling train`
prints for the same grid (run through the CLI); its records are in the store (`genlab runs ls`), the same
grid again is read back without training, and a cancelled grid resumes from the runs it finished. A browser
trains a tiny grid from the page and sees the library's fit, and the Japanese page. Sizes are tiny: two
transformers of about 1e3 and 4e3 parameters, 5,120 to 20,000 tokens, on the Markov corpus.
"""

from __future__ import annotations

import io
import json
import shlex
import time

import pandas as pd
import pytest
from labkit import call, lab_browser, lab_server, numbers, store_app, unchanged  # noqa: F401

from genlab.cli.app import main
from genlab.lab.pages import scaling, scaling_train

TINY = dict(train_sizes="1e3,4e3", train_tokens="5120,1e4,2e4", corpus="markov", train_repeats=1, bootstrap=4,
            seed=0)
NAMES = [f.name for f in scaling_train.TRAIN_FIELDS]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return store_app(tmp_path_factory, "lab-training")



def press_train(app, lang="en", running=None, **raw) -> list:
    """The Train button's callback: [messages under the 4 fields, estimate, command, general, status, job id,
    poll disabled, progress style, progress text]."""
    v = dict(TINY, **raw)
    return app.genlab["callbacks"]["scaling-train"](1, *[v[n] for n in NAMES], v["bootstrap"], v["seed"], lang,
                                                    running)


def train_to_end(app, *, cancel_after=None, timeout=240.0, **raw):
    """Press Train and poll to the end: (last poll outputs, progress texts seen)."""
    out = press_train(app, **raw)
    job = out[8]
    assert job and out[9] is False and out[10]["display"] == "block" and out[6] == ""
    seen, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        res = app.genlab["callbacks"]["scaling-train-poll"](1, job, "en", 0)
        if res[5] is None:        # the job's id is cleared when it ends
            return res, seen
        seen.append(res[0])
        if cancel_after is not None and app.genlab["jobs"]._jobs[job].done >= cancel_after:
            assert app.genlab["callbacks"]["scaling-train-cancel"](1, job) == "…"
            cancel_after = None
        time.sleep(0.1)
    raise AssertionError(f"the training did not end in {timeout} s: {seen[-3:]}")


# -- bad and hostile values: a message under the field, no job, nothing else changes ----------------------------

HOSTILE = [
    ("train_sizes", "nan", ["numbers > 0"]),
    ("train_sizes", "__import__('os').system('true')", ["numbers > 0"]),
    ("train_sizes", "1e3,1e3", ["repeat"]),
    ("train_sizes", "1e9", ["above the largest"]),
    ("train_sizes", ",".join(f"{1000 + i}" for i in range(20)), ["at most 8"]),
    ("train_sizes", "1" * (10 * 2**20), ["characters long"]),
    ("train_sizes", ["1e3"], ["text"]),
    ("train_tokens", "1e30", ["genlab's limit"]),
    ("train_tokens", "100", ["at least 5120"]),
    ("train_tokens", "-1e4", ["numbers > 0"]),
    ("train_tokens", None, ["numbers > 0"]),
    ("corpus", "/etc/passwd", ["python, markov"]),
    ("corpus", {"kind": "file"}, ["python, markov"]),
    ("train_repeats", 50, ["lab's limit", "genlab scaling train --sizes 1000,4000"]),
    ("train_repeats", 10**6, ["genlab's limit"]),
    ("train_repeats", float("nan"), ["finite"]),
]


@pytest.mark.parametrize("field, value, words", HOSTILE)
def test_bad_training_values_are_refused_under_their_field(app, field, value, words):
    out = press_train(app, **{field: value})
    msg = out[NAMES.index(field)]
    for word in words:
        assert word in msg, msg
    assert all(m == "" for i, m in enumerate(out[:4]) if i != NAMES.index(field))
    assert out[6] == "" and all(unchanged(v) for v in out[4:6] + out[7:])   # no job; nothing else changes
    preview = app.genlab["callbacks"]["scaling-train-preview"](*[dict(TINY, **{field: value})[n] for n in NAMES],
                                                               "4", "0", "en")
    assert preview[NAMES.index(field)] == msg


@pytest.mark.parametrize("job", [None, 5, ["x"], {"id": 1}, "someone-elses-id", "x" * 10**6])
def test_hostile_job_ids_change_nothing(app, job):
    res = app.genlab["callbacks"]["scaling-train-poll"](1, job, "en", {"n": 1})
    assert res[4] is True and res[5] is None and all(unchanged(v) for v in res[6:8])   # polling stops; no runs
    assert unchanged(app.genlab["callbacks"]["scaling-train-cancel"](1, job))


def test_the_fit_goes_on_with_bad_training_values_and_the_link_keeps_good_ones(app):
    good = call(app, scaling, csv=scaling.sample(), bootstrap=0, train_sizes="1e3,4e3", corpus="markov")
    bad = call(app, scaling, csv=scaling.sample(), bootstrap=0, train_sizes="nan", corpus=["x"])
    assert bad["scaling-raw.data"] == good["scaling-raw.data"]
    assert "train_sizes=1e3%2C4e3&" in good["scaling-url.search"] and "corpus=markov" in good["scaling-url.search"]
    assert "train_sizes=nan&" in bad["scaling-url.search"]    # text as typed: checked when previewed or trained
    assert "corpus=python" in bad["scaling-url.search"]       # a refused choice: the default


def test_a_grid_past_the_lab_s_hour_is_refused_with_the_command(app):
    out = press_train(app, train_sizes="1e6,4e6", train_tokens="1e8")
    assert "genlab scaling train --sizes 1e+06,4e+06 --tokens 1e+08 --corpus markov --device cpu" in out[6]
    assert out[:4] == ["", "", "", ""] and unchanged(out[8])   # no job started
    # the default grid: tens of seconds
    default = {f.name: f.default for f in scaling_train.TRAIN_FIELDS}
    req = scaling_train.train_request(dict(default, bootstrap=200, seed=0), "en", scaling.TRAIN_FIT_FIELDS)
    assert req.args is not None and req.runs == 9 and "about" in req.estimate
    assert scaling_train.train_seconds([(888, 1e4)]) < 60


def test_the_preview_says_the_estimate_and_the_command_in_both_languages(app):
    preview = app.genlab["callbacks"]["scaling-train-preview"]
    out = preview(*[TINY[n] for n in NAMES], "4", "0", "en")
    assert out[:4] == ["", "", "", ""] and "6 runs of up to 20000 tokens" in out[4]
    assert out[5] == ("genlab scaling train --sizes 1000,4000 --tokens 5120,10000,20000 --corpus markov --device cpu "
                      "--bootstrap 4 --seed 0")
    ja = preview(*[TINY[n] for n in NAMES], "4", "0", "ja")
    assert "6 個の実験" in ja[4]
    assert "は使えません" in preview("1e3", "100", "markov", "1", "4", "0", "ja")[1]   # the library's reason: English


# -- a tiny grid through the lab's store ---------------------------------------------------------------------------

def test_a_tiny_grid_trains_fills_the_runs_and_fits_as_the_cli(app, capsys, tmp_path):
    res, seen = train_to_end(app)
    assert seen and all("of 6 jobs done" in s or "waiting" in s or s == "" for s in seen), seen
    csv, status = res[6], res[8]
    assert res[7] == 1 and "6 runs: 6 trained now, 0 read back" in status   # the upload counter moves: a refit
    frame = pd.read_csv(io.StringIO(csv))
    assert list(frame.columns) == ["N", "N_total", "D", "loss", "seed"] and len(frame) == 6
    # the runs are fitted like pasted runs: the page's fit is the CLI's for the same grid
    page = call(app, scaling, csv=csv, bootstrap=4, seed=0)
    raw = page["scaling-raw.data"]
    assert raw["n_runs"] == 6 and page["scaling-csv-msg.children"] == ""
    command = press_train(app)[5]
    rc = main(shlex.split(command)[1:] + ["--json", "--out", str(tmp_path / "cli")])
    rec = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert sorted(r["loss"] for r in rec["runs"]) == sorted(frame["loss"])
    ch = rec["chinchilla"]
    assert {k: ch["values"][k] for k in raw["params"]} == raw["params"]
    assert {k: v for k, v in ch["intervals"].items() if k in raw["params"]} == \
        {k: v for k, v in raw["intervals"].items() if k in raw["params"]}
    # its records are in the lab's store, listed by `genlab runs ls`
    assert main(["runs", "ls", "--store", str(app.store), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 6 and {r["status"] for r in records} == {"done"}
    assert {r["config"]["tokens"] for r in records} == {5120.0, 1e4, 2e4}


def test_the_same_grid_again_is_read_back_without_training(app):
    res, _ = train_to_end(app)
    assert "6 runs: 0 trained now, 6 read back" in res[8]


def test_a_cancelled_grid_stops_and_resumes_from_the_store(app):
    grid = dict(train_sizes="1e3,4e3", train_tokens="5120,1e4,2e4,3e4", seed=1)
    res, _ = train_to_end(app, cancel_after=1, **grid)
    assert "Cancelled" in res[9] and unchanged(res[6])      # the runs shown stay
    res, _ = train_to_end(app, **grid)
    status = res[8]
    ran, cached = (int(status.split(": ", 1)[1].split(" trained")[0]),
                   int(status.split(", ", 1)[1].split(" read")[0]))
    assert cached >= 1 and ran >= 1 and ran + cached == 8, status


def test_the_page_shows_the_training_section_instead_of_the_shell_note(app):
    route = app.genlab["callbacks"]["route"]
    for search, words in (("", "Train transformers"), ("?lang=ja", "トランスフォーマーを学習する"),
                          ("?train_sizes=1e3,4e3&corpus=markov", "1e3,4e3")):
        page, _ = route("/scaling", search, None)
        text = json.dumps(page.to_plotly_json(), default=lambda o: o.to_plotly_json(), ensure_ascii=False)
        assert words in text and "scaling-train-progress" in text
        assert "--quick" not in text and "does not run them yet" not in text


# -- in a browser ---------------------------------------------------------------------------------------------------

def test_in_a_browser_a_tiny_grid_trains_and_is_fitted(lab_server, lab_browser):
    from genlab.analysis.scaling.identify import describe
    from genlab.analysis.scaling.sweep import scaling_sweep

    page = lab_browser("/scaling?bootstrap=0&train_sizes=1e3,4e3&train_tokens=5120,1e4,2e4&corpus=markov")
    numbers(page, "scaling")                                   # the sample runs' fit first
    page.wait_for_function("document.querySelector('#scaling-train-command').innerText.includes('--sizes 1000,4000')",
                           timeout=30_000)                     # the preview: the grid's command and estimate
    assert "6 runs of up to 20000 tokens" in page.inner_text("#scaling-train-info")
    page.click("#scaling-train")
    page.wait_for_selector("#scaling-train-progress", state="visible", timeout=30_000)
    page.wait_for_function("document.querySelector('#scaling-train-status').innerText.includes('6 runs')",
                           timeout=180_000)
    page.wait_for_function("Array.from(document.querySelectorAll('#scaling-numbers tr')).some("
                           "r => r.querySelector('th').innerText === 'runs' && r.querySelector('td').innerText === '6')",
                           timeout=60_000)                     # the refit: 6 runs (the sample has 16)
    rows = numbers(page, "scaling")
    assert page.input_value("#scaling-csv").startswith("N,N_total,D,loss,seed")
    # the library, for this grid, on the server's store (it reads the runs back) and fitted as the page fits
    res = scaling_sweep([1e3, 4e3], [5120, 1e4, 2e4], corpus="markov", device="cpu", seed=0, store=lab_server.store)
    assert res.n_ran == 0
    f = res.fit("chinchilla", bootstrap=0, seed=0)
    assert rows["α"] == describe("alpha", f.params["alpha"], None, f.identification.get("alpha")).split(" = ")[1]
    ja = lab_browser("/scaling?lang=ja")
    ja.wait_for_selector("text=トランスフォーマーを学習する", timeout=30_000)
    assert not page.outside and not page.errors and not ja.errors
