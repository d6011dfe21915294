"""A multilayer perceptron and its training, in one file (nanoGPT's style).

Read top to bottom: :class:`MLPConfig` (the architecture, commented defaults),
:class:`MLP` (``forward(x, targets) -> (logits, loss)``), :func:`train`
(mini-batch steps of the shared supervised training,
:func:`genlab.models.training.train_model`, with optional L1 and L2 penalties
and validation-based early stopping), :func:`mlp_layers` (the same layers as a
plain network, for regression), and :class:`TorchMLPClassifier` and
:class:`TorchMLPRegressor` (the same, behind scikit-learn's estimator API —
:class:`genlab.models.torch_estimators.TorchEstimator` — for the bias-variance
engine and the sweeps).

:func:`train` runs float32 on the CPU; the estimators train on the GPU when
torch sees one (``device="auto"``). A run is a function of its seed:
``torch.manual_seed`` (under :func:`torch.random.fork_rng`, so the caller's
global stream is left as it was) for the initialization and dropout, and a
seeded :class:`torch.Generator` for the order of the mini-batches.

This module imports torch; ``import genlab`` does not import it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

from sklearn.base import ClassifierMixin

from ..core.checks import check_int as _check_int
from ..core.errors import GenlabError
from .torch_estimators import TorchEstimator, TorchRegressorBase
from .training import (MONITORS, OPTIMIZERS, SPLITS, TrainResult, check_float as _check_float,  # noqa: F401
                       check_train_args, evaluate, train_model)

LOSSES = ("cross_entropy", "squared")
#: hidden units' nonlinearity -> its module
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "silu": nn.SiLU,
               "identity": nn.Identity}


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
    activation: str = "relu"    # of the hidden units: relu, tanh, sigmoid, gelu, silu or identity

    def __post_init__(self):
        _check_int(self.n_inputs, "n_inputs", 1)
        check_layers(width=self.width, depth=self.depth, activation=self.activation, dropout=self.dropout)
        _check_int(self.n_classes, "n_classes", 2)
        if self.loss not in LOSSES:
            raise GenlabError(f"unknown loss {self.loss!r}; choose {' or '.join(LOSSES)}")

    @property
    def n_params(self) -> int:
        """Weights and biases: (n_inputs + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * n_classes."""
        if self.depth == 0:
            return (self.n_inputs + 1) * self.n_classes
        return ((self.n_inputs + 1) * self.width + (self.depth - 1) * (self.width + 1) * self.width
                + (self.width + 1) * self.n_classes)


def check_activation(activation) -> str:
    """``activation`` if it names one of :data:`ACTIVATIONS`, else a GenlabError listing them."""
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise GenlabError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    return activation


def hidden_layers(n_inputs: int, width: int, depth: int, activation: str = "relu", dropout: float = 0.0):
    """``depth`` times (Linear, activation, Dropout), built in that order; returns ``(layers, output width)``."""
    layers, d = [], n_inputs
    for _ in range(depth):
        layers += [nn.Linear(d, width), ACTIVATIONS[activation](), nn.Dropout(dropout)]
        d = width
    return layers, d


def check_layers(*, width, depth, activation, dropout) -> None:
    """Validate the hidden layers' options (GenlabError naming the one to change)."""
    _check_int(width, "width", 1)
    _check_int(depth, "depth", 0)
    check_activation(activation)
    _check_float(dropout, "dropout", 0.0, 1.0, open_high=True)


def mlp_layers(n_inputs: int, n_outputs: int, *, width: int = 64, depth: int = 1, activation: str = "relu",
               dropout: float = 0.0) -> nn.Sequential:
    """:class:`MLP`'s layers as a plain network ``x (B, n_inputs) -> (B, n_outputs)`` (a regressor's)."""
    _check_int(n_inputs, "n_inputs", 1)
    _check_int(n_outputs, "n_outputs", 1)
    check_layers(width=width, depth=depth, activation=activation, dropout=dropout)
    layers, d = hidden_layers(n_inputs, width, depth, activation, dropout)
    return nn.Sequential(*layers, nn.Linear(d, n_outputs))


class MLP(nn.Module):
    """``depth`` hidden layers of ``config.activation`` units (each followed by dropout), then a linear head.

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
            layers, d = hidden_layers(config.n_inputs, config.width, config.depth, config.activation,
                                      config.dropout)
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


# --------------------------------------------------------------------------- training

def train(model: MLP, data, *, epochs: int = 100, lr: float = 1e-3, optimizer: str = "adam",
          batch_size: int | None = 128, weight_decay: float = 0.0, l1: float = 0.0, eval_every: int = 1,
          patience: int | None = None, monitor: str = "val_error", seed: int = 0) -> TrainResult:
    """Train ``model`` in place by mini-batch gradient steps; evaluate every ``eval_every`` epochs.

    The steps are those of the shared supervised training, :func:`genlab.models.training.train_model`
    (and its loop, :func:`genlab.models.training.train_loop`).

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
    return train_model(model, data, epochs=epochs, lr=lr, optimizer=optimizer, batch_size=batch_size,
                       weight_decay=weight_decay, l1=l1, eval_every=eval_every, patience=patience, monitor=monitor,
                       seed=seed, settings={"model": asdict(model.config)})


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


# --------------------------------------------------------------------------- scikit-learn's API


class TorchMLPClassifier(ClassifierMixin, TorchEstimator):
    """:class:`MLP` trained by genlab's loop, as a scikit-learn classifier.

    Inputs are used as given (scale them first; digits: divide by 16).

    Parameters
    ----------
    width, depth, activation, dropout, loss
        As in :class:`MLPConfig`.
    epochs, lr, optimizer, batch_size, weight_decay, l1, early_stopping, validation_fraction, patience, \
random_state, device
        The training, as in :class:`genlab.models.torch_estimators.TorchEstimator`
        (early stopping watches the held-out rows' 0-1 error, their loss breaking ties).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    model_ : MLP
    history_ : genlab.models.training.TrainResult
    n_features_in_ : int
    device_ : str
    """

    _monitor = "val_error"

    def __init__(self, width=64, *, depth=1, activation="relu", dropout=0.0, loss="cross_entropy", epochs=100,
                 lr=1e-3, optimizer="adam", batch_size=128, weight_decay=0.0, l1=0.0, early_stopping=False,
                 validation_fraction=0.1, patience=10, random_state=0, device="auto"):
        self.width = width
        self.depth = depth
        self.activation = activation
        self.dropout = dropout
        self.loss = loss
        self.epochs = epochs
        self.lr = lr
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.l1 = l1
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.device = device

    def fit(self, X, y):
        """Train on X of shape (n_samples, n_features) and labels y of shape (n_samples,); returns self."""
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import validate_data

        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"a classifier needs at least 2 classes; y has 1 class ({self.classes_[0]!r})")
        config = MLPConfig(n_inputs=X.shape[1], width=self.width, depth=self.depth, n_classes=self.classes_.size,
                           dropout=self.dropout, loss=self.loss, activation=self.activation)
        self._train(np.asarray(X, dtype=np.float32), np.asarray(yi, dtype=np.int64), lambda: MLP(config),
                    settings={"model": asdict(config)})
        return self

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes) (softmax of the logits)."""
        return torch.softmax(self._outputs(X), dim=1).numpy().astype(np.float64)

    def predict(self, X):
        """Predicted labels, shape (n_samples,)."""
        index = self._outputs(X).argmax(dim=1).numpy()
        return self.classes_[index]


class TorchMLPRegressor(TorchRegressorBase):
    """An MLP trained by genlab's loop on the mean squared error, as a scikit-learn regressor.

    The network is :func:`mlp_layers`: ``depth`` hidden layers of ``width``
    units (``activation``, then dropout), then a linear layer to the targets.
    Inputs and targets are used as given: scale them first (a
    ``sklearn.pipeline.Pipeline`` with a ``StandardScaler``, a
    ``sklearn.compose.TransformedTargetRegressor``).

    Parameters
    ----------
    width : int, default=64
        Units per hidden layer.
    depth : int, default=1
        Hidden layers; 0 is linear regression.
    activation : {"relu", "tanh", "sigmoid", "gelu", "silu", "identity"}, default="relu"
    dropout : float, default=0.0
        Probability of zeroing a hidden unit in training.
    epochs, lr, optimizer, batch_size, weight_decay, l1, early_stopping, validation_fraction, patience, \
