"""Honest statistics at the tails: Hill's index and its interval, the verdicts, the tail theory of
least-squares polynomials, and the identity check's standard error against brute force."""

import numpy as np
import pytest

from genlab.analysis.biasvar import decompose_polynomial
from genlab.analysis.biasvar.tails import (asymptotic_index, extrapolation_share, local_index,
                                          polynomial_tail_theory, window_for)
from genlab.core.stats import VERDICTS, hill_k, running_means, tail_index, tail_verdict
from genlab.data.sources import ARTICLE_SOURCE


def test_hill_interval_covers_a_pareto_index_at_its_level():
    rng = np.random.default_rng(0)
    reps = 300
    for alpha in (0.5, 1.5, 3.0):
        x = rng.pareto(alpha, (reps, 4000)) + 1.0            # exactly Pareto above 1
        t = tail_index(x, axis=1)
        assert t["k"] == 63
        cover = np.mean((t["lo"] < alpha) & (alpha < t["hi"]))
        assert abs(cover - 0.95) < 3 * np.sqrt(0.95 * 0.05 / reps)
        # the estimate is unbiased to O(1/k) under Pareto: mean of k/(k-1)... within 3 s.e. of the spread
        assert abs(np.mean(t["index"]) - alpha * t["k"] / (t["k"] - 1)) < 3 * np.std(t["index"]) / np.sqrt(reps)


def test_hill_index_by_hand():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    t = tail_index(x, k=2)                                    # top 2 over the 3rd largest, 4
    h = (np.log(16 / 4) + np.log(8 / 4)) / 2
    assert t["index"] == pytest.approx(1 / h)
    assert hill_k(100) == 10 and hill_k(10_000) == 100 and hill_k(5) == 4
    assert np.isnan(tail_index(np.zeros(50))["index"])       # no positive tail: no index


def test_verdicts_from_intervals():
    lo = np.array([2.5, 1.5, 1.2, 0.8, 0.3, 0.7, np.nan])
    hi = np.array([3.0, 2.5, 1.8, 1.5, 0.9, 2.4, np.nan])
    assert tail_verdict(lo, hi) == ["finite variance", "finite mean, variance borderline",
                                    "finite mean, infinite variance", "infinite variance, mean borderline",
                                    "infinite mean", "undetermined", "undetermined"]


def test_running_means_double():
    x = np.arange(1, 8001, dtype=float)
    n, m = running_means(x, smallest=1000)
    assert list(n) == [1000, 2000, 4000, 8000]
    assert m == pytest.approx([500.5, 1000.5, 2000.5, 4000.5])


def test_theory_thresholds_at_n_30():
    th = polynomial_tail_theory(range(0, 30), n=30, n_datasets=100_000, k=316)
    v = th["verdict"]
    assert all(v[d] == "finite variance" for d in range(0, 8))          # (n-1)/(2d) > 2
    assert all(v[d] == "finite mean, infinite variance" for d in range(8, 15))
    assert all(v[d] == "infinite mean" for d in range(15, 30))
    assert asymptotic_index(30, 29) == 0.5 and np.isnan(asymptotic_index(30, 30))
    # the window reached by N datasets, and the local index there: half the asymptotic one or less
    a = window_for(1e-5, 30)
    assert 30 * a ** 29 - 29 * a ** 30 == pytest.approx(1e-5, rel=1e-9)
    assert local_index(a, 30, 8) < 0.6 * asymptotic_index(30, 8)
    assert local_index(1e-9, 30, 8) == pytest.approx(asymptotic_index(30, 8), rel=1e-6)


@pytest.fixture(scope="module")
def article_run():
    return decompose_polynomial(ARTICLE_SOURCE, range(0, 30), n_datasets=20_000, seed=0, jobs=2)


def test_measured_verdicts_at_n_30(article_run):
    """What 20,000 datasets show: heavier than the asymptotic theory (see tails.py), with the local theory's
    band overlapping the measured interval wherever the window mechanism sets the sampled tail."""
    r = article_run
    v = r.tail["verdict"]
    assert all(v[d] == "finite variance" for d in range(0, 4))
    assert v[5] == "finite mean, infinite variance"
    assert all(v[d] == "infinite mean" for d in range(8, 27))
    th = r.tail_theory
    mid = slice(4, 26)
    assert np.all((r.tail["lo"][mid] <= th["local_hi"][mid]) & (r.tail["hi"][mid] >= th["local_lo"][mid]))
    # the asymptotic index lies above the measured interval from degree 5 on: finite N sees heavier tails
    assert np.all(th["index"][5:26] > r.tail["hi"][5:26])
    # standard errors are withheld exactly where the variance is not finite
    frame = r.summary()
    assert list(frame["se_valid"]) == [x == "finite variance" for x in v]
    assert frame["error_se"].isna().tolist() == [x != "finite variance" for x in v]


