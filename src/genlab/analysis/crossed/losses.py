"""The classification losses of a crossed table of class probabilities: Domingos' (2000) decomposition of the
0-1 loss and the Bregman decomposition of the cross-entropy (Heskes 1998), as Yang et al. (2020) use them.

Both read the table the squared split reads — π_f(x), the class probabilities of every fit f of the
design (R data draws × S seeds × K noise draws, pooled: F = R·S·K fits) at the test points — so they need
no training of their own. The targets y(x) are a row of class probabilities: the observed test label
one-hot (real data; its noise cannot be told from the bias and is inside it), or P(y | x) of a known
source (then a noise term of its own).

**0-1 loss** (Domingos 2000, multiclass). The prediction of fit f is its most probable class (ties: the
lowest class index), the truth y*(x) the label (the most probable class of a known source), the main
prediction y_m(x) the mode of the F predictions (ties: the lowest class index). With B(x) = 1[y_m ≠ y*],
V(x) = P_f(f ≠ y_m) and c(x) = P_f(f = y* | f ≠ y_m):

    error = mean_x [ N'(x) + B(x) + (1 − B(x)) V(x) − B(x) c(x) V(x) ]
          = noise + bias + V_u − V_b,

with ``v_unbiased`` V_u = mean (1 − B) V (variance where the main prediction is right: it adds errors),
``v_biased`` V_b = mean B c V (where it is wrong: it removes some), ``net_variance`` V_u − V_b and
``variance`` mean V. Where B = 1, y* ≠ y_m, so c V = P_f(f = y*). N'(x) = c₁ N(x) is Domingos' noise
term, P_f(f = y*) − Σ_k P_f(f = k) y_k(x): 0 for a one-hot label. The identity holds exactly (rounding
only); ``error`` is the measured mean 0-1 error of the fits (its expectation over y ~ P(y | x) for a
source).

**Cross-entropy** (the Bregman decomposition of the log loss; Heskes 1998, Yang et al. 2020). The main
prediction is the normalized geometric mean π̄(x) ∝ exp(mean_f log π_f(x)); then

    mean_f −Σ_c y_c log π_f,c = H(y) + KL(y ‖ π̄) + mean_f KL(π̄ ‖ π_f)
                               = noise + bias + variance

exactly (rounding only): ``noise`` the entropy of y (0 for a label), ``bias`` KL(y ‖ π̄) (for a label:
−log π̄(y | x), the noise inside), ``variance`` the mean KL divergence of the fits from π̄.
Probabilities below :data:`PROB_FLOOR` are raised to it and each row renormalized before any log; the
one clipped table gives all three terms, so the identity stays exact.

**Estimates.** Unlike the squared split (:mod:`.anova`), these are plug-in estimates over the pooled
fits, not finite-sample corrected: they read the crossed grid as one sample of F fits although the
fits of one data draw share their data (and those of one seed their seed), so their variances are
biased low for small R and S, as the plug-in law-of-total-variance split is; compare them across the
knob at one R, S. Their standard errors come from the same delete-one-level jackknife
(:func:`.anova.jackknife`). For the error, the cross-entropy terms (smooth in the fits) it behaves as for
the squared terms; the 0-1 bias and variances jump where the mode y_m changes — a non-smooth function
of the shares, like a median, for which the jackknife is known to be unreliable (Efron 1982) — so their
s.e. are a rough guide only.
"""

from __future__ import annotations

import numpy as np

from ...core.errors import GenlabError

#: probabilities are raised to this floor (each row then renormalized) before the logs of the cross-entropy
PROB_FLOOR = 1e-12
#: the terms of each loss, as they appear (prefixed with the loss) in the terms of a table
ZERO_ONE = ("error", "bias", "variance", "v_unbiased", "v_biased", "net_variance", "noise")
CROSS_ENTROPY = ("error", "bias", "variance", "noise")
LOSSES = {"zero_one": ZERO_ONE, "cross_entropy": CROSS_ENTROPY}


def pooled(T: np.ndarray) -> np.ndarray:
    """The fits of a table (R, S, K, n, C) as one axis: (R·S·K, n, C)."""
    return T.reshape(-1, *T.shape[-2:])


