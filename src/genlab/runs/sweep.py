"""Run many jobs through one executor into one store, resumably.

:func:`run_sweep` adds the jobs (:mod:`genlab.runs.worker`) to the store,
skips those already done, runs the others (missing, failed, or left running by
a killed driver) on an executor (:mod:`genlab.runs.executors`) and writes each
result as it comes back (:mod:`genlab.runs.drive`). Only the driver writes the
store. :func:`sweep` is the same for library callers (a temporary store, an error
on a failure); :class:`SweepResult` is what both give back.

:func:`run_plan` does it for several sweeps at once on one executor, the longest
jobs first: :func:`planned_sweeps` finds what an experiment would run without
running it, and :func:`serving` lets computations in other threads take each
sweep's result as soon as the plan has it (:class:`PlanResults`), which is how
``genlab article`` keeps both workers busy to the end.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import GenlabError
from ..core.results import Result
from .drive import drive
from .executors import DaskExecutor, LocalExecutor, check_dask, check_jobs, reach_dask
from .records import canonical_json, check_sweep_seed, config_hash, last_line, records_frame
from .store import Store
from .worker import Job, function_path, resolve_function

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
              progress: bool = True, retry_failed: bool = True, label: str | None = None) -> SweepResult:
    """Run ``fn`` on every config, resumably, and return the records.

    Jobs already done in the store are not run again; missing ones, failed
    ones (unless ``retry_failed=False``), ones left running by a killed
    driver and ones whose stored results are damaged (a warning names them,
    see :meth:`Store.damaged <genlab.runs.store.Store.damaged>`) are. A job that
    raises is recorded as failed with its traceback and the sweep goes on. On
    Ctrl-C (or SIGTERM in the ``genlab`` command) the workers are stopped,
    unfinished jobs are put back to pending, a line on stderr says how many
    of the sweep's jobs are done (``interrupted: 12 of 40 jobs done; run the
    same command to resume``), and ``KeyboardInterrupt`` propagates: the same
    call again resumes. On Dask, a cluster without workers, or no job finished
    for :data:`genlab.runs.drive.STALL_S` seconds, is said on stderr (the run
    goes on).

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
    label : str, optional
        What the progress bar calls the sweep ("random features on digits"); by default the job
        function's name. Only shown: the jobs, their seeds and their records do not depend on it.

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
    return run_plan([PlannedSweep(fn, configs, seed, label=label)], store=store, jobs=jobs, dask=dask,
                    progress=progress, retry_failed=retry_failed)[0]


@dataclass(frozen=True)
class PlannedSweep:
    """One sweep of a plan (:func:`run_plan`): what :func:`run_sweep` takes, and a guess of each job's cost.

    Attributes
    ----------
    fn : callable or str
        The job function, as in :func:`run_sweep`.
    configs : sequence of dict
    seed : int
    rank : int, default 0
        Sweeps of a lower rank start first (after the plan's longest jobs, see :func:`_order`), so that
        what is computed from them can start early.
    cost : callable, optional
        ``cost(config) -> float``, a rough number of seconds: the plan starts the costliest jobs first, so
        that the last to finish is not a long one started late. Only the order depends on it, never a
        result. By default the job function's own ``cost`` attribute, if it has one; jobs without a cost
        go last, in their sweep's order.
    label : str, optional
        What a progress bar calls the sweep (by default the job function's name); not part of the jobs.
    """

    fn: object
    configs: object
    seed: int = 0
    cost: object = None
    rank: int = 0
    label: str | None = None


