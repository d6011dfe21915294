"""What runs in a worker: job functions named by path, their seeds, and the outcome of each job.

A *job* is a pure function of its config and its seed::

    def fit_one(config: dict, seed: numpy.random.SeedSequence) -> dict:
        rng = numpy.random.default_rng(seed)
        ...
        return {"metrics": {"val_rmse": 0.12}, "series": {"loss": losses}}

(``"arrays": {name: ndarray}`` may be added for results of any shape, such as
a block of moments; the store keeps them as raw bytes beside the record)

defined at the top level of an importable module, so that worker processes
(loky's locally, Dask's on a cluster) can import it by the dotted path that
the store records (``"genlab.runs.jobs:demo_job"``).

Each job's random stream is ``SeedSequence(seed, spawn_key=(int(config_hash,
16),))`` (see :mod:`genlab.core.seeding`): it depends on the sweep seed and the
job's config, not on the order, the executor or the number of workers, so the
results are bitwise identical whichever runs them. :func:`run_batch` is what an
executor (:mod:`genlab.runs.executors`) sends to a worker; a worker never
writes the store.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import GenlabError
from ..core.seeding import seed_sequence
from .records import canonical_json, check_sweep_seed, config_hash, python_scalar

#: Environment of every worker process: one BLAS/OpenMP thread per process.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}
#: Seconds between a local worker's checks that the driver is still alive (it leaves when not).
PARENT_POLL_S = 0.5


# --------------------------------------------------------------------------- job functions

def function_path(fn) -> str:
    """The ``"module:qualname"`` path that names a job function in the store.

    Parameters
    ----------
    fn : callable or str
        A function defined at the top level of a module, or its path
        (``"pkg.mod:func"`` or ``"pkg.mod.func"``).

    Raises
    ------
    GenlabError
        If workers could not import the function by that path (a lambda, a
        nested function, a ``functools.partial``).
    """
    if isinstance(fn, str):
        path = _normalize_path(fn)
        resolve_function(path)
        return path
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not callable(fn) or not module or not qualname or "<" in qualname:
        raise GenlabError(f"a job function must be defined at the top level of a module so that workers can "
                          f"import it; {fn!r} is not (put its parameters in the config instead)")
    path = f"{module}:{qualname}"
    if module != "__main__" and resolve_function(path) is not fn:
        raise GenlabError(f"{path} does not import as the job function given; define it at the top level of "
                          f"{module}")
    return path


def _normalize_path(path: str) -> str:
    if ":" in path:
        return path
    module, _, name = path.rpartition(".")
    if not module:
        raise GenlabError(f"job function {path!r} is not a dotted path; write 'package.module:function'")
    return f"{module}:{name}"


def resolve_function(path: str):
    """Import the job function named ``"module:qualname"`` (or ``"module.function"``)."""
    module_name, _, qualname = _normalize_path(path).partition(":")
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise GenlabError(f"cannot import job function {path!r} ({exc})") from None
    if not callable(obj):
        raise GenlabError(f"job function {path!r} is not callable")
    return obj


def job_seed(seed: int, config_hash: str) -> np.random.SeedSequence:
    """The SeedSequence of the job with this config hash in a sweep seeded ``seed``."""
    return seed_sequence(seed, int(config_hash, 16))


@dataclass(frozen=True)
class Job:
    """One job: a function, a canonical config and the sweep seed.

    Its key ``(kind, config_hash, seed)`` is unique in a store; its random
    stream is :meth:`seed_sequence`. ``Job.from_record(store.job(7)).run()``
    runs a recorded job again in this process (to debug a failure).
    """

    kind: str
    config: dict
    seed: int
    config_json: str = field(repr=False)
    config_hash: str
    id: int | None = None

    @classmethod
    def make(cls, fn, config: dict, seed: int, *, id: int | None = None) -> "Job":
        text = canonical_json(config)
        return cls(function_path(fn), json.loads(text), check_sweep_seed(seed), text, config_hash(text), id)

    @classmethod
    def from_record(cls, record: dict) -> "Job":
        text = canonical_json(record["config"])
        return cls(record["kind"], json.loads(text), int(record["seed"]), text, config_hash(text), record.get("id"))

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.config_hash, self.seed)

    def seed_sequence(self) -> np.random.SeedSequence:
        return job_seed(self.seed, self.config_hash)

    def run(self) -> dict:
        """Run the job here, in this process; return what the function returns (exceptions propagate)."""
        return resolve_function(self.kind)(json.loads(self.config_json), self.seed_sequence())


# --------------------------------------------------------------------------- in the worker

_worker_ready = False


def init_worker(driver: int | None = None) -> None:
    """Initializer of a local worker: one thread; Ctrl-C and SIGTERM are the driver's to handle (it
    kills its workers); and the worker leaves by itself if the driver dies (``kill -9``).

    Parameters
    ----------
    driver : int, optional
        The driver's pid, the worker's parent.
    """
    os.environ.update(THREAD_ENV)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if driver is not None:
        _watch_parent(driver)
    _keep_worker_on_growth()
    _setup_worker()


#: RSS growth after a worker's first job at which loky replaces the worker as leaking (its own default is
#: 300 MB). A job that first imports torch grows a worker by about that much once, and is no leak: each
#: replacement cost a fresh worker's imports (seconds) and printed a warning in the middle of a sweep.
WORKER_GROWTH_LIMIT = 8 << 30


def _keep_worker_on_growth() -> None:
    with contextlib.suppress(Exception):  # a loky without the check has nothing to change
        from joblib.externals.loky import process_executor

        if hasattr(process_executor, "_MAX_MEMORY_LEAK_SIZE"):
            process_executor._MAX_MEMORY_LEAK_SIZE = max(process_executor._MAX_MEMORY_LEAK_SIZE,
                                                         WORKER_GROWTH_LIMIT)


def _watch_parent(driver: int) -> None:
    """Exit this process once its parent ``driver`` is gone.

    Loky's workers would otherwise finish their job and then wait a minute
    for more before leaving, and its resource tracker waits for them. A daemon
    thread polls :func:`os.getppid` (the kernel reparents an orphan): portable
    to every POSIX system, unlike ``PR_SET_PDEATHSIG``, which fires when the
    *thread* that spawned the worker ends (loky spawns from whichever thread
    submits, or from its manager thread), killing workers of a live pool.
    """
    import threading

    def watch():
        while os.getppid() == driver:
            time.sleep(PARENT_POLL_S)
        os._exit(1)  # nobody is left to read a result

    if os.getppid() != driver:  # died before we got here
        os._exit(1)
    threading.Thread(target=watch, name="genlab-parent-watch", daemon=True).start()


def _setup_worker() -> None:
    global _worker_ready
    if _worker_ready:
        return
    os.environ.update(THREAD_ENV)  # for libraries loaded from now on
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # for those already loaded
    _worker_ready = True


def _limit_torch() -> None:
    """One torch thread per worker, if the job's code has imported torch (never imported here)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def _scalar(name, value):
    try:
        return python_scalar(value)
    except TypeError as exc:
        raise TypeError(f"metric {name!r} is a {exc}; metrics are scalars (put sequences in 'series')") from None


