"""Lottery tickets (§5): masks, rewinding, the IMP trajectory and its controls, the sweep, the CLI, the section."""

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from genlab.analysis import lottery as L  # noqa: E402
from genlab.cli.app import main  # noqa: E402
from genlab.core.errors import GenlabError  # noqa: E402
from genlab.models.mlp import MLP, MLPConfig, as_tensors, evaluate  # noqa: E402
from genlab.data.splits import noisy_splits  # noqa: E402
from genlab.core.seeding import seed_sequence  # noqa: E402

torch.set_num_threads(1)   # as in the sweep's workers: threads oversubscribed on 2 cores are 30-100x slower

#: A sweep small enough to run in a few seconds (its numbers mean nothing).
TINY = dict(rounds=2, rate=0.5, seeds=2, width=16, epochs=3, n_train=200, n_val=100)


def _data(n_train=200, n_val=100):
    split = noisy_splits("digits", n_train=n_train, n_val=n_val, label_noise=0.0, seed=0, repeat=0)
    return as_tensors({k: split[k] for k in ("train", "val", "test")})


def _full_masks(model):
    return [torch.ones(w.shape, dtype=torch.bool) for w in model.weights()]


# --------------------------------------------------------------------------- masks

@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_magnitude_pruning_keeps_the_stated_share_per_layer(rate):
    model = MLP(MLPConfig(width=30, depth=2), seed=1)
    sizes = [w.numel() for w in model.weights()]
    rates = L.layer_rates(len(sizes), rate)
    assert rates == [rate, rate, rate / 2]                      # the output layer at half the rate
    masks, g = _full_masks(model), torch.Generator().manual_seed(0)
    for r in range(1, 7):
        with torch.no_grad():                                   # "training": move every weight a little
            for w in model.weights():
                w.add_(0.05 * torch.randn(w.shape, generator=g))
        old = masks
        masks = L.magnitude_masks(model.weights(), old, L.target_counts(sizes, rates, r))
        for w, m, m_old, n, p in zip(model.weights(), masks, old, sizes, rates):
            kept = int(m.sum())
            assert abs(kept / n - (1 - p) ** r) <= 0.5 / n + 1e-12  # (1 - p)^r within rounding
            assert not bool((m & ~m_old).any())                 # nested: a pruned weight stays pruned
            a = w.detach().abs()
            if kept < int(m_old.sum()):                         # the kept are the largest among survivors
                assert float(a[m].min()) >= float(a[m_old & ~m].max())


def test_random_masks_have_the_same_counts_and_are_nested():
    model = MLP(MLPConfig(width=30, depth=2), seed=1)
    sizes = [w.numel() for w in model.weights()]
    rng = np.random.default_rng(0)
    masks = _full_masks(model)
    for r in range(1, 4):
        counts = L.target_counts(sizes, L.layer_rates(3, 0.3), r)
        new = L.random_masks(masks, counts, rng)
        assert [int(m.sum()) for m in new] == counts
        assert all(not bool((m & ~o).any()) for m, o in zip(new, masks))
        masks = new


def test_training_keeps_pruned_weights_at_exactly_zero_and_rewinding_restores_the_start():
    data = _data()
    model = MLP(MLPConfig(width=32, depth=2), seed=3)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    masks = L.random_masks(_full_masks(model), L.target_counts([w.numel() for w in model.weights()],
                                                               L.layer_rates(3, 0.5), 2), np.random.default_rng(1))
    L.apply_masks(model, masks)
    loss0 = evaluate(model, data)["val"][0]
    run = L.train_masked(model, data, masks, epochs=4, lr=1e-2, batch_size=64, patience=None, seed=0,
                         snapshot_step=0)
    for w, m, w0 in zip(model.weights(), masks, (start["hidden.0.weight"], start["hidden.3.weight"],
                                                 start["head.weight"])):
        assert torch.count_nonzero(w[~m]) == 0                  # exactly zero, not merely small
        assert not torch.equal(w[m], w0[m])                     # ... while the others trained
    assert run.steps == 4 * math.ceil(200 / 64) and 0 <= run.stop_step <= run.steps
    assert run.val_loss < loss0 - 0.05                          # it learned something
    for k, v in run.snapshot.items():                           # snapshot_step=0 is the masked start
        expect = start[k]
        if k.endswith("weight"):
            expect = expect * masks[["hidden.0.weight", "hidden.3.weight", "head.weight"].index(k)]
        assert torch.equal(v, expect), k

    L.rewind(model, start, masks)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            assert torch.equal(p, start[name])                  # biases: back to their initial values
    for w, m, w0 in zip(model.weights(), masks, (start["hidden.0.weight"], start["hidden.3.weight"],
                                                 start["head.weight"])):
        assert torch.equal(w[m], w0[m])                         # survivors: exactly their initial values
        assert torch.count_nonzero(w[~m]) == 0


