"""Limits on what one command may ask for, checked before any work and before any file.

Every option that sets how much a command computes has a documented cap
(:data:`LIMITS`; the README's "Limits" table is this table). A cap that only
bounds time is lifted by ``--allow-large`` (``allow_large=True``); a cap that
bounds what can be represented at all (seeds, worker processes, expressions,
CSV files and their values) is ``hard`` and is not.

Beside the caps, :func:`check_memory` refuses a run whose estimated memory
(the ``*_bytes`` estimators, made from the sizes alone) exceeds what this
machine has available, and :func:`announce` says up front, on one line of
stderr, how long a long run will take (the ``*_seconds`` estimators: cheap and
rounded up, measured on a 2-core laptop-class CPU).
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

import numpy as np

from .errors import GenlabError

__all__ = ["LIMITS", "Limit", "announce", "available_memory", "check_cap", "check_memory", "max_jobs"]


@dataclass(frozen=True)
class Limit:
    """The cap on one option.

    Attributes
    ----------
    option : str
        The option as the CLI spells it, e.g. ``"--datasets"``.
    cap : int or float
        The largest accepted value.
    why : str
        What the cap protects: the time or memory a value past it takes.
    past : str
        How to go past it.
    hard : bool
        True when ``--allow-large`` does not lift it.
    """

    option: str
    cap: float
    why: str
    past: str = "give --allow-large to run it anyway"
    hard: bool = False


_CHUNKS = "run it in chunks with different --seed values, or give --allow-large"

#: The caps, by name (several commands share a name: ``--seeds`` of double-descent, regularize, lottery).
LIMITS = {
    "datasets": Limit("--datasets", 10**6, "about 2 min and 2 GB of per-dataset errors at 30 degrees", _CHUNKS),
    "n": Limit("--n", 10**7, "training points per dataset: a design of n x (degree + 1) per dataset"),
    "n_test": Limit("--n-test", 10**6, "test points: the per-x curves and the fits kept for the figure"),
    "degree": Limit("--degree", 10_000, "a design of n x (degree + 1), and the figure evaluates "
                    "1000 x (degree + 1) values"),
    "degrees": Limit("--degrees", 10**6, "the highest degree a list of degrees may name, before it is "
                     "expanded", "lower it", hard=True),
    "repeats": Limit("--repeats", 10**6, "one dataset (or split) and one fit per degree each"),
    "seeds": Limit("--seeds", 10_000, "one job, a row of the results store, each", _CHUNKS),
    "rounds": Limit("--rounds", 10_000, "one job (real data) or one pruning round with its retrainings each"),
    "dd_n": Limit("--n", 10_000, "training points, or the dimension d of isotropic samples: 3d x d least "
                  "squares take hours past d = 2000"),
    "width": Limit("--width", 10_000, "width^2 weights per hidden layer"),
    "depth": Limit("--depth", 100, "one hidden layer of width^2 weights each"),
    "epochs": Limit("--epochs", 100_000, "every training of every round runs this many epochs"),
    "tokens": Limit("--tokens", 1e9, "training tokens of one run: hours to weeks of CPU time past 1e9"),
    "step_tokens": Limit("--batch-size x --block-size", 2**20, "tokens per optimizer step, whose activations "
                         "are held in memory"),
    "lm_repeats": Limit("--repeats", 1000, "one trained transformer per size, budget and repeat"),
    "bootstrap": Limit("--bootstrap", 100_000, "one scaling-law fit per replicate"),
    "demo_jobs": Limit("--n", 100_000, "one job, a row of the results store, each", "run several smaller demos",
                       hard=True),
    "classes": Limit("--probs", 100, "one class-weight expression per class, evaluated at every point"),
    "seed": Limit("--seed", 2**63 - 1, "the results store keeps seeds as SQLite INTEGER (64-bit signed)",
                  "give a smaller seed", hard=True),
    "jobs": Limit("--jobs", 4, "worker processes per core: more only compete for the cores and memory",
                  "give fewer workers (or --dask ADDRESS for a cluster)", hard=True),
    "expression": Limit("expression length", 1000, "characters of a target or probability expression",
                        "simplify it", hard=True),
    "expression_depth": Limit("expression nesting", 100, "levels of nesting of an expression", "simplify it",
                              hard=True),
    "csv_bytes": Limit("--csv", 2**30, "bytes of a CSV file (pandas holds several times that in memory)",
                       "give a sample of the rows", hard=True),
    "csv_rows": Limit("--csv", 10**7, "data rows of a CSV file", "give a sample of the rows", hard=True),
    "csv_value": Limit("CSV values", 1e100, "largest |value| in a CSV column, of --noise and of the target: "
                       "squared errors and plots overflow past about 1e150", "rescale the column", hard=True),
    "law_bytes": Limit("--law", 64 * 2**20, "bytes of a fit's JSON file", "give the JSON 'scaling fit' wrote",
                       hard=True),
    "corpus_bytes": Limit("--corpus", 64 * 2**20, "bytes of a corpus file (8 bytes per token in memory)",
                          "give a slice of the text", hard=True),
}

#: The help of every command's ``--allow-large``.
ALLOW_LARGE_HELP = ("Lift the size limits that only bound time (see 'Limits' in the README); memory is "
                    "still checked.")
#: A run estimated to take longer than this many seconds says so up front.
LONG_RUN_S = 60.0
#: Only this share of the available memory may be planned for (the rest: Python, libraries, plots).
MEMORY_SHARE = 0.8


def _fmt(value) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    return f"{float(value):.3g}"


def check_cap(value, name: str, *, allow_large: bool = False, option: str | None = None):
    """Refuse ``value`` above the cap ``LIMITS[name]`` with a one-line :class:`GenlabError`.

    Parameters
    ----------
    value : int or float or None
        The option's value; ``None`` (a default chosen later) and values that are
        not numbers (left to the option's own checks) pass.
    name : str
        A key of :data:`LIMITS`.
    allow_large : bool, default=False
        Lift a cap that is not ``hard``.
    option : str, optional
        How the message names the option, when not as ``LIMITS[name].option`` (e.g. ``"--n-val"``).

    Returns
    -------
    The value, unchanged.
    """
    lim = LIMITS[name]
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return value
    if value > lim.cap and not (allow_large and not lim.hard):
        raise GenlabError(f"{option or lim.option} {_fmt(value)} is above the limit of {_fmt(lim.cap)} "
                          f"({lim.why}); {lim.past}")
    return value


def max_jobs() -> int:
    """The most worker processes a command may start: :data:`LIMITS` ``["jobs"]`` per usable core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return int(LIMITS["jobs"].cap) * max(cores, 1)


# --------------------------------------------------------------------------- memory

def _proc_bytes(path: str, key: str) -> int | None:
    """The ``key: N kB`` line of a /proc status file, in bytes (None when absent)."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().split()[0]
        return None if text == "max" else int(text)
    except (OSError, ValueError, IndexError):
        return None


def available_memory() -> int:
    """Bytes this process can still allocate: the least of the machine's available memory
    (``MemAvailable``, else free pages), the cgroup's headroom and the address-space limit
    (``ulimit -v``) less what the process maps already."""
    candidates = []
    avail = _proc_bytes("/proc/meminfo", "MemAvailable")
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    if avail is not None:
        candidates.append(avail)
    cg_max, cg_cur = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if cg_max is not None and cg_cur is not None:
        candidates.append(max(cg_max - cg_cur, 0))
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            candidates.append(max(soft - (_proc_bytes("/proc/self/status", "VmSize") or 0), 0))
    except (ImportError, OSError, ValueError):
        pass
    return min(candidates) if candidates else 2**62


def _bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def check_memory(nbytes: float, what: str, shrink: str) -> None:
    """Refuse a run whose estimated memory exceeds what this machine has available.

    Parameters
    ----------
    nbytes : float
        The estimate, from the sizes alone (the ``*_bytes`` functions).
    what : str
        The run, as the message names it: ``"this decomposition"``.
    shrink : str
        How to make it fit: ``"give fewer --datasets or --n-test"``.

    Raises
    ------
    GenlabError
        One line naming the estimate, the memory available and how to shrink the run.
    """
    avail = available_memory()
    if nbytes > MEMORY_SHARE * avail:
        raise GenlabError(f"{what} needs about {_bytes(nbytes)} of memory, more than the {_bytes(avail)} "
                          f"available here; {shrink}")


def biasvar_bytes(*, n_datasets: int, block: int, n: int, n_test: int, n_params: int, n_models: int,
                  jobs: int = 1, engine: str = "polynomial") -> float:
    """Memory of a bias-variance decomposition (:mod:`genlab.analysis.biasvar`), in bytes.

    Each worker holds one block of ``block`` datasets (the engine's ``block_size``: draws, designs, QR
    buffers, coefficients); every block's moments are kept until the end; so
    are the per-dataset errors (copied a few times by the summaries); the
    per-x curves and the first 100 fits are ``n_test`` long.
    """
    N, m, P, M = float(n_datasets), float(n_test), float(n_params), float(n_models)
    bs = float(max(block, 1))
    blocks = math.ceil(N / bs)
    if engine == "polynomial":
        per_worker = bs * (n * (2 * P + 4) + m + 3 * P * M) + M * P * P
        kept = blocks * (M * P * P + 2 * P * M)
        curves = m * (P + 105 * M)
    else:  # any estimator: predictions at every test point; moments in test-point coordinates
        per_worker = bs * (4 * n + m * (3 * M + 1)) + M * m * m
        kept = blocks * (M * m * m + 2 * m * M)
        curves = m * 105 * M + M * m * m
    return 8.0 * (max(jobs, 1) * per_worker + kept + N * (7 * M + 2) + curves)


def fit_bytes(*, n: int, degree: int, n_features: int = 1) -> float:
    """Memory of one polynomial fit and its figure (:func:`genlab.analysis.fitting.fit_polynomial`), in bytes:
    the design and the solver's copies (about 5 of n x P) and the curve of 1000 points x P."""
    P = n_features * degree + 1.0
    return 8.0 * (5 * n * P + 2 * 1000 * P + 10 * n)


def capacity_bytes(*, n: int, degree: int, repeats: int, n_degrees: int) -> float:
    """Memory of a capacity curve (:func:`genlab.analysis.curves.capacity_curve`), in bytes: the designs of one
    repeat and the errors of every repeat."""
    return 8.0 * (6 * n * (degree + 1.0) + 4 * repeats * n_degrees)


# --------------------------------------------------------------------------- time

#: Seconds per dataset of a decomposition with a solver (:func:`biasvar_seconds`): ``(per dataset, per model,
#: per parameter of a model, per n x parameters² of a model)``, fitted to ``decompose_polynomial`` (``jobs=1``,
#: one BLAS thread, CPU time on a 2-core machine; degrees 0-9, 0-29, 0-50 and single degrees, n from 30 to
#: 1000) and rounded up: each within 0.7-1.5x of what was measured. Lasso's coordinate descent costs about
#: 0.6 ms a fit whatever its size, 5-15x a closed-form solver's.
SOLVER_SECONDS = {
    "lstsq": (5e-6, 2e-5, 4e-6, 7e-10),
    "minnorm": (1e-5, 6e-6, 4e-6, 6e-10),
    "ridge": (8e-6, 4.5e-5, 5e-6, 9e-10),
    "lasso": (8e-5, 6e-4, 6e-6, 9e-10),
}
#: The same for the nested engine (exact least squares, one QR per dataset shared by every degree):
#: ``(per dataset, per n x P, per n x P², per model x P²)``, P the most parameters.
NESTED_SECONDS = (5e-6, 3.5e-9, 1.5e-10, 2.5e-10)


def _model_sums(P: float, M: float) -> tuple[float, float, float]:
    """``(models, Σ p, Σ p²)`` of ``M`` models of at most ``P`` parameters, taken as the ``M`` largest sizes
    P, P − 1, … (the sweep of degrees 0 to P − 1 and a single degree exactly; models past P, such as a
    degree's several alphas, at P)."""
    k = min(M, P)
    last = P - k                                   # the sizes are last + 1, ..., P
    s1 = (P * (P + 1) - last * (last + 1)) / 2
    s2 = (P * (P + 1) * (2 * P + 1) - last * (last + 1) * (2 * last + 1)) / 6
    extra = M - k
    return M, s1 + extra * P, s2 + extra * P * P


def biasvar_seconds(*, n_datasets: int, n: int, n_params: int, n_models: int, engine: str = "nested",
                    jobs: int = 1, solver: str | None = None) -> float:
    """Seconds of a decomposition, rounded up: within 0.7-1.5x of what ``decompose_polynomial`` was measured
    to take on one core for each solver (:data:`SOLVER_SECONDS`, :data:`NESTED_SECONDS`).

    Parameters
    ----------
    n_datasets, n : int
        Datasets and training points per dataset.
    n_params : int
        Parameters of the largest model (degree + 1).
    n_models : int
        Models (degrees, or alphas) per dataset.
    engine : {"nested", "solver", "estimator"}
        ``nested``: exact least squares by the compiled kernels (one QR per dataset);
        ``solver``: one fit per model by ``solver``; ``estimator``: any estimator (about 1 ms a fit).
    jobs : int
        Workers sharing the datasets.
    solver : {"exact", "lstsq", "minnorm", "ridge", "lasso"}, optional
        With ``engine="solver"``, which solver (default: ridge's cost, the dearest of the closed-form ones;
        lasso's coordinate descent costs 5-15x more). ``"exact"`` is the nested engine whatever ``engine`` says.
    """
    N, P, M = float(n_datasets), float(n_params), float(n_models)
    if solver == "exact":
        engine = "nested"
    elif solver is not None and solver not in SOLVER_SECONDS:
        raise GenlabError(f"unknown solver {solver!r}; choose exact or one of {', '.join(SOLVER_SECONDS)}")
    if engine == "nested":
        a, b, c, d = NESTED_SECONDS
        per = a + b * n * P + c * n * P * P + d * M * P * P
    elif engine == "solver":
        a, b, c, d = SOLVER_SECONDS[solver or "ridge"]
        models, s1, s2 = _model_sums(P, M)
        per = a + b * models + c * s1 + d * n * s2
    else:
        per = M * 1e-3 * max(1.0, n / 100)
    return N * per / max(jobs, 1)


def capacity_seconds(*, n: int, degree: int, repeats: int, n_degrees: int, folds: int = 1) -> float:
    """Seconds of a capacity curve: one least-squares fit per degree, fold and repeat."""
    return repeats * folds * n_degrees * (5e-5 + 5e-9 * n * (degree + 1.0) ** 2)


def isotropic_bytes(*, d: int, jobs: int = 1) -> float:
    """Memory of sample-wise linear regression on x ~ N(0, I_d) (:func:`genlab.analysis.regularize.sample_wise_linear`):
    designs of up to 3d x d and the solver's copies, per worker."""
    return 8.0 * 4 * 3 * float(d) * d * max(jobs, 1)


def isotropic_seconds(*, d: int, seeds: int, jobs: int = 1) -> float:
    """Seconds of the same: 60 least-squares fits of n x d, n up to 3d (about 180 d^3 FLOPs) per seed
    at 10 GFLOP/s (measured: 18 s per seed at d = 1000)."""
    return seeds * 180.0 * float(d) ** 3 / 1e10 / max(jobs, 1)


def lm_seconds(runs) -> float:
    """Seconds of transformer training runs on one CPU core: ``runs`` are (N, D) pairs;
    about 6 N D FLOPs at 3 GFLOP/s plus 10 µs per token of overhead."""
    return sum(6.0 * N * D / 3e9 + 1e-5 * D for N, D in runs)


def mlp_seconds(*, seeds: int, trainings: int, epochs: int, steps_per_epoch: int, weights: float,
                batch_size: int) -> float:
    """Seconds of MLP trainings: about 6 FLOPs per weight and example at 1 GFLOP/s plus 25 ms per step
    (the optimizer step, the per-epoch validation and the bookkeeping of a small network)."""
    steps = float(seeds) * trainings * epochs * steps_per_epoch
    return steps * (2.5e-2 + 6.0 * weights * batch_size / 1e9)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"


def announce(seconds: float, what: str, stream=None) -> None:
    """Say on one line of stderr how long a run will take, when that is more than :data:`LONG_RUN_S`.

    Parameters
    ----------
    seconds : float
        The estimate (a ``*_seconds`` function), for the workers the run uses.
    what : str
        What makes it long, e.g. ``"1,000,000 datasets x 30 degrees"``.
    """
    if seconds > LONG_RUN_S:
        (stream or sys.stderr).write(f"genlab: note: this run takes about {_duration(seconds)} here "
                                     f"({what}; an estimate); Ctrl-C stops it\n")


def check_run(nbytes: float, seconds: float, what: str, shrink: str, why: str) -> None:
    """:func:`check_memory`, then :func:`announce`: a refused run says nothing else, a long one says so."""
    check_memory(nbytes, what, shrink)
    announce(seconds, why)


def duration_text(seconds: float) -> str:
    """``"40 s"``, ``"5 min"``, ``"2.5 h"``: a duration for a person, read at a glance."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:,.1f} h"
