"""From tables of predictions to a :class:`~.result.CrossedDecomposition`: :func:`crossed_decomposition`
for a table the caller made, :func:`assemble` for the tables of a sweep (one per value of a knob)."""

from __future__ import annotations

import numpy as np

from ...core.errors import GenlabError
from .anova import as_table, check_finite, check_seed_used, check_targets, jackknife
from .losses import LOSSES, PROB_FLOOR, check_probabilities, n_clipped
from .result import CrossedDecomposition


def targets_and_noise(T, *, y_test=None, y_mean=None, noise=None) -> tuple[np.ndarray, float, str]:
    """The targets (n, d), the known noise (a number) and the mode ("source" or "data")."""
    if (y_test is None) == (y_mean is None):
        raise GenlabError("give either y_test (observed test labels: bias² then includes their noise) or y_mean "
                          "(the true E[y | x], with noise its variance), not both")
    if y_test is not None:
        if noise is not None:
            raise GenlabError("noise goes with y_mean (a known source); against observed y_test it is part of bias²")
        return check_targets(y_test, T, "y_test"), float("nan"), "data"
    y = check_targets(y_mean, T, "y_mean")
    if noise is None:
        return y, 0.0, "source"
    nz = np.asarray(noise, dtype=np.float64)
    if nz.ndim > 1 or (nz.ndim == 1 and nz.shape[0] != T.shape[3]) or not np.all(np.isfinite(nz)) or np.any(nz < 0):
        raise GenlabError(f"noise must be a number >= 0 or one per test point (shape ({T.shape[3]},)), "
                          f"got shape {nz.shape}")
    return y, float(nz.mean()), "source"


def decompose_table(T, y, noise: float, mode: str, classes: bool = False) -> tuple[dict, dict]:
    """Every term of one checked table (R, S, K, n, d) and its standard error (see :func:`.anova.jackknife`);
    with ``classes`` (class probabilities) the 0-1 and cross-entropy terms too (:mod:`.losses`)."""
    ks = range(1, T.shape[1] + 1)
    est, se = jackknife(T, y, 0.0 if mode == "data" else noise, ks, classes)
    est["noise"] = noise
    se["noise"] = 0.0 if mode == "source" else float("nan")
    if classes and mode == "data":  # against observed labels the noise is inside the bias, as for bias²
        for loss in LOSSES:
            est[f"{loss}_noise"] = se[f"{loss}_noise"] = float("nan")
    return est, se


def assemble(results, *, knob, values, labels, shape, mode, train_error=None, threshold=None,
             config=None) -> CrossedDecomposition:
    """A :class:`CrossedDecomposition` from one ``(terms, se)`` pair per value; ``shape`` is (R, S, K, n_test)."""
    names = list(results[0][0])
    terms = {k: np.array([est[k] for est, _ in results]) for k in names}
    ses = {k: np.array([se[k] for _, se in results]) for k in names}
    R, S, K, n = shape
    return CrossedDecomposition(knob=knob, values=np.asarray(values), labels=list(labels), R=R, S=S, K=K,
                                n_test=n, mode=mode, terms=terms, se=ses,
                                train_error=None if train_error is None else np.asarray(train_error, dtype=float),
                                threshold=threshold, config=dict(config or {}))


def crossed_decomposition(predictions, *, y_test=None, y_mean=None, noise=None, outputs: bool = False,
                          classes: bool = False, label: str = "model", knob: str = "model",
                          value=0) -> CrossedDecomposition:
    """Split the variance of a crossed table of predictions into data, seed and interaction.

    Parameters
    ----------
    predictions : array-like of shape (R, S, n_test) or (R, S, K, n_test)
        ``predictions[i, j]`` is the model trained on data draw i with seed j (the same seed j for every
        i: crossed) at the test points; with a K axis, ``[i, j, k]`` trained on inputs i with label-noise
        draw k (the same noise vectors for every i) — a three-way design. With ``outputs``, one more
        trailing axis of outputs (class probabilities, …), whose squared errors are summed.
    classes : bool
        The outputs (``outputs=True``) are class probabilities and the targets one-hot labels (``y_test``)
        or P(y | x) (``y_mean``): adds the 0-1 (Domingos) and cross-entropy (Bregman) decompositions
        (:mod:`genlab.analysis.crossed.losses`; ``res.zero_one``, ``res.cross_entropy``).
    y_test : array-like of shape (n_test,) or (n_test, n_outputs), optional
        Observed test labels: bias² then includes their noise (mode ``"data"``).
    y_mean : array-like, optional
        The true E[y | x] at the test points (a known source, mode ``"source"``), with ``noise`` its
        variance (a number, or one per test point; default 0).
    label, knob, value
        How the one model is named in the result.

    Returns
    -------
    CrossedDecomposition
        One value; the definitions are in its docstring and :mod:`genlab.analysis.crossed.anova`.

    Raises
    ------
    GenlabError
        R < 2 or S < 2, a shape that does not match, non-finite predictions or targets, seeds that all
        give identical predictions (the estimator ignores its seed: V_init = 0 and the split means nothing),
        or, with ``classes``, outputs or targets that are not class probabilities.
    """
    T = as_table(predictions, outputs=outputs)
    check_finite(T)
    check_seed_used(T, label)
    y, nz, mode = targets_and_noise(T, y_test=y_test, y_mean=y_mean, noise=noise)
    if classes:
        check_probabilities(T, y)
    R, S, K, n, _ = T.shape
    return assemble([decompose_table(T, y, nz, mode, classes)], knob=knob, values=[value], labels=[label],
                    shape=(R, S, K, n), mode=mode, config=clip_config(n_clipped(T)) if classes else None)


def clip_config(clipped: int) -> dict:
    """The floor of the cross-entropy's logs and how many probabilities were raised to it (a result's config)."""
    return {"probability_floor": PROB_FLOOR, "probabilities_clipped": int(clipped)}