def test_snapshot_after_k_steps_and_a_rewind_past_the_end():
    data = _data()
    model = MLP(MLPConfig(width=16, depth=1), seed=0)
    start = [w.detach().clone() for w in model.weights()]
    run = L.train_masked(model, data, _full_masks(model), epochs=2, lr=3e-3, batch_size=64, patience=None, seed=0,
                         snapshot_step=3)
    snap = run.snapshot["hidden.0.weight"]
    assert not torch.equal(snap, start[0]) and not torch.equal(snap, model.weights()[0].detach())
    with pytest.raises(GenlabError, match="rewind"):
        L.train_masked(MLP(MLPConfig(width=16, depth=1), seed=0), data, _full_masks(model), epochs=1, lr=3e-3,
                       batch_size=64, patience=None, seed=0, snapshot_step=100)


@pytest.mark.parametrize("rewind", [0, 5])
def test_the_job_rewinds_tickets_and_random_masks_to_the_same_start(monkeypatch, rewind):
    calls = []
    original = L.train_masked

    def spy(model, data, masks, **kw):
        before = [w.detach().clone() for w in model.weights()]
        run = original(model, data, masks, **kw)
        calls.append({"before": before, "masks": [m.clone() for m in masks], "run": run,
                      "after": [w.detach().clone() for w in model.weights()]})
        return run

    monkeypatch.setattr(L.sweep, "train_masked", spy)          # the name lottery_job calls
    config = dict(L.lottery_settings(rounds=2, rate=0.5, rewind=rewind, width=16, depth=1, epochs=3, n_train=200,
                                      n_val=100),
                  repeat=0)
    out = L.lottery_job(config, seed_sequence(0, 7))
    dense, rounds = calls[0], [calls[1:4], calls[4:7]]           # per round: ticket, reinit, random
    start = dense["run"].snapshot                                # θ_k
    theta = [start["hidden.0.weight"], start["head.weight"]]
    if rewind == 0:
        assert all(torch.equal(a, b) for a, b in zip(theta, dense["before"]))
    for ticket, reinit, rnd in rounds:
        for c in (ticket, rnd):                                  # rewound: survivors at θ_k, the rest 0
            for w, m, w0 in zip(c["before"], c["masks"], theta):
                assert torch.equal(w[m], w0[m]) and torch.count_nonzero(w[~m]) == 0
        assert all(torch.equal(a, b) for a, b in zip(reinit["masks"], ticket["masks"]))   # same mask ...
        assert not torch.equal(reinit["before"][0][ticket["masks"][0]], theta[0][ticket["masks"][0]])  # new init
        assert [int(m.sum()) for m in rnd["masks"]] == [int(m.sum()) for m in ticket["masks"]]
        assert not all(torch.equal(a, b) for a, b in zip(rnd["masks"], ticket["masks"]))
        for c in (ticket, reinit, rnd):                          # pruned weights stayed exactly 0
            assert all(torch.count_nonzero(w[~m]) == 0 for w, m in zip(c["after"], c["masks"]))
    frac = out["series"]["fraction"]
    sizes = [64 * 16, 16 * 10]
    assert frac == [1.0] + [sum(L.target_counts(sizes, [0.5, 0.25], r)) / sum(sizes) for r in (1, 2)]
    assert out["series"]["nonzero"] == [int(sum(int(m.sum()) for m in c[0]["masks"])) for c in [[dense]] + rounds]


# --------------------------------------------------------------------------- the sweep

def test_same_seed_same_numbers_whatever_the_worker_count():
    a = L.lottery_sweep(**TINY, jobs=1)
    b = L.lottery_sweep(**TINY, jobs=2)
    for v in L.VARIANTS:
        assert np.array_equal(a.test_acc[v], b.test_acc[v]) and np.array_equal(a.stop_step[v], b.stop_step[v])
    assert a.to_dict() == b.to_dict()
    # the same job in this process gives the same numbers; another seed gives others
    config = dict(L.lottery_settings(**{k: v for k, v in TINY.items() if k != "seeds"}), repeat=0)
    job = L.lottery_job(config, seed_sequence(0, 1))
    assert L.lottery_job(config, seed_sequence(0, 1)) == job
    assert L.lottery_job(config, seed_sequence(0, 2))["series"]["ticket_test_acc"] != job["series"]["ticket_test_acc"]


