"""Where (x, y) come from: the article's synthetic source, any target f(x),
scikit-learn's bundled sets and a user's CSV.

A *source* knows the distribution it samples from, so experiments can measure
against the truth: ``source.mean(x)`` is ȳ(x) = E[y | x] and
``source.noise_var`` is the irreducible error. A :class:`Dataset` is one draw
(or one file): arrays plus names.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.checks import check_fraction, check_int as check_n, check_nonnegative
from ..core.errors import GenlabError
from ..core.expr import _snippet, parse_expression
from ..core.limits import LIMITS
from ..core.seeding import check_seed, rng as make_rng

ARTICLE_TARGET = "2*x**2 + 1"
ARTICLE_NOISE = 0.1
ARTICLE_N = 30


@dataclass(frozen=True)
class Dataset:
    """Inputs ``X`` of shape (n_samples, n_features) and targets ``y`` of shape (n_samples,)."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...] = ("x",)
    target_name: str = "y"
    task: str = "regression"  # or "classification"
    name: str = ""
    #: where a worker process can load the same data again: {"dataset": name} or
    #: {"csv": path, "x": [...], "y": col}, plus {"select": feature}; None for data made in memory
    origin: dict | None = field(default=None, compare=False, repr=False)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def x(self) -> np.ndarray:
        """The single input as a 1-D array (one-feature data only)."""
        if self.X.shape[1] != 1:
            raise GenlabError(f"dataset {self.name!r} has {self.X.shape[1]} features; choose one")
        return self.X[:, 0]

    def split(self, n_train: int, rng: np.random.Generator) -> tuple["Dataset", "Dataset"]:
        """A random split into ``n_train`` training points and the rest."""
        if not 1 <= n_train < self.n:
            raise GenlabError(f"a split needs 1 <= n_train < {self.n}, got {n_train}")
        perm = rng.permutation(self.n)
        return self.take(perm[:n_train]), self.take(perm[n_train:])

    def take(self, idx) -> "Dataset":
        return Dataset(self.X[idx], self.y[idx], self.feature_names, self.target_name, self.task, self.name)

    def select(self, feature: str) -> "Dataset":
        """Keep one named feature."""
        if feature not in self.feature_names:
            raise GenlabError(f"dataset {self.name!r} has no feature {feature!r}; "
                              f"choose one of {', '.join(self.feature_names)}")
        j = self.feature_names.index(feature)
        origin = None if self.origin is None or "select" in self.origin else {**self.origin, "select": feature}
        return Dataset(self.X[:, [j]], self.y, (feature,), self.target_name, self.task, self.name, origin)

    def fingerprint(self) -> str:
        """sha256 of the inputs and targets (16 hex digits): the same numbers, the same fingerprint."""
        import hashlib

        h = hashlib.sha256()
        for a in (self.X, self.y):
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        return h.hexdigest()[:16]


def dataset_from_origin(origin: dict) -> Dataset:
    """Load the data a :attr:`Dataset.origin` names (in a worker process)."""
    if "dataset" in origin:
        data = load_dataset(origin["dataset"])
    else:
        data = load_csv(origin["csv"], x=tuple(origin["x"]), y=origin["y"])
    return data.select(origin["select"]) if "select" in origin else data


# -- x distributions --------------------------------------------------------

_XDIST = re.compile(r"^\s*(uniform|normal|grid)\s*(?:\(\s*([^,()]+)\s*,\s*([^,()]+)\s*\))?\s*$")


