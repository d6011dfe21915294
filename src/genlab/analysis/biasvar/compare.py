"""Several estimators in one decomposition: their kind (one kind a comparison), their short names, a first
fit of each before any long work, degenerate classifiers, and the bars that compare unordered models."""

from __future__ import annotations

import warnings

import numpy as np

from ...core.errors import GenlabError

#: A classifier is *degenerate* where at least this share of its fits predict one class for every test input.
DEGENERATE_SHARE = 0.5


def kind(est) -> str | None:
    """``"classifier"``, ``"regressor"`` or None (scikit-learn's tags say neither, or the object has none)."""
    from sklearn.base import is_classifier, is_regressor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "classifier" if is_classifier(est) else "regressor" if is_regressor(est) else None
        except Exception:  # noqa: BLE001  a class without scikit-learn's tags
            return None


def check_one_kind(estimators, labels=None) -> str | None:
    """The kind shared by all ``estimators`` (:func:`kind`); a :class:`GenlabError` naming them where a
    comparison mixes classifiers and regressors (their errors are not on one scale)."""
    labels = list(labels) if labels is not None else [type(e).__name__ for e in estimators]
    kinds = [kind(e) for e in estimators]
    found = {k for k in kinds if k is not None}
    if len(found) > 1:
        names = {k: ", ".join(lab for lab, kk in zip(labels, kinds) if kk == k) for k in found}
        raise GenlabError(f"one comparison mixes classifiers ({names['classifier']}) and regressors "
                          f"({names['regressor']}); their errors are not on one scale: compare regressors "
                          "(squared loss) or classifiers (--loss zero_one or cross_entropy), one kind a run")
    return found.pop() if found else None


def short_names(labels) -> list[str]:
    """Labels with their module paths dropped (``"sklearn.linear_model.Ridge(alpha=1)"`` → ``"Ridge(alpha=1)"``),
    where that keeps them apart; the labels as given otherwise."""
    def short(label: str) -> str:
        head, paren, rest = str(label).partition("(")
        if " " in head.strip() or not head.strip():
            return str(label)
        return head.strip().replace(":", ".").rpartition(".")[2] + paren + rest

    shorts = [short(lab) for lab in labels]
    return shorts if len(set(shorts)) == len(shorts) else [str(lab) for lab in labels]


def first_fits(estimators, labels, X, y, X_test) -> None:
    """Fit a copy of each estimator once and predict ``X_test``, before any long work or any file: a
    :class:`GenlabError` naming the estimator where that fails or the predictions are not one number per
    test point (arguments its constructor took but its fit refuses, a predict of the wrong shape)."""
    from sklearn.base import clone

    for est, label in zip(estimators, labels):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    copy = clone(est)
                except Exception:  # noqa: BLE001  an estimator without get_params: its own copy
                    import copy as copier

                    copy = copier.deepcopy(est)
                pred = np.asarray(copy.fit(X, y).predict(X_test))
        except (KeyboardInterrupt, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001  the user's estimator, on the first dataset
            why = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise GenlabError(f"{label} failed on a first dataset ({type(exc).__name__}: {why}); check its "
                              "arguments") from None
        if pred.shape != (len(X_test),):
            raise GenlabError(f"{label}: predict gave shape {pred.shape} for {len(X_test)} test points; an "
                              "estimator must predict one value per point")
        if pred.dtype.kind not in "biuf":
            raise GenlabError(f"{label}: predict gave {pred.dtype} values; give an estimator that predicts numbers "
                              "(class labels as integers)")


def constant_fits(predictions: np.ndarray) -> np.ndarray:
    """For predictions of shape (fits, m, M): how many fits of each model (M,) predict one value for every
    test point."""
    return np.count_nonzero((predictions == predictions[:, :1, :]).all(axis=1), axis=0)


def degenerate_notes(share, labels) -> list[str]:
    """The notes on the models whose share of one-class fits makes them degenerate (:data:`DEGENERATE_SHARE`)."""
    return [f"{label} is degenerate: {s:.0%} of its fits predict one class for every test input, so this "
            "decomposes a constant, not a trained classifier; train it longer or change its settings"
            for label, s in zip(labels, share) if s >= DEGENERATE_SHARE]


def plot_models(result, ax, *, title=None):
    """Bars of bias², variance, noise and the measured error for each model of ``result`` (a
    :class:`~.results.BiasVariance` over unordered models), ±2 s.e. where the s.e. is valid, the median
    error as a tick, and the models with an infinite-variance tail or a degenerate fit marked."""
    labels = short_names(result.labels)
    M = len(labels)
    x = np.arange(M, dtype=float)
    known = result.mode == "source"
    squared = result.loss == "squared" or result.config.get("definition") == "kohavi_wolpert"
    bars = [(("bias²" if squared else "bias") + ("" if known else " + noise"), result.bias2, result.bias2_se,
             "tab:blue"), ("variance", result.variance, result.variance_se, "tab:orange")]
    if known:
        bars.append(("noise", result.noise, result.noise_se, "tab:gray"))
    bars.append(("test error (measured)", result.error, result.error_se, "tab:red"))
    valid = result.se_valid
    width = 0.8 / len(bars)
    for j, (name, val, se, color) in enumerate(bars):
        pos = x - 0.4 + width * (j + 0.5)
        ax.bar(pos, val, width, color=color, label=name,
               yerr=np.where(valid, 2 * np.asarray(se, dtype=float), np.nan), capsize=2, ecolor="0.2")
        if name.startswith("test error"):
            ax.scatter(pos, result.error_median, marker="_", s=120, color="k", zorder=4, label="test error (median)")
            heavy = ~valid
            if heavy.any():
                ax.scatter(pos[heavy], result.error[heavy], s=60, marker="s", facecolors="none", edgecolors="k",
                           zorder=5, label="tail: no valid s.e.")
    heights = np.nanmax(np.stack([np.asarray(v, dtype=float) + np.where(valid, 2 * np.asarray(se, dtype=float), 0.0)
                                  for _, v, se, _ in bars]), axis=0)
    for i in np.flatnonzero(result.is_degenerate):
        ax.text(x[i], heights[i], "degenerate", ha="center", va="bottom", fontsize="small", color="darkred")
    ax.set_xticks(x, labels, rotation=15 if max(map(len, labels)) > 12 else 0,
                  ha="right" if max(map(len, labels)) > 12 else "center", fontsize="small")
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_ylabel({"squared": "squared error", "zero_one": "0-1 error", "cross_entropy": "log loss (nats)"}
                  [result.loss])
    handles, names = ax.get_legend_handles_labels()
    order = sorted(range(len(names)), key=lambda i: names[i] in ("test error (median)", "tail: no valid s.e."))
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.35 * (hi - lo))  # room for the legend above the bars
    ax.legend([handles[i] for i in order], [names[i] for i in order], fontsize="small", loc="upper center",
              ncol=3)
    if title:
        ax.set_title(title)
    return ax
