"""The classification losses of a crossed table (genlab.analysis.crossed.losses): Domingos' 0-1 decomposition
and the Bregman decomposition of the cross-entropy, from the class probabilities the squared split reads.

Checked: the exact identities on random tables (with ties, exact zeros and a known source's noise), a
brute-force computation point by point, the independent implementation of genlab.biasvar's estimator
decomposition, hand-made cases with known answers (ties, identical fits), the jackknife s.e., the result's
columns and JSON, and refusals.
"""

import json
from collections import Counter

import numpy as np
import pytest

from genlab import GenlabError
from genlab.analysis.crossed import crossed_decomposition
from genlab.analysis.crossed.losses import PROB_FLOOR, cross_entropy_terms, zero_one_terms

ZO = ("error", "bias", "variance", "v_unbiased", "v_biased", "net_variance")


def _table(rng, shape, C, *, ties=False, zeros=False):
    """Class probabilities (*shape, n, C); with ``ties``, from a coarse grid (argmax and mode ties happen);
    with ``zeros``, many exact zeros."""
    if ties:
        P = rng.integers(0, 3, size=(*shape, C)).astype(float)
        P[..., 0] += (P.sum(axis=-1) == 0)
    else:
        P = rng.dirichlet(np.full(C, 0.3), size=shape)
    if zeros:
        P = np.where(rng.random(P.shape) < 0.3, 0.0, P)
        P[..., 0] += (P.sum(axis=-1) == 0)
    return P / P.sum(axis=-1, keepdims=True)


def _labels(rng, n, C):
    return np.eye(C)[rng.integers(0, C, n)]


def _brute_zero_one(T, y):
    """Domingos' terms point by point, from the definitions (mode with the lowest class on ties; c as a
    conditional frequency)."""
    fits = T.reshape(-1, *T.shape[-2:])
    F, n, C = fits.shape
    out = {k: 0.0 for k in ZO}
    for t in range(n):
        pred = [int(np.flatnonzero(f[t] == f[t].max())[0]) for f in fits]   # lowest class on ties
        counts = Counter(pred)
        top = max(counts.values())
        ym = min(c for c, m in counts.items() if m == top)
        truth = int(np.argmax(y[t]))
        B = float(ym != truth)
        off = [p for p in pred if p != ym]
        V = len(off) / F
        c = (sum(p == truth for p in off) / len(off)) if off else 0.0
        out["error"] += np.mean([p != truth for p in pred]) / n
        out["bias"] += B / n
        out["variance"] += V / n
        out["v_unbiased"] += (1 - B) * V / n
        out["v_biased"] += B * c * V / n
    out["net_variance"] = out["v_unbiased"] - out["v_biased"]
    return out


def _brute_cross_entropy(T, y):
    """The Bregman terms from the definitions: π̄ the normalized geometric mean, KL(π̄ ‖ π_f) fit by fit."""
    fits = np.maximum(T.reshape(-1, *T.shape[-2:]), PROB_FLOOR)
    fits = fits / fits.sum(axis=-1, keepdims=True)
    F, n, C = fits.shape
    err = bias = var = 0.0
    for t in range(n):
        g = np.exp(np.log(fits[:, t]).mean(axis=0))
        pbar = g / g.sum()
        truth = int(np.argmax(y[t]))
        err += np.mean([-np.log(f[t, truth]) for f in fits]) / n
        bias += -np.log(pbar[truth]) / n
        var += np.mean([np.sum(pbar * np.log(pbar / f[t])) for f in fits]) / n
    return {"error": err, "bias": bias, "variance": var}


# -- the identities ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, C, ties, zeros", [((3, 4), 3, False, False), ((2, 2), 2, True, False),
                                                   ((5, 3), 10, False, True), ((3, 3, 2), 4, True, True),
                                                   ((4, 6, 3), 5, False, False)])
def test_identities_hold_exactly_on_random_tables(shape, C, ties, zeros):
    rng = np.random.default_rng(sum(shape) + C)
    n = 25
    T = _table(rng, (*shape, n), C, ties=ties, zeros=zeros)
    y = _labels(rng, n, C)
    z, ce = zero_one_terms(T, y), cross_entropy_terms(T, y)
    assert abs(z["bias"] + z["v_unbiased"] - z["v_biased"] - z["error"]) <= 1e-12
    assert z["noise"] == 0.0 and ce["noise"] == 0.0                         # one-hot labels: no noise term
    assert abs(ce["bias"] + ce["variance"] - ce["error"]) <= 1e-12 * ce["error"]
    assert 0 <= z["v_biased"] <= z["bias"] <= 1 and 0 <= z["variance"] <= 1 and ce["variance"] >= -1e-15
    res = crossed_decomposition(T, y_test=y, outputs=True, classes=True)
    assert res.loss_residual("zero_one") <= 1e-12 and res.loss_residual("cross_entropy") <= 1e-12


