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


# --------------------------------------------------------------------------- the pruning point

def test_train_masked_returns_the_weights_at_the_end_of_training():
    data, kw = _data(), dict(epochs=12, lr=0.1, batch_size=64, patience=None, seed=0)   # overfits: stops at 36
    steps = 12 * math.ceil(200 / 64)
    ref = L.train_masked(MLP(MLPConfig(width=16, depth=1), seed=0), data,
                         _full_masks(MLP(MLPConfig(width=16, depth=1), seed=0)), snapshot_step=steps, **kw)
    model = MLP(MLPConfig(width=16, depth=1), seed=0)
    run = L.train_masked(model, data, _full_masks(model), keep_final=True, **kw)
    assert run.steps == steps and run.stop_step < steps          # early stopping chose an earlier point
    assert all(torch.equal(a, ref.snapshot[k]) for a, k in zip(run.final_weights, ("hidden.0.weight", "head.weight")))
    assert not torch.equal(run.final_weights[0], model.weights()[0].detach())   # the model holds the early-stopped
    assert run.test_acc == ref.test_acc                          # ... and reports them, whatever is kept
    assert L.train_masked(MLP(MLPConfig(width=16, depth=1), seed=0), data, _full_masks(model),
                          **kw).final_weights is None


def _fake_training(calls):
    """A stand-in for train_masked whose early-stopped ("best") and final weights rank in opposite orders."""
    def fake(model, data, masks, *, seed, snapshot_step=None, keep_final=False, **kw):
        start = L.masks.state(model)
        g = torch.Generator().manual_seed(int(seed) % 2 ** 31)
        best = [(torch.rand(w.shape, generator=g) + 0.1) * m for w, m in zip(model.weights(), masks)]
        final = [torch.where(m, 1.0 / b, torch.zeros(())) for b, m in zip(best, masks)]   # the reverse ranking
        with torch.no_grad():
            for w, b in zip(model.weights(), best):
                w.copy_(b)                                         # the model holds the early-stopped weights
        calls.append({"masks": [m.clone() for m in masks], "best": best, "final": final})
        run = L.MaskedRun(test_acc=0.9, val_acc=0.9, train_acc=0.9, val_loss=0.1, stop_step=1, steps=2,
                          snapshot=start if snapshot_step == 0 else None)
        run.final_weights = [f.clone() for f in final] if keep_final else None
        return run
    return fake


@pytest.mark.parametrize("prune_from", ["default", "final", "best", "old config"])
def test_the_next_round_prunes_the_final_weights_unless_asked_for_the_early_stopped_ones(monkeypatch, prune_from):
    calls = []
    monkeypatch.setattr(L.sweep, "train_masked", _fake_training(calls))
    settings = dict(rounds=3, rate=0.5, width=16, depth=1, epochs=3, n_train=200, n_val=100, variants="ticket")
    if prune_from in ("final", "best"):
        settings["prune_from"] = prune_from
    config = dict(L.lottery_settings(**settings), repeat=0)
    if prune_from == "old config":                               # a store row from before the option: "best"
        del config["prune_from"]
    L.lottery_job(config, seed_sequence(0, 3))
    follows = "best" if prune_from in ("best", "old config") else "final"
    other = {"best": "final", "final": "best"}[follows]
    sizes = [64 * 16, 16 * 10]
    assert len(calls) == 4                                        # dense, then the ticket of rounds 1-3
    for r in (1, 2, 3):
        before, now = calls[r - 1], calls[r]
        counts = L.target_counts(sizes, [0.5, 0.25], r)
        expect = L.magnitude_masks(before[follows], before["masks"], counts)
        assert all(torch.equal(a, b) for a, b in zip(now["masks"], expect)), (r, follows)
        unlike = L.magnitude_masks(before[other], before["masks"], counts)
        assert not torch.equal(now["masks"][0], unlike[0])         # the two rules differ here