def zero_one_terms(T: np.ndarray, y: np.ndarray) -> dict:
    """Domingos' 0-1 terms (:data:`ZERO_ONE`, see the module docstring) of the table ``T`` (R, S, K, n, C) of
    class probabilities against ``y`` (n, C): one-hot labels or P(y | x)."""
    P = pooled(T)
    C, rows = P.shape[-1], np.arange(P.shape[1])
    pred = np.argmax(P, axis=-1)                                        # (F, n): ties to the lowest class
    share = (pred[..., None] == np.arange(C)).mean(axis=0)              # (n, C): P_f(f = k)
    main = np.argmax(share, axis=1)                                     # the mode, ties to the lowest class
    truth = np.argmax(y, axis=1)
    B = (main != truth).astype(float)
    V = 1.0 - share[rows, main]
    hit = share[rows, truth]                                            # P_f(f = y*)
    agree = (share * y).sum(axis=1)                                     # P(f = y), y ~ the targets
    v_u, v_b = float(((1.0 - B) * V).mean()), float((B * hit).mean())   # B c V = B P(f = y*)
    return {"error": float((1.0 - agree).mean()), "bias": float(B.mean()), "variance": float(V.mean()),
            "v_unbiased": v_u, "v_biased": v_b, "net_variance": v_u - v_b, "noise": float((hit - agree).mean())}


def clipped_logs(T: np.ndarray) -> np.ndarray:
    """log of the pooled probabilities (F, n, C), raised to :data:`PROB_FLOOR` and renormalized per row."""
    Q = np.maximum(pooled(T), PROB_FLOOR)
    return np.log(Q / Q.sum(axis=-1, keepdims=True))


def n_clipped(T: np.ndarray) -> int:
    """How many probabilities of the table lie below :data:`PROB_FLOOR` (raised to it for the logs)."""
    return int(np.count_nonzero(T < PROB_FLOOR))


def cross_entropy_terms(T: np.ndarray, y: np.ndarray) -> dict:
    """The Bregman terms of the log loss (:data:`CROSS_ENTROPY`, see the module docstring), in nats."""
    logq = clipped_logs(T)                                              # (F, n, C)
    mean_log = logq.mean(axis=0)                                        # (n, C)
    top = mean_log.max(axis=1, keepdims=True)
    log_pbar = mean_log - (top + np.log(np.exp(mean_log - top).sum(axis=1, keepdims=True)))
    pbar = np.exp(log_pbar)
    with np.errstate(divide="ignore", invalid="ignore"):
        H = -np.where(y > 0, y * np.log(y), 0.0).sum(axis=1)
    error = float((-(y[None] * logq).sum(axis=-1)).mean())
    cross = -(y * log_pbar).sum(axis=1)                                 # H(y) + KL(y ‖ π̄)
    variance = float((pbar * (log_pbar - mean_log)).sum(axis=1).mean())  # mean_f KL(π̄ ‖ π_f)
    return {"error": error, "bias": float((cross - H).mean()), "variance": variance, "noise": float(H.mean())}


def class_terms(T: np.ndarray, y: np.ndarray) -> dict:
    """Both decompositions, their terms named ``zero_one_<term>`` and ``cross_entropy_<term>``."""
    out = {f"zero_one_{k}": v for k, v in zero_one_terms(T, y).items()}
    out.update({f"cross_entropy_{k}": v for k, v in cross_entropy_terms(T, y).items()})
    return out


def check_probabilities(T: np.ndarray, y: np.ndarray, what: str = "predictions") -> None:
    """Refuse a table whose rows are not class probabilities (in [0, 1], summing to 1), or targets that are not."""
    for arr, name in ((T, what), (y, "the targets")):
        if arr.shape[-1] < 2:
            raise GenlabError(f"{name} have {arr.shape[-1]} output; class probabilities need one per class (>= 2)")
        if np.any(arr < -1e-9) or np.any(arr > 1 + 1e-9) or not np.allclose(arr.sum(axis=-1), 1.0, atol=1e-6):
            raise GenlabError(f"{name} are not class probabilities (each row in [0, 1], summing to 1); "
                              "give classes=False for other outputs")