def test_identities_with_a_known_source_and_its_noise():
    """Against P(y | x) the error is the expected error over y ~ P(y | x); Domingos' noise term and the entropy
    make the identities exact."""
    rng = np.random.default_rng(7)
    R, S, n, C = 4, 3, 30, 3
    T = _table(rng, (R, S, n), C)
    p = rng.dirichlet(np.ones(C), size=n)
    z, ce = zero_one_terms(T, p), cross_entropy_terms(T, p)
    pred = np.argmax(T, axis=-1)
    assert z["error"] == pytest.approx(np.mean(1 - p[np.arange(n), pred]), abs=1e-14)
    assert abs(z["noise"] + z["bias"] + z["net_variance"] - z["error"]) <= 1e-12
    assert ce["noise"] == pytest.approx(np.mean(-(p * np.log(p)).sum(axis=1)), rel=1e-12)
    assert abs(ce["noise"] + ce["bias"] + ce["variance"] - ce["error"]) <= 1e-12 * ce["error"]
    assert ce["bias"] >= 0                                                     # KL(p ‖ π̄)
    res = crossed_decomposition(T, y_mean=p, outputs=True, classes=True)
    assert res.mode == "source" and res.loss_residual("zero_one") <= 1e-12
    assert "zero_one_noise" in res.summary().columns and "cross_entropy_bias" in res.summary().columns


# -- against independent computations -------------------------------------------------------------------

@pytest.mark.parametrize("ties", [False, True])
def test_terms_match_a_brute_force_computation(ties):
    rng = np.random.default_rng(11 + ties)
    T = _table(rng, (3, 4, 1, 15), 4, ties=ties)
    y = _labels(rng, 15, 4)
    got, want = zero_one_terms(T, y), _brute_zero_one(T, y)
    for k in ZO:
        assert got[k] == pytest.approx(want[k], abs=1e-14), k
    got, want = cross_entropy_terms(T, y), _brute_cross_entropy(T, y)
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-10), k


def test_agrees_with_the_estimator_decomposition_of_genlab_biasvar():
    """genlab.analysis.biasvar's Domingos and Heskes terms (a separate implementation, from tallies of fits
    against P(y | x)) give the same numbers for the same fits."""
    from genlab.analysis.biasvar.general import _class_terms

    rng = np.random.default_rng(5)
    R, S, n, C = 3, 4, 20, 3
    T = rng.dirichlet(np.ones(C), size=(R, S, 1, n))
    p = rng.dirichlet(np.ones(C), size=n)
    fits = T.reshape(-1, n, C)
    assert fits.min() > 1e-9                                                   # no clipping in either
    pred = np.argmax(fits, axis=-1)
    tally = (pred[..., None] == np.arange(C)).sum(axis=0)[:, None, :].astype(float)   # (m, M=1, C)
    ref = _class_terms(tally, fits.shape[0], p, "zero_one")
    z = zero_one_terms(T, p)
    assert z["bias"] == pytest.approx(ref["bias"][0], abs=1e-14)
    assert z["variance"] == pytest.approx(ref["variance"][0], abs=1e-14)
    assert z["net_variance"] == pytest.approx(ref["net_variance"][0], abs=1e-14)
    assert z["error"] == pytest.approx(ref["total"][0], abs=1e-14)
    ref = _class_terms(np.log(fits).sum(axis=0)[:, None, :], fits.shape[0], p, "cross_entropy")
    ce = cross_entropy_terms(T, p)
    for k, r in (("bias", "bias"), ("variance", "variance"), ("noise", "noise")):
        assert ce[k] == pytest.approx(ref[r][0], rel=1e-10), k


# -- known answers -------------------------------------------------------------------------------------

def test_ties_go_to_the_lowest_class():
    """Four fits at one point: two say class 2, two class 1 (one of them by a tie between classes 1 and 2):
    the main prediction is class 1, the lowest of the tied modes."""
    fits = np.array([[0.1, 0.2, 0.7], [0.0, 0.5, 0.5], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8]])
    T = fits.reshape(2, 2, 1, 1, 3)
    z = zero_one_terms(T, np.eye(3)[[2]])                                     # truth 2: the main prediction is wrong
    assert z["bias"] == 1.0 and z["variance"] == 0.5 and z["error"] == 0.5
    assert z["v_biased"] == 0.5 and z["v_unbiased"] == 0.0                    # c = 1: every other fit says 2
    z = zero_one_terms(T, np.eye(3)[[1]])                                     # truth 1: right, variance adds
    assert (z["bias"], z["v_unbiased"], z["v_biased"], z["error"]) == (0.0, 0.5, 0.0, 0.5)


def test_identical_fits_have_no_variance():
    rng = np.random.default_rng(3)
    one = _table(rng, (12,), 4)
    T = np.broadcast_to(one, (3, 3, 1, 12, 4))
    y = _labels(rng, 12, 4)
    z, ce = zero_one_terms(T, y), cross_entropy_terms(T, y)
    assert z["variance"] == 0 and z["net_variance"] == 0 and z["bias"] == z["error"]
    assert abs(ce["variance"]) < 1e-13 and ce["bias"] == pytest.approx(ce["error"], rel=1e-12)


