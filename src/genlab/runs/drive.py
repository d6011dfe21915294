"""What runs a plan's jobs: one driver loop over an executor, writing each outcome to the store as it comes.

:func:`drive` keeps the executor busy with batches of jobs (about
:data:`BATCH_SECONDS` of work each), records every outcome, finds the job that
took a crashed worker down, and leaves the store resumable on Ctrl-C or an
error. :func:`genlab.runs.sweep.run_plan` is its only caller.

It never waits silently: while nothing finishes it asks the executor every
:data:`WATCH_S` seconds whether it is stuck, and says so on stderr (a Dask
cluster without workers at once, no job finished for :data:`STALL_S` seconds
after that long), then again at most every :data:`STALL_S` seconds. On Ctrl-C
it says how many of the plan's jobs are done.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections import deque

from ..core.errors import GenlabError
from .executors import WorkerCrash
from .progress import Callback, Progress
from .store import Store
from .worker import Job, failed_outcome

#: Short jobs travel in batches of about this many seconds of work, so that the driver's
#: per-task cost (a round trip, a store transaction) stays small beside the jobs' own time.
BATCH_SECONDS = 0.1
MAX_BATCH = 256
#: Seconds without a job finishing after which the driver says so (on Dask: the workers, what runs), and the
#: least time between two such messages; a cluster without workers is said at once. It never stops the run.
STALL_S = 300.0
#: While nothing finishes, the driver looks at the executor this often (seconds).
WATCH_S = 1.0


class Stopped(KeyboardInterrupt):
    """A run stopped because its caller asked (:func:`genlab.runs.sweep.watching`): cleaned up as on Ctrl-C,
    its store resumable."""


def drive(executor, st: Store, targets: dict, todo: list[Job], *, kind, seed, total, n_kept, n_kept_failed,
          progress, label=None, n_jobs=None, n_done=0, recorded=None, stop=None):
    """Keep the executor busy, write each outcome as it arrives; clean up on Ctrl-C or error.

    ``targets`` maps each job's kind to what the workers call; a batch holds jobs of one kind and seed.
    ``label`` names the progress bar (default: the job function's name). ``n_jobs`` and ``n_done`` are the
    plan's distinct jobs and those of them already done, for the line printed on Ctrl-C.
    ``recorded(ids)`` is called after each write of outcomes. Once ``stop`` (an event) is set, the run
    stops as on Ctrl-C, raising :class:`Stopped`.
    """
    session = st.begin_session(kind=kind, seed=seed, n_jobs=len(todo), executor=executor.name)
    queue, solo = deque(todo), deque()
    inflight: dict = {}  # future -> the batch of jobs it runs
    crashed: list = []
    n_failed = 0
    sizers: dict = {}  # kind -> _BatchSizer
    status = "interrupted"
    exc_seen = None
    n_ok = 0
    watch = _Watch(executor)
    bar = _progress_bar(progress, label or kind.rpartition(":")[2], total, n_kept, n_kept_failed)
    try:
        while queue or solo or inflight:
            if stop is not None and stop.is_set():
                raise Stopped()
            source, limit = (solo, 1) if solo else (queue, executor.capacity())
            submitted = []
            while not crashed and source and len(inflight) < limit:
                first = source[0]
                sizer = sizers.setdefault(first.kind, _BatchSizer())
                size = sizer.size(len(queue), limit) if source is queue else 1
                batch = [source.popleft()]
                while len(batch) < size and source and (source[0].kind, source[0].seed) == (first.kind, first.seed):
                    batch.append(source.popleft())
                inflight[executor.submit(targets[first.kind], batch)] = batch
                submitted += [job.id for job in batch]
            if submitted:
                st.mark_running(submitted, session)
            outcomes = []
            for fut in executor.wait(list(inflight), timeout=min(WATCH_S, STALL_S)):
                batch = inflight.pop(fut)
                try:
                    done = executor.outcomes(fut, len(batch))
                except WorkerCrash as exc:
                    crashed += [(job, exc) for job in batch]
                    continue
                outcomes += zip([job.id for job in batch], done)
                sizers.setdefault(batch[0].kind, _BatchSizer()).observe(done)
            if crashed and not inflight:  # a worker died: find the job that took it down
                executor.restart()
                if len(crashed) == 1:
                    job, exc = crashed[0]
                    why = f"the worker process died while running this job ({exc})"
                    outcomes.append((job.id, failed_outcome(why)))
                else:  # several were in flight: run each alone to tell the culprit from the innocent
                    solo.extend(job for job, _ in crashed)
                crashed = []
            watch.check(bool(outcomes))
            if outcomes:
                st.record_outcomes(outcomes, session)
                if recorded is not None:
                    recorded([job_id for job_id, _ in outcomes])
                failed_now = sum(not o["ok"] for _, o in outcomes)
                n_failed += failed_now
                n_ok += len(outcomes) - failed_now
                if bar is not None:
                    bar.advance(len(outcomes), failed_now)
        status = "failed" if n_failed else "finished"
    except BaseException as exc:
        exc_seen = exc
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
        elif status == "interrupted":
            with contextlib.suppress(GenlabError):  # what the store holds, even if Ctrl-C came between a write
                n_ok = st.counts(session=session)["done"]  # and the count
            n_jobs = len(todo) + n_done if n_jobs is None else n_jobs
            what = "stopped" if isinstance(exc_seen, Stopped) else "interrupted"
            again = "the same computation resumes" if isinstance(exc_seen, Stopped) else "run the same command to resume"
            sys.stderr.write(f"{what}: {n_done + n_ok} of {n_jobs} jobs done; {again}\n")


def _progress_bar(progress, label: str, total: int, n_kept: int, n_kept_failed: int):
    """What a sweep reports to: the caller's ``progress(n)``, a bar on stderr labelled ``label``, or None."""
    if callable(progress):  # the caller's own bar: told how many jobs finished
        return Callback(progress, n_kept)
    if progress:
        return Progress(label, total, done=n_kept, failed=n_kept_failed).start()
    return None


class _Watch:
    """Says on stderr when the executor looks stuck, as its ``stalled(idle_s, stall_s)`` finds it (None, or
    ``(trouble, line)``): a new trouble at once, the same one again at most every :data:`STALL_S` seconds.
    It never stops the run."""

    def __init__(self, executor):
        self.executor = executor
        self.last = time.monotonic()  # when a job last finished (or the run started, or workers came)
        self.said, self.said_at = None, -math.inf

    def check(self, progressed: bool) -> None:
        now = time.monotonic()
        if progressed:
            self.last, self.said = now, None
            return
        stalled = getattr(self.executor, "stalled", None)
        if stalled is None:
            return
        note = stalled(now - self.last, STALL_S)
        if self.said == "no workers" and (note is None or note[0] != "no workers"):
            self.last, self.said = now, None  # workers came: the wait for a job starts now
            note = stalled(0.0, STALL_S)
        if note is None:
            return
        trouble, line = note
        if trouble != self.said or now - self.said_at >= STALL_S:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            self.said, self.said_at = trouble, now


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
