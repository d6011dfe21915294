"""A multilayer perceptron and its training, in one file (nanoGPT's style).

Read top to bottom: :class:`MLPConfig` (the architecture, commented defaults),
:class:`MLP` (``forward(x, targets) -> (logits, loss)``), :func:`evaluate`
(loss and 0-1 error on every split), :func:`train` (mini-batch steps of the
shared loop, :func:`genlab.models.training.train_loop`, with optional L1 and
L2 penalties and validation-based early stopping) and
:class:`TorchMLPClassifier` (the same, behind scikit-learn's estimator API,
for the bias-variance engine).

Everything is float32 on the CPU, one thread. A run is a function of its seed:
``torch.manual_seed`` (under :func:`torch.random.fork_rng`, so the caller's
global stream is left as it was) for the initialization and dropout, and a
seeded :class:`torch.Generator` for the order of the mini-batches.

This module imports torch; ``import genlab`` does not import it.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

from sklearn.base import BaseEstimator, ClassifierMixin

from ..core.checks import check_int as _check_int
from ..core.errors import GenlabError
from ..core.results import Result
from .training import epoch_batches, steps_per_epoch, train_loop

OPTIMIZERS = ("sgd", "adam")
LOSSES = ("cross_entropy", "squared")
MONITORS = ("val_error", "val_loss")
SPLITS = ("train", "val", "test")


def _check_float(value, name: str, low: float = 0.0, high: float = math.inf, *, open_high=False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise GenlabError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not (low <= v <= high) or (open_high and v == high) or math.isnan(v):
        bound = f"[{low:g}, {high:g}{')' if open_high else ']'}" if math.isfinite(high) else f">= {low:g}"
        raise GenlabError(f"{name} must be {'in ' if math.isfinite(high) else ''}{bound}, got {value!r}")
    return v


# --------------------------------------------------------------------------- the model

@dataclass
class MLPConfig:
    """The architecture. The defaults fit scikit-learn's digits (8x8 pixels, 10 classes)."""

    n_inputs: int = 64          # input dimension
    width: int = 64             # units per hidden layer: the size knob of a width sweep
    depth: int = 1              # hidden layers; 0 is a linear model (multinomial logistic regression)
    n_classes: int = 10         # output logits
    dropout: float = 0.0        # probability of zeroing a hidden unit in training (0: off)
    loss: str = "cross_entropy"  # or "squared": mean over samples of ||logits - one_hot(y)||^2

    def __post_init__(self):
        _check_int(self.n_inputs, "n_inputs", 1)
        _check_int(self.width, "width", 1)
        _check_int(self.depth, "depth", 0)
        _check_int(self.n_classes, "n_classes", 2)
        _check_float(self.dropout, "dropout", 0.0, 1.0, open_high=True)
        if self.loss not in LOSSES:
            raise GenlabError(f"unknown loss {self.loss!r}; choose {' or '.join(LOSSES)}")

    @property
    def n_params(self) -> int:
        """Weights and biases: (n_inputs + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * n_classes."""
        if self.depth == 0:
            return (self.n_inputs + 1) * self.n_classes
        return ((self.n_inputs + 1) * self.width + (self.depth - 1) * (self.width + 1) * self.width
                + (self.width + 1) * self.n_classes)


