"""Blocks of datasets: each with its own random stream, statistics per block, merged in block order
(the numbers depend on the seed only, not on the number of workers)."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

import numpy as np

from ...data.sources import ClassificationSource, SyntheticSource, check_n
from ...core.errors import GenlabError
from ...core.seeding import check_seed, rng as make_rng

N_FIRST = 100  # fits kept for the "first 100 datasets" figures
SHRINK = "give fewer datasets, training points, test points or degrees (--datasets, --n, --n-test, --degrees)"
LOSSES = ("squared", "zero_one", "cross_entropy")


def block_size(n_datasets: int) -> int:
    """Datasets per block: at least 20 blocks (for batch-means errors), at most 500 per block."""
    return max(1, min(500, n_datasets // 20))


def draw_block(source, n: int, seed: int, k: int, size: int):
    """Block k of datasets: x of shape (size, n), y of shape (size, n)."""
    g = make_rng(seed, "biasvar-datasets", k)
    x = source.x_dist.sample((size, n), g)
    if isinstance(source, ClassificationSource):
        return x, source.sample_labels(x, g)
    y = source.mean(x) + g.normal(0.0, source.noise, (size, n))
    return x, y


def draw_test_noise(source: SyntheticSource, m: int, seed: int, k: int, size: int):
    """Fresh noise at the test points for each dataset of block k (for the measured error)."""
    return make_rng(seed, "biasvar-test-noise", k).normal(0.0, source.noise, (size, m))


# -- per-block statistics -----------------------------------------------------

@dataclass
class Block:
    """Statistics of one block of datasets, in some coordinates of the predictions."""

    count: int
    mean: np.ndarray          # (K, M): mean coordinates per model
    m2: np.ndarray            # (K, M): sum of squared deviations from the block mean
    cov: np.ndarray           # (M, K, K) full scatter (for per-x variance and bias s.e.)
    dist: np.ndarray          # (b, M): mean_x (h_b - ȳ)^2 per dataset
    error: np.ndarray         # (b, M): mean_x (h_b - y)^2 with fresh y per dataset
    noise: np.ndarray         # (b,):   mean_x (y - ȳ)^2 per dataset
    first: np.ndarray | None  # (k, K, M) coordinates of the block's first datasets
    dev: np.ndarray | None = None  # (b, K, M) deviations from the block mean, kept only to be stored


def scatter(dev: np.ndarray) -> np.ndarray:
    """The scatter of each model's deviations ``dev`` (b, K, M) from their block mean: (M, K, K), the sum of
    their outer products. On one BLAS thread, so that it is the same numbers wherever it is computed (in a
    worker, or in the reader from the deviations a store holds; a threaded BLAS sums in another order)."""
    devT = np.ascontiguousarray(dev.transpose(2, 1, 0))          # (M, K, b)
    with one_blas_thread():
        return devT @ devT.transpose(0, 2, 1)                    # (M, K, K)


def scatter_arrays(dev: np.ndarray, cov: np.ndarray) -> dict:
    """A block's scatter (``cov`` = :func:`scatter` of ``dev``) as a store keeps it: its smallest exact form.

    The deviations themselves (``"dev"``, b·K numbers a model) where the block holds fewer datasets than half
    the test points (the usual case: 100 datasets make blocks of 5), else the upper triangle of the scatter
    (``"cov_upper"``, K(K+1)/2 a model) where it is exactly symmetric, else the whole (``"cov"``, as stores
    written before this kept it). :func:`scatter_from` gives back the same bits.
    """
    b, K, _ = dev.shape
    if b * K < K * (K + 1) // 2:
        return {"dev": dev}
    if np.array_equal(cov, cov.transpose(0, 2, 1)):
        iu = np.triu_indices(K)
        return {"cov_upper": cov[:, iu[0], iu[1]]}
    return {"cov": cov}


def scatter_from(arrays: dict) -> np.ndarray:
    """A block's scatter (M, K, K) from what :func:`scatter_arrays` stored (or a store's full ``"cov"``)."""
    if "cov" in arrays:
        return arrays["cov"]
    if "dev" in arrays:
        return scatter(arrays["dev"])
    upper = arrays["cov_upper"]
    K = int(round((np.sqrt(8 * upper.shape[1] + 1) - 1) / 2))
    iu = np.triu_indices(K)
    cov = np.empty((upper.shape[0], K, K))
    cov[:, iu[0], iu[1]] = upper
    cov[:, iu[1], iu[0]] = upper
    return cov


def merge_blocks(blocks: list[Block]):
    """Chan et al.'s pairwise merge of means and scatters, in block order."""
    n, mean, m2, cov = 0, None, None, None
    for b in blocks:
        if n == 0:
            n, mean, m2, cov = b.count, b.mean.copy(), b.m2.copy(), b.cov.copy()
            continue
        tot = n + b.count
        delta = b.mean - mean
        mean = mean + delta * (b.count / tot)
        m2 = m2 + b.m2 + delta ** 2 * (n * b.count / tot)
        dT = delta.T  # (M, K)
        cov = cov + b.cov + np.einsum("mk,ml->mkl", dT, dT) * (n * b.count / tot)
        n = tot
    return n, mean, m2, cov