def run_plan(sweeps, *, store, jobs: int | None = None, dask=None, progress=True, retry_failed: bool = True,
             records: bool = True, deliver: "PlanResults | None" = None, label: str | None = None
             ) -> list[SweepResult]:
    """Run the jobs of several sweeps on one executor, the costliest first; one :class:`SweepResult` each.

    What :func:`run_sweep` does for one sweep, for many at once: the workers take
    jobs of every sweep from one queue, ordered by ``cost`` (longest processing
    time first), so that none of them idles at the end of one sweep while another
    waits to start. A job is the same job, with the same seed and numbers, as in
    its own sweep: :func:`run_sweep` on one of them afterwards finds it done.

    Parameters
    ----------
    sweeps : sequence of PlannedSweep
    store, jobs, dask, progress, retry_failed
        As in :func:`run_sweep`; a progress bar counts the jobs of all the sweeps, and Ctrl-C's line the
        plan's distinct jobs.
    records : bool, default True
        Read the records back (False: the results hold no records, for a caller that only fills the store).
    deliver : PlanResults, optional
        Hand each sweep's result (with its records) to computations in other threads as soon as its
        last job is in (see :func:`serving`), and tell them when the plan ends, even by an error.
    label : str, optional
        What the progress bar calls the plan; by default the sweeps' labels (or job function names), joined.
    """
    recording = _RECORDING.get()
    if recording is not None:  # planned_sweeps(): say what would run, run nothing
        recording.extend(sweeps)
        raise _Recorded
    t_start = time.perf_counter()
    plan = []
    for sw in sweeps:
        kind = function_path(sw.fn)
        target = kind if not kind.startswith("__main__:") else (sw.fn if callable(sw.fn) else resolve_function(kind))
        plan.append((sw, kind, target, check_sweep_seed(sw.seed), _config_texts(sw.configs)))
    if not plan:
        raise GenlabError("the plan has no sweeps; give at least one")
    watched = _WATCHING.get()
    if watched is not None and watched.progress is not None:
        progress = watched.progress
    served = _SERVING.get()
    if served is not None and deliver is None:  # another thread's plan runs (or ran) these jobs
        got = served.wait([_sweep_key(p) for p in plan])
        if got is not None:
            return got
    dask = check_dask(dask)
    if dask is not None and not (isinstance(dask, str) and dask == "local") and jobs is not None:
        raise GenlabError("--jobs sets the number of local workers; with a Dask scheduler the cluster decides")
    n_workers = check_jobs(jobs)
    reach_dask(dask)  # before the store exists

    own_store = not isinstance(store, Store)
    ok, st = False, None
    try:
        st = Store(store) if own_store else store
        ids, todo, counts, done_ids = [], [], [], set()
        for i, (sw, kind, target, seed, texts) in enumerate(plan):
            sweep_ids = st.add_jobs(kind, seed, texts)
            before = st.jobs(ids=sweep_ids, series=False)
            damaged = st.damaged(sweep_ids)
            for job_id, why in damaged.items():
                warnings.warn(f"job {job_id} in {st.path} is damaged ({why}); running it again", stacklevel=3)
            done = [r["status"] == "done" and r["id"] not in damaged for r in before]
            done_ids.update(r["id"] for r, is_done in zip(before, done) if is_done)
            mine = [Job(kind, json.loads(t), seed, t, config_hash(t), j)
                    for j, t, r, is_done in zip(sweep_ids, texts, before, done)
                    if not is_done and (retry_failed or r["status"] != "failed")]
            cost = sw.cost or getattr(resolve_function(kind) if isinstance(target, str) else target, "cost", None) \
                or (lambda config: 0.0)
            todo += [(float(cost(job.config)), sw.rank, i, k, job) for k, job in enumerate(mine)]
            ids.append(sweep_ids)
            counts.append((sum(done), len(mine)))
        todo = _order(todo, n_workers)
        sweep_results = _SweepResults(st, plan, ids, counts, {job.id for job in todo}, t_start,
                                      deliver=deliver, records=records or deliver is not None)
        if todo:
            executor = DaskExecutor(dask, n_workers) if dask is not None else LocalExecutor(n_workers)
            sweep_results.executor = executor.name
            sweep_results.deliver_ready()
            total = sum(map(len, ids))
            n_cached = sum(c for c, _ in counts)
            kept = total - len(todo)  # done, or failed and not retried
            kinds = sorted({kind for _, kind, *_ in plan})
            labels = dict.fromkeys(sw.label or kind.rpartition(":")[2] for sw, kind, *_ in plan)
            drive(executor, st, {kind: target for _, kind, target, *_ in plan}, todo,
                  kind=", ".join(kinds), seed=plan[0][3], total=total, n_kept=kept, n_kept_failed=kept - n_cached,
                  progress=progress, label=label or ", ".join(labels), n_jobs=len(set().union(*ids)),
                  n_done=len(done_ids), recorded=sweep_results.recorded,
                  stop=None if watched is None else watched.stop)
        made = sweep_results.all()
        ok = True
        return made
    finally:
        if own_store and st is not None:
            st.close()
        if deliver is not None:  # after the store is closed: a waiting thread may open it next
            deliver.finish(ok)


