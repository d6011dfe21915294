"""Computations too long for one request (a decomposition of 100,000 datasets, a sweep of networks), run on a
thread of the server with their progress polled by the page.

A *store job* runs sweeps through the results store and the executor (:mod:`genlab.runs`), as the CLI
does: its jobs' records stay in the lab's store (``genlab runs ls --store genlab-lab/runs.sqlite`` lists
them), a setting computed before is read back instead of recomputed, and a cancelled or interrupted one
resumes from what it had finished. One store job runs at a time (the store has one writer); others wait
for it, shown as waiting. Its progress counts the sweeps' jobs, and a cancel stops the workers within
about a second (:func:`genlab.runs.sweep.watching`).

A job is known by a random id that only the tab that started it holds, so tabs do not see or cancel each
other's jobs. At most :data:`MAX_RUNNING` run at once (more would only share the cores); a finished job
is kept, and answers every poll the same, until :data:`MAX_KEPT` newer ones push it out. (It was once
forgotten at its first poll; but when a poll's answer is slower than the page's interval, Dash sends the
next poll and drops the answer of the one in flight, so the page saw the job gone and never its result.)
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

#: The lab's results store unless ``genlab lab --store`` names another.
DEFAULT_STORE = Path("genlab-lab") / "runs.sqlite"
#: Long computations running at once, all tabs together.
MAX_RUNNING = 2
#: Finished jobs kept for their pages to collect.
MAX_KEPT = 16


class Busy(Exception):
    """Already :data:`MAX_RUNNING` jobs are running."""


class Cancelled(Exception):
    """Raised inside a job (from its progress callback) once its page asked to cancel it."""


@dataclass
class Job:
    total: int
    key: object = None          # what it computes (a configuration), to recognize the same request again
    what: str | None = None     # what the progress line calls it
    waiting: bool = False       # a store job waiting for the store
    in_store: bool = False      # a store job (its progress counts sweep jobs)
    done: int = 0
    state: str = "running"      # running, done, failed, cancelled
    result: object = None
    error: BaseException | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class Jobs:
    """The jobs of one lab server."""

    def __init__(self, max_running: int = MAX_RUNNING, max_kept: int = MAX_KEPT, store=None):
        self.max_running, self.max_kept = max_running, max_kept
        self.store = Path(store) if store is not None else DEFAULT_STORE
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._store_lock = threading.Lock()

    def running(self) -> int:
        with self._lock:
            return sum(j.state == "running" for j in self._jobs.values())

    def start(self, run: Callable[[Callable[[int], None]], object], total: int, key=None, *, store: bool = False,
              what: str | None = None) -> str:
        """Start ``run(progress)`` on a thread; ``progress(k)`` counts ``k`` steps of ``total`` done (and stops
        the job, raising :class:`Cancelled`, once it is cancelled). Returns the job's id, or raises :class:`Busy`.

        A store job (``store=True``) is ``run(store_path)``: it waits for the store, and the sweeps it runs
        count its progress and stop on cancel by themselves."""
        job = Job(max(int(total), 1), key, what, waiting=store, in_store=store)
        with self._lock:
            if sum(j.state == "running" for j in self._jobs.values()) >= self.max_running:
                raise Busy(self.max_running)
            job_id = secrets.token_urlsafe(16)
            self._jobs[job_id] = job
            self._trim()

        def progress(k: int = 1) -> None:
            if job.cancel.is_set():
                raise Cancelled()
            job.done = min(job.done + k, job.total)

        def counted(k: int = 1) -> None:
            job.done = min(job.done + k, job.total)

        def in_store():
            from ..runs.drive import Stopped
            from ..runs.sweep import watching

            while not self._store_lock.acquire(timeout=0.2):
                if job.cancel.is_set():
                    raise Cancelled()
            try:
                if job.cancel.is_set():
                    raise Cancelled()
                job.waiting = False
                self.store.parent.mkdir(parents=True, exist_ok=True)
                with watching(progress=counted, stop=job.cancel):
                    try:
                        return run(self.store)
                    except Stopped:
                        raise Cancelled() from None
            finally:
                self._store_lock.release()

        def main():
            try:
                result = in_store() if store else run(progress)
            except Cancelled:
                job.state = "cancelled"
            except BaseException as exc:  # noqa: BLE001 - handed to the page, which says what failed
                job.error, job.state = exc, "failed"
            else:
                job.result, job.state = result, "done"

        job.thread = threading.Thread(target=main, name=f"genlab-lab-job-{job_id[:6]}", daemon=True)
        job.thread.start()
        return job_id

    def poll(self, job_id) -> Job | None:
        """The job (its state, progress, result or error), or None for an unknown id. A finished job answers
        every poll the same until newer ones push it out (:meth:`_trim`)."""
        if not isinstance(job_id, str):
            return None
        with self._lock:
            return self._jobs.get(job_id)

    def running_key(self, job_id):
        """The key of a running job (None for an unknown or finished one)."""
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
            return job.key if job is not None and job.state == "running" else None

    def cancel(self, job_id) -> bool:
        """Ask a running job to stop at its next step; False for an unknown id."""
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            return False
        job.cancel.set()
        return True

    def shutdown(self, timeout: float = 20.0) -> None:
        """Cancel every running job and wait (up to ``timeout`` seconds) for the store jobs to stop, so that
        the store is left resumable and no worker outlives the server."""
        with self._lock:
            running = [j for j in self._jobs.values() if j.state == "running"]
        for job in running:
            job.cancel.set()
        end = time.monotonic() + timeout
        for job in running:
            if job.in_store and job.thread is not None:
                job.thread.join(max(0.0, end - time.monotonic()))

    def _trim(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.state != "running"]
        while len(self._jobs) > self.max_kept and finished:
            del self._jobs[finished.pop(0)]