def test_the_pruning_rule_is_part_of_the_config_and_checked():
    assert L.lottery_settings()["prune_from"] == "final"
    assert L.lottery_settings(prune_from="best")["prune_from"] == "best"
    for bad in ("last", "", None, "Final"):
        with pytest.raises(GenlabError, match="prune_from must be 'final'"):
            L.lottery_settings(prune_from=bad)
    with pytest.raises(GenlabError, match=r"alpha must be a level in \(0, 1\)"):
        L.lottery_sweep(alpha=0)


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
    stem = "lottery_rounds=2_rate=0.5_seeds=2_width=16_epochs=3"      # the options changed from their defaults
    assert names == {f"{stem}.png", f"{stem}.svg", f"{stem}.csv", f"{stem}.json", f"{stem}_sizes.csv", "runs.sqlite"}
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
    (("--prune-from", "last"), "prune_from must be 'final'"),
    (("--prune-from", ""), "prune_from must be 'final'"),
    (("--jobs", "0"), "--jobs"),
])
def test_bad_input_is_one_line_and_exit_2_and_writes_nothing(tmp_path, capsys, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    rc = main(["lottery", *args, "--out", "o"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("genlab: error:") and err.count("\n") == 1 and match in err, err
    assert not (tmp_path / "o").exists()


def test_cli_prune_from_best_is_its_own_run_and_says_the_rule(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["lottery", "--rounds", "2", "--rate", "0.5", "--seeds", "2", "--width", "16", "--epochs", "3",
            "--jobs", "1", "--out", "o"]
    assert main([*args, "--prune-from", "best", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["prune_from"] == "best"
    assert main(args) == 0                                      # the default, final, is not taken from the store
    out = capsys.readouterr().out
    assert "prune the final weights" in out
    assert "one-sided paired t-test over 2 repeats (1 d.f.), Holm-corrected over the 2 rounds" in out
    store = tmp_path / "o" / "runs.sqlite"
    for rule in ("best", "final"):
        res = L.lottery_sweep(rounds=2, rate=0.5, seeds=2, width=16, epochs=3, prune_from=rule, store=store)
        assert res.n_ran == 0 and res.n_cached == 2 and res.config["prune_from"] == rule


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


def _paired(dense, t_values, means, n=5):
    """Accuracies whose paired differences from ``dense`` have exactly these means and t statistics."""
    z = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])[:n]
    z = (z - z.mean()) / z.std(ddof=1)                                 # sample s.d. 1
    cols = [np.zeros(n)] + [m + (m / t) * math.sqrt(n) * z for t, m in zip(t_values, means)]
    return dense[:, None] + np.stack(cols, axis=1)


def test_below_dense_is_a_holm_corrected_t_test_checked_by_hand():
    from scipy.stats import t as student

    dense = np.array([0.95, 0.96, 0.94, 0.95, 0.97])
    t_values, means = [-2.2, -2.5, -12.0, -8.0, -9.0], [-0.02, -0.03, -0.05, -0.08, -0.004]
    acc = _paired(dense, t_values, means)
    fraction = 0.5 ** np.arange(6)
    res = L.LotteryResult(fraction=fraction, nonzero=(1000 * fraction).astype(int), dense_count=1000, n_params=1050,
                          test_acc={"ticket": acc}, val_acc={"ticket": acc}, train_acc={"ticket": acc},
                          stop_step={"ticket": 0 * acc}, n_test=500)
    test = res.below_test("ticket")
    assert test["t"][1:] == pytest.approx(t_values) and test["df"] == 4

    # by hand: Holm over the m = 5 rounds, at familywise 5%, with the t quantiles for 5 - 1 = 4 d.f.
    m, alpha = 5, 0.05
    order = np.argsort(t_values)                                     # smallest p first: rounds 3, 5, 4, 2, 1
    rejected = []
    for k, i in enumerate(order):
        if t_values[i] < -student.ppf(1 - alpha / (m - k), 4):       # -3.75, -3.50, -3.19, -2.78, -2.13
            rejected.append(i + 1)
        else:
            break
    assert rejected == [3, 5, 4]                                     # round 2 (t = -2.5 > -2.78) stops the steps
    assert student.ppf(1 - 0.05 / 2, 4) == pytest.approx(2.776, abs=1e-3)
    p = student.cdf(t_values, 4)
    p_holm = np.maximum.accumulate(np.minimum(1, (m - np.arange(m)) * p[order]))
    assert test["p_holm"][1:][order] == pytest.approx(p_holm)
    # round 5 passes the test but its mean drop (0.4 point) is within the margin: below = rounds 3 and 4
    assert list(res.below_dense("ticket")) == [False, False, False, True, True, False]
    # the old rule (mean < -max(2 s.e., 1 point)) called rounds 1-4 below: t = -2.2 and -2.5 are beyond 2 s.e.
    old = test["mean"] < -np.maximum(2 * test["se"], 0.01)
    assert list(old[1:]) == [True, True, True, True, False]
    th = res.thresholds["ticket"]
    assert th["falls_below_round"] is None and th["holds_round"] == 5 and th["isolated_dips"] == [3, 4]
    assert res.rule() == {"test": "one-sided paired t-test of the difference from dense", "df": 4,
                          "correction": "holm", "rounds_tested": 5, "alpha": 0.05, "margin": 0.01}
    loose = L.LotteryResult(**{**res.__dict__, "alpha": 0.2})          # another level: rounds 1 and 2 too
    assert list(loose.below_dense("ticket")) == [False, True, True, True, True, False]
    assert L.results.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


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
    from scipy.stats import t as student

    sec, store = quick_section
    res = sec.results["lottery"]
    assert res["config"]["prune_from"] == "final"                # the paper's pruning point, by default
    assert res["below_dense_rule"]["correction"] == "holm" and res["below_dense_rule"]["df"] == 2
    rows = {(r["variant"], r["round"]): r for r in res["by_round"]}
    # at ~27% of the weights (round 2 of rate 0.5) the ticket is not below dense, nor near it
    t2 = rows[("ticket", 2)]
    assert abs(t2["fraction_remaining"] - 0.27) < 0.02
    assert not t2["below_dense"] and t2["diff_vs_dense_p_holm"] > 0.05 and t2["diff_vs_dense_mean"] > -0.01
    # at the lowest fraction (~4.3%) the random mask is below dense (Holm over the 5 rounds, 2 d.f.); the
    # re-initialized ticket is 2 points or more below dense and below the ticket (paired t-test, 2 d.f.);
    # 3 repeats are too few for Holm's first step (t < -6.96) to call it below dense as well
    last = max(r for _, r in rows)
    re, tk, rnd = rows[("reinit", last)], rows[("ticket", last)], rows[("random", last)]
    assert re["fraction_remaining"] < 0.06
    assert rnd["below_dense"] and re["diff_vs_dense_mean"] < -0.02
    lr = L.lottery_sweep("digits", quick=True, store=store)     # the same sweep, from the store
    assert lr.n_ran == 0
    d = lr.test_acc["reinit"][:, last] - lr.test_acc["ticket"][:, last]
    assert d.mean() / (d.std(ddof=1) / math.sqrt(d.size)) < -student.ppf(0.95, d.size - 1)
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