random_state, device
        The training, as in :class:`genlab.models.torch_estimators.TorchEstimator`
        (early stopping watches the held-out rows' squared error).

    Attributes
    ----------
    model_ : genlab.models.torch_estimators.Regression
        The trained network (``model_.net``, an ``nn.Sequential``) with its loss.
    history_ : genlab.models.training.TrainResult
    n_features_in_, n_outputs_ : int
    device_ : str

    Examples
    --------
    >>> import numpy as np
    >>> from genlab.models import TorchMLPRegressor
    >>> X = np.linspace(-1, 1, 50)[:, None]
    >>> est = TorchMLPRegressor(width=32, activation="tanh", epochs=300, lr=1e-2, device="cpu")
    >>> est.fit(X, X[:, 0] ** 2).predict(X).shape
    (50,)
    """

    def __init__(self, width=64, *, depth=1, activation="relu", dropout=0.0, epochs=100, lr=1e-3, optimizer="adam",
                 batch_size=128, weight_decay=0.0, l1=0.0, early_stopping=False, validation_fraction=0.1,
                 patience=10, random_state=0, device="auto"):
        self.width = width
        self.depth = depth
        self.activation = activation
        self.dropout = dropout
        self.epochs = epochs
        self.lr = lr
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.l1 = l1
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.device = device

    def _describe(self) -> dict:
        return {"width": self.width, "depth": self.depth, "activation": self.activation, "dropout": self.dropout}

    def _network(self, n_features: int, n_outputs: int):
        check_layers(width=self.width, depth=self.depth, activation=self.activation, dropout=self.dropout)
        return lambda: mlp_layers(n_features, n_outputs, width=self.width, depth=self.depth,
                                  activation=self.activation, dropout=self.dropout)
