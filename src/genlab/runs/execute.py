"""Run many jobs through one executor into one store, resumably.

A *job* is a pure function of its config and its seed::

    def fit_one(config: dict, seed: numpy.random.SeedSequence) -> dict:
        rng = numpy.random.default_rng(seed)
        ...
        return {"metrics": {"val_rmse": 0.12}, "series": {"loss": losses}}

(``"arrays": {name: ndarray}`` may be added for results of any shape, such as
a block of moments; the store keeps them as raw bytes beside the record)

defined at the top level of an importable module, so that worker processes
(loky's locally, Dask's on a cluster) can import it by the dotted path that
the store records (``"genlab.runs.jobs:demo_job"``). :func:`run_sweep` adds the
jobs to the store, skips those already done, runs the others (missing,
failed, or left running by a killed driver) and writes each result as it
comes back. Only the driver writes the store.

Each job's random stream is ``SeedSequence(seed, spawn_key=(int(config_hash,
16),))`` (see :mod:`genlab.core.seeding`): it depends on the sweep seed and the
job's config, not on the order, the executor or the number of workers, so the
results are bitwise identical whichever runs them.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import signal
import socket
import sys
import time
import traceback
import uuid
import warnings
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import GenlabError
from ..core.seeding import seed_sequence
from .store import Store, canonical_json, config_hash, last_line, records_frame

#: Environment of every worker process: one BLAS/OpenMP thread per process.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}
#: Batches kept in flight per worker: enough that a worker never waits for the driver.
IN_FLIGHT_PER_WORKER = 2
#: Short jobs travel in batches of about this many seconds of work, so that the driver's
#: per-task cost (a round trip, a store transaction) stays small beside the jobs' own time.
BATCH_SECONDS = 0.1
MAX_BATCH = 256
#: Seconds a Dask scheduler address has to answer (connect and handshake) before it is refused.
DASK_CONNECT_TIMEOUT = 10.0
#: Seconds between a local worker's checks that the driver is still alive (it leaves when not).
PARENT_POLL_S = 0.5
_MAX_SEED = 2**63 - 1


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
        return cls(function_path(fn), json.loads(text), _check_sweep_seed(seed), text, config_hash(text), id)

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


def _check_sweep_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= _MAX_SEED:
        raise GenlabError(f"seed must be an integer between 0 and 2**63 - 1, got {seed!r}")
    return int(seed)


# --------------------------------------------------------------------------- in the worker

_worker_ready = False


def _init_worker(driver: int | None = None) -> None:
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
    _setup_worker()


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
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    raise TypeError(f"metric {name!r} is a {type(value).__name__}; metrics are scalars "
                    "(put sequences in 'series')")


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


def _failed(message: str) -> dict:
    now = time.time()
    return {"ok": False, "metrics": None, "series": None, "error": message, "started_at": None,
            "finished_at": now, "duration_s": None, "host": None, "pid": None}


# --------------------------------------------------------------------------- executors

class _WorkerCrash(Exception):
    """The worker process running a job died (segfault, out of memory, os._exit)."""


def check_jobs(jobs) -> int:
    """The number of local workers: ``jobs`` (at most :func:`genlab.core.limits.max_jobs`, 4 per core), or the
    number of usable cores when None."""
    if jobs is None:
        from joblib import cpu_count

        return max(1, cpu_count())
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise GenlabError(f"--jobs must be an integer >= 1, got {jobs!r}")
    from ..core.limits import LIMITS, max_jobs

    if jobs > max_jobs():
        raise GenlabError(f"--jobs {jobs} is above the limit of {max_jobs()} ({LIMITS['jobs'].cap:g} worker "
                          f"processes per core of this machine: more only compete for the cores and memory); "
                          f"give at most {max_jobs()}, or --dask ADDRESS for a cluster")
    return int(jobs)


def check_dask(dask):
    """``None``, ``"local"``, a scheduler address (``tcp://host:8786``) or a ``distributed.Client``.

    Only the form of an address is checked here; :func:`reach_dask` asks it.
    """
    if dask is None or not isinstance(dask, str):
        return dask
    text = dask.strip()
    if text == "local":
        return text
    if "://" not in text:
        if text.rpartition(":")[2].isdigit():  # host:port, as dask-scheduler prints it
            text = f"tcp://{text}"
        else:
            raise GenlabError(f"--dask {dask!r} is not a scheduler address; write tcp://host:port, or local "
                              "for a cluster on this machine")
    _split_address(text)
    return text


_DASK_SCHEMES = ("tcp", "tls", "ws", "wss")


def _split_address(address: str) -> tuple[str, str, int]:
    from urllib.parse import urlsplit

    scheme = address.partition("://")[0].lower()
    if scheme not in _DASK_SCHEMES:
        raise GenlabError(f"--dask {address!r}: unknown protocol {scheme!r}; write tcp://host:port "
                          f"(or {', '.join(s + '://' for s in _DASK_SCHEMES[1:])})")
    try:
        parts = urlsplit(address)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise GenlabError(f"--dask {address!r} is not a scheduler address ({exc}); write tcp://host:port") from None
    if not host or port is None or parts.path not in ("", "/"):
        raise GenlabError(f"--dask {address!r} is not a scheduler address; write tcp://host:port")
    return scheme, host, port


_REACHED: dict[str, float] = {}  # address -> when it last answered as a Dask scheduler (time.monotonic)


def reach_dask(dask) -> None:
    """Check, within :data:`DASK_CONNECT_TIMEOUT` seconds, that a scheduler address answers as Dask.

    A ``tcp://`` address must send Dask's handshake (length-prefixed frames,
    which a scheduler sends as soon as it accepts a connection); ``tls://``,
    ``ws://`` and ``wss://`` addresses must accept a connection. An HTTP
    server, another protocol, a closed port or an unroutable address is one
    line, and nothing beyond a small handshake is read. ``None``, ``"local"``
    and Client objects pass; an address that answered in the last minute is
    not asked again.

    Raises
    ------
    GenlabError
        If the address does not answer as a Dask scheduler in time.
    """
    import threading

    if not isinstance(dask, str) or dask == "local":
        return
    if time.monotonic() - _REACHED.get(dask, -math.inf) < 60:
        return
    timeout = float(str(DASK_CONNECT_TIMEOUT).rstrip("s"))
    answer: list = []
    probe = threading.Thread(target=lambda: answer.append(_probe_scheduler(dask, timeout)), daemon=True,
                             name="genlab-dask-probe")
    probe.start()
    probe.join(timeout + 1.0)  # the socket has its own timeouts; this bounds a hung name lookup too
    problem = answer[0] if answer else (f"cannot reach the Dask scheduler at {dask} (no answer within "
                                        f"{timeout:g} s); check --dask and that the scheduler is running")
    if problem is not None:
        raise GenlabError(problem)
    _REACHED[dask] = time.monotonic()


_MAX_HANDSHAKE = 1 << 16  # a scheduler's handshake is about a hundred bytes


def _probe_scheduler(address: str, timeout: float) -> str | None:
    """None if ``address`` answers as a Dask scheduler within ``timeout`` seconds, else the message why not."""
    import struct

    deadline = time.monotonic() + timeout
    unreachable = (f"cannot reach the Dask scheduler at {address} ({{}}); check --dask and that the scheduler "
                   "is running")
    try:
        scheme, host, port = _split_address(address)
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        return unreachable.format(f"no connection within {timeout:g} s")
    except OSError as exc:
        return unreachable.format((exc.strerror or str(exc) or type(exc).__name__).lower())
    except GenlabError as exc:
        return str(exc)
    head = b""

    def read(n: int) -> bytes:
        nonlocal head
        end = len(head) + n
        while len(head) < end:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            chunk = sock.recv(end - len(head))
            if not chunk:
                raise ConnectionResetError
            head += chunk
        return head[end - n:]

    with sock:
        if scheme != "tcp":
            return None  # TLS or websockets: the Client's own timeout covers their handshakes
        try:
            (size,) = struct.unpack("Q", read(8))
            if 16 <= size <= _MAX_HANDSHAKE:
                body = read(size)
                (n_frames,) = struct.unpack_from("Q", body)
                if 1 <= n_frames <= 16 and size >= 8 * (n_frames + 1):
                    lengths = struct.unpack_from(f"{n_frames}Q", body, 8)
                    if 8 * (n_frames + 1) + sum(lengths) == size:
                        return None
        except socket.timeout:
            if not head:
                return (f"{address} accepted a connection but sent no Dask handshake within {timeout:g} s: it is "
                        "not a Dask scheduler (an HTTP server?); check --dask")
        except OSError:
            pass
        with contextlib.suppress(OSError):  # a little more of what it says, for the message
            sock.settimeout(0.2)
            head += sock.recv(32)
    seen = repr(head[:32]) + ("…" if len(head) > 32 else "") if head else "nothing"
    return f"{address} is not a Dask scheduler: it answered {seen}; check --dask"


_POOLS: dict = {}  # worker count -> loky executor, kept warm between the sweeps of a process


class LocalExecutor:
    """Local worker processes (loky), one pool per worker count, reused between sweeps.

    Idle workers leave after a minute; a pool whose worker died is replaced.
    The pools are genlab's own, apart from joblib's shared one.
    """

    def __init__(self, n_workers: int):
        self.n_workers = n_workers
        self.name = f"local ({n_workers} worker{'s' if n_workers > 1 else ''})"
        self._ex = _POOLS.get(n_workers)
        if self._ex is None:
            self._start()

    def _start(self):
        from joblib.externals.loky import ProcessPoolExecutor

        self._ex = _POOLS[self.n_workers] = ProcessPoolExecutor(
            max_workers=self.n_workers, timeout=60, initializer=_init_worker, initargs=(os.getpid(),),
            env=THREAD_ENV)

    def capacity(self) -> int:
        return IN_FLIGHT_PER_WORKER * self.n_workers

    def submit(self, target, batch: list[Job]):
        args = (run_batch, target, batch[0].seed, [(j.config_json, j.config_hash) for j in batch])
        try:
            return self._ex.submit(*args)
        except RuntimeError:  # broken or shut down since the last sweep (BrokenProcessPool is one)
            self._start()
            return self._ex.submit(*args)

    def wait(self, futures) -> list:
        import concurrent.futures as cf

        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def outcomes(self, fut, n: int) -> list[dict]:
        from concurrent.futures.process import BrokenProcessPool

        exc = fut.exception()
        if exc is None:
            return fut.result()
        if isinstance(exc, BrokenProcessPool):
            text = " ".join(str(exc).split())
            raise _WorkerCrash(text.partition(". ")[0] if text else type(exc).__name__)
        return [_failed("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))] * n

    def restart(self):
        with contextlib.suppress(Exception):
            self._ex.shutdown(wait=False, kill_workers=True)
        self._start()

    def abort(self, futures):
        """Stop now: kill the workers and let loky find its pool broken, which it cleans up completely.

        Not ``shutdown(kill_workers=True)`` on a pool with queued work: loky (joblib 1.6) then dies in its
        manager thread (a KeyError on the queued ids, or an InvalidStateError on a future cancelled first),
        and workers it did not kill keep the driver's exit waiting for their idle timeout.
        """
        from joblib.externals.loky.backend.utils import kill_process_tree

        if _POOLS.get(self.n_workers) is self._ex:
            del _POOLS[self.n_workers]
        for process in list(self._ex._processes.values()):
            with contextlib.suppress(ProcessLookupError):
                kill_process_tree(process)
        self._ex.shutdown(wait=False)

    def close(self):
        pass  # workers stay warm for the next sweep and leave after 60 s idle


class DaskExecutor:
    """A Dask distributed cluster: a scheduler address, a LocalCluster, or a Client given."""

    def __init__(self, dask, n_workers: int | None):
        import logging

        from distributed import Client, LocalCluster, as_completed

        self._cluster = None
        self._own_client = True
        if isinstance(dask, Client):
            self._client, self._own_client = dask, False
            self.name = f"dask ({dask.scheduler.address})"
        elif dask == "local":
            self._cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, scheduler_port=0, host="127.0.0.1",
                                         silence_logs=logging.ERROR, env=dict(THREAD_ENV))
            self._client = Client(self._cluster, set_as_default=False)
            self.name = f"dask local ({n_workers} workers)"
        else:
            try:
                self._client = Client(dask, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise GenlabError(f"cannot reach the Dask scheduler at {dask} ({type(exc).__name__}); "
                                  "check --dask and that the scheduler is running") from None
            self.name = f"dask ({dask})"
        self._ac = as_completed(loop=self._client.loop, with_results=True, raise_errors=False)
        self._results: dict = {}
        self._capacity, self._checked = 1, -math.inf

    def capacity(self) -> int:
        now = time.monotonic()
        if now - self._checked > 2.0:  # clusters grow and shrink; ask again now and then
            threads = sum(self._client.nthreads().values())
            self._capacity, self._checked = max(1, IN_FLIGHT_PER_WORKER * threads), now
        return self._capacity

    def submit(self, target, batch: list[Job]):
        name = batch[0].kind.rpartition(":")[2].replace(".", "-")
        fut = self._client.submit(run_batch, target, batch[0].seed, [(j.config_json, j.config_hash) for j in batch],
                                  pure=False, key=f"genlab-{name}-{batch[0].config_hash}-{len(batch)}-"
                                                  f"{uuid.uuid4().hex[:8]}")
        self._ac.add(fut)
        return fut

    def wait(self, futures) -> list:
        batch = self._ac.next_batch(block=True)
        for fut, result in batch:
            self._results[fut] = result
        return [fut for fut, _ in batch]

    def outcomes(self, fut, n: int) -> list[dict]:
        result = self._results.pop(fut)
        if fut.status == "finished":
            return result
        if fut.status == "error":
            typ, exc, tb = result
            if typ.__name__ == "KilledWorker":  # the task took down each worker that tried it
                raise _WorkerCrash(" ".join(str(exc).split())[:300])
            return [_failed("".join(traceback.format_exception(typ, exc, tb)))] * n
        return [_failed(f"the Dask cluster lost this job ({fut.status}): {result!r}")] * n

    def restart(self):
        pass

    def abort(self, futures):
        with contextlib.suppress(Exception):
            self._client.cancel(list(futures))
        self.close()

    def close(self):
        with contextlib.suppress(Exception):
            if self._own_client:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()


# --------------------------------------------------------------------------- the sweep

@dataclass
class SweepResult:
    """What a sweep gave: one record per config, in the order the configs were given.

    Attributes
    ----------
    kind : str
        The job function's path.
    seed : int
        The sweep seed.
    store : Path
        The store holding the records.
    records : list of dict
        Full job records (see :meth:`genlab.runs.store.Store.job`), one per config.
    n_cached : int
        Jobs already done in the store before this call (not run again).
    n_ran : int
        Jobs run by this call.
    elapsed_s : float
        Wall-clock time of this call.
    executor : str
        What ran the jobs ("local (2 workers)", "dask (tcp://...)"), or "" if none ran.
    """

    kind: str
    seed: int
    store: Path
    records: list
    n_cached: int
    n_ran: int
    elapsed_s: float
    executor: str = ""

    @property
    def ids(self) -> list[int]:
        return [r["id"] for r in self.records]

    @property
    def n_done(self) -> int:
        return sum(r["status"] == "done" for r in self.records)

    @property
    def failures(self) -> list[dict]:
        """The records of failed jobs."""
        return [r for r in self.records if r["status"] == "failed"]

    @property
    def ok(self) -> bool:
        """True when every job is done."""
        return self.n_done == len(self.records)

    def metric(self, name: str) -> np.ndarray:
        """Metric ``name`` of every job, in config order (NaN where a job failed or has no such metric)."""
        out = np.full(len(self.records), np.nan)
        for i, r in enumerate(self.records):
            value = (r["metrics"] or {}).get(name)
            if value is not None:
                out[i] = float(value)
        return out

    def series(self, name: str) -> list:
        """Series ``name`` of every job, in config order (float64 arrays, None where missing)."""
        out = []
        for r in self.records:
            values = (r["series"] or {}).get(name)
            out.append(None if values is None else np.asarray(values, dtype=np.float64))
        return out

    def arrays(self, name: str) -> list:
        """Array ``name`` of every job, in config order (None where missing)."""
        return [(r.get("arrays") or {}).get(name) for r in self.records]

    def to_frame(self):
        """One row per job: id, status, ``config.*``, ``metrics.*``, timings, error (pandas)."""
        return records_frame(self.records)

    def summary(self) -> str:
        """A few lines for a person: counts, time, and each failure with its error."""
        short = self.kind.rpartition(":")[2]
        lines = [f"{short}: {len(self.records)} jobs, {self.n_done} done"
                 + (f" ({self.n_cached} already in the store)" if self.n_cached else "")
                 + (f", {len(self.failures)} failed" if self.failures else "")
                 + f" in {self.elapsed_s:.1f} s; store {self.store}"]
        for rec in self.failures:
            lines.append(f"  failed: job {rec['id']} {json.dumps(rec['config'], sort_keys=True)}: "
                         f"{last_line(rec['error'])}")
        if self.failures:
            lines.append(f"  (see 'genlab runs show ID --store {self.store}'; the same command again "
                         "reruns the failed jobs)")
        return "\n".join(lines)


def run_sweep(fn, configs, *, store, seed: int = 0, jobs: int | None = None, dask=None,
              progress: bool = True, retry_failed: bool = True) -> SweepResult:
    """Run ``fn`` on every config, resumably, and return the records.

    Jobs already done in the store are not run again; missing ones, failed
    ones (unless ``retry_failed=False``), ones left running by a killed
    driver and ones whose stored results are damaged (a warning names them,
    see :meth:`Store.damaged <genlab.runs.store.Store.damaged>`) are. A job that
    raises is recorded as failed with its traceback and the sweep goes on. On
    Ctrl-C (or SIGTERM in the ``genlab`` command) the workers are stopped,
    unfinished jobs are put back to pending, and ``KeyboardInterrupt``
    propagates: the same call again resumes.

    Parameters
    ----------
    fn : callable or str
        ``fn(config: dict, seed: numpy.random.SeedSequence) -> dict(metrics=..., series=...)``,
        defined at the top level of a module; ``metrics`` maps names to
        scalars, ``series`` names to 1-D sequences (e.g. loss per step). Or its
        path, ``"package.module:function"``.
    configs : iterable of dict
        One JSON-able config per job (str keys; str, int, float, bool, None,
        lists, dicts). Configs must differ: to repeat a job, add a key such as
        ``"repeat": r``.
    store : Store or str or Path
        The results store (a path is opened, and closed when done).
    seed : int, default 0
        The sweep seed; job ``c`` draws from ``SeedSequence(seed, spawn_key=(int(hash(c), 16),))``.
    jobs : int, optional
        Local worker processes (default: the number of cores); with
        ``dask="local"``, the number of Dask workers.
    dask : str or distributed.Client, optional
        Run on Dask: ``"local"`` starts a LocalCluster on this machine, an
        address (``"tcp://scheduler:8786"``) connects to a running cluster
        whose workers have genlab installed.
    progress : bool or callable, default True
        Show a progress bar (rich, on stderr) with the ETA and the failure
        count; or call ``progress(n)`` each time ``n`` more jobs finish.
    retry_failed : bool, default True
        Run jobs recorded as failed again.

    Returns
    -------
    SweepResult
        Records in config order; ``.ok`` is False if a job failed.

    Raises
    ------
    GenlabError
        For invalid configs, seed, jobs or dask; a store that is not genlab's
        or is in use by another driver; an unreachable Dask scheduler.
    KeyboardInterrupt
        On Ctrl-C, after the store is left resumable.
    """
    t_start = time.perf_counter()
    kind = function_path(fn)
    target = kind if not kind.startswith("__main__:") else (fn if callable(fn) else resolve_function(kind))
    seed = _check_sweep_seed(seed)
    texts = [canonical_json(c) for c in configs]
    if not texts:
        raise GenlabError("the sweep has no configs; give at least one")
    seen: dict[str, int] = {}
    for i, text in enumerate(texts):
        if text in seen:
            raise GenlabError(f"config {i} repeats config {seen[text]} ({text}); a job is a pure function of its "
                              "config and seed, so add a key such as 'repeat' to run it again")
        seen[text] = i
    dask = check_dask(dask)
    if dask is not None and not (isinstance(dask, str) and dask == "local") and jobs is not None:
        raise GenlabError("--jobs sets the number of local workers; with a Dask scheduler the cluster decides")
    n_workers = check_jobs(jobs)
    reach_dask(dask)  # before the store exists

    own_store = not isinstance(store, Store)
    st = Store(store) if own_store else store
    try:
        ids = st.add_jobs(kind, seed, texts)
        before = st.jobs(ids=ids, series=False)
        damaged = st.damaged(ids)
        for job_id, why in damaged.items():
            warnings.warn(f"job {job_id} in {st.path} is damaged ({why}); running it again", stacklevel=2)
        done = [r["status"] == "done" and r["id"] not in damaged for r in before]
        n_cached = sum(done)
        todo = [Job(kind, json.loads(t), seed, t, config_hash(t), i)
                for i, t, r, ok in zip(ids, texts, before, done)
                if not ok and (retry_failed or r["status"] != "failed")]
        executor_name = ""
        if todo:
            executor = DaskExecutor(dask, n_workers) if dask is not None else LocalExecutor(n_workers)
            executor_name = executor.name
            kept = len(ids) - len(todo)  # done, or failed and not retried
            _drive(executor, st, target, todo, kind=kind, seed=seed, total=len(ids), n_kept=kept,
                   n_kept_failed=kept - n_cached, progress=progress)
        records = st.jobs(ids=ids)
        for rec, arrays in zip(records, st.arrays(ids)):
            rec["arrays"] = arrays
    finally:
        if own_store:
            st.close()
    return SweepResult(kind, seed, st.path, records, n_cached, len(todo), time.perf_counter() - t_start,
                       executor_name)


def _drive(executor, st: Store, target, todo: list[Job], *, kind, seed, total, n_kept, n_kept_failed,
           progress):
    """Keep the executor busy, write each outcome as it arrives; clean up on Ctrl-C or error."""
    session = st.begin_session(kind=kind, seed=seed, n_jobs=len(todo), executor=executor.name)
    queue, solo = deque(todo), deque()
    inflight: dict = {}  # future -> the batch of jobs it runs
    crashed: list = []
    n_failed = 0
    per_job, last_size = None, 1  # recent seconds per successful job, to size the batches
    status = "interrupted"
    if callable(progress):  # the caller's own bar: told how many jobs finished
        bar = _Callback(progress, n_kept)
    else:
        bar = _Progress(kind, total, n_kept, n_kept_failed) if progress else None
    try:
        while queue or solo or inflight:
            source, limit = (solo, 1) if solo else (queue, executor.capacity())
            submitted = []
            while not crashed and source and len(inflight) < limit:
                size = 1
                if source is queue and per_job is not None and per_job < BATCH_SECONDS:
                    # grow at most twofold (durations may rise along the sweep), and take no more
                    # than an even share of what is left
                    size = max(1, min(int(BATCH_SECONDS / max(per_job, 1e-9)), 2 * last_size, MAX_BATCH,
                                      -(-len(queue) // limit)))
                    last_size = size
                batch = [source.popleft() for _ in range(min(size, len(source)))]
                inflight[executor.submit(target, batch)] = batch
                submitted += [job.id for job in batch]
            if submitted:
                st.mark_running(submitted, session)
            outcomes = []
            for fut in executor.wait(list(inflight)):
                batch = inflight.pop(fut)
                try:
                    done = executor.outcomes(fut, len(batch))
                except _WorkerCrash as exc:
                    crashed += [(job, exc) for job in batch]
                    continue
                outcomes += zip([job.id for job in batch], done)
                took = [o["duration_s"] for o in done if o["ok"]]  # a quick failure says little
                if took:
                    mean = sum(took) / len(took)
                    per_job = mean if per_job is None else 0.7 * per_job + 0.3 * mean
            if crashed and not inflight:  # a worker died: find the job that took it down
                executor.restart()
                if len(crashed) == 1:
                    job, exc = crashed[0]
                    outcomes.append((job.id, _failed(f"the worker process died while running this job ({exc})")))
                else:  # several were in flight: run each alone to tell the culprit from the innocent
                    solo.extend(job for job, _ in crashed)
                crashed = []
            if outcomes:
                st.record_outcomes(outcomes, session)
                failed_now = sum(not o["ok"] for _, o in outcomes)
                n_failed += failed_now
                if bar is not None:
                    bar.advance(len(outcomes), failed_now)
        status = "failed" if n_failed else "finished"
    except BaseException as exc:
        if not isinstance(exc, KeyboardInterrupt):
            status = "error"
        with contextlib.suppress(Exception):
            executor.abort(list(inflight))
        raise
    finally:
        if bar is not None:
            bar.stop()
        with contextlib.suppress(GenlabError):  # a store that broke under us must not hide the first error
            st.mark_pending()
            st.end_session(session, status)
        if status in ("finished", "failed"):
            executor.close()
        elif status == "interrupted" and bar is not None:
            sys.stderr.write(f"interrupted: finished jobs are kept in {st.path}; run the same command again "
                             "to resume\n")


class _Callback:
    """Progress reported to a callable ``progress(n)`` (``n`` jobs more have finished)."""

    def __init__(self, fn, done: int):
        self._fn = fn
        if done:
            fn(done)

    def advance(self, n: int, failed: int):
        self._fn(n)

    def stop(self):
        pass


class _Progress:
    """A rich progress bar on stderr: done/total, failures, elapsed time and ETA."""

    def __init__(self, kind: str, total: int, done: int, failed: int):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self._failed = failed
        self._p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(),
                           TextColumn("ETA"), TimeRemainingColumn(),
                           console=Console(stderr=True), transient=False)
        self._task = self._p.add_task(kind.rpartition(":")[2], total=total, completed=done, failed=failed)
        self._p.start()

    def advance(self, n: int, failed: int):
        self._failed += failed
        self._p.update(self._task, advance=n, failed=self._failed)

    def stop(self):
        self._p.stop()


def sweep(fn, configs, *, store=None, seed: int = 0, jobs: int | None = 1, dask=None,
          progress: bool = False) -> SweepResult:
    """:func:`run_sweep` for library callers: a temporary store when ``store`` is None, and a
    :class:`GenlabError` naming the first failure if any job failed (a given store keeps them all).

    Experiments call this so that the same code serves a notebook (no store to
    manage) and the CLI (``--store``, resumable, ``--jobs``/``--dask``).
    """
    import tempfile

    with contextlib.ExitStack() as stack:
        path = store
        if store is None:
            path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="genlab-sweep-"))) / "runs.sqlite"
        result = run_sweep(fn, configs, store=path, seed=seed, jobs=jobs, dask=dask, progress=progress)
        if not result.ok:
            first = result.failures[0]
            hint = f" — see 'genlab runs show {first['id']}'" if store is not None else ""
            raise GenlabError(f"{len(result.failures)} of {len(result.records)} jobs failed; first: "
                              f"{last_line(first.get('error'))}{hint}")
        return result
