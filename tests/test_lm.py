"""Language models for scaling laws: the transformer, the corpora, training, the sweep, the CLI."""

import json
import math

import numpy as np
import pytest
import torch

from genlab.cli.app import main
from genlab.data.corpora import MarkovChain, load_corpus, markov_corpus, text_corpus
from genlab.core.errors import GenlabError
from genlab.analysis.scaling.lm import lr_at, train
from genlab.analysis.scaling.sweep import scaling_sweep
from genlab.models.transformer import GPT, GPTConfig, config_for_size, non_embedding_params, size_ladder

TINY = GPTConfig(vocab_size=10, block_size=8, n_layer=2, n_head=2, n_embd=8)


@pytest.fixture(scope="module")
def markov():
    return markov_corpus(length=60_000)


# -- the model ------------------------------------------------------------------------------------

def test_forward_shapes_and_loss_at_init_is_log_vocab():
    cfg = GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=2, n_embd=32)
    m = GPT(cfg, seed=0)
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(50, (4, 16), generator=g)
    tgt = torch.randint(50, (4, 16), generator=g)
    logits, loss = m(idx, tgt)
    assert logits.shape == (4, 16, 50) and loss.ndim == 0
    assert loss.item() == pytest.approx(math.log(50), abs=0.05)     # small init: near-uniform predictions
    logits, loss = m(idx[:, :5])
    assert logits.shape == (4, 5, 50) and loss is None
    assert torch.equal(m.lm_head.weight, m.wte.weight) and m.lm_head.weight is m.wte.weight   # tied


def test_causal_mask_future_tokens_do_not_change_the_past():
    m = GPT(TINY, seed=1).eval()
    idx = torch.randint(10, (2, 8), generator=torch.Generator().manual_seed(2))
    changed = idx.clone()
    changed[:, 5] = (changed[:, 5] + 3) % 10
    a, _ = m(idx)
    b, _ = m(changed)
    assert torch.allclose(a[:, :5], b[:, :5], atol=1e-6, rtol=0)
    assert (a[:, 5:] - b[:, 5:]).abs().max() > 1e-4          # and the token itself does matter from t = 5 on


def test_n_params_non_embedding_by_hand():
    m = GPT(TINY, seed=0)
    d, L, V, T = 8, 2, 10, 8
    per_block = (2 * d) + (d * 3 * d + 3 * d) + (d * d + d) + (2 * d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
    want = L * per_block + 2 * d                              # blocks + final LayerNorm
    assert m.n_params() == want == non_embedding_params(L, d) == 1760
    assert m.n_params(non_embedding=False) == want + V * d + T * d   # tied head counted once
    nb = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=2, n_head=2, n_embd=8, bias=False), seed=0)
    assert nb.n_params() == non_embedding_params(2, 8, bias=False) == L * 12 * d * d + L * 2 * d + d
    assert m.flops_per_token() == 6 * want
    assert m.flops_per_token(exact=True) > 6 * want


def test_size_ladder_spans_1e3_to_1e6_at_a_fixed_aspect():
    targets = (1e3, 4e3, 1.6e4, 6.4e4, 2.5e5, 1e6)
    ladder = size_ladder(targets, vocab_size=100, block_size=64)
    ns = [non_embedding_params(c.n_layer, c.n_embd) for c in ladder]
    assert all(a < b for a, b in zip(ns, ns[1:]))
    for t, n, c in zip(targets, ns, ladder):
        assert abs(math.log(n / t)) < math.log(1.6), (t, n)
        assert c.n_embd % c.n_head == 0 and 4 <= c.n_embd / c.n_layer <= 40
    with pytest.raises(GenlabError, match="same transformer"):
        size_ladder((1e4, 1.05e4), vocab_size=100, block_size=64)
    with pytest.raises(GenlabError, match="> 0"):
        config_for_size(-5, vocab_size=100, block_size=64)


# -- corpora ---------------------------------------------------------------------------------------

