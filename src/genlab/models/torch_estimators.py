"""Torch networks behind scikit-learn's estimator API, and the user's own ``torch.nn.Module`` in one line.

:class:`TorchEstimator` holds what genlab's torch estimators share — the
training options, the seeded build of the network, the held-out split of early
stopping, the device — and trains with the one supervised loop of
:func:`genlab.models.training.train_model`. Three estimators use it:
:class:`genlab.models.mlp.TorchMLPClassifier`,
:class:`genlab.models.mlp.TorchMLPRegressor` and :class:`TorchRegressor`, which
wraps any network a function of yours builds::

    import torch.nn as nn
    from genlab.models import TorchRegressor

    def make_net(n_features, n_outputs, hidden=32):
        return nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, n_outputs))

    est = TorchRegressor(make_net, module_params={"hidden": 64}, epochs=200, lr=1e-2)

Determinism: a fit is a function of ``random_state`` (same seed, bitwise the
same predictions on the same device): the network is built and trained under
:func:`torch.manual_seed` inside :func:`torch.random.fork_rng` (the caller's
global stream is left as it was), the mini-batch order comes from a seeded
:class:`torch.Generator`, and fits in threads of one process take turns
(:data:`genlab.models.training.FIT_LOCK`). Threads: torch's own thread count is
left alone here; genlab's worker processes set it to 1.

This module imports torch; ``import genlab`` does not import it.
"""

from __future__ import annotations

import importlib

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

from sklearn.base import BaseEstimator, RegressorMixin

from ..core.checks import check_int
from ..core.errors import GenlabError
from .training import FIT_LOCK, check_float, check_train_args, rng_devices, train_model

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device, *, option: str | None = None) -> str:
    """``"cuda"`` (or ``"cuda:N"``) when asked for, or available with ``"auto"``; else ``"cpu"``.

    ``option`` is the command-line option that gave ``device`` (``"--device"``), for the messages. N is
    1-3 ASCII digits, and a GPU with that index must exist."""
    index = device[5:] if isinstance(device, str) and device.startswith("cuda:") else None
    if not isinstance(device, str) or not (device in DEVICES or (
            index is not None and 1 <= len(index) <= 3 and index.isascii() and index.isdigit())):
        shown = repr(device[:40] + "…" if len(device) > 40 else device) if isinstance(device, str) else \
            repr(device)[:40]
        if option:
            raise GenlabError(f"{option} {shown} is unknown; choose auto, cpu, cuda (or cuda:N)")
        raise GenlabError(f"unknown device {shown}; choose auto, cpu, cuda or cuda:N")
    if device == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        if index is not None and int(index) >= torch.cuda.device_count():
            raise GenlabError(f"{option or 'device'} {device}: torch sees {torch.cuda.device_count()} CUDA "
                              f"device(s), numbered from 0; choose one of them, cuda or auto")
        return "cuda" if device == "auto" else device
    if device == "auto":
        return "cpu"
    if option:
        raise GenlabError(f"{option} {device}: torch sees no CUDA device here (no GPU, or a CPU-only torch build); "
                          f"use {option} cpu or auto, or install a CUDA build of torch on a machine with a GPU")
    raise GenlabError(f"device {device} asked for but torch sees no CUDA device; use device='auto' or 'cpu'")


def seed_of(random_state) -> int:
    """The torch seed of ``random_state``: an int >= 0 as it is, None as 0 (a fit is always seeded),
    a numpy ``RandomState`` or ``Generator`` by one draw."""
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2 ** 31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2 ** 31 - 1))
    return check_int(random_state, "random_state", 0)


