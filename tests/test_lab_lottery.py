"""`genlab lab`, §5: the lottery-ticket rounds as a store job of the lab.

The page's callback is called directly, as the server calls it: hostile values are refused under their field
and nothing else changes; a tiny sweep runs as a job of the lab's results store with its progress, its
numbers are those of `genlab lottery` run through the CLI for the same options, its records are in the store
(`genlab runs ls`), a second identical request is served without training, and a cancelled sweep resumes from
the repeats it finished. A browser loads the page with a tiny sweep in its link, sees the progress and the
library's number, and the Japanese page. Sizes are tiny: an MLP of 16 units, 3 epochs, 2 rounds.
"""

from __future__ import annotations

import json
import shlex
import time

import pytest
from labkit import call, lab_browser, lab_server, numbers, store_app, unchanged  # noqa: F401

from genlab.cli.app import main
from genlab.lab.pages import lottery

TINY = dict(rounds=2, rate=0.5, seeds=2, epochs=3, width=16, depth=1, seed=3)
LINK = "&".join(f"{k}={v}" for k, v in TINY.items())


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    lottery.CACHE.clear()
    return store_app(tmp_path_factory, "lab-lottery")



def poll(app, job, lang="en", **raw):
    """The page's poll callback as its timer calls it, with the tab's controls."""
    values = [raw.get(f.name, f.default) for f in lottery.FIELDS if f.control != "hidden"]
    return app.genlab["callbacks"]["lottery-poll"](1, job, lang, *values)


def run_job(app, raw: dict, *, cancel_after=None, timeout=240.0):
    """Start the page's sweep for ``raw`` and poll it to its end: (last outputs, progress texts seen); with
    ``cancel_after``, cancel it once that many repeats are done."""
    out = call(app, lottery, **raw)
    job = out["lottery-job.data"]
    assert job and out["lottery-poll.disabled"] is False and unchanged(out["lottery-raw.data"])
    assert out["lottery-general.children"] == ""
    seen, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        res = poll(app, job, **raw)
        if res[-6] is None:        # the job's id is cleared when it ends
            return res, seen
        seen.append(res[-3])
        if cancel_after is not None and app.genlab["jobs"]._jobs[job].done >= cancel_after:
            assert app.genlab["callbacks"]["lottery-cancel"](1, job) == "…"
            cancel_after = None
        time.sleep(0.1)
    raise AssertionError(f"the sweep did not end in {timeout} s: {seen[-3:]}")


def raw_of(res) -> dict:
    return res[len(lottery.GRAPHS) + 2]


def shown(rows) -> dict:
    return {r.children[0].children: r.children[1].children for r in rows}


# -- bad and hostile values: a message under the field, no job, nothing else changes ----------------------------

HOSTILE = [
    ("rate", float("nan"), ["finite"]),
    ("rate", 1.0, ["fraction in (0, 1)"]),
    ("rate", "__import__('os').system('true')", ["number"]),
    ("rounds", 10**12, ["genlab's limit"]),
    ("rounds", 100, ["lab's limit", "genlab lottery --rounds 100"]),
    ("rounds", None, ["integer"]),
    ("seeds", [1, 2], ["integer"]),
    ("seeds", "1e400", ["finite"]),
    ("width", 10**400, ["genlab's limit"]),
    ("epochs", -3, ["at least 1"]),
    ("rewind", 10**5, ["past the end of training"]),
    ("variants", "ticket,__import__", ["choose distinct names"]),
    ("variants", "x" * (10 * 2**20), ["characters long"]),
    ("variants", {"$ne": 1}, ["text"]),
    ("prune_from", "os.system", ["final, best"]),
    ("data", "wine", ["digits"]),
    ("seed", 2**80, ["genlab's limit"]),
]


@pytest.mark.parametrize("field, value, words", HOSTILE)
def test_bad_values_are_refused_under_their_field(app, field, value, words):
    out = call(app, lottery, **{field: value})
    msg = out[f"lottery-{field}-msg.children"]
    for word in words:
        assert word in msg, msg
    assert out["lottery-general.children"] == ""
    assert out["lottery-job.data"] is None and out["lottery-poll.disabled"] is True   # no job started
    for k, v in out.items():
        if k.endswith((".figure", "-numbers.children", "-raw.data", "-command.children", "-url.search")):
            assert unchanged(v), k


def test_a_sweep_past_the_lab_s_hour_is_refused_with_the_command(app):
    out = call(app, lottery, width=2000, seeds=20, rounds=30, epochs=1000)
    msg = out["lottery-general.children"]
    assert "genlab lottery --rounds 30 --rate 0.5 --seeds 20 --epochs 1000 --width 2000 --seed 0" in msg
    assert out["lottery-job.data"] is None
    assert lottery.seconds({f.name: f.default for f in lottery.FIELDS}) < 60   # the default: tens of seconds


# -- a tiny sweep through the lab's store --------------------------------------------------------------------------