#: A job whose cost is over this share of the plan's work per worker starts first, whatever its sweep's rank.
BIG_JOB_SHARE = 0.05


def _order(todo, n_workers: int) -> list[Job]:
    """The order in which a plan's jobs start.

    The longest jobs first (over :data:`BIG_JOB_SHARE` of the work per worker), so that none starts
    late and ends last; then sweep by sweep in the order of their ``rank``, the costliest first within
    a rank (longest processing time first), so that the sweeps of one rank are done early and what is
    computed from them can start while the workers go on. A job shared by two sweeps runs once.
    """
    big = BIG_JOB_SHARE * sum(cost for cost, *_ in todo) / max(1, n_workers)
    key = lambda item: (item[0] <= big, 0 if item[0] > big else item[1], -item[0], item[2], item[3])  # noqa: E731
    seen: set = set()
    return [job for *_, job in sorted(todo, key=key) if not (job.id in seen or seen.add(job.id))]


class _SweepResults:
    """The results of a plan's sweeps, each made (and given to ``deliver``) once its last job is in."""

    def __init__(self, st, plan, ids, counts, running: set, t_start: float, *, deliver, records: bool):
        self.st, self.plan, self.ids, self.counts, self.t_start = st, plan, ids, counts, t_start
        self.deliver, self.records, self.executor = deliver, records, ""
        self.left = [set(sweep_ids) & running for sweep_ids in ids]
        self.made: dict[int, SweepResult] = {}

    def _make(self, i: int) -> SweepResult:
        (_, kind, _, seed, _), sweep_ids, (n_cached, n_ran) = self.plan[i], self.ids[i], self.counts[i]
        recs = []
        if self.records:
            recs = self.st.jobs(ids=sweep_ids)
            for rec, arrays in zip(recs, self.st.arrays(sweep_ids)):
                rec["arrays"] = arrays
        res = SweepResult(kind, seed, self.st.path, recs, n_cached, n_ran, time.perf_counter() - self.t_start,
                          self.executor if n_ran else "")
        self.made[i] = res
        if self.deliver is not None:
            self.deliver.put(_sweep_key(self.plan[i]), res)
        return res

    def deliver_ready(self) -> None:
        """Give ``deliver`` the sweeps with nothing left to run."""
        if self.deliver is not None:
            for i, left in enumerate(self.left):
                if not left and i not in self.made:
                    self._make(i)

    def recorded(self, job_ids) -> None:
        """Called as outcomes are written: deliver each sweep whose last job this was."""
        if self.deliver is None:
            return
        job_ids = set(job_ids)
        for i, left in enumerate(self.left):
            if left and left & job_ids:
                left -= job_ids
                if not left:
                    self._make(i)

    def all(self) -> list[SweepResult]:
        return [self.made.get(i) or self._make(i) for i in range(len(self.plan))]


def _sweep_key(planned) -> tuple:
    _, kind, _, seed, texts = planned
    return (kind, seed, tuple(texts))


class PlanResults:
    """Where a plan running in one thread (:func:`run_plan` with ``deliver=``) hands each sweep's result
    to computations in other threads (:func:`serving`): a sweep they call that the plan holds waits for
    the plan's result instead of running; one it does not hold waits for the plan to end, then runs."""

    def __init__(self):
        self._cond = threading.Condition()
        self._got: dict = {}
        self._finished, self._ok = False, True

    def put(self, key, result) -> None:
        with self._cond:
            self._got[key] = result
            self._cond.notify_all()

    def finish(self, ok: bool = True) -> None:
        """The plan ended: its whole (``ok``), or stopped by an error or Ctrl-C, after which a waiting
        computation stops too (:class:`PlanStopped`) rather than run the jobs itself."""
        with self._cond:
            self._finished, self._ok = True, ok
            self._cond.notify_all()

    def wait(self, keys):
        """The results of ``keys`` once all are in; None if the plan ended without one of them."""
        with self._cond:
            self._cond.wait_for(lambda: all(k in self._got for k in keys) or self._finished)
            if all(k in self._got for k in keys):
                return [self._got[k] for k in keys]
            if not self._ok:
                raise PlanStopped("the plan these results were to come from stopped")
            return None