class MLP(nn.Module):
    """``depth`` hidden layers of ReLU units (each followed by dropout), then a linear head.

    Parameters
    ----------
    config : MLPConfig
    seed : int, optional
        Seeds the initialization (PyTorch's default for ``nn.Linear``) without
        touching the global random stream; ``None`` draws from the global stream.
    """

    def __init__(self, config: MLPConfig, seed: int | None = None):
        super().__init__()
        self.config = config
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            layers, d = [], config.n_inputs
            for _ in range(config.depth):
                layers += [nn.Linear(d, config.width), nn.ReLU(), nn.Dropout(config.dropout)]
                d = config.width
            self.hidden = nn.Sequential(*layers)
            self.head = nn.Linear(d, config.n_classes)
        assert sum(p.numel() for p in self.parameters()) == config.n_params

    def forward(self, x, targets=None):
        """Logits, and the mean loss when ``targets`` is given (else None).

        x: (B, n_inputs) float32; targets: (B,) int64 class indices.
        """
        assert x.ndim == 2 and x.shape[1] == self.config.n_inputs, x.shape
        h = self.hidden(x)          # (B, width), or (B, n_inputs) when depth == 0
        logits = self.head(h)       # (B, n_classes)
        loss = None
        if targets is not None:
            assert targets.shape == (x.shape[0],), targets.shape
            if self.config.loss == "cross_entropy":
                loss = F.cross_entropy(logits, targets)
            else:
                onehot = F.one_hot(targets, self.config.n_classes).to(logits.dtype)  # (B, n_classes)
                loss = ((logits - onehot) ** 2).sum(dim=1).mean()
        return logits, loss

    def weights(self) -> list:
        """The weight matrices (what L1 and L2 penalize); biases are left free, as in nanoGPT."""
        return [p for p in self.parameters() if p.ndim >= 2]


# --------------------------------------------------------------------------- data and evaluation

def as_tensors(data) -> dict:
    """``{"train": (X, y), "val": (X, y), "test": (X, y)}`` (val and test optional) as float32/int64 tensors.

    Parameters
    ----------
    data : mapping
        Each value a pair ``(X, y)``: X array-like of shape (n_samples, n_inputs),
        y integer class indices of shape (n_samples,).
    """
    if not hasattr(data, "items") or "train" not in data:
        raise GenlabError("data must be a mapping with a 'train' entry (and optional 'val' and 'test'), "
                          "each a pair (X, y)")
    out = {}
    for name, pair in data.items():
        if name not in SPLITS:
            raise GenlabError(f"unknown split {name!r}; the splits are {', '.join(SPLITS)}")
        if pair is None:
            continue
        X, y = pair
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        y = torch.as_tensor(np.asarray(y, dtype=np.int64))
        if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
            raise GenlabError(f"split {name!r}: X must have shape (n, n_inputs) and y shape (n,), n >= 1; "
                              f"got {tuple(X.shape)} and {tuple(y.shape)}")
        out[name] = (X, y)
    return out


@torch.no_grad()
def evaluate(model: MLP, data: dict) -> dict:
    """Mean loss and 0-1 error of ``model`` (in eval mode: no dropout) on every split.

    Returns
    -------
    dict
        ``{split: (loss, error)}`` as Python floats.
    """
    was_training = model.training
    model.eval()
    out = {}
    for name, (X, y) in data.items():
        logits, loss = model(X, y)                      # (n, n_classes), scalar
        error = (logits.argmax(dim=1) != y).float().mean()
        out[name] = (float(loss), float(error))
    model.train(was_training)
    return out


# --------------------------------------------------------------------------- training