def _sequence(name, value):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1:
        raise TypeError(f"series {name!r} has shape {arr.shape}; a series is one-dimensional")
    return arr.tolist()


def _dumps(obj) -> str:
    # repr floats round-trip exactly; NaN/inf as JSON's NaN/Infinity extensions
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def _array(name, value) -> tuple[str, str, str, bytes]:
    arr = np.asarray(value, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"array {name!r} has dtype {arr.dtype}; arrays are numeric (bool, int or float)")
    return str(name), arr.dtype.str, json.dumps(list(arr.shape)), arr.tobytes()


def encode_result(result) -> tuple[str, str, list]:
    """Check a job function's return value; give its metrics and series as JSON texts and its arrays
    as ``(name, dtype, shape JSON, bytes)`` tuples."""
    if not isinstance(result, dict) or not set(result) <= {"metrics", "series", "arrays"}:
        got = sorted(result) if isinstance(result, dict) else type(result).__name__
        raise TypeError(f"a job function returns dict(metrics={{name: scalar}}, series={{name: sequence}}, "
                        f"arrays={{name: ndarray}}); got {got}")
    metrics = {str(k): _scalar(k, v) for k, v in (result.get("metrics") or {}).items()}
    series = {str(k): _sequence(k, v) for k, v in (result.get("series") or {}).items()}
    arrays = [_array(k, v) for k, v in sorted((result.get("arrays") or {}).items())]
    return _dumps(metrics), _dumps(series), arrays


def run_job(target, config_json: str, seed: int, config_hash: str) -> dict:
    """Run one job in a worker and return its outcome (never raises for the job's own errors).

    Parameters
    ----------
    target : str or callable
        The job function's path (imported here), or the function itself.

    Returns
    -------
    dict
        ``ok``, ``metrics`` and ``series`` (JSON texts), ``error`` (the
        traceback), ``started_at``, ``finished_at``, ``duration_s``, ``host``, ``pid``.
    """
    _setup_worker()
    started, t0 = time.time(), time.perf_counter()
    metrics = series = arrays = error = None
    try:
        fn = resolve_function(target) if isinstance(target, str) else target
        _limit_torch()
        result = fn(json.loads(config_json), job_seed(seed, config_hash))
        _limit_torch()
        metrics, series, arrays = encode_result(result)
    except Exception as exc:  # the job's failure is data; KeyboardInterrupt is not
        tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None  # drop this frame
        error = "".join(traceback.format_exception(type(exc), exc, tb))
    return {"ok": error is None, "metrics": metrics, "series": series, "arrays": arrays, "error": error,
            "started_at": started, "finished_at": time.time(), "duration_s": time.perf_counter() - t0,
            "host": socket.gethostname(), "pid": os.getpid()}


def run_batch(target, seed: int, items) -> list[dict]:
    """Run a few jobs of one sweep in a worker: ``items`` are ``(config_json, config_hash)`` pairs."""
    return [run_job(target, config_json, seed, h) for config_json, h in items]


def failed_outcome(message: str) -> dict:
    """The outcome of a job that ended without its worker's report (the worker died, the cluster lost it)."""
    now = time.time()
    return {"ok": False, "metrics": None, "series": None, "error": message, "started_at": None,
            "finished_at": now, "duration_s": None, "host": None, "pid": None}