def test_cli_writes_outputs_and_resumes_from_the_store(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["lottery", "--rounds", "2", "--rate", "0.5", "--seeds", "2", "--width", "16", "--epochs", "3",
            "--jobs", "1", "--json", "--out", "o"]
    assert main(args) == 0
    first = capsys.readouterr().out
    record = json.loads(first)
    assert record["command"] == "lottery" and set(record["thresholds"]) == set(L.VARIANTS)
    assert len(record["by_round"]) == 1 + 2 * 3 and record["sizes"][2]["nonzero_weights"] < record["dense_count"]
    names = {p.name for p in (tmp_path / "o").iterdir()}
    assert {"lottery.png", "lottery.svg", "lottery.csv", "lottery.json", "lottery_sizes.csv", "runs.sqlite"} <= names
    assert main(args) == 0
    assert capsys.readouterr().out == first                     # same numbers, from the store
    res = L.lottery_sweep(rounds=2, rate=0.5, seeds=2, width=16, epochs=3, store=tmp_path / "o" / "runs.sqlite")
    assert res.n_ran == 0 and res.n_cached == 2                 # nothing computed again


@pytest.mark.parametrize("args, match", [
    (("--rate", "0"), "rate must be a fraction in (0, 1)"),
    (("--rate", "1"), "rate must be a fraction in (0, 1)"),
    (("--rate", "1.5"), "rate must be a fraction in (0, 1)"),
    (("--rounds", "-1"), "rounds must be an integer >= 1"),
    (("--rounds", "0"), "rounds must be an integer >= 1"),
    (("--rewind", "-3"), "rewind must be an integer >= 0"),
    (("--rewind", "100000"), "past the end of training"),
    (("--width", "0"), "width must be"),
    (("--seeds", "0"), "seeds must be"),
    (("--variants", "ticket,lucky"), "variants"),
    (("--jobs", "0"), "--jobs"),
])
def test_bad_input_is_one_line_and_exit_2_and_writes_nothing(tmp_path, capsys, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    rc = main(["lottery", *args, "--out", "o"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("genlab: error:") and err.count("\n") == 1 and match in err, err
    assert not (tmp_path / "o").exists()


def test_library_checks():
    with pytest.raises(GenlabError, match=r"rate must be a fraction in \(0, 1\)"):
        L.lottery_sweep(rate=-0.1)
    with pytest.raises(GenlabError, match="validation"):
        L.lottery_settings(n_val=0)
    with pytest.raises(GenlabError, match="not a bundled classification set"):
        L.lottery_settings("diabetes")


def test_thresholds_on_known_numbers():
    fraction = np.array([1.0, 0.5, 0.25, 0.125, 0.0625])
    dense = np.array([0.95, 0.96, 0.94, 0.95])[:, None]
    noise = np.array([0.001, -0.001, 0.002, -0.002])[:, None]          # paired s.e. about 0.0009
    ticket = dense + noise + np.array([0, -0.002, 0.0, -0.003, -0.004])   # within the 1-point margin
    reinit = dense + noise + np.array([0, -0.03, 0.0, -0.02, -0.05])      # a dip at round 1, then down from 3
    random = dense + noise + np.array([0, -0.005, -0.02, -0.04, -0.08])   # down from round 2
    acc = {"ticket": ticket, "reinit": reinit, "random": random}
    res = L.LotteryResult(fraction=fraction, nonzero=(1000 * fraction).astype(int), dense_count=1000, n_params=1050,
                          test_acc=acc, val_acc=acc, train_acc=acc, stop_step={v: 0 * a for v, a in acc.items()},
                          n_test=500)
    th = res.thresholds
    assert th["ticket"]["falls_below_at"] is None and th["ticket"]["holds_down_to"] == 0.0625
    assert th["reinit"]["falls_below_at"] == 0.125 and th["reinit"]["holds_down_to"] == 0.25
    assert th["reinit"]["isolated_dips"] == [1]
    assert th["random"]["falls_below_at"] == 0.25 and th["random"]["compression"] == 2.0
    s = res.summary()
    assert list(s.loc[s.variant == "random", "below_dense"]) == [False, True, True, True]
    assert s.loc[s.variant == "dense", "test_acc_mean"].item() == pytest.approx(0.95)
    sizes = res.size_table()
    assert list(sizes["effective_params"]) == [1050, 550, 300, 175, 112]
    wide = L.LotteryResult(**{**res.__dict__, "margin": 0.1})          # a 10-point margin: nothing falls
    assert all(t["falls_below_at"] is None for t in wide.thresholds.values())


def test_lottery_result_follows_the_results_protocol():
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from genlab.core.results import Result

    acc = {"ticket": np.array([[0.95, 0.94, 0.93], [0.96, 0.95, 0.9]])}
    res = L.LotteryResult(fraction=np.array([1.0, 0.5, 0.25]), nonzero=np.array([100, 50, 25]), dense_count=100,
                          n_params=110, test_acc=acc, val_acc=acc, train_acc=acc,
                          stop_step={"ticket": 0 * acc["ticket"]}, n_test=300)
    assert isinstance(res, Result) and isinstance(res.summary(), pd.DataFrame)
    assert res.to_frame().equals(res.summary())
    json.dumps(res.to_dict())
    assert isinstance(res.plot(Figure().add_subplot()), Axes)
    assert "<svg" in res._repr_html_()


# --------------------------------------------------------------------------- the section: tickets are real

@pytest.fixture(scope="module")
def quick_section(tmp_path_factory):
    from genlab.article.sections.lottery import section

    store = tmp_path_factory.mktemp("lottery") / "runs.sqlite"
    return section(quick=True, jobs=2, store=store), store


def test_ticket_matches_dense_and_controls_fall_below(quick_section):
    sec, _ = quick_section
    res = sec.results["lottery"]
    rows = {(r["variant"], r["round"]): r for r in res["by_round"]}
    # at ~27% of the weights (round 2 of rate 0.5) the ticket is within the seed spread of dense
    t2 = rows[("ticket", 2)]
    assert abs(t2["fraction_remaining"] - 0.27) < 0.02
    assert not t2["below_dense"]
    assert t2["diff_vs_dense_mean"] > -max(2 * t2["diff_vs_dense_se"], 0.01)
    # at the lowest fraction (~4.6%) the re-initialized ticket is clearly below dense, and below the ticket
    last = max(r for _, r in rows)
    re, tk = rows[("reinit", last)], rows[("ticket", last)]
    assert re["fraction_remaining"] < 0.06
    assert re["below_dense"] and re["diff_vs_dense_mean"] < -0.02
    assert re["test_acc_mean"] < tk["test_acc_mean"] - 2 * math.hypot(re["test_acc_se"], tk["test_acc_se"])
    th = res["thresholds"]
    assert th["ticket"]["holds_down_to"] <= min(th["reinit"]["holds_down_to"], th["random"]["holds_down_to"], 0.3)


def test_section_has_figures_numbers_and_both_languages(quick_section):
    from genlab.article.sections.lottery import section

    sec, store = quick_section
    assert sec.key == "lottery" and len(sec.paragraphs) == 2
    assert [f.key for f in sec.figures] == ["lottery", "lottery_sizes"]   # figure files are named by key
    assert all(f.fig is not None and len(f.data) > 0 and "{" not in f.caption for f in sec.figures)
    keys = {n.key for n in sec.numbers}
    assert {"dense_acc", "ticket_holds_down_to", "reinit_acc_at_last", "ticket_compression"} <= keys
    dense = next(n for n in sec.numbers if n.key == "dense_acc")
    assert 0.85 < dense.value < 1 and 0 < dense.se < 0.05
    ja = section(quick=True, lang="ja", jobs=1, store=store)    # from the store: nothing recomputed
    assert any("\u3040" <= ch <= "\u30ff" for ch in ja.title + ja.figures[0].caption)
    assert ja.results == sec.results


def test_the_report_figure_has_a_slider_over_the_rounds(quick_section):
    from genlab.article.report.interactive import to_dict

    sec, _ = quick_section
    fig = to_dict(sec.figures[0].plotly)
    steps = fig["layout"]["sliders"][0]["steps"]
    rounds = len(sec.results["lottery"]["sizes"])
    assert len(steps) == rounds and sec.figures[0].hint
    assert fig["layout"]["xaxis"]["type"] == "log"
    # each step moves the markers to that round's accuracies, and its title names them
    ticket = [r for r in sec.results["lottery"]["by_round"] if r["variant"] == "ticket"]
    last = steps[-1]["args"]
    assert f"{ticket[-1]['test_acc_mean']:.3f}" in last[1]["title.text"]
    assert steps[0]["args"][0]["y"] != last[0]["y"]