@dataclass
class TrainResult(Result):
    """What :func:`train` measured, one entry per evaluation.

    ``epochs[k]`` is the number of epochs done at evaluation k (0 is the
    initialization); ``train_loss``, ``val_loss`` ... hold the mean data loss
    (without penalties) and the 0-1 error of the model in eval mode, NaN for a
    split that was not given. ``best_epoch`` is the epoch with the lowest
    monitored validation figure; with early stopping the model returned is the
    one of that epoch. ``samples_per_s`` counts training samples over the
    whole loop's time, evaluations included.
    """

    epochs: np.ndarray
    train_loss: np.ndarray
    train_error: np.ndarray
    val_loss: np.ndarray
    val_error: np.ndarray
    test_loss: np.ndarray
    test_error: np.ndarray
    best_epoch: int
    stopped_epoch: int
    stopped_early: bool
    restored: bool
    elapsed_s: float
    samples_per_s: float
    settings: dict = field(default_factory=dict)

    def final(self) -> dict:
        """The figures of the model ``train`` returned (the best epoch's when restored, else the last)."""
        k = int(np.flatnonzero(self.epochs == self.best_epoch)[0]) if self.restored else -1
        return {name: float(getattr(self, name)[k]) for name in
                ("train_loss", "train_error", "val_loss", "val_error", "test_loss", "test_error")}

    def summary(self):
        """One row per evaluation: ``epochs`` done, then the loss and 0-1 error of every split."""
        import pandas as pd

        return pd.DataFrame({name: getattr(self, name) for name in
                             ("epochs", "train_loss", "train_error", "val_loss", "val_error",
                              "test_loss", "test_error")})

    def to_dict(self) -> dict:
        return {"best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch,
                "stopped_early": self.stopped_early, "restored": self.restored, "elapsed_s": self.elapsed_s,
                "samples_per_s": self.samples_per_s, "settings": self.settings, "final": self.final(),
                "by_epoch": self.to_frame().to_dict(orient="list")}

    def plot(self, ax=None, *, what: str = "error", **kw):
        """The 0-1 error (``what="error"``) or the loss (``"loss"``) of every measured split against
        epochs; a dotted line marks the best epoch. ``kw`` goes to every line."""
        from ..plots.helpers import axes

        if what not in ("error", "loss"):
            raise GenlabError(f"what must be error or loss, got {what!r}")
        ax = axes(ax, (6.4, 4.2))
        for split, color in zip(SPLITS, ("tab:blue", "tab:orange", "tab:green")):
            values = getattr(self, f"{split}_{what}")
            if np.isfinite(values).any():
                ax.plot(self.epochs, values, marker="o", ms=2.5, color=color, label=split, **kw)
        if np.isfinite(self.val_loss).any():
            ax.axvline(self.best_epoch, color="0.5", ls=":", lw=1, label=f"best epoch ({self.best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("0-1 error" if what == "error" else "loss")
        ax.legend(fontsize="small")
        return ax


def check_train_args(*, epochs, lr, optimizer, batch_size, weight_decay, l1, eval_every, patience, monitor):
    """Validate :func:`train`'s options (GenlabError naming the one to change)."""
    _check_int(epochs, "epochs", 1)
    _check_float(lr, "lr", 0.0)
    if not lr > 0:
        raise GenlabError(f"lr must be > 0, got {lr!r}")
    if optimizer not in OPTIMIZERS:
        raise GenlabError(f"unknown optimizer {optimizer!r}; choose {' or '.join(OPTIMIZERS)}")
    if batch_size is not None:
        _check_int(batch_size, "batch_size", 1)
    _check_float(weight_decay, "weight_decay", 0.0)
    _check_float(l1, "l1", 0.0)
    _check_int(eval_every, "eval_every", 1)
    if patience is not None:
        _check_int(patience, "patience", 1)
    if monitor not in MONITORS:
        raise GenlabError(f"unknown monitor {monitor!r}; choose {' or '.join(MONITORS)}")


def train(model: MLP, data, *, epochs: int = 100, lr: float = 1e-3, optimizer: str = "adam",
          batch_size: int | None = 128, weight_decay: float = 0.0, l1: float = 0.0, eval_every: int = 1,
          patience: int | None = None, monitor: str = "val_error", seed: int = 0) -> TrainResult:
    """Train ``model`` in place by mini-batch gradient steps; evaluate every ``eval_every`` epochs.

    The steps are those of the shared loop, :func:`genlab.models.training.train_loop`.

    Parameters
    ----------
    model : MLP
    data : mapping
        ``{"train": (X, y), "val": (X, y), "test": (X, y)}``; val is needed for
        early stopping, test is only measured.
    epochs : int
        Passes over the training set (at most, with early stopping).
    lr : float
        Learning rate.
    optimizer : {"adam", "sgd"}
        Adam or plain SGD (no momentum).
    batch_size : int or None
        Samples per step; None (or >= n_train) is full-batch gradient descent.
    weight_decay : float
        L2 penalty: adds ``weight_decay / 2 * sum ||W||^2`` over the weight
        matrices to the loss (with SGD, each step shrinks W by ``1 - lr *
        weight_decay``: weight decay). Biases are not penalized.
    l1 : float
        L1 penalty: adds ``l1 * sum |W|`` over the weight matrices to the loss
        (lasso-like; a subgradient, so weights hover near 0 rather than reach it).
    eval_every : int
        Epochs between evaluations (the initialization and the last epoch are always evaluated).
    patience : int or None
        Early stopping: stop after this many evaluations without a new best
        ``monitor`` value, and restore the weights of the best evaluation. None: off.
    monitor : {"val_error", "val_loss"}
        What early stopping minimizes (ties keep the earlier epoch).
    seed : int
        Seeds dropout and the order of the mini-batches.

    Returns
    -------
    TrainResult
    """
    check_train_args(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size,
                     weight_decay=weight_decay, l1=l1, eval_every=eval_every, patience=patience, monitor=monitor)
    data = _checked_data(model, data, needs_val=patience is not None)
    X, y = data["train"]                                  # (n, n_inputs), (n,)
    n = X.shape[0]
    B = n if batch_size is None else min(int(batch_size), n)
    settings = dict(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=B, weight_decay=weight_decay, l1=l1,
                    eval_every=eval_every, patience=patience, monitor=monitor, seed=seed,
                    model=asdict(model.config))
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=lr)
    per_epoch = steps_per_epoch(n, B)
    history = _History(model, data, patience=patience, monitor=monitor, per_epoch=per_epoch)
    eval_at = [0] + [e * per_epoch for e in range(1, epochs + 1) if e % eval_every == 0 or e == epochs]
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)                         # dropout masks
        gen = torch.Generator().manual_seed(seed)       # batch order
        stats = train_loop(model, opt, epoch_batches(X, y, B, gen), steps=epochs * per_epoch,
                           penalize=_penalties(model.weights(), weight_decay, l1), evaluate=history.record,
                           eval_at=eval_at)
    elapsed = time.perf_counter() - t0
    model.eval()
    restored = history.best_state is not None
    if restored:
        model.load_state_dict(history.best_state)
    return TrainResult(**history.arrays(), best_epoch=int(history.best_epoch),
                       stopped_epoch=stats.steps // per_epoch, stopped_early=stats.stopped, restored=restored,
                       elapsed_s=elapsed, samples_per_s=stats.samples / elapsed if elapsed > 0 else math.nan,
                       settings=settings)