def check_common(source, n, n_datasets, n_test, seed):
    if not isinstance(source, (SyntheticSource, ClassificationSource)):
        raise GenlabError("a decomposition against a known source needs a SyntheticSource; "
                          "for a dataset use decompose_data")
    n = check_n(n)
    if isinstance(n_datasets, bool) or not isinstance(n_datasets, (int, np.integer)) or n_datasets < 2:
        raise GenlabError(f"the decomposition needs at least 2 datasets, got {n_datasets!r}")
    if isinstance(n_test, bool) or not isinstance(n_test, (int, np.integer)) or n_test < 1:
        raise GenlabError(f"the test grid needs at least 1 point, got {n_test!r}")
    return n, int(n_datasets), int(n_test), check_seed(seed)


def run_blocks(fn, n_blocks: int, jobs: int, progress=None, threads: bool = False):
    """Run ``fn(k)`` for every block, in parallel over processes (or threads) when ``jobs > 1``; results in
    block order."""
    if threads and jobs and jobs > 1 and n_blocks > 1:
        from concurrent.futures import ThreadPoolExecutor

        out = []
        pool = ThreadPoolExecutor(jobs)
        try:
            for res in pool.map(fn, range(n_blocks)):
                out.append(res)
                if progress:
                    progress(1)
        finally:  # on an error or Ctrl-C, blocks not started are dropped rather than waited for
            pool.shutdown(wait=True, cancel_futures=True)
        return out
    if jobs is None or jobs == 1 or n_blocks == 1:
        out = []
        for k in range(n_blocks):
            out.append(fn(k))
            if progress:
                progress(1)
        return out
    from joblib import Parallel, delayed

    out = []
    for res in Parallel(n_jobs=jobs, return_as="generator")(delayed(fn)(k) for k in range(n_blocks)):
        out.append(res)
        if progress:
            progress(1)
    return out


def workers(jobs) -> int:
    """``jobs`` checked as ``--jobs`` is (:func:`genlab.runs.executors.check_jobs`; None: the cores), without
    importing the executors for the usual 1 to the number of cores (10 ms of a 0.3 s decomposition)."""
    import os

    if type(jobs) is int and 1 <= jobs <= (os.cpu_count() or 1):
        return jobs
    from ...runs.executors import check_jobs

    return check_jobs(jobs)


_BLAS: dict = {"controller": None, "limit": None, "depth": 0}  # threadpoolctl's view, found once (5-15 ms)
_BLAS_LOCK = threading.Lock()