def test_infinite_mean_running_means_jump_and_finite_variance_ones_settle(article_run):
    r = article_run
    n, m = r.tail["running_n"], r.tail["running_mean"]
    assert n[-1] == 20_000
    d1, d16 = m[:, 1], m[:, 16]
    assert np.ptp(d1[-3:]) < 4 * r.error_se[1] * np.sqrt(20_000 / n[-3])
    assert d16.max() / d16.min() > 3          # under an infinite mean the running mean keeps jumping


def test_extrapolation_dominates_degree_8(article_run):
    e = extrapolation_share(article_run, ARTICLE_SOURCE, seed=0)
    p = 2 * 0.9 ** 30 - 0.8 ** 30                          # P(no point within 0.1 of an end)
    assert abs(e["fraction"] - p) < 4 * np.sqrt(p * (1 - p) / 20_000)
    assert e["share"][8] > 0.9 and e["share"][1] < 0.2


def test_identity_standard_error_against_brute_force():
    """The s.e. of (bias² + variance + noise − error) is that of the per-dataset difference: over 40
    independent runs its spread matches the reported s.e.; the old sum of four s.e.s was several times
    larger."""
    diff, se, old = [], [], []
    for seed in range(40):
        r = decompose_polynomial(ARTICLE_SOURCE, range(0, 4), n_datasets=2000, seed=seed)
        diff.append(r.total - r.error)
        se.append(r.identity_se)
        old.append(np.sqrt(r.bias2_se ** 2 + r.variance_se ** 2 + r.noise_se ** 2 + r.error_se ** 2))
    sd = np.std(diff, axis=0, ddof=1)
    ratio = sd / np.mean(se, axis=0)
    tol = 3 / np.sqrt(2 * 39)                                   # the s.e. of a standard deviation from 40 runs
    assert np.all(np.abs(ratio - 1) < tol), ratio
    assert np.all(np.mean(old, axis=0) > 2 * sd)


def test_identity_is_exact_apart_from_the_fresh_noise(article_run):
    r = article_run
    assert r.bias2 + r.variance == pytest.approx(r.per_dataset_dist.mean(axis=0), rel=1e-9, abs=1e-15)
    assert np.isnan(r.identity_z[16]) and np.isfinite(r.identity_z[:4]).all()   # no z for an infinite mean


def test_bias2_unresolved_and_plugin(article_run):
    r = article_run
    frame = r.summary()
    assert frame["bias2_plugin"].to_numpy() == pytest.approx(r.bias2 + r.variance / r.n_datasets)
    assert frame["bias2_resolved"][1] and not frame["bias2_resolved"][2]   # the line is biased; the quadratic not


def test_verdict_names_are_stable():
    assert VERDICTS[0] == "finite variance" and VERDICTS[4] == "infinite mean"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_report_section_states_thresholds_measurement_and_mechanism(lang):
    from genlab.article.sections.biasvar import section

    sec = section(quick=True, lang=lang)
    nums = {n.key: n for n in sec.numbers}
    assert nums["theory_infinite_variance"].value == 8 and nums["theory_infinite_mean"].value == 15
    assert 3 <= nums["first_infinite_variance"].value < 8            # measured: heavier than the theory
    assert nums["first_infinite_mean"].value < 15
    assert nums["extrapolation_share_degree8"].value > 0.9
    assert nums["error_degree30_mean"].se is None                      # no s.e. under an infinite mean
    assert "tails" in [f.key for f in sec.figures]
    text = " ".join(sec.paragraphs + [f.caption for f in sec.figures])
    assert "{" not in text and "converged" not in text


def test_a_bounded_zero_one_error_keeps_its_standard_errors():
    """Hill's estimate means nothing for a loss in [0, 1] (its top values tie): the verdict is finite variance."""
    from sklearn.tree import DecisionTreeClassifier

    from genlab.analysis.biasvar import decompose
    from genlab.data.sources import ClassificationSource

    res = decompose(DecisionTreeClassifier(max_depth=2, random_state=0), ClassificationSource(),
                    loss="zero_one", n_datasets=200, seed=0)
    assert res.tail["verdict"] == ["finite variance"] and res.se_valid.all()
    assert np.isfinite(res.summary()["error_se"]).all()