def _checked_data(model: MLP, data, *, needs_val: bool) -> dict:
    """``data`` as tensors (:func:`as_tensors`), checked against the model's inputs and classes."""
    data = as_tensors(data)
    if needs_val and "val" not in data:
        raise GenlabError("early stopping (patience) needs a 'val' split")
    if any(Xs.shape[1] != model.config.n_inputs for Xs, _ in data.values()):
        raise GenlabError(f"the model takes {model.config.n_inputs} inputs; the data has "
                          f"{sorted({Xs.shape[1] for Xs, _ in data.values()})} features")
    y = data["train"][1]
    if int(y.min()) < 0 or int(y.max()) >= model.config.n_classes:
        raise GenlabError(f"labels must be class indices in [0, {model.config.n_classes - 1}]")
    return data


def _penalties(weights: list, weight_decay: float, l1: float):
    """``loss -> loss + penalties`` on the weight matrices (not the biases, as nanoGPT's decay), or None."""
    if weight_decay <= 0 and l1 <= 0:
        return None

    def penalize(loss):
        if weight_decay > 0:
            loss = loss + 0.5 * weight_decay * sum((w * w).sum() for w in weights)
        if l1 > 0:
            loss = loss + l1 * sum(w.abs().sum() for w in weights)
        return loss

    return penalize