class PlanStopped(BaseException):
    """Raised in a computation waiting for a plan's results (:func:`serving`) when the plan stopped."""


_SERVING: contextvars.ContextVar = contextvars.ContextVar("genlab_plan_results", default=None)


@contextlib.contextmanager
def serving(results: PlanResults):
    """In this block (in this thread), sweeps take their results from a running plan (:class:`PlanResults`)."""
    token = _SERVING.set(results)
    try:
        yield results
    finally:
        _SERVING.reset(token)


_WATCHING: contextvars.ContextVar = contextvars.ContextVar("genlab_sweep_watch", default=None)


@dataclass(frozen=True)
class _Watch:
    progress: object = None
    stop: object = None


@contextlib.contextmanager
def watching(progress=None, stop=None):
    """In this block (in this thread), every sweep reports to ``progress(n)`` (whatever its caller asked) and
    stops once ``stop`` (a :class:`threading.Event`) is set.

    How a long computation that runs sweeps inside library code (a crossed sweep, a lottery) is followed
    and cancelled from another thread, e.g. by ``genlab lab``: on ``stop`` the workers are stopped within
    about a second, unfinished jobs go back to pending (the same computation later resumes from the
    store) and :class:`~genlab.runs.drive.Stopped` (a ``KeyboardInterrupt``) is raised.
    """
    token = _WATCHING.set(_Watch(progress, stop))
    try:
        yield
    finally:
        _WATCHING.reset(token)


_RECORDING: contextvars.ContextVar = contextvars.ContextVar("genlab_planned_sweeps", default=None)


class _Recorded(BaseException):
    """Stops a computation at its first sweep in :func:`planned_sweeps` (a BaseException: no
    ``except Exception`` on the way may take it for a failure)."""


def planned_sweeps(compute) -> list[PlannedSweep]:
    """The sweep that ``compute()`` would run first, without running it.

    ``compute`` (a function of no arguments, e.g. an experiment with its
    settings) runs until it calls :func:`run_sweep` (or :func:`sweep` or
    :func:`run_plan`); that call records its jobs and stops it. Giving the
    result to :func:`run_plan` with other experiments' runs them all on one
    executor; ``compute()`` afterwards finds its jobs done in the store. Empty
    if ``compute`` ran no sweep (it then ran to its end).
    """
    token = _RECORDING.set([])
    try:
        compute()
    except _Recorded:
        pass
    finally:
        got = _RECORDING.get()
        _RECORDING.reset(token)
    return got


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


def sweep(fn, configs, *, store=None, seed: int = 0, jobs: int | None = 1, dask=None,
          progress: bool = False, label: str | None = None) -> SweepResult:
    """:func:`run_sweep` for library callers: a temporary store when ``store`` is None, and a
    :class:`GenlabError` naming the first failure if any job failed (a given store keeps them all).

    Experiments call this so that the same code serves a notebook (no store to
    manage) and the CLI (``--store``, resumable, ``--jobs``/``--dask``); ``label`` names the
    experiment on the progress bar.
    """
    import tempfile

    with contextlib.ExitStack() as stack:
        path = store
        if store is None:
            path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="genlab-sweep-"))) / "runs.sqlite"
        result = run_sweep(fn, configs, store=path, seed=seed, jobs=jobs, dask=dask, progress=progress,
                           label=label)
        if not result.ok:
            first = result.failures[0]
            hint = f" — see 'genlab runs show {first['id']}'" if store is not None else ""
            raise GenlabError(f"{len(result.failures)} of {len(result.records)} jobs failed; first: "
                              f"{last_line(first.get('error'))}{hint}")
        return result
