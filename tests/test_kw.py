"""Kohavi & Wolpert's (1996) decomposition of the 0-1 loss, beside Domingos': by hand, unbiasedness,
the identity on a real run, real data and the CLI."""

import json
from fractions import Fraction as F

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeClassifier

from genlab.analysis.biasvar import decompose, decompose_data
from genlab.analysis.biasvar.general import _class_terms, kw_terms
from genlab.cli.app import main
from genlab.core.errors import GenlabError
from genlab.data.sources import ClassificationSource, SyntheticSource, load_dataset

# -- by hand ---------------------------------------------------------------------------

# 3 classes, 4 test points, 5 training sets: PRED[d][x] is the class the fit on dataset d predicts at x
PRED = [[0, 1, 2, 0],
        [0, 1, 2, 1],
        [1, 1, 0, 2],
        [0, 2, 2, 0],
        [2, 1, 1, 1]]
PROBS = [[F(1, 2), F(3, 10), F(1, 5)],   # P(Y = y | x) at each test point
         [F(1, 10), F(4, 5), F(1, 10)],
         [F(1, 3), F(1, 3), F(1, 3)],
         [F(1), F(0), F(0)]]


def _by_hand(pred, probs):
    """Kohavi-Wolpert with Weka's correction, term by term in exact fractions: per-x (bias2, variance, noise)."""
    N, out = len(pred), []
    for x, p in enumerate(probs):
        q = [F(sum(1 for d in range(N) if pred[d][x] == y), N) for y in range(len(p))]
        bias2 = F(1, 2) * sum((p[y] - q[y]) ** 2 - q[y] * (1 - q[y]) / (N - 1) for y in range(len(p)))
        variance = F(1, 2) * (1 - sum(v * v for v in q)) * N / (N - 1)
        noise = F(1, 2) * (1 - sum(v * v for v in p))
        out.append((bias2, variance, noise))
    return out


def test_kw_terms_by_hand():
    hand = _by_hand(PRED, PROBS)
    # the first point worked out on paper: P̂ = (3/5, 1/5, 1/5), P = (1/2, 3/10, 1/5);
    # Σ(P − P̂)² = 1/50, Σ P̂(1 − P̂) = 14/25, so bias² = ½(1/50 − 14/25/4) = −3/50,
    # variance = ½·14/25·5/4 = 7/20, noise = ½(1 − 0.38) = 31/100; sum 3/5 = 1 − Σ P·P̂
    assert hand[0] == (F(-3, 50), F(7, 20), F(31, 100))
    pred, p = np.array(PRED), np.array(PROBS, dtype=float)
    tally = np.zeros((4, 1, 3))
    for row in pred:
        tally[np.arange(4), 0, row] += 1
    b2, v, s = kw_terms(tally[:, 0] / 5, p, 5)
    want = np.array(hand, dtype=float)                                # (x, term)
    np.testing.assert_allclose(np.stack([b2, v, s], axis=1), want, rtol=0, atol=1e-12)
    # the engine's reduction: averages over x, and the plain sum is the fits' mean expected 0-1 error
    t = _class_terms(tally, 5, p, "zero_one", "kohavi_wolpert")
    np.testing.assert_allclose([t["bias"][0], t["variance"][0], t["noise"][0]], want.mean(axis=0), atol=1e-12)
    error = np.mean([[1 - p[x, pred[d, x]] for x in range(4)] for d in range(5)])
    assert t["total"][0] == pytest.approx(error, abs=1e-12) and t["net_variance"] is None