@dataclass(frozen=True)
class XDistribution:
    """Inputs: ``uniform(a, b)``, ``normal(mean, std)`` or a fixed ``grid(a, b)``
    of evenly spaced points (the same x in every dataset: a fixed design)."""

    kind: str = "uniform"
    a: float = 0.0
    b: float = 1.0

    def __post_init__(self):
        if self.kind not in ("uniform", "normal", "grid"):
            raise GenlabError(f"unknown x distribution {self.kind!r}; use uniform(a, b), normal(mean, std) or grid(a, b)")
        if not (math.isfinite(self.a) and math.isfinite(self.b)):
            raise GenlabError(f"x distribution {self} needs finite parameters")
        reach = (self.b - self.a) if self.kind != "normal" else (abs(self.a) + 6 * self.b)
        if not math.isfinite(reach) or max(abs(self.a), abs(self.b)) > MAX_VALUE:
            raise GenlabError(f"x distribution {self} spans beyond ±1e100, where squared errors overflow; "
                              "rescale x")
        if self.kind == "normal" and self.b <= 0:
            raise GenlabError(f"normal(mean, std) needs std > 0, got {self.b}")
        if self.kind != "normal" and self.b <= self.a:
            raise GenlabError(f"{self.kind}(a, b) needs a < b, got {self.a}, {self.b}")

    @classmethod
    def parse(cls, text: str) -> "XDistribution":
        """Parse ``"uniform(0, 1)"``, ``"normal(0.5, 0.2)"``, ``"grid(0, 1)"`` or a bare kind."""
        m = _XDIST.match(text)
        if not m:
            raise GenlabError(f"x distribution {text!r} is malformed; write uniform(0, 1), normal(0.5, 0.2) or grid(0, 1)")
        kind, a, b = m.groups()
        if a is None:
            return cls(kind, *((0.0, 1.0) if kind != "normal" else (0.5, 0.25)))
        try:
            a, b = float(a), float(b)
        except ValueError:
            raise GenlabError(f"x distribution {text!r} needs two numbers") from None
        return cls(kind, a, b)

    def sample(self, n, rng: np.random.Generator) -> np.ndarray:
        """``n`` inputs; ``n`` may be a shape ``(n_datasets, n)`` (a grid repeats per row)."""
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b, n)
        if self.kind == "normal":
            return rng.normal(self.a, self.b, n)
        shape = (n,) if np.ndim(n) == 0 else tuple(n)
        return np.broadcast_to(np.linspace(self.a, self.b, shape[-1]), shape).copy()

    def quantiles(self, m: int) -> np.ndarray:
        """``m`` test inputs at the quantiles (i + 1/2) / m: a low-discrepancy stand-in for E_x."""
        u = (np.arange(m) + 0.5) / m
        if self.kind == "normal":
            from scipy.special import ndtri  # norm.ppf's own kernel, without importing scipy.stats (~1.5 s)

            return self.a + self.b * ndtri(u)
        return self.a + (self.b - self.a) * u

    @property
    def support(self) -> tuple[float, float] | None:
        """The interval the inputs lie in, or None when unbounded."""
        return None if self.kind == "normal" else (self.a, self.b)

    def __str__(self) -> str:
        return f"{self.kind}({self.a:g}, {self.b:g})"


#: The largest |value| of data, a target or a noise level: squared errors overflow float64 near 1e154.
MAX_VALUE = LIMITS["csv_value"].cap


def check_noise(noise) -> float:
    """A noise standard deviation: a finite number in [0, :data:`MAX_VALUE`]."""
    noise = check_nonnegative(noise, "noise")
    if noise > MAX_VALUE:
        raise GenlabError(f"noise {noise:g} is beyond {MAX_VALUE:g}, where squared errors overflow; rescale y")
    return noise


