"""Run many jobs through one executor into one store, resumably.

:func:`run_sweep` adds the jobs (:mod:`genlab.runs.worker`) to the store,
skips those already done, runs the others (missing, failed, or left running by
a killed driver) on an executor (:mod:`genlab.runs.executors`) and writes each
result as it comes back. Only the driver writes the store. :func:`sweep` is the
same for library callers (a temporary store, an error on a failure);
:class:`SweepResult` is what both give back.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import GenlabError
from ..core.results import Result
from .executors import DaskExecutor, LocalExecutor, WorkerCrash, check_dask, check_jobs, reach_dask
from .progress import Callback, Progress
from .records import canonical_json, check_sweep_seed, config_hash, last_line, records_frame
from .store import Store
from .worker import Job, failed_outcome, function_path, resolve_function

#: Short jobs travel in batches of about this many seconds of work, so that the driver's
#: per-task cost (a round trip, a store transaction) stays small beside the jobs' own time.
BATCH_SECONDS = 0.1
MAX_BATCH = 256


@dataclass
class SweepResult(Result):
    """What a sweep gave: one record per config, in the order the configs were given.

    A :class:`~genlab.core.results.Result`: ``summary()`` and ``to_frame()`` are
    one row per job, ``to_dict()`` the counts and each job's outcome,
    ``plot()`` each job's duration; :meth:`describe` is the few lines the
    ``genlab`` commands print.

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

    def summary(self):
        """One row per job: id, status, ``config.*``, ``metrics.*``, timings, error (pandas)."""
        return records_frame(self.records)

    def to_dict(self) -> dict:
        """JSON-ready: the sweep (function, seed, store, counts, time, executor) and each job's id,
        status, config, metrics, duration and error line (series and arrays stay in the store)."""
        from ..core.io import plain

        jobs = [{"id": r["id"], "status": r["status"], "config": r["config"], "metrics": r["metrics"],
                 "duration_s": r["duration_s"], "error": last_line(r["error"])} for r in self.records]
        return plain({"kind": self.kind, "seed": self.seed, "store": self.store, "executor": self.executor,
                      "n_jobs": len(self.records), "n_done": self.n_done, "n_failed": len(self.failures),
                      "n_cached": self.n_cached, "n_ran": self.n_ran, "elapsed_s": self.elapsed_s, "ok": self.ok,
                      "jobs": jobs})

    def plot(self, ax=None, **kw):
        """Each job's duration as a bar, in config order, failed jobs in red; return the Axes.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw (a new figure when None).
        **kw
            Passed to :meth:`~matplotlib.axes.Axes.bar` (``color`` replaces the status colours).
        """
        from matplotlib.patches import Patch

        from ..plots.helpers import axes

        ax = axes(ax)
        durations = [np.nan if r["duration_s"] is None else float(r["duration_s"]) for r in self.records]
        kw.setdefault("color", ["C3" if r["status"] == "failed" else "C0" for r in self.records])
        ax.bar(np.arange(len(self.records)), durations, **kw)
        ax.set_xlabel("job (in config order)")
        ax.set_ylabel("duration (s)")
        ax.set_title(f"{self.kind.rpartition(':')[2]}: {self.n_done} of {len(self.records)} done")
        if self.failures:
            ax.legend(handles=[Patch(color="C0", label="done"), Patch(color="C3", label="failed")])
        return ax

    def describe(self) -> str:
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
    seed = check_sweep_seed(seed)
    texts = _config_texts(configs)
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


def _config_texts(configs) -> list[str]:
    """The canonical JSON texts of a sweep's configs: at least one, no two alike."""
    texts = [canonical_json(c) for c in configs]
    if not texts:
        raise GenlabError("the sweep has no configs; give at least one")
    seen: dict[str, int] = {}
    for i, text in enumerate(texts):
        if text in seen:
            raise GenlabError(f"config {i} repeats config {seen[text]} ({text}); a job is a pure function of its "
                              "config and seed, so add a key such as 'repeat' to run it again")
        seen[text] = i
    return texts


def _drive(executor, st: Store, target, todo: list[Job], *, kind, seed, total, n_kept, n_kept_failed,
           progress):
    """Keep the executor busy, write each outcome as it arrives; clean up on Ctrl-C or error."""
    session = st.begin_session(kind=kind, seed=seed, n_jobs=len(todo), executor=executor.name)
    queue, solo = deque(todo), deque()
    inflight: dict = {}  # future -> the batch of jobs it runs
    crashed: list = []
    n_failed = 0
    sizer = _BatchSizer()
    status = "interrupted"
    bar = _progress_bar(progress, kind, total, n_kept, n_kept_failed)
    try:
        while queue or solo or inflight:
            source, limit = (solo, 1) if solo else (queue, executor.capacity())
            submitted = []
            while not crashed and source and len(inflight) < limit:
                size = sizer.size(len(queue), limit) if source is queue else 1
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
                except WorkerCrash as exc:
                    crashed += [(job, exc) for job in batch]
                    continue
                outcomes += zip([job.id for job in batch], done)
                sizer.observe(done)
            if crashed and not inflight:  # a worker died: find the job that took it down
                executor.restart()
                if len(crashed) == 1:
                    job, exc = crashed[0]
                    why = f"the worker process died while running this job ({exc})"
                    outcomes.append((job.id, failed_outcome(why)))
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


def _progress_bar(progress, kind: str, total: int, n_kept: int, n_kept_failed: int):
    """What a sweep reports to: the caller's ``progress(n)``, a bar on stderr, or None."""
    if callable(progress):  # the caller's own bar: told how many jobs finished
        return Callback(progress, n_kept)
    if progress:
        return Progress(kind.rpartition(":")[2], total, done=n_kept, failed=n_kept_failed).start()
    return None


class _BatchSizer:
    """How many short jobs to send in one task: about :data:`BATCH_SECONDS` of work, judged from the
    recent seconds per successful job (one job per task until the first comes back)."""

    def __init__(self):
        self.per_job, self.last = None, 1

    def size(self, n_left: int, limit: int) -> int:
        """The next batch's size, with ``n_left`` jobs queued and ``limit`` batches in flight at most."""
        if self.per_job is None or self.per_job >= BATCH_SECONDS:
            return 1
        # grow at most twofold (durations may rise along the sweep), and take no more than an even
        # share of what is left
        self.last = max(1, min(int(BATCH_SECONDS / max(self.per_job, 1e-9)), 2 * self.last, MAX_BATCH,
                               -(-n_left // limit)))
        return self.last

    def observe(self, outcomes) -> None:
        """Learn from the outcomes of a batch that came back."""
        took = [o["duration_s"] for o in outcomes if o["ok"]]  # a quick failure says little
        if took:
            mean = sum(took) / len(took)
            self.per_job = mean if self.per_job is None else 0.7 * self.per_job + 0.3 * mean


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