def test_zeros_are_clipped_at_the_floor_and_counted():
    rng = np.random.default_rng(4)
    T = _table(rng, (3, 3, 10), 3, zeros=True)
    y = _labels(rng, 10, 3)
    res = crossed_decomposition(T, y_test=y, outputs=True, classes=True)
    ce = res.cross_entropy
    assert np.isfinite(ce["error"]).all() and ce["error"][0] <= -np.log(PROB_FLOOR) + 1e-9
    assert res.config["probabilities_clipped"] == int((T == 0).sum()) > 0
    assert res.config["probability_floor"] == PROB_FLOOR and res.loss_residual("cross_entropy") < 1e-12


# -- standard errors, the result, refusals -----------------------------------------------------------------

def test_standard_errors_are_the_delete_one_level_jackknife():
    from genlab.analysis.crossed.anova import jackknife

    rng = np.random.default_rng(8)
    R, S, n, C = 4, 3, 20, 3
    T = _table(rng, (R, S, 1, n), C)
    y = _labels(rng, n, C)
    est, se = jackknife(T, y, 0.0, [1], classes=True)
    want = 0.0
    for ax, m in ((0, R), (1, S)):
        r = np.array([cross_entropy_terms(np.delete(T, i, axis=ax), y)["variance"] for i in range(m)])
        want += (m - 1) / m * ((r - r.mean()) ** 2).sum()
    assert se["cross_entropy_variance"] == pytest.approx(np.sqrt(want), rel=1e-12)
    assert all(np.isfinite(se[f"zero_one_{k}"]) for k in ZO)
    _, se2 = jackknife(T[:2], y, 0.0, [1], classes=True)                       # 2 data draws: none
    assert np.isnan(se2["zero_one_error"])


def test_result_columns_and_json():
    rng = np.random.default_rng(9)
    T = _table(rng, (3, 3, 2, 12), 3)
    y = _labels(rng, 12, 3)
    res = crossed_decomposition(T, y_test=y, outputs=True, classes=True)
    assert res.classification and res.K == 2
    cols = set(res.summary().columns)
    assert {"zero_one_error", "zero_one_bias_incl_noise", "zero_one_net_variance_se", "cross_entropy_variance",
            "cross_entropy_error_se"} <= cols and "zero_one_noise" not in cols    # the noise is inside the bias
    rec = res.to_dict()
    json.dumps(rec, allow_nan=True)
    point = rec["points"][0]
    assert set(point["zero_one"]) >= {"error", "bias_incl_noise", "v_unbiased", "v_biased", "net_variance"}
    assert point["cross_entropy"]["error"] == pytest.approx(
        point["cross_entropy"]["bias_incl_noise"] + point["cross_entropy"]["variance"], rel=1e-12)
    assert "zero_one_error" not in point and rec["peak_zero_one"] == 0
    plain = crossed_decomposition(T, y_test=y, outputs=True)                   # not told they are classes
    assert not plain.classification and "zero_one" not in plain.to_dict()["points"][0]
    with pytest.raises(ValueError, match="classifier"):
        plain.zero_one
    np.testing.assert_array_equal(plain.total, res.total)                      # the squared split unchanged


def test_the_loss_figures_draw_the_terms_with_their_bands():
    from matplotlib.figure import Figure

    rng = np.random.default_rng(5)
    T = _table(rng, (3, 4, 1, 15), 4)
    res = crossed_decomposition(T, y_test=_labels(rng, 15, 4), outputs=True, classes=True)
    for name, n_curves in (("zero_one", 5), ("cross_entropy", 3)):
        ax = res.plot_loss(name, Figure().subplots())
        lines = [ln for ln in ax.get_lines() if ln.get_label() != "interpolation threshold"]
        assert len(lines) == n_curves and len(ax.collections) == n_curves    # one ±2 s.e. band each
        np.testing.assert_array_equal(lines[0].get_ydata(), res.loss(name)["error"])
        np.testing.assert_array_equal(lines[1].get_ydata(), res.loss(name)["bias"])
    with pytest.raises(ValueError, match="classifier"):
        crossed_decomposition(T, y_test=_labels(rng, 15, 4), outputs=True).plot_loss("zero_one")


def test_refuses_outputs_that_are_not_class_probabilities():
    rng = np.random.default_rng(0)
    T = rng.normal(size=(3, 3, 5, 3))
    with pytest.raises(GenlabError, match="not class probabilities"):
        crossed_decomposition(T, y_test=np.eye(3)[[0, 1, 2, 0, 1]], outputs=True, classes=True)
    P = _table(rng, (3, 3, 5), 3)
    with pytest.raises(GenlabError, match="the targets are not class probabilities"):
        crossed_decomposition(P, y_test=np.full((5, 3), 0.5), outputs=True, classes=True)
    with pytest.raises(GenlabError, match="one per class"):
        crossed_decomposition(P[..., 0], y_test=np.zeros(5), classes=True)
