"""Repeated train / validation / test splits of a bundled classification set, with label noise:
the data of the network experiments (the MLP width sweep, the regularizers, the lottery ticket).

Each repeat draws its own split and its own label noise from ``(seed,
"neural-data", data, repeat)``; every setting run on a repeat (a width, a
regularizer) sees the same noisy data, so comparisons between settings are
paired. The training and validation labels are noisy (as a practitioner's
would be), the test labels clean: test error is the error against the truth.
"""

from __future__ import annotations

import functools

import numpy as np

from ..core.checks import check_fraction, check_int
from ..core.errors import GenlabError
from ..core.seeding import check_seed, rng as make_rng

__all__ = ["classification_set", "noisy_splits", "split_settings"]


@functools.lru_cache(maxsize=8)
def classification_set(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """A bundled classification set as ``(X, y, n_classes)``, labels 0..n_classes-1 (loaded once per process)."""
    from .sources import BUNDLED, load_dataset

    if not isinstance(name, str) or name not in BUNDLED or BUNDLED[name][1] != "classification":
        choices = ", ".join(k for k, (_, task) in BUNDLED.items() if task == "classification")
        raise GenlabError(f"data {name!r} is not a bundled classification set; choose one of {choices}")
    ds = load_dataset(name)
    classes, y = np.unique(ds.y, return_inverse=True)
    return ds.X, y.astype(np.int64), classes.size


def _check_room(data, n_train, n_val, n) -> None:
    if n_train + n_val >= n:
        raise GenlabError(f"n_train + n_val = {n_train + n_val} leaves no test set in {data} (n = {n}); "
                          "lower n_train or n_val")


def noisy_splits(data: str, *, n_train: int, n_val: int, label_noise: float, seed: int, repeat: int) -> dict:
    """Repeat ``repeat``'s split of a bundled classification set, with label noise.

    The random stream is ``(seed, "neural-data", data, repeat)``: every width
    or regularizer of a repeat sees the same split and the same noisy labels.
    Inputs: digits' pixels divided by 16 (to [0, 1]); other sets standardized
    with the training split's means and standard deviations.

    Returns
    -------
    dict
        ``train``, ``val`` and ``test``: pairs ``(X, y)`` (test: the rest of
        the data, clean labels; train and val labels flipped with probability
        ``label_noise`` to another class), ``n_classes`` and ``n_inputs``.
    """
    from .sources import flip_labels

    X, y, k = classification_set(data)
    n = X.shape[0]
    _check_room(data, n_train, n_val, n)
    g = make_rng(seed, "neural-data", data, repeat)
    perm = g.permutation(n)
    tr, va, te = perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]
    if data == "digits":
        Xs = X / 16.0
    else:
        mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
        Xs = (X - mu) / np.where(sd > 0, sd, 1.0)
    classes = np.arange(k)
    y_tr, _ = flip_labels(y[tr], label_noise, g, classes)
    y_va, _ = flip_labels(y[va], label_noise, g, classes) if n_val else (y[va], None)
    out = {"train": (Xs[tr], y_tr), "test": (Xs[te], y[te]), "n_classes": k, "n_inputs": X.shape[1]}
    if n_val:
        out["val"] = (Xs[va], y_va)
    return out


def split_settings(data, n_train, n_val, label_noise, seed) -> dict:
    """Check the options of :func:`noisy_splits` now (a GenlabError here, not in a worker).

    Returns
    -------
    dict
        ``data``, ``n_train``, ``n_val``, ``label_noise`` and ``seed``, checked.
    """
    classification_set(data)
    n_train = check_int(n_train, "n_train")
    n_val = check_int(n_val, "n_val", 0)
    label_noise = check_fraction(label_noise, "label_noise")
    _check_room(data, n_train, n_val, classification_set(data)[0].shape[0])
    return {"data": data, "n_train": n_train, "n_val": n_val, "label_noise": label_noise, "seed": check_seed(seed)}