def test_markov_entropy_rate_matches_a_long_sample():
    chain = MarkovChain.random(8, order=2, concentration=0.3, seed=4)
    pi = chain.stationary
    # pi is stationary: one step of the context chain leaves it unchanged
    A, R = 8, 8
    nxt = np.einsum("ar,arj->rj", pi.reshape(A, R), chain.P.reshape(A, R, A)).reshape(-1)
    assert np.abs(nxt - pi).max() < 1e-12
    x = chain.sample(200_000, seed=5)
    nll = chain.nll(x)
    batches = nll[: nll.size // 100 * 100].reshape(100, -1).mean(axis=1)   # batch means: the chain is correlated
    se = batches.std(ddof=1) / math.sqrt(100)
    H = chain.entropy_rate
    assert abs(nll.mean() - H) < 4 * se, (nll.mean(), H, se)
    # uniform weights over contexts would be a different number, and the test could tell
    wrong = float(-(chain.P * np.log(chain.P)).sum(axis=1).mean())
    assert abs(wrong - H) > 4 * se
    # the plug-in conditional entropy of the sample agrees too (Miller-Madow bias correction)
    ctx = chain.contexts(x)
    counts = np.zeros((A * R, A))
    np.add.at(counts, (ctx, x[2:]), 1)
    rows = counts.sum(axis=1, keepdims=True)
    p = np.where(counts > 0, counts / np.maximum(rows, 1), 1.0)
    plug = -(counts * np.log(p)).sum() / counts.sum() + ((counts > 0).sum() - A * R) / (2 * counts.sum())
    assert abs(plug - H) < 4 * se


def test_markov_corpus_is_deterministic_with_a_held_out_tail(markov):
    again = markov_corpus(length=60_000)
    assert np.array_equal(markov.train, again.train) and np.array_equal(markov.val, again.val)
    assert markov.train.size + markov.val.size == 60_000 and markov.val.size == 6000
    other = markov_corpus(length=60_000, seed=1)
    assert not np.array_equal(markov.train[:100], other.train[:100])
    assert markov.entropy_rate < markov.unigram_entropy() < markov.uniform_loss


def test_python_corpus_and_text_files(tmp_path):
    c = load_corpus("python")
    assert c.vocab_size > 60 and c.train.size > 300_000 and c.val.size > 30_000
    assert c.decode(c.train[:200]) in "\n\n".join(__import__("pydoc_data.topics").topics.topics[k].strip()
                                                   for k in sorted(__import__("pydoc_data.topics").topics.topics))
    f = tmp_path / "t.txt"
    f.write_text("the quick brown fox jumps over the lazy dog. " * 100, encoding="utf-8")
    t = text_corpus(f)
    assert t.decode(t.val[:5]) == t.decode(np.concatenate([t.train, t.val]))[t.train.size:t.train.size + 5]
    for content, match in ((b"", "empty"), (b"abc" * 10, "at least"), (b"\x00\x01\x02" * 1000, "binary"),
                           (b"\xff\xfe" * 2000, "not UTF-8")):
        f.write_bytes(content)
        with pytest.raises(GenlabError, match=match):
            text_corpus(f)
    with pytest.raises(GenlabError, match="does not exist"):
        text_corpus(tmp_path / "missing.txt")


# -- training --------------------------------------------------------------------------------------

def _tiny(corpus, **kw):
    cfg = GPTConfig(vocab_size=corpus.vocab_size, block_size=32, n_layer=1, n_head=1, n_embd=16)
    return train(cfg, corpus, **{"tokens": 150 * 8 * 32, "lr": 1e-2, "device": "cpu", "n_evals": 2, **kw})


def test_a_tiny_run_lowers_the_validation_loss(markov):
    run = _tiny(markov)
    assert run.eval_steps[0] == 0 and run.eval_steps[-1] == run.steps
    start, end = run.eval_loss[0], run.val_loss
    assert start == pytest.approx(math.log(32), abs=0.05)
    assert end < markov.unigram_entropy() - 0.2              # it learned the context, not only frequencies
    assert end > markov.entropy_rate - 0.02                  # and cannot beat the entropy rate
    assert run.train_loss.shape == (run.steps,) and run.tokens_per_s > 0


def test_training_is_deterministic_given_the_seed(markov):
    a = _tiny(markov, tokens=30 * 8 * 32, seed=3)
    b = _tiny(markov, tokens=30 * 8 * 32, seed=3)
    c = _tiny(markov, tokens=30 * 8 * 32, seed=4)
    assert np.array_equal(a.train_loss, b.train_loss) and a.val_loss == b.val_loss
    assert not np.array_equal(a.train_loss, c.train_loss)


def test_cosine_schedule_ends_exactly_at_the_budget(markov):
    steps, warmup, lr, lo = 50, 5, 1e-2, 1e-3
    rates = [lr_at(s, steps=steps, warmup=warmup, lr=lr, min_lr=lo) for s in range(steps)]
    assert rates[0] == pytest.approx(lr / warmup) and rates[warmup - 1] == pytest.approx(lr)
    assert rates[warmup] == pytest.approx(lr) and rates[-1] == pytest.approx(lo, rel=1e-12)
    assert all(a >= b for a, b in zip(rates[warmup:], rates[warmup + 1:]))
    assert rates[-2] > lo
    run = _tiny(markov, tokens=40 * 8 * 32 + 17, lr=lr, min_lr=lo, warmup=4)   # rounds to 40 steps
    assert run.steps == 40 and run.tokens == 40 * 8 * 32 and run.flops == 6 * run.n_params * run.tokens
    assert run.lr.shape == (40,) and run.lr[-1] == pytest.approx(lo, rel=1e-12) and run.lr[-2] > lo
    with pytest.raises(GenlabError, match="smallest sensible run"):
        _tiny(markov, tokens=100)


# -- the sweep and the CLI ------------------------------------------------------------------------------

SIZES = (1e3, 3.3e3, 1.5e4)
BUDGETS = (5e3, 1.2e4)


def test_sweep_resumes_from_the_store_and_feeds_the_fits(tmp_path):
    from genlab.analysis.scaling import fit

    kw = dict(corpus="markov", batch_size=8, block_size=32, eval_batches=2, n_evals=2, device="cpu",
              store=tmp_path / "runs.sqlite", jobs=1)
    first = scaling_sweep(SIZES, BUDGETS, **kw)
    fr = first.to_frame()
    assert first.n_ran == 6 and len(fr) == 6
    assert {"N", "D", "C", "loss", "N_total", "wall_s", "tokens_per_s"} <= set(fr.columns)
    assert np.allclose(fr["C"], 6 * fr["N"] * fr["D"]) and (fr["N"] < fr["N_total"]).all()
    assert sorted(set(fr["N"])) == sorted(non_embedding_params(c.n_layer, c.n_embd) for c in
                                          size_ladder(SIZES, vocab_size=16, block_size=32))
    second = scaling_sweep(SIZES, BUDGETS, **kw)
    assert second.n_ran == 0 and second.n_cached == 6
    from genlab.core.results import Result

    assert isinstance(first, Result) and first.summary().equals(fr)   # the results protocol
    json.dumps(first.to_dict())
    assert second.to_frame()["loss"].tolist() == fr["loss"].tolist()
    ch = first.fit("chinchilla", bootstrap=2, n_starts=4)
    assert set(ch.params) == {"E", "A", "alpha", "B", "beta"} and ch.boot_params.shape == (2, 5)
    again = fit(fr["N"], fr["D"], fr["loss"], "chinchilla", bootstrap=0, n_starts=4, holdout=False)
    assert again.params == pytest.approx(ch.params)
    size = first.fit_size("power_N", bootstrap=3)
    assert size.params["alpha"] > 0 and len(size.loss) == 3
    # the larger budget of each size is no worse (runs of a size share init and data order)
    for n, g in fr.groupby("N"):
        assert g.sort_values("D")["loss"].iloc[-1] <= g.sort_values("D")["loss"].iloc[0] + 0.02


def test_cli_train_writes_its_outputs(tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["scaling", "train", "--sizes", ",".join(map(str, SIZES)), "--tokens", ",".join(map(str, BUDGETS)),
               "--corpus", "markov", "--block-size", "32", "--jobs", "1", "--bootstrap", "3", "--device", "cpu",
               "--json", "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    record = json.loads(cap.out)
    assert record["L_of_N"]["form"] == "power_N" and record["chinchilla"]["form"] == "chinchilla"
    assert record["entropy_rate"] == pytest.approx(markov_corpus().entropy_rate)
    for stem in ("scaling_kaplan_fig15", "scaling_size", "scaling_curves", "scaling_isoflop", "scaling_frontier"):
        assert (out / f"{stem}.png").stat().st_size > 0 and (out / f"{stem}.svg").exists()
    assert (out / "runs.sqlite").exists() and (out / "scaling_train.json").exists()
    rc = main(["scaling", "fit", str(out / "runs.csv"), "--bootstrap", "0", "--json", "--out", str(tmp_path / "f")])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert json.loads(cap.out)["n_runs"] == 6


@pytest.mark.parametrize("args, match", [
    (("--tokens", "100"), "smallest sensible run"),
    (("--corpus", "shakespeare"), "unknown corpus"),
    (("--sizes", "-5,1e3"), "must be numbers > 0"),
    (("--sizes", "1e3,abc"), "separated by commas"),
    (("--device", "tpu"), "unknown device"),
    (("--sizes", "1e12"), "above the largest"),
])
def test_cli_train_bad_input_is_one_line_exit_2(tmp_path, capsys, args, match):
    rc = main(["scaling", "train", "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and match in err and err.count("\n") == 1, err


# -- the report section ------------------------------------------------------------------------------

def test_section_text_has_the_same_keys_and_fields_in_both_languages():
    import string
    import tomllib
    from importlib import resources

    tables = {lang: tomllib.loads(resources.files("genlab.article.report").joinpath("text", lang, "scaling.toml")
                                  .read_text("utf-8"))["scaling"] for lang in ("en", "ja")}
    assert set(tables["en"]) == set(tables["ja"])
    for key, en in tables["en"].items():
        if isinstance(en, str):
            fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}   # noqa: E731
            assert fields(en) == fields(tables["ja"][key]), key
        else:
            assert len(en) == len(tables["ja"][key]), key


def test_section_quick_on_tiny_sweeps(monkeypatch, tmp_path):
    import genlab.article.sections.scaling as exp
    import genlab.analysis.scaling.sweep as sweep

    monkeypatch.setattr(sweep, "QUICK_SIZES", SIZES)
    monkeypatch.setattr(sweep, "QUICK_TOKENS", (5e3, 1.2e4, 2.5e4))
    monkeypatch.setattr(exp, "MARKOV_SIZES", SIZES)
    monkeypatch.setattr(exp, "MARKOV_TOKENS", (5e3, 1.2e4))
    monkeypatch.setattr(exp, "BOOTSTRAP_QUICK", 4)
    sec = exp.section(quick=True, jobs=1, store=tmp_path / "runs.sqlite")
    assert sec.key == "scaling"
    assert [f.key for f in sec.figures] == ["fig15", "measured", "curves", "isoflop", "frontier", "markov"]
    nums = {n.key: n for n in sec.numbers}
    assert nums["alpha_N"].article == 0.076 and nums["alpha_N"].interval is not None
    # a number for each quantity the runs identify; the others the captions say are not identified
    summary = sec.results["summary"]
    identified = {"markov_E": summary["markov_E_identified"],
                  "markov_E_saturating": summary["markov_E_saturating_identified"]}
    for fit in ("chinchilla", "chinchilla_total"):
        identified.update({f"{fit}_{k}": summary[fit]["identified"][k] for k in ("alpha", "beta", "E", "a")})
    assert {k for k, ok in identified.items() if ok} == set(nums) & set(identified)
    assert "markov_H_eval" in nums
    assert abs(nums["markov_H_eval"].value - nums["markov_entropy_rate"].value) < 4 * nums["markov_H_eval"].se
    assert nums["markov_entropy_rate"].value == pytest.approx(markov_corpus().entropy_rate)
    assert "{" not in " ".join(f.caption for f in sec.figures)         # every field filled in
    from genlab.article.report.interactive import to_dict

    measured = to_dict(next(f for f in sec.figures if f.key == "measured").plotly)
    steps = measured["layout"]["sliders"][0]["steps"]
    assert len(steps) == 3 and measured["layout"]["xaxis"]["type"] == "log"   # one step per token budget
    assert steps[0]["args"][0]["y"] != steps[-1]["args"][0]["y"]              # the points move with D
    json.dumps(sec.results, default=float)
    ja = exp.section(quick=True, lang="ja", jobs=1, store=tmp_path / "runs.sqlite")   # from the store
    assert ja.results["python"]["n_ran"] == 0 and ja.title.startswith("§4.3")


def test_eval_floor_is_the_true_chain_on_the_evaluation_windows(markov):
    from genlab.analysis.scaling.lm import _windows, eval_floor

    floor, se, n = eval_floor(markov, block_size=16, batch_size=4, n_batches=3)
    assert n == 12 * 16  # every target of every window (order 1: each has its predecessor)
    starts = _windows(markov.val.size, 16, 12)
    by_hand = np.mean([-np.log(markov.chain.P[markov.val[s + t], markov.val[s + t + 1]])
                       for s in starts for t in range(16)])
    assert floor == pytest.approx(by_hand, rel=1e-12)
    # an estimate of H from a few hundred tokens: within its standard error of the exact rate
    assert abs(floor - markov.entropy_rate) < 4 * se and se > 0
    with pytest.raises(GenlabError, match="Markov corpus only"):
        eval_floor("python")