def resolve_factory(factory):
    """The callable ``factory`` names: itself, or the object at ``"package.module:name"`` (or
    ``"package.module.name"``), imported now (naming a module imports it)."""
    if callable(factory):
        return factory
    if not isinstance(factory, str):
        raise GenlabError(f"module_factory must be a callable or an import path 'package.module:function', "
                          f"got {factory!r}")
    module, sep, qualname = factory.partition(":")
    if not sep:
        module, _, qualname = factory.rpartition(".")
    parts = module.split(".") + qualname.split(".")
    if not module or not qualname or not all(p.isidentifier() for p in parts):
        raise GenlabError(f"module_factory {factory!r} is not an import path; write 'package.module:function'")
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise GenlabError(f"module_factory {factory!r} cannot be imported ({exc}); check the module and "
                          "the name, and that the module is on PYTHONPATH") from None
    if not callable(found):
        raise GenlabError(f"module_factory {factory!r} is not callable; name a function or an nn.Module class")
    return found


class Regression(nn.Module):
    """``forward(x, targets) -> (output, mean squared error)`` around a network ``x -> output``.

    Parameters
    ----------
    net : torch.nn.Module
        Maps x of shape (B, n_features), float32, to outputs of shape
        (B, n_outputs) (or (B,) when ``n_outputs`` is 1).
    n_outputs : int
    """

    def __init__(self, net: nn.Module, n_outputs: int):
        super().__init__()
        self.net = net
        self.n_outputs = n_outputs

    def forward(self, x, targets=None):
        """Outputs (B, n_outputs), and the mean squared error against ``targets`` (B, n_outputs) if given."""
        out = self.net(x)
        if not isinstance(out, torch.Tensor):
            raise GenlabError(f"the network returned a {type(out).__name__}; it must return a tensor of shape "
                              f"(batch, {self.n_outputs})")
        if self.n_outputs == 1 and out.shape == (x.shape[0],):
            out = out[:, None]
        if out.shape != (x.shape[0], self.n_outputs):
            raise GenlabError(f"the network maps a batch of shape {tuple(x.shape)} to {tuple(out.shape)}; "
                              f"it must give (batch, n_outputs) = ({x.shape[0]}, {self.n_outputs})")
        loss = None if targets is None else F.mse_loss(out, targets)
        return out, loss

    def weights(self) -> list:
        """What weight decay and L1 act on: parameters of two dimensions or more (not biases, not norms' scales)."""
        return [p for p in self.parameters() if p.ndim >= 2]