@contextlib.contextmanager
def one_blas_thread():
    """A context in which BLAS runs on one thread, for a block's small products between fits (a threaded
    one leaves BLAS's threads spinning, and the fits that follow on a shared 2-core machine ran 2x slower).
    Thread-safe: the first to enter sets the limit, the last to leave lifts it."""
    with _BLAS_LOCK:
        if _BLAS["depth"] == 0:
            if _BLAS["controller"] is None:
                from threadpoolctl import ThreadpoolController

                _BLAS["controller"] = ThreadpoolController()
            _BLAS["limit"] = _BLAS["controller"].limit(limits=1, user_api="blas")
        _BLAS["depth"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS["depth"] -= 1
            if _BLAS["depth"] == 0:
                _BLAS["limit"].restore_original_limits()


def fresh(est):
    """A maker of unfitted copies of ``est``, equal to what ``sklearn.base.clone(est)`` makes each time: deep
    copies of one clone (a sixth of clone's cost) where clone is scikit-learn's own all the way down."""
    import copy
    import functools

    from sklearn.base import BaseEstimator, clone

    template = clone(est)

    def plain(e):
        return isinstance(e, BaseEstimator) and type(e).__sklearn_clone__ is BaseEstimator.__sklearn_clone__

    if plain(template) and all(plain(v) for v in template.get_params(deep=True).values() if hasattr(v, "get_params")):
        return functools.partial(copy.deepcopy, template)
    return functools.partial(clone, est)


def checks(first: bool):
    """The context of one fit among many of the same estimators: on the ``first``, scikit-learn's checks
    as they are; on the others (the same parameters), without its parameter checks, which depend on the
    parameters only (the data's checks stay: a pipeline's step can make values that fail them)."""
    import sklearn

    if first:
        return contextlib.nullcontext()
    return sklearn.config_context(skip_parameter_validation=True)


def blocks_of(n_datasets: int) -> tuple[int, list[int]]:
    bs = block_size(n_datasets)
    return bs, [bs] * (n_datasets // bs) + ([n_datasets % bs] if n_datasets % bs else [])


# -- in process: items timed first, then threads or worker processes where they pay --------------------

#: Serial seconds timed (after one warm-up item) before threads or processes are considered.
TIMING_S = 0.01
#: Seconds threads are tried before they are kept (when they beat the serial pace) or stopped: at least
#: TRIAL_S, and at least this share of the work left (a steadier verdict where much is at stake).
TRIAL_S = 0.1
TRIAL_SHARE = 0.03
#: What starting one worker process costs, roughly: it imports numpy, scikit-learn and genlab.
START_S = 2.0
#: At most this much work (serial seconds) is handed out at a time (while threads are on trial: a tenth).
CHUNK_S = 0.2
#: Work left (serial seconds) above which threads and this thread beside worker processes use one BLAS thread.
LIMIT_S = 1.0
#: How the last :func:`run_items` call shared out its items, for benchmarks: ``"serial"``, ``"threads"``,
#: ``"threads, then serial"`` or ``"threads, then processes"``, with the timed serial seconds per item and
#: the threads' speed-up over them.
last_way: dict = {}


def _cpu_sample():
    """(wall seconds, the machine's busy CPU seconds, this process's CPU seconds), or None where the
    machine's are not known (no /proc/stat)."""
    import os
    import time

    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    own = os.times()
    return time.perf_counter(), busy, own.user + own.system


def _free_cores(jobs: int, since) -> float:
    """How many of ``jobs`` busy processes would find a core: the cores less what the machine's other
    processes used since the sample ``since`` (:func:`_cpu_sample`), at least 1; ``jobs`` if not known."""
    import os

    now = _cpu_sample()
    if since is None or now is None or now[0] - since[0] < 0.05:
        return float(jobs)
    others = max(0.0, (now[1] - since[1]) - (now[2] - since[2])) / (now[0] - since[0])
    return float(min(jobs, max(1.0, (os.cpu_count() or 1) - others)))


def _by_processes(left: float, jobs: int, since) -> float:
    """The speed-up over the serial loop of ``jobs - 1`` worker processes and this thread on ``left`` seconds
    of work: the workers start (:data:`START_S`) while this thread works, on the cores others leave free."""
    if left <= 0:  # nothing left to share out
        return 1.0
    j = _free_cores(jobs, since)
    return j * left / (left + (j - 1) * START_S)


class _Cursor:
    """The next item not yet handed out, shared by whoever takes chunks of items."""

    def __init__(self, start: int, n: int, per: float, jobs: int):
        self.next, self.n, self.per, self.jobs = start, n, per, jobs
        self.cap = CHUNK_S / 10
        self.stop = False
        self.since = None  # a _cpu_sample from the start
        self._lock = threading.Lock()

    def claim(self):
        """The next ``(start, stop)`` of items, None when none are left or a stop was asked: at most
        ``cap`` seconds of work and a quarter of a worker's share of what is left, so the ends come out even."""
        with self._lock:
            if self.stop or self.next >= self.n:
                return None
            size = max(1, min(int(self.cap / max(self.per, 1e-9)), (self.n - self.next) // (4 * self.jobs)))
            a = self.next
            self.next = min(self.n, a + size)
            return a, self.next

    def left_s(self) -> float:
        return self.per * (self.n - self.next)


def run_items(fn, n: int, jobs: int, *, done=None, remote=None) -> list:
    """Items ``0 .. n-1`` (n >= 1) as ``fn(start, stop)`` computes them (a sequence of ``stop - start``
    results), in item order; the results do not depend on how the items are shared out.

    One item runs first (a warm-up: lazy imports, caches); with ``jobs == 1`` the rest follow in this
    thread, as a plain loop runs them. With more, the next ones (one at least, :data:`TIMING_S`) are timed
    to know the serial pace, and what is left is shared out only where it pays: ``jobs`` threads are tried
    (:data:`TRIAL_S`, :data:`TRIAL_SHARE`) and kept if they beat that pace (estimators that release the GIL;
    no start-up cost); where they do not and the work left pays for starting ``jobs - 1`` worker processes
    (:data:`START_S` each) clearly better, on the cores the machine's other processes leave free (measured
    from the start of the call), this thread works
    beside them (they run ``remote(start, stop)``, which must pickle); else the loop goes on here.
    Threads, and this thread beside worker processes, use one BLAS thread each (where the work left
    exceeds :data:`LIMIT_S`; the trial stops threads that slow each other down).
    ``done(start, stop)`` is called in this thread as items finish, in any order.
    """
    import time

    results: list = [None] * n
    clock = time.perf_counter

    def put(a, b, rows):
        results[a:b] = list(rows)
        if done is not None:
            done(a, b)

    since = _cpu_sample() if jobs > 1 else None  # what others use of the machine, from now on
    put(0, 1, fn(0, 1))
    i = 1
    last_way.clear()
    last_way["way"] = "serial"
    if jobs > 1 and n > 2:
        t0 = clock()  # the pace: the items after the warm-up, at least one
        while i < n and (i < 2 or clock() - t0 < TIMING_S):
            put(i, i + 1, fn(i, i + 1))
            i += 1
        cursor = _Cursor(i, n, (clock() - t0) / (i - 1), jobs)
        cursor.since = since
        last_way["per_item_s"] = cursor.per
        if cursor.left_s() > 5 * TIMING_S:
            from threadpoolctl import threadpool_limits

            last_way["way"] = "threads"
            # one BLAS thread each (else 2 threads x 2 BLAS threads fight for 2 cores); finding the libraries
            # costs 5-15 ms, paid where that is small beside the work
            with threadpool_limits(1) if cursor.left_s() > LIMIT_S else contextlib.nullcontext():
                if _threads(fn, remote, cursor, put, clock):
                    _beside_workers(fn, remote, cursor, put)
            i = cursor.next
    while i < n:  # the serial loop, in chunks so that progress moves
        b = min(n, i + 16)
        put(i, b, fn(i, b))
        i = b
    return results


def _threads(fn, remote, cursor: _Cursor, put, clock) -> bool:
    """``jobs`` threads on the items, tried for :data:`TRIAL_S` and kept while they pay. True when worker
    processes would pay more: the items not handed out are then left for them and this thread.

    During the trial the threads meet after each chunk (a barrier), so that the verdict is taken on whole
    chunks and, where it stops them, none has begun another one.
    """
    import queue

    results_q: queue.Queue = queue.Queue()
    t0, done, verdict = clock(), [0], [None]
    lock = threading.Lock()

    trial = max(TRIAL_S, TRIAL_SHARE * cursor.left_s())

    def decide():  # the barrier's action: every thread has just finished a chunk
        elapsed = clock() - t0
        if elapsed < trial:
            return
        pace = done[0] / elapsed * cursor.per  # the threads' speed-up over the serial loop
        procs = _by_processes(cursor.left_s(), cursor.jobs, cursor.since) if remote is not None else 0.0
        verdict[0] = ("procs" if procs >= 1.3 and procs > 1.25 * max(pace, 1.0) else
                      "threads" if pace >= 1.1 else "serial")
        cursor.cap = CHUNK_S
        cursor.stop = verdict[0] != "threads"  # not kept: the threads leave
        last_way.update(way="threads" + {"procs": ", then processes", "serial": ", then serial"}.get(
            verdict[0], ""), threads_speedup=pace)

    barrier = threading.Barrier(cursor.jobs, action=decide)

    def work():
        try:
            while (span := cursor.claim()) is not None:
                rows = fn(*span)
                with lock:
                    done[0] += span[1] - span[0]
                results_q.put((span, rows))
                if verdict[0] is None:
                    try:
                        barrier.wait()
                    except threading.BrokenBarrierError:  # another thread left: the trial is over
                        pass
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            cursor.stop = True
            results_q.put(exc)
        finally:
            barrier.abort()  # nobody waits at the barrier for a thread that left
            results_q.put(None)

    running = cursor.jobs
    try:
        for _ in range(running):
            threading.Thread(target=work, name="genlab-items", daemon=True).start()
        while running:
            item = results_q.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                put(*item[0], item[1])
    except BaseException:
        cursor.stop = True
        raise
    cursor.stop = False
    return verdict[0] == "procs"


def _beside_workers(fn, remote, cursor: _Cursor, put) -> None:
    """The items left, on ``jobs - 1`` worker processes (loky's, kept warm between calls, one BLAS thread
    each) and this thread. Two chunks wait in each worker's queue, so that a worker never waits for this
    thread; when nothing is left to hand out, this thread takes back, last first, the chunks the workers
    still hold (whoever finishes a chunk first gives its results: they are the same), so that a worker slow
    to start never keeps it waiting. A chunk a worker fails (the work's own error, or one of pickling or a
    lost worker) is computed here: the work's error is raised from here, and the others stop the workers."""
    import concurrent.futures as cf

    from joblib.externals.loky import get_reusable_executor

    from ...runs.worker import THREAD_ENV

    n_workers = cursor.jobs - 1
    pool = get_reusable_executor(max_workers=n_workers, timeout=60, env=dict(THREAD_ENV))
    inflight: dict = {}
    finished: set = set()
    broken = [False]

    def give(span, rows):
        if span not in finished:
            finished.add(span)
            put(*span, rows)

    def top_up():
        while not broken[0] and len(inflight) < 2 * n_workers and (span := cursor.claim()) is not None:
            inflight[pool.submit(remote, *span)] = span

    def collect(wait: bool):
        if wait and inflight:
            cf.wait(list(inflight), return_when=cf.FIRST_COMPLETED)
        for fut in [f for f in inflight if f.done()]:
            span = inflight.pop(fut)
            if fut.cancelled() or span in finished:
                continue
            try:
                rows = fut.result()
            except Exception:  # noqa: BLE001 - computed here instead: the work's own error is raised here
                broken[0] = True
                rows = fn(*span)
            give(span, rows)
        top_up()

    try:
        top_up()
        while (span := cursor.claim()) is not None:
            give(span, fn(*span))
            collect(False)
        collect(False)
        for fut, span in sorted(inflight.items(), key=lambda kv: -kv[1][0]):  # take back, last first
            if span not in finished and not fut.done():
                fut.cancel()  # dropped if the worker has not begun it
                give(span, fn(*span))
            collect(False)
    finally:
        cursor.stop = True  # on an error, nothing more is handed out
        for fut in inflight:
            fut.cancel()  # all given: what a worker still runs is left to finish unread