def test_a_sweep_runs_in_the_store_and_equals_the_cli(app, capsys, tmp_path):
    res, seen = run_job(app, TINY)
    assert seen and all("of 2 jobs done" in s or "waiting" in s or "Starting" in s for s in seen), seen
    raw = raw_of(res)
    assert raw["n_ran"] == 2 and raw["n_cached"] == 0
    command = res[len(lottery.GRAPHS) + 3]
    assert command == "genlab lottery --rounds 2 --rate 0.5 --seeds 2 --epochs 3 --width 16 --depth 1 --seed 3"
    # the same command through the CLI, in a store of its own: the same numbers
    rc = main(shlex.split(command)[1:] + ["--json", "--out", str(tmp_path / "cli")])
    rec = json.loads(capsys.readouterr().out)
    assert rc == 0
    for key in ("dense_test_acc_mean", "dense_test_acc_se", "thresholds", "by_round", "sizes", "below_dense_rule"):
        assert raw[key] == rec[key], key
    rows = shown(res[len(lottery.GRAPHS)])
    assert rows["as genlab lottery prints it"].startswith(
        f"dense {rec['dense_test_acc_mean']:.3f} ± {rec['dense_test_acc_se']:.3f} (1,184 weights")
    # its records are in the lab's store, listed by `genlab runs ls`
    assert main(["runs", "ls", "--store", str(app.store), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in records] == ["done", "done"] and {r["config"]["width"] for r in records} == {16}
    # the library on the lab's store reads them back: the page's sweep is the library's for these options
    from genlab.analysis.lottery import lottery_sweep

    lib = lottery_sweep(rounds=2, rate=0.5, seeds=2, epochs=3, width=16, depth=1, seed=3, store=app.store)
    assert lib.n_ran == 0 and lib.to_dict()["thresholds"] == raw["thresholds"]


def test_the_same_setting_again_is_served_without_training(app):
    if lottery.config(dict({f.name: f.default for f in lottery.FIELDS}, **TINY)) not in lottery.CACHE:
        run_job(app, TINY)                                 # (when this test runs alone)
    out = call(app, lottery, **TINY)                       # the cache: at once, no job
    assert out["lottery-job.data"] is None and out["lottery-raw.data"]["n_ran"] == 2
    ja = call(app, lottery, lang="ja", **TINY)
    assert any("密なネットワーク" in label for label in shown(ja["lottery-numbers.children"]))
    lottery.CACHE.clear()                                  # a restarted server: the store, no training
    res, _ = run_job(app, TINY)
    assert raw_of(res)["n_ran"] == 0 and raw_of(res)["n_cached"] == 2
    assert raw_of(res)["thresholds"] == out["lottery-raw.data"]["thresholds"]


def test_a_cancelled_sweep_stops_and_resumes_from_the_store(app):
    setting = dict(TINY, seeds=6, epochs=5, seed=4)
    res, seen = run_job(app, setting, cancel_after=1)
    t = time.monotonic()
    assert "Cancelled" in res[len(lottery.GRAPHS) + 5]
    assert unchanged(raw_of(res))                          # the numbers stay those of the last finished view
    assert time.monotonic() - t < 5
    res, _ = run_job(app, setting)
    raw = raw_of(res)
    assert raw["n_cached"] >= 1 and raw["n_ran"] + raw["n_cached"] == 6 and raw["n_ran"] >= 1


def test_the_page_renders_in_both_languages(app):
    route = app.genlab["callbacks"]["route"]
    for search in ("", "?lang=ja", "?" + LINK, "?rounds=1e99&rate=nan"):
        page, _ = route("/lottery", search, None)
        text = json.dumps(page.to_plotly_json(), default=lambda o: o.to_plotly_json(), ensure_ascii=False)
        assert "genlab lottery" in text and "lottery-progress" in text
    assert "宝くじ" in json.dumps(route("/lottery", "?lang=ja", None)[0].to_plotly_json(),
                                  default=lambda o: o.to_plotly_json(), ensure_ascii=False)


# -- in a browser ---------------------------------------------------------------------------------------------------

def test_in_a_browser_a_tiny_sweep_shows_progress_and_the_library_number(lab_server, lab_browser):
    from genlab.analysis.lottery import lottery_sweep

    page = lab_browser("/lottery?" + LINK)
    page.wait_for_selector("#lottery-progress", state="visible", timeout=60_000)
    shown = page.inner_text("#lottery-progress")   # read once: the bar moves on between two reads
    assert "jobs done" in shown or "Starting" in shown, shown
    # the numbers come when the sweep ends (torch's import in each worker and the training take seconds on a
    # quiet machine, over a minute beside the rest of the suite on 2 cores)
    rows = numbers(page, "lottery", timeout=240_000)
    page.wait_for_selector("#lottery-progress", state="hidden", timeout=30_000)
    # the library, for these options, on the server's store: it reads the sweep's records back (trains nothing)
    lib = lottery_sweep(rounds=2, rate=0.5, seeds=2, epochs=3, width=16, depth=1, seed=3, store=lab_server.store)
    assert lib.n_ran == 0
    lib = lib.to_dict()
    label = next(k for k in rows if k.startswith("dense network"))
    assert rows[label] == f"{lib['dense_test_acc_mean']:.3f} ± {lib['dense_test_acc_se']:.3f}"
    assert "genlab lottery --rounds 2" in page.inner_text("#lottery-command")
    ja = lab_browser("/lottery?lang=ja&" + LINK)                 # the server's cache: at once
    rows = numbers(ja, "lottery")
    assert any("密なネットワーク" in k for k in rows)
    assert not page.outside and not page.errors and not ja.errors