@dataclass(frozen=True)
class SyntheticSource:
    """y = f(x) + N(0, noise²), x from ``x_dist``. The default is the article's:
    f(x) = 2x² + 1, σ = 0.1, x ~ U[0, 1].

    Parameters
    ----------
    target : str or callable, default="2*x**2 + 1"
        ȳ(x) = E[y | x], as a safe expression in ``x`` or a vectorized callable.
    noise : float, default=0.1
        Standard deviation σ of the Gaussian noise.
    x_dist : XDistribution or str, default="uniform(0, 1)"
    """

    target: str | Callable = ARTICLE_TARGET
    noise: float = ARTICLE_NOISE
    x_dist: XDistribution | str = field(default_factory=XDistribution)
    _f: Callable = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "noise", check_noise(self.noise))
        if isinstance(self.x_dist, str):
            object.__setattr__(self, "x_dist", XDistribution.parse(self.x_dist))
        if isinstance(self.target, str):
            f = parse_expression(self.target, what="target expression")
        elif callable(self.target):
            f = self.target
        else:
            raise GenlabError(f"target must be an expression string or a callable, got {self.target!r}")
        object.__setattr__(self, "_f", f)
        probe = np.linspace(*(self.x_dist.support or (self.x_dist.a - 3 * self.x_dist.b,
                                                       self.x_dist.a + 3 * self.x_dist.b)), 101)
        top = np.max(np.abs(self.mean(probe)))  # fail now, not in a worker, if the target is unusable
        if top > MAX_VALUE:
            raise GenlabError(f"target {_snippet(self.target_text)} reaches {top:g} over the inputs, beyond "
                              f"±{MAX_VALUE:g}, where squared errors overflow; rescale it")

    @property
    def target_text(self) -> str:
        return self.target if isinstance(self.target, str) else getattr(self.target, "__name__", "f")

    @property
    def noise_var(self) -> float:
        """The irreducible error E[(y - ȳ(x))²] = σ²."""
        return self.noise ** 2

    def mean(self, x) -> np.ndarray:
        """ȳ(x) = E[y | x]."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = np.broadcast_to(np.asarray(self._f(x), dtype=np.float64), x.shape)
        if not np.all(np.isfinite(out)):
            bad = x[~np.isfinite(out)][0]
            raise GenlabError(f"target {_snippet(self.target_text)} is not finite at x = {bad:g}; "
                              "change the target or the x distribution")
        return np.array(out)

    def sample(self, n: int, rng: np.random.Generator) -> Dataset:
        """Draw one dataset of ``n`` points: x first, then the noise."""
        n = check_n(n)
        x = self.x_dist.sample(n, rng)
        y = self.mean(x) + rng.normal(0.0, self.noise, n) if self.noise > 0 else self.mean(x)
        return Dataset(x[:, None], y, ("x",), "y", "regression", "synthetic")

    def draw(self, n: int, seed: int, *key) -> Dataset:
        """``sample`` with the job stream of ``(seed, *key)`` (see :mod:`genlab.core.seeding`)."""
        return self.sample(n, make_rng(check_seed(seed), *key))

    def describe(self) -> dict:
        return {"target": self.target_text, "noise": self.noise, "x": str(self.x_dist)}

    def to_config(self) -> dict | None:
        """An exact JSON description (None when the target is a callable, which JSON cannot hold)."""
        if not isinstance(self.target, str):
            return None
        return {"type": "regression", "target": self.target, "noise": float(self.noise),
                "x": _x_config(self.x_dist)}


ARTICLE_SOURCE = SyntheticSource()


@dataclass(frozen=True)
class ClassificationSource:
    """Labels drawn from a known P(y | x), so the noise of a 0-1 or log loss is known.

    Parameters
    ----------
    probs : str, callable or list of them, default="0.5 + 0.4*sin(2*pi*x)"
        One expression: P(y = 1 | x) of a binary problem. A list: one
        non-negative weight per class, normalized to probabilities.
    x_dist : XDistribution or str, default="uniform(0, 1)"
    label_noise : float, default=0.0
        Each label is replaced, with this probability, by a different class
        drawn uniformly; P(y | x) accounts for it.
    """

    probs: str | Callable | tuple = "0.5 + 0.4*sin(2*pi*x)"
    x_dist: XDistribution | str = field(default_factory=XDistribution)
    label_noise: float = 0.0
    _fs: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if isinstance(self.x_dist, str):
            object.__setattr__(self, "x_dist", XDistribution.parse(self.x_dist))
        if isinstance(self.probs, list):
            object.__setattr__(self, "probs", tuple(self.probs))
        items = self.probs if isinstance(self.probs, tuple) else (self.probs,)
        fs = tuple(parse_expression(p, what="class probability expression") if isinstance(p, str) else p
                   for p in items)
        if not all(callable(f) for f in fs):
            raise GenlabError("class probabilities must be expression strings or callables")
        object.__setattr__(self, "_fs", fs)
        check_fraction(self.label_noise, "label noise")
        lo, hi = self.x_dist.support or (self.x_dist.a - 3 * self.x_dist.b, self.x_dist.a + 3 * self.x_dist.b)
        self.proba(np.linspace(lo, hi, 101))  # fail now if the probabilities are not valid

    @property
    def n_classes(self) -> int:
        return 2 if len(self._fs) == 1 else len(self._fs)

    def proba(self, x) -> np.ndarray:
        """P(y = k | x) with label noise applied: shape ``x.shape + (n_classes,)``."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            vals = [np.broadcast_to(np.asarray(f(x), dtype=np.float64), x.shape) for f in self._fs]
        if len(vals) == 1:
            p1 = vals[0]
            if not np.all((p1 >= 0) & (p1 <= 1)):
                raise GenlabError("P(y = 1 | x) must lie in [0, 1] over the inputs; change the expression")
            p = np.stack([1 - p1, p1], axis=-1)
        else:
            w = np.stack(vals, axis=-1)
            if not np.all(np.isfinite(w)) or np.any(w < 0) or np.any(w.sum(axis=-1) <= 0):
                raise GenlabError("class weights must be finite, >= 0 and not all 0 over the inputs")
            p = w / w.sum(axis=-1, keepdims=True)
        K, r = p.shape[-1], float(self.label_noise)
        return (1 - r) * p + r * (1 - p) / (K - 1)

    def sample_labels(self, x, rng: np.random.Generator) -> np.ndarray:
        """Labels for inputs x (any shape), by inverse CDF."""
        cdf = np.cumsum(self.proba(x), axis=-1)
        u = rng.random(np.shape(x))
        return (u[..., None] > cdf[..., :-1]).sum(axis=-1)

    def sample(self, n: int, rng: np.random.Generator) -> Dataset:
        n = check_n(n)
        x = self.x_dist.sample(n, rng)
        return Dataset(x[:, None], self.sample_labels(x, rng), ("x",), "y", "classification", "synthetic")

    def describe(self) -> dict:
        items = self.probs if isinstance(self.probs, tuple) else (self.probs,)
        return {"probs": [p if isinstance(p, str) else getattr(p, "__name__", "f") for p in items],
                "x": str(self.x_dist), "label_noise": self.label_noise, "n_classes": self.n_classes}

    def to_config(self) -> dict | None:
        """An exact JSON description (None when a probability is a callable)."""
        items = self.probs if isinstance(self.probs, tuple) else (self.probs,)
        if not all(isinstance(p, str) for p in items):
            return None
        return {"type": "classification", "probs": list(items) if isinstance(self.probs, tuple) else self.probs,
                "x": _x_config(self.x_dist), "label_noise": float(self.label_noise)}