class _History:
    """The evaluations of :func:`train`, and early stopping on the monitored validation figure."""

    def __init__(self, model: MLP, data: dict, *, patience, monitor: str, per_epoch: int):
        self.model, self.data, self.patience, self.per_epoch = model, data, patience, per_epoch
        self.key = 1 if monitor == "val_error" else 0
        self.columns = {k: [] for k in ("epochs", "train_loss", "train_error", "val_loss", "val_error",
                                        "test_loss", "test_error")}
        self.best, self.best_epoch, self.best_state, self.since_best = math.inf, 0, None, 0

    def record(self, steps_done: int) -> bool:
        """Evaluate every split after ``steps_done`` steps; True when early stopping says stop."""
        epoch = steps_done // self.per_epoch
        ev = evaluate(self.model, self.data)
        self.columns["epochs"].append(epoch)
        for split in SPLITS:
            loss, err = ev.get(split, (math.nan, math.nan))
            self.columns[f"{split}_loss"].append(loss)
            self.columns[f"{split}_error"].append(err)
        stop = self._update(ev, epoch)
        if epoch > 0 and not math.isfinite(self.columns["train_loss"][-1]):
            raise GenlabError(f"training diverged at epoch {epoch} (loss is not finite); lower lr")
        return stop

    def _update(self, ev: dict, epoch: int) -> bool:
        if "val" not in ev:
            return False
        score = ev["val"][self.key] + 1e-9 * ev["val"][0] * (self.key == 1)  # error; the loss breaks ties
        if score < self.best:
            self.best, self.best_epoch, self.since_best = score, epoch, 0
            if self.patience is not None:
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.since_best += 1
        return self.patience is not None and self.since_best >= self.patience

    def arrays(self) -> dict:
        return {k: np.asarray(v, dtype=np.float64 if k != "epochs" else np.int64) for k, v in self.columns.items()}


# --------------------------------------------------------------------------- scikit-learn's API

class TorchMLPClassifier(ClassifierMixin, BaseEstimator):
    """:class:`MLP` trained by :func:`train`, as a scikit-learn classifier.

    Inputs are used as given (scale them first; digits: divide by 16).

    Parameters
    ----------
    width, depth, dropout, loss
        As in :class:`MLPConfig`.
    epochs, lr, optimizer, batch_size, weight_decay, l1
        As in :func:`train`.
    random_state : int, default=0
        Seeds the initialization and the training.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    model_ : MLP
    history_ : TrainResult
    n_features_in_ : int
    """

    def __init__(self, width=64, *, depth=1, dropout=0.0, loss="cross_entropy", epochs=100, lr=1e-3,
                 optimizer="adam", batch_size=128, weight_decay=0.0, l1=0.0, random_state=0):
        self.width = width
        self.depth = depth
        self.dropout = dropout
        self.loss = loss
        self.epochs = epochs
        self.lr = lr
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.l1 = l1
        self.random_state = random_state

    def fit(self, X, y):
        """Train on X of shape (n_samples, n_features) and labels y of shape (n_samples,); returns self."""
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import validate_data

        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"a classifier needs at least 2 classes; y has 1 class ({self.classes_[0]!r})")
        seed = 0 if self.random_state is None else int(self.random_state)
        config = MLPConfig(n_inputs=X.shape[1], width=self.width, depth=self.depth,
                           n_classes=self.classes_.size, dropout=self.dropout, loss=self.loss)
        self.model_ = MLP(config, seed=seed)
        self.history_ = train(self.model_, {"train": (X, yi)}, epochs=self.epochs, lr=self.lr,
                              optimizer=self.optimizer, batch_size=self.batch_size,
                              weight_decay=self.weight_decay, l1=self.l1, eval_every=self.epochs, seed=seed)
        return self

    def _logits(self, X):
        from sklearn.utils.validation import check_is_fitted, validate_data

        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        with torch.no_grad():
            logits, _ = self.model_(torch.from_numpy(np.ascontiguousarray(X)))   # (n, n_classes)
        return logits

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes) (softmax of the logits)."""
        return torch.softmax(self._logits(X), dim=1).numpy().astype(np.float64)

    def predict(self, X):
        """Predicted labels, shape (n_samples,)."""
        index = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[index]

