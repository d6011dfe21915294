"""Training and validation error against model size: the article's Fig 5."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import GenlabError
from ..core.limits import LIMITS, capacity_bytes, check_cap, check_memory
from ..core.results import Result
from ..core.seeding import check_seed, rng as make_rng
from ..core.stats import summary_frame
from ..data.sources import Dataset, SyntheticSource, check_n
from ..linalg.bases import check_basis, check_degree, vander, window
from ..linalg.solvers import check_solver, solve
from ..plots.helpers import axes, quartile_band

METHODS = ("holdout", "kfold")


def parse_degrees(text: str) -> list[int]:
    """``"0-30"``, ``"1,2,5-8"`` or ``"0-30:5"`` (a step) to a sorted list of degrees."""
    out: set[int] = set()
    for part in str(text).split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*(?::\s*(\d+)\s*)?)?", part)
        if not m:
            raise GenlabError(f"degrees {text!r} are malformed; write a range like 0-30, a list like 1,2,5 "
                              "or both (degrees are integers >= 0)")
        for digits in filter(None, m.groups()):  # before int() (4300 digits at most) and before expanding
            if len(digits) > 18:
                raise GenlabError(f"--degrees {digits[:6]}... ({len(digits):,} digits) is above the limit of "
                                  f"{int(LIMITS['degrees'].cap):,}; lower it")
            check_cap(int(digits), "degrees")
        lo, hi, step = int(m[1]), int(m[2]) if m[2] else int(m[1]), int(m[3]) if m[3] else 1
        if hi < lo or step < 1:
            raise GenlabError(f"degree range {part.strip()!r} is empty; write low-high with low <= high")
        out.update(range(lo, hi + 1, step))
    return sorted(out)


def _errors_by_degree(x_tr, y_tr, x_va, y_va, degrees, basis, solver, alpha, domain):
    """Train and validation RMSE of every degree, from one design of the highest degree."""
    if domain is None:  # as PolynomialRegression: the training inputs' range
        lo, hi = x_tr.min(), x_tr.max()
        domain = (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)
    top = max(degrees)
    A_tr = vander(window(x_tr, domain) if basis != "monomial" else x_tr, top, basis)
    A_va = vander(window(x_va, domain) if basis != "monomial" else x_va, top, basis)
    tr, va = np.empty(len(degrees)), np.empty(len(degrees))
    for i, d in enumerate(degrees):
        coef, _ = solve(A_tr[:, : d + 1], y_tr, solver, alpha)
        tr[i] = np.sqrt(np.mean((A_tr[:, : d + 1] @ coef - y_tr) ** 2))
        va[i] = np.sqrt(np.mean((A_va[:, : d + 1] @ coef - y_va) ** 2))
    return tr, va


@dataclass
class CapacityCurve(Result):
    """Training and validation RMSE per degree over repeated splits.

    ``train_rmse`` and ``val_rmse`` have shape (n_repeats, n_degrees); with
    k-fold each entry is the mean over the k folds of one repeat, so repeats are
    independent and their spread gives the standard errors.
    """

    degrees: np.ndarray
    train_rmse: np.ndarray
    val_rmse: np.ndarray
    method: str
    n_train: int
    config: dict = field(default_factory=dict)

    def summary(self):
        """One row per degree: mean, standard error, median, quantiles, heavy-tail flag."""
        return summary_frame({"degree": self.degrees, "n_params": self.degrees + 1},
                             {"train": self.train_rmse, "val": self.val_rmse})

    @property
    def best_degree(self) -> int:
        """The degree with the lowest median validation RMSE."""
        return int(self.degrees[np.argmin(np.median(self.val_rmse, axis=0))])

    def to_dict(self) -> dict:
        frame = self.summary()
        return {"method": self.method, "n_train": self.n_train, "n_repeats": int(self.train_rmse.shape[0]),
                "best_degree": self.best_degree, "config": self.config,
                "by_degree": frame.to_dict(orient="records")}

    def plot(self, ax=None, *, title=None):
        """Median training and validation RMSE with interquartile bands, mean dashed, log scale."""
        ax = axes(ax, (6, 4))
        for name, arr, color in (("training", self.train_rmse, "tab:blue"),
                                 ("validation", self.val_rmse, "tab:orange")):
            quartile_band(ax, self.degrees, arr, color=color, label=f"{name} (median, IQR)", ms=3, mean=True,
                          mean_label=f"{name} (mean)", mean_lw=1)
        threshold = self.n_train - 1
        if self.degrees.min() <= threshold <= self.degrees.max():
            ax.axvline(threshold, color="0.5", ls=":", lw=1)
            ax.annotate("degree + 1 = n_train", (threshold, 0.98), xycoords=("data", "axes fraction"),
                        ha="right", va="top", fontsize="small", color="0.4", rotation=90)
        ax.set_yscale("log")
        lo, hi = ax.get_ylim()  # past the threshold training RMSE is ~1e-14 and validation ~1e9:
        med = np.median(self.val_rmse, axis=0)  # clip from the data's own scale (the article's: 1e-3 to 1e4)
        ref = float(np.min(med[np.isfinite(med) & (med > 0)], initial=np.inf))
        if np.isfinite(ref):
            ax.set_ylim(max(lo, 1e-2 * ref), min(hi, 1e5 * ref))
        ax.set_xlabel("polynomial degree (model size − 1)")
        ax.set_ylabel("root mean squared error (RMSE, units of y)")
        ax.legend(fontsize="small", loc="upper left")
        if title:
            ax.set_title(title)
        return ax


def capacity_curve(data: SyntheticSource | Dataset, degrees, *, n: int = 30, method: str = "holdout",
                   val_fraction: float = 1 / 3, folds: int = 5, repeats: int = 100,
                   basis: str = "legendre", solver: str = "lstsq", alpha: float = 0.0,
                   seed: int = 0, n_val: int | None = None) -> CapacityCurve:
    """Training vs validation error against degree.

    Parameters
    ----------
    data : SyntheticSource or Dataset
        A source draws a fresh dataset of ``n`` points per repeat (``n + n_val``
        with ``n_val``); a fixed dataset (one feature) is re-split per repeat.
    degrees : iterable of int or str
        Degrees to fit (``"0-30"`` is accepted).
    n : int
        Points per dataset from a source, split by ``val_fraction``; with
        ``n_val``, the training points (``n_val`` validation points are drawn
        beside them). Ignored for a dataset, whose rows are the data.
    method : {"holdout", "kfold"}
        One random split with ``val_fraction`` (or ``n_val`` points) held out, or shuffled k-fold.
    n_val : int, optional
        Holdout: validation points per repeat (held out of a dataset's rows,
        drawn beside the ``n`` training points of a source), in place of ``val_fraction``.
        ``capacity_curve(source, d, n=20, n_val=10)`` gives the same numbers as
        ``capacity_curve(source, d, n=30, val_fraction=1/3)``.
    repeats : int
        Independent repeats (datasets or splits); their spread gives the bands.

    Returns
    -------
    CapacityCurve
    """
    degrees = parse_degrees(degrees) if isinstance(degrees, str) else sorted({check_degree(d) for d in degrees})
    if not degrees:
        raise GenlabError("give at least one degree")
    if method not in METHODS:
        raise GenlabError(f"unknown method {method!r}; choose holdout or kfold")
    check_basis(basis)
    check_solver(solver, alpha)
    seed = check_seed(seed)
    repeats = check_n(repeats, "repeats")
    if n_val is not None:
        if method != "holdout":
            raise GenlabError("n_val is the validation set of the holdout method; k-fold validates on its folds")
        n_val = check_n(n_val, "n_val")
    if isinstance(data, SyntheticSource):
        n = check_n(n) + (n_val or 0)
        domain = data.x_dist.support
    else:
        if data.X.shape[1] != 1:
            raise GenlabError(f"a capacity curve needs one input feature, the data has {data.X.shape[1]}")
        n, domain = data.n, None
    if method == "holdout" and n_val is not None:
        if n_val >= n:
            raise GenlabError(f"holding out n_val = {n_val} of the {n} rows leaves no training points; lower n_val")
        n_train = n - n_val
    elif method == "holdout":
        if not 0 < val_fraction < 1:
            raise GenlabError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
        n_val = int(round(n * val_fraction))
        if not 1 <= n_val <= n - 1:
            raise GenlabError(f"holding out {val_fraction:g} of n = {n} leaves an empty set; change n or val_fraction")
        n_train = n - n_val
    else:
        if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or not 2 <= folds <= n:
            raise GenlabError(f"folds must be an integer between 2 and n = {n}, got {folds!r}")
        n_train = n - int(np.ceil(n / folds))

    check_memory(capacity_bytes(n=n, degree=max(degrees), repeats=repeats, n_degrees=len(degrees)),
                 "this capacity curve", "give fewer --repeats, --n or degrees (--degrees)")
    train = np.empty((repeats, len(degrees)))
    val = np.empty_like(train)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for r in range(repeats):
            g = make_rng(seed, "capacity", r)
            ds = data.sample(n, g) if isinstance(data, SyntheticSource) else data
            x, y = ds.x, ds.y
            perm = g.permutation(n)
            if method == "holdout":
                splits = [(perm[:n_train], perm[n_train:])]
            else:
                parts = np.array_split(perm, folds)
                splits = [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(folds)]
            errs = [_errors_by_degree(x[tr], y[tr], x[va], y[va], degrees, basis, solver, alpha, domain)
                    for tr, va in splits]
            train[r] = np.mean([e[0] for e in errs], axis=0)
            val[r] = np.mean([e[1] for e in errs], axis=0)
    config = {"n": n, "method": method, "repeats": repeats, "basis": basis, "solver": solver,
              "alpha": alpha, "seed": seed}
    if method == "kfold":
        config.update(folds=folds)
    else:
        config.update(val_fraction=val_fraction) if n_val is None else config.update(n_val=n_val)
    if isinstance(data, SyntheticSource):
        config["source"] = data.describe()
    else:
        config["data"] = data.name
    return CapacityCurve(np.array(degrees), train, val, method, n_train, config)