class TorchEstimator(BaseEstimator):
    """What genlab's torch estimators share: the training options and the fit.

    A subclass defines ``__init__`` (its own parameters, then these), builds
    its network in ``fit`` and calls :meth:`_train`; :meth:`_outputs` gives
    the fitted network's outputs.

    Parameters
    ----------
    epochs : int, default=100
        Passes over the training set (at most, with early stopping).
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "sgd"}, default="adam"
        Adam, or plain SGD (no momentum).
    batch_size : int or None, default=128
        Samples per step; None (or >= n) is full-batch gradient descent.
    weight_decay : float, default=0.0
        L2 penalty ``weight_decay / 2 * sum ||W||^2`` on the weight matrices (not the biases).
    l1 : float, default=0.0
        L1 penalty ``l1 * sum |W|`` on the weight matrices.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows (drawn from the
        seed), evaluate after every epoch, stop after ``patience`` epochs
        without a better validation figure, and keep the best epoch's weights.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping.
    patience : int, default=10
        Epochs without improvement before early stopping stops.
    random_state : int or None, default=0
        Seeds the initialization, dropout, the batch order and the held-out
        split; None is 0 (a fit is always seeded).
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where to train: ``"auto"`` is CUDA when torch sees a GPU, else the CPU.
        Numbers are bitwise reproducible on one device; CPU and GPU differ in
        the last bits.
    """

    _monitor = "val_loss"  # what early stopping minimizes

    def _check_training(self) -> None:
        check_train_args(epochs=self.epochs, lr=self.lr, optimizer=self.optimizer, batch_size=self.batch_size,
                         weight_decay=self.weight_decay, l1=self.l1, eval_every=1,
                         patience=self.patience if self.early_stopping else None, monitor=self._monitor)
        if not isinstance(self.early_stopping, (bool, np.bool_)):
            raise GenlabError(f"early_stopping must be True or False, got {self.early_stopping!r}")
        check_float(self.validation_fraction, "validation_fraction", 0.0, 1.0, open_high=True)
        if not self.validation_fraction > 0:
            raise GenlabError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")

    def _train(self, X: np.ndarray, targets: np.ndarray, build, *, settings: dict) -> None:
        """Build the network (``build()``, seeded) and train it on ``(X, targets)``; set ``model_``,
        ``history_`` and ``device_``.

        X : float32 array of shape (n, n_features); targets : int64 class indices (n,) or float32 (n, n_outputs).
        """
        self._check_training()
        seed = seed_of(self.random_state)
        device = resolve_device(self.device)
        X = torch.as_tensor(X if X.flags.writeable else X.copy())
        y = torch.as_tensor(targets if targets.flags.writeable else targets.copy())
        data = {"train": (X, y)}
        if self.early_stopping:
            n = X.shape[0]
            n_val = int(round(float(self.validation_fraction) * n))
            if n_val < 1 or n_val >= n:
                raise GenlabError(f"early stopping holds out {self.validation_fraction:g} of {n} rows, which "
                                  f"leaves {n_val} for validation and {n - n_val} to train; change "
                                  "validation_fraction or turn early_stopping off")
            perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
            val, train = perm[:n_val].sort().values, perm[n_val:].sort().values
            data = {"train": (X[train], y[train]), "val": (X[val], y[val])}
        data = {k: (a.to(device), b.to(device)) for k, (a, b) in data.items()}
        with FIT_LOCK:
            with torch.random.fork_rng(devices=rng_devices(device)):
                torch.manual_seed(seed)                     # the initialization
                model = build()
            model.to(device)
            history = train_model(model, data, epochs=self.epochs, lr=self.lr, optimizer=self.optimizer,
                                  batch_size=self.batch_size, weight_decay=self.weight_decay, l1=self.l1,
                                  eval_every=1 if self.early_stopping else self.epochs,
                                  patience=self.patience if self.early_stopping else None,
                                  monitor=self._monitor, seed=seed, settings={**settings, "device": device})
        self.model_, self.history_, self.device_ = model, history, device

    def _outputs(self, X) -> torch.Tensor:
        """The fitted network's outputs for X (n, n_features), on the CPU, shape (n, n_outputs)."""
        from sklearn.utils.validation import check_is_fitted, validate_data

        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        X = np.ascontiguousarray(X)
        x = torch.from_numpy(X if X.flags.writeable else X.copy()).to(self.device_)
        with torch.no_grad():
            out, _ = self.model_(x)                     # (n, n_outputs)
        return out.cpu()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class TorchRegressorBase(RegressorMixin, TorchEstimator):
    """A regressor whose network a subclass builds (``_network(n_features, n_outputs) -> build()``),
    trained on the mean squared error; one target (y of shape (n,)) or several ((n, n_outputs))."""

    def _network(self, n_features: int, n_outputs: int):  # pragma: no cover - each subclass has its own
        raise NotImplementedError

    def _describe(self) -> dict:
        return {}

    def fit(self, X, y):
        """Train on X of shape (n_samples, n_features) and targets y of shape (n_samples,) or
        (n_samples, n_outputs); returns self."""
        from sklearn.utils.validation import validate_data

        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True, multi_output=True)
        y = np.asarray(y, dtype=np.float32)
        if y.ndim > 2:
            raise ValueError(f"y must have shape (n_samples,) or (n_samples, n_outputs), got {y.shape}")
        self._one_target = y.ndim == 1
        targets = np.ascontiguousarray(y.reshape(y.shape[0], -1))          # (n, n_outputs)
        self.n_outputs_ = targets.shape[1]
        self._check_training()
        build = self._network(X.shape[1], self.n_outputs_)
        self._train(X, targets, lambda: Regression(build(), self.n_outputs_),
                    settings={"model": self._describe(), "targets": "values"})
        return self

    def predict(self, X):
        """Predicted targets, shape (n_samples,) (or (n_samples, n_outputs) when fitted on several)."""
        out = self._outputs(X).numpy().astype(np.float64)                  # (n, n_outputs)
        return out[:, 0] if self._one_target else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class TorchRegressor(TorchRegressorBase):
    """Your own ``torch.nn.Module``, trained by genlab's loop, as a scikit-learn regressor.

    ``module_factory(n_features, n_outputs, **module_params)`` builds the
    network; it gets float32 inputs of shape (batch, n_features) and returns
    outputs of shape (batch, n_outputs) (or (batch,) for one target). It is
    called under ``torch.manual_seed(random_state)``, so its initialization is
    seeded; dropout inside it is seeded too. The loss is the mean squared error;
    ``weight_decay`` and ``l1`` act on the parameters of two dimensions or more.

    Parameters
    ----------
    module_factory : callable or str
        A function (or an ``nn.Module`` class) taking ``(n_features, n_outputs,
        **module_params)``, or its import path ``"package.module:function"``.
        To run through a store or on Dask (``decompose(..., store=...)``,
        ``dask=``), the estimator travels to the worker processes as JSON:
        give the factory as a function of a module they can import, or as
        its import path string (not ``__main__``, not a lambda); a lambda or
        a function of a notebook runs in this process only.
    module_params : dict, optional
        Keyword arguments of ``module_factory`` (numbers, strings, ...).
    epochs, lr, optimizer, batch_size, weight_decay, l1, early_stopping, validation_fraction, patience, \
random_state, device
        The training, as in :class:`TorchEstimator`.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network that ``module_factory`` built (in eval mode).
    model_ : Regression
        It, with the loss.
    history_ : genlab.models.training.TrainResult
        Loss and squared error at each evaluation.
    n_features_in_, n_outputs_ : int
    device_ : str

    Examples
    --------
    >>> import torch.nn as nn
    >>> from genlab.models import TorchRegressor
    >>> def make_net(n_features, n_outputs, hidden=32):
    ...     return nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, n_outputs))
    >>> est = TorchRegressor(make_net, module_params={"hidden": 16}, epochs=300, lr=1e-2, device="cpu")
    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 64)[:, None]
    >>> est.fit(X, np.sin(3 * X[:, 0])).score(X, np.sin(3 * X[:, 0])) > 0.9
    True

    In a decomposition through a store (``make_net`` in ``mynets.py``)::

        genlab.decompose(TorchRegressor("mynets:make_net", epochs=200), store="runs.sqlite", jobs=2)
    """

    #: Parameters that may name a function of the user's own module when a worker rebuilds the estimator
    #: from its JSON spec (:func:`genlab.core.estimators.from_spec`).
    _importable_callables = ("module_factory",)

    def __init__(self, module_factory, *, module_params=None, epochs=100, lr=1e-3, optimizer="adam",
                 batch_size=128, weight_decay=0.0, l1=0.0, early_stopping=False, validation_fraction=0.1,
                 patience=10, random_state=0, device="auto"):
        self.module_factory = module_factory
        self.module_params = module_params
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
        f = self.module_factory
        name = f if isinstance(f, str) else f"{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', f)}"
        return {"module_factory": name, "module_params": dict(self.module_params or {})}

    def _network(self, n_features: int, n_outputs: int):
        factory = resolve_factory(self.module_factory)
        params = self.module_params or {}
        if not isinstance(params, dict):
            raise GenlabError(f"module_params must be a dict of keyword arguments, got {params!r}")

        def build():
            try:
                net = factory(n_features, n_outputs, **params)
            except TypeError as exc:
                raise GenlabError(f"module_factory(n_features={n_features}, n_outputs={n_outputs}, "
                                  f"**{params!r}) failed: {exc}") from exc
            if not isinstance(net, nn.Module):
                raise GenlabError(f"module_factory returned a {type(net).__name__}; it must return a "
                                  "torch.nn.Module")
            return net

        return build

    @property
    def module_(self) -> nn.Module:
        """The trained network (``model_.net``)."""
        return self.model_.net