def test_observed_label_bias_holds_the_noise():
    # on real data the target is the observed label: averaged over Y ~ P(y|x), that bias² term is
    # bias² + noise exactly (the variance does not see the label)
    q, p = np.array([[0.6, 0.2, 0.2], [0.1, 0.3, 0.6]]), np.array([[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    b2, v, s = kw_terms(q, p, 7)
    eye = np.eye(3)
    with_label = sum(p[:, y] * kw_terms(q, np.broadcast_to(eye[y], q.shape), 7)[0] for y in range(3))
    np.testing.assert_allclose(with_label, b2 + s, atol=1e-12)
    np.testing.assert_allclose(kw_terms(q, eye[[0, 2]], 7)[2], 0.0)


# -- unbiasedness -------------------------------------------------------------------------

def test_corrected_bias2_and_variance_are_unbiased():
    # the fits' predictions at each x are N draws from a known distribution π: the corrected terms'
    # mean over many replications hits ½Σ(P − π)² and ½(1 − Σπ²); the plug-in bias² is high by ½Σπ(1−π)/N
    g = np.random.default_rng(20240614)
    m, K, N, reps = 40, 3, 5, 4000
    pi = g.dirichlet(np.ones(K), m)
    p = g.dirichlet(np.ones(K), m)
    counts = g.multinomial(N, pi, size=(reps, m))                     # (reps, m, K)
    b2, v, _ = kw_terms(counts / N, p, N)
    b2, v = b2.mean(axis=1), v.mean(axis=1)                           # (reps,) averaged over x
    true_b2 = np.mean(0.5 * ((p - pi) ** 2).sum(axis=1))
    true_v = np.mean(0.5 * (1 - (pi ** 2).sum(axis=1)))
    se_b2, se_v = b2.std(ddof=1) / np.sqrt(reps), v.std(ddof=1) / np.sqrt(reps)
    assert abs(b2.mean() - true_b2) < 4 * se_b2
    assert abs(v.mean() - true_v) < 4 * se_v
    plug_in = np.mean(0.5 * ((p[None] - counts / N) ** 2).sum(axis=2), axis=1)
    assert plug_in.mean() - true_b2 > 20 * se_b2                      # the correction matters at N = 5


# -- the engine on a known source -------------------------------------------------------

@pytest.fixture(scope="module")
def kw_run():
    src = ClassificationSource(["1", "exp(3*x)", "2*x"], label_noise=0.1)
    models = [DecisionTreeClassifier(max_depth=d, random_state=0) for d in (1, 4)]
    kw = decompose(models, src, loss="zero_one", n_datasets=240, n_test=60, seed=5, definition="kohavi_wolpert")
    return src, kw


def test_kw_identity_on_a_classification_source(kw_run):
    src, res = kw_run
    # bias² + variance + noise is the measured 0-1 error: exactly (the error is E_y given each fit)
    np.testing.assert_allclose(res.per_dataset_error.mean(axis=0), res.total, rtol=0, atol=1e-12)
    assert np.all(np.abs(res.total - res.error) <= 3 * res.error_se)
    assert res.sum_terms is None and res.net_variance is None
    p = src.proba(res.x_test)
    assert res.noise[0] == pytest.approx(np.mean(0.5 * (1 - (p ** 2).sum(axis=1))), abs=1e-12)
    assert np.all(np.isfinite(res.bias2_se) & (res.variance_se > 0))
    assert res.variance[1] > res.variance[0]                          # a deep tree varies more than a stump
    assert res.config["definition"] == "kohavi_wolpert"
    frame = res.summary()
    assert {"bias2", "bias2_se", "noise"} <= set(frame.columns) and "net_variance" not in frame


def test_domingos_stays_the_default():
    src = ClassificationSource()
    res = decompose(DecisionTreeClassifier(max_depth=2, random_state=0), src, loss="zero_one", n_datasets=40,
                    n_test=30, seed=1)
    assert res.config["definition"] == "domingos" and "bias" in res.summary() and res.net_variance is not None


@pytest.mark.parametrize("call, match", [
    (lambda: decompose(DecisionTreeClassifier(), ClassificationSource(), loss="zero_one", definition="breiman"),
     "unknown definition 'breiman'; choose one of domingos, kohavi_wolpert"),
    (lambda: decompose(DecisionTreeClassifier(), ClassificationSource(), loss="cross_entropy",
                       definition="kohavi_wolpert"), "drop it for cross_entropy loss"),
    (lambda: decompose(Ridge(), SyntheticSource(), definition="domingos"), "drop it for squared loss"),
    (lambda: decompose_data(Ridge(), load_dataset("diabetes"), definition="kohavi_wolpert"),
     "drop it for squared loss"),
    (lambda: decompose_data(DecisionTreeClassifier(), load_dataset("wine"), loss="zero_one", definition="kw"),
     "unknown definition"),
])
def test_bad_definition(call, match):
    with pytest.raises(GenlabError, match=match) as exc:
        call()
    assert "\n" not in str(exc.value)


# -- real data ------------------------------------------------------------------------------

def test_kw_on_real_data_is_labelled_and_exact():
    data = load_dataset("wine")
    res = decompose_data(DecisionTreeClassifier(max_depth=3, random_state=0), data, method="bootstrap",
                         rounds=30, loss="zero_one", seed=3, definition="kohavi_wolpert")
    # (bias² + noise) + variance = the measured error of the rounds, exactly
    np.testing.assert_allclose(res.per_dataset_error.mean(axis=0), res.total, atol=1e-12)
    frame = res.summary()
    assert "bias2_incl_noise" in frame and "noise" not in frame
    assert res.config["definition"] == "kohavi_wolpert" and "Kohavi-Wolpert" in res.config["notes"][0]
    assert np.all(np.isfinite(res.bias2_se) & np.isfinite(res.variance_se))


# -- the CLI ------------------------------------------------------------------------------------

def run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


TREE = "sklearn.tree.DecisionTreeClassifier(max_depth=2)"


@pytest.mark.parametrize("args, bias", [
    (("--estimator", TREE, "--datasets", 60, "--n-test", 40), "bias2"),
    (("--data", "wine", "--estimator", TREE, "--method", "bootstrap", "--rounds", 10), "bias2_incl_noise"),
])
def test_cli_kw_json(tmp_path, capsys, monkeypatch, args, bias):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", "--loss", "zero_one", "--kw", *args, "--json")
    assert rc == 0, err
    record = json.loads(out)
    assert record["config"]["definition"] == "kohavi_wolpert"
    (model,) = record["models"]
    assert bias in model and f"{bias}_se" in model and "net_variance" not in model
    assert model["decomposition"] == pytest.approx(model["error"], abs=1e-12)


def test_cli_kw_table(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", "--loss", "zero_one", "--kw", "--estimator", TREE, "--datasets", 40,
                       "--n-test", 30)
    assert rc == 0, err
    assert "bias²" in out and "zero_one" in out


@pytest.mark.parametrize("args", [(), ("--loss", "cross_entropy", "--estimator",
                                      "sklearn.linear_model.LogisticRegression()")])
def test_cli_kw_needs_zero_one(tmp_path, capsys, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "biasvar", "--kw", *args, "--out", "o")
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genlab: error:") and "--kw would be ignored" in lines[0], err
    assert "--loss zero_one" in lines[0] and not (tmp_path / "o").exists()