def _x_config(x_dist: XDistribution) -> dict:
    return {"kind": x_dist.kind, "a": float(x_dist.a), "b": float(x_dist.b)}


def source_from_config(config: dict):
    """The source a ``to_config()`` description gives back."""
    x = XDistribution(config["x"]["kind"], config["x"]["a"], config["x"]["b"])
    if config["type"] == "regression":
        return SyntheticSource(config["target"], config["noise"], x)
    probs = config["probs"]
    return ClassificationSource(tuple(probs) if isinstance(probs, list) else probs, x, config["label_noise"])


# -- classification label noise ---------------------------------------------

def flip_labels(y, rate: float, rng: np.random.Generator, classes=None) -> tuple[np.ndarray, np.ndarray]:
    """Replace each label, with probability ``rate``, by a different class drawn uniformly.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
    flipped : ndarray of bool, shape (n_samples,)
    """
    rate = check_fraction(rate, "label noise")
    y = np.asarray(y)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    if classes.size < 2:
        raise GenlabError("label noise needs at least 2 classes")
    flipped = rng.random(y.shape[0]) < rate
    idx = np.searchsorted(classes, y)
    shift = rng.integers(1, classes.size, y.shape[0])  # never back to the true class
    y_noisy = np.where(flipped, classes[(idx + shift) % classes.size], y)
    return y_noisy, flipped


# -- bundled and user data ---------------------------------------------------

BUNDLED = {
    "digits": ("load_digits", "classification"),
    "diabetes": ("load_diabetes", "regression"),
    "wine": ("load_wine", "classification"),
    "breast_cancer": ("load_breast_cancer", "classification"),
}


def load_dataset(name: str) -> Dataset:
    """One of scikit-learn's bundled sets (no download): digits, diabetes, wine, breast_cancer."""
    if name not in BUNDLED:
        raise GenlabError(f"unknown dataset {name!r}; choose one of {', '.join(BUNDLED)} or give a CSV")
    import sklearn.datasets

    loader, task = BUNDLED[name]
    bunch = getattr(sklearn.datasets, loader)()
    names = tuple(str(f) for f in getattr(bunch, "feature_names", [f"x{j}" for j in range(bunch.data.shape[1])]))
    return Dataset(np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target), names,
                   "target", task, name, {"dataset": name})


