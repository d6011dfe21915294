"""Model-wise double descent of an MLP on a user's regression data (a CSV): test squared error of a
one-hidden-layer ReLU network against its width, :func:`mlp_regression_width_sweep`.

The regression counterpart of :func:`~.mlp.mlp_width_sweep` (which flips class labels of a bundled
classification set): one job per (width, repeat) through :func:`genlab.runs.sweep.sweep`; a repeat
is one random split of the rows, shared by every width (paired); inputs are standardized column by
column and the target by the training split, so a squared error of 1 is that of predicting the
training mean. Training is full-batch Adam on the squared loss with the shared loop
(:func:`genlab.models.training.train_loop`), one torch thread, seeded per job. torch is imported by
the jobs only.
"""

from __future__ import annotations

import numpy as np

from ...core.checks import check_int
from ...core.errors import GenlabError
from ...core.seeding import check_seed, rng as make_rng, torch_seed
from ._common import Y_UNITS, column_standardizer, data_key, data_name, dataset, run_sweep
from .mlp import QUICK_WIDTHS, WIDTHS, _check_widths
from .results import DoubleDescentCurve

__all__ = ["mlp_regression_job", "mlp_regression_width_sweep"]


def _split(config: dict):
    """Repeat ``config["repeat"]``'s standardized training and test arrays (the same for every width)."""
    ds = dataset(config["data"])
    g = make_rng(config["seed"], "mlp-regression-data", config["repeat"])
    perm = g.permutation(ds.n)
    tr, te = perm[:config["n_train"]], perm[config["n_train"]:config["n_train"] + config["n_test"]]
    std = column_standardizer(ds.X[tr])
    y = np.asarray(ds.y, dtype=np.float64)
    mu, sd = float(y[tr].mean()), float(y[tr].std()) or 1.0
    return std(ds.X[tr]), (y[tr] - mu) / sd, std(ds.X[te]), (y[te] - mu) / sd


def mlp_regression_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """Train one width on one repeat's split (a job of :func:`genlab.runs.sweep.sweep`).

    Returns
    -------
    dict
        ``metrics``: ``train_mse`` and ``test_mse`` (standardized target), ``param_norm`` (‖θ‖ of every
        weight and bias) and ``n_params``.
    """
    import itertools

    import torch
    from torch import nn

    from ...models.training import train_loop

    torch.set_num_threads(1)
    X_tr, y_tr, X_te, y_te = (torch.as_tensor(a, dtype=torch.float32) for a in _split(config))
    d, w = X_tr.shape[1], int(config["width"])

    class Net(nn.Module):
        """x (B, d) -> prediction (B,), and the mean squared error when targets (B,) are given."""

        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(d, w), nn.ReLU(), nn.Linear(w, 1))

        def forward(self, x, targets=None):
            out = self.body(x)[:, 0]                                   # (B,)
            return out, (None if targets is None else ((out - targets) ** 2).mean())

    s = torch_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s)
        net = Net()
        opt = torch.optim.Adam(net.parameters(), lr=float(config["lr"]))
        train_loop(net, opt, itertools.repeat((X_tr, y_tr)), steps=int(config["epochs"]))   # full batch
    net.eval()
    with torch.no_grad():
        train_mse = float(net(X_tr, y_tr)[1])
        test_mse = float(net(X_te, y_te)[1])
        norm = float(torch.sqrt(sum((p * p).sum() for p in net.parameters())))
    return {"metrics": {"train_mse": train_mse, "test_mse": test_mse, "param_norm": norm,
                        "n_params": sum(p.numel() for p in net.parameters())}}


def mlp_regression_width_sweep(data, widths=None, *, n_train: int = 200, n_test: int = 1000, seeds: int | None = None,
                               epochs: int | None = None, lr: float = 1e-2, quick: bool = False, store=None,
                               seed: int = 0, jobs: int | None = 1, dask=None,
                               progress: bool = False) -> DoubleDescentCurve:
    """Test squared error of a one-hidden-layer ReLU network against its width, on a user's regression data.

    Parameters
    ----------
    data : Dataset
        Loaded with :func:`~genlab.data.sources.load_csv` (or a bundled regression set: ``"diabetes"``).
    widths : sequence of int, optional
        Hidden units; default :data:`~.mlp.WIDTHS` (2 to 2048), or :data:`~.mlp.QUICK_WIDTHS` with ``quick``.
    n_train, n_test : int
        Training and test rows per repeat (they must fit in the data together).
    seeds : int, optional
        Repeats: 5 (2 with ``quick``).
    epochs : int, optional
        Full-batch Adam steps: 2000 (500 with ``quick``).
    lr : float
        Adam's learning rate.
    store, seed, jobs, dask, progress
        As in :func:`genlab.runs.sweep.sweep`: one job per (width, repeat).

    Returns
    -------
    DoubleDescentCurve
        Knob ``"width"``; threshold where the parameters w (d + 2) + 1 reach n_train; ``coef_norm`` is the
        norm of all parameters, ``sigma_min`` is not measured (NaN).
    """
    key = data_key(data)
    ds = dataset(key)
    if ds.task == "classification":
        raise GenlabError(f"dataset {data_name(key)!r} has class labels; the MLP width sweep of a classification "
                          "set is mlp_width_sweep (genlab double-descent --model mlp --data NAME)")
    widths = _check_widths(widths if widths is not None else (QUICK_WIDTHS if quick else WIDTHS))
    n_train, n_test = check_int(n_train, "n_train", 2), check_int(n_test, "n_test")
    if n_train + n_test > ds.n:
        raise GenlabError(f"dataset {data_name(key)!r} has {ds.n} rows: n_train + n_test = {n_train + n_test} do not "
                          "fit; lower n_train or n_test")
    seeds = check_int(seeds if seeds is not None else (2 if quick else 5), "seeds")
    epochs = check_int(epochs if epochs is not None else (500 if quick else 2000), "epochs")
    lr = float(lr)
    if not 0 < lr < 10:
        raise GenlabError(f"lr must lie in (0, 10), got {lr}")
    base = {"data": key, "n_train": n_train, "n_test": n_test, "epochs": epochs, "lr": lr, "seed": check_seed(seed)}
    configs = [dict(base, width=w, repeat=r) for r in range(seeds) for w in widths]
    res = run_sweep(mlp_regression_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                    label=f"MLP width sweep on {data_name(key)}")
    shape = (seeds, len(widths))
    grid = {name: res.metric(name).reshape(shape) for name in ("train_mse", "test_mse", "param_norm")}
    d = ds.X.shape[1]
    config = dict(base, widths=widths, seeds=seeds, n_inputs=d, y_units=Y_UNITS)
    return DoubleDescentCurve(knob="width", values=np.array(widths), threshold=(n_train - 1) / (d + 2),
                              test_mse=grid["test_mse"], train_mse=grid["train_mse"], coef_norm=grid["param_norm"],
                              sigma_min=np.full(shape, np.nan), label="one-hidden-layer ReLU MLP", config=config)