def _not_regular(mode: int) -> str:
    """What a file that is not a regular file is, for a message."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"


def open_regular_file(path, what: str, max_bytes: int):
    """Open ``path`` for reading in binary, or a one-line :class:`GenlabError` when it is missing,
    unreadable, not a regular file (a folder, a FIFO, ``/dev/zero``) or larger than ``max_bytes``.

    The file is opened without blocking (a FIFO would wait for a writer) and checked on the open
    descriptor, so what is read is what was checked.

    Returns
    -------
    file object (binary), to be closed by the caller.
    """
    shown = repr(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise GenlabError(f"{what} {shown} does not exist") from None
    except OSError as exc:
        raise GenlabError(f"{what} {shown} cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise GenlabError(f"{what} {shown} is {_not_regular(info.st_mode)}, not a regular file; give a file")
        if info.st_size > max_bytes:
            raise GenlabError(f"{what} {shown} is {info.st_size:,} bytes, above the limit of {max_bytes:,}; "
                              "give a sample of it")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_csv(path):
    """A CSV with a header row as a pandas DataFrame (column names stripped), or a one-line
    :class:`GenlabError` when the file is missing, unreadable, not a regular file, or past the
    limits on bytes and rows (:data:`genlab.core.limits.LIMITS`)."""
    import pandas as pd

    max_rows = int(LIMITS["csv_rows"].cap)
    with open_regular_file(path, "CSV file", int(LIMITS["csv_bytes"].cap)) as fh:
        try:
            frame = pd.read_csv(fh, skipinitialspace=True, nrows=max_rows + 1)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GenlabError(f"CSV file {str(path)!r} cannot be read: {reason}") from None
    if len(frame) > max_rows:
        raise GenlabError(f"CSV file {str(path)!r} has more than {max_rows:,} data rows, the limit; "
                          "give a sample of the rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def csv_column(frame, col: str, path, *, positive: bool = False) -> np.ndarray:
    """Column ``col`` as finite float64 (and > 0 when ``positive``), or a :class:`GenlabError`
    naming the first bad row."""
    import pandas as pd

    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
    big = MAX_VALUE
    with np.errstate(invalid="ignore"):
        huge = np.isfinite(values) & (np.abs(values) > big)
    bad = ~np.isfinite(values) | huge | ((values <= 0) if positive else False)
    if bad.any():
        row = int(np.argmax(bad))
        raw = frame[col].iloc[row]
        shown = repr(raw) if isinstance(raw, str) else str(raw)  # 'abc' quoted; inf, -1.0 as written
        if pd.isna(raw) or str(raw).strip().lower() in ("nan", ""):
            kind = "a missing value (NaN) is not a finite number"
        elif huge[row]:
            kind = f"{shown} is beyond ±{big:g}, where squared errors and plots overflow (rescale the column)"
        elif np.isfinite(values[row]):
            kind = f"{shown} is not > 0"
        else:
            kind = f"{shown} is not a finite number"
        raise GenlabError(f"CSV file {str(path)!r}, column {col!r}, data row {row + 1}: {kind}; fix or remove the row")
    return values


def load_csv(path, x: str | tuple[str, ...] | None = "x", y: str = "y") -> Dataset:
    """A user's CSV with a header row; ``x`` names the input column(s), ``y`` the target.

    ``x=None`` takes every column except ``y`` as an input. Every error (missing file or column,
    text or NaN in a numeric column) is a :class:`GenlabError` naming the column and row to fix.
    """
    path = Path(path)
    frame = read_csv(path)
    if x is None:
        if y not in frame.columns:
            raise GenlabError(f"CSV file {str(path)!r} has no column {y!r}; its columns are "
                              f"{', '.join(frame.columns)} (choose the target with --y-col)")
        x = tuple(c for c in frame.columns if c != y)
        if not x:
            raise GenlabError(f"CSV file {str(path)!r} has no column besides the target {y!r}; add the inputs")
    xs = (x,) if isinstance(x, str) else tuple(x)
    missing = [c for c in (*xs, y) if c not in frame.columns]
    if missing:
        raise GenlabError(f"CSV file {str(path)!r} has no column {missing[0]!r}; "
                          f"its columns are {', '.join(frame.columns)} (choose with --x-col/--y-col)")
    if len(frame) == 0:
        raise GenlabError(f"CSV file {str(path)!r} has no data rows")
    cols = [csv_column(frame, c, path) for c in (*xs, y)]
    return Dataset(np.column_stack(cols[:-1]), cols[-1], xs, y, "regression", path.name,
                   {"csv": str(path.resolve()), "x": list(xs), "y": y})


def column_list(values, y: str | None = None) -> tuple[str, ...] | None:
    """Input columns from a repeatable, comma-separated option (``--x-col a --x-col b,c``); None when none
    is given (then every column except the target is an input)."""
    if not values:
        return None
    items = [values] if isinstance(values, str) else list(values)
    cols = tuple(dict.fromkeys(c.strip() for item in items for c in str(item).split(",") if c.strip()))
    if not cols:
        raise GenlabError("--x-col is empty; name the input columns, e.g. --x-col age,income")
    if y is not None and y in cols:
        raise GenlabError(f"column {y!r} is the target (--y-col); it cannot be an input (--x-col) too")
    return cols
