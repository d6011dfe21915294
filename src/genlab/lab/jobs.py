"""Computations too long for one request (a decomposition of 100,000 datasets), run on a thread of the server
with their progress polled by the page.

A job is known by a random id that only the tab that started it holds, so tabs do not see or cancel each
other's jobs. At most :data:`MAX_RUNNING` run at once (more would only share the cores); a finished job
is kept until its page has read it, or until :data:`MAX_KEPT` newer ones push it out.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

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
    done: int = 0
    state: str = "running"      # running, done, failed, cancelled
    result: object = None
    error: BaseException | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


class Jobs:
    """The jobs of one lab server."""

    def __init__(self, max_running: int = MAX_RUNNING, max_kept: int = MAX_KEPT):
        self.max_running, self.max_kept = max_running, max_kept
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def running(self) -> int:
        with self._lock:
            return sum(j.state == "running" for j in self._jobs.values())

    def start(self, run: Callable[[Callable[[int], None]], object], total: int, key=None) -> str:
        """Start ``run(progress)`` on a thread; ``progress(k)`` counts ``k`` steps of ``total`` done (and stops
        the job, raising :class:`Cancelled`, once it is cancelled). Returns the job's id, or raises :class:`Busy`."""
        job = Job(max(int(total), 1), key)
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

        def main():
            try:
                result = run(progress)
            except Cancelled:
                job.state = "cancelled"
            except BaseException as exc:  # noqa: BLE001 - handed to the page, which says what failed
                job.error, job.state = exc, "failed"
            else:
                job.result, job.state = result, "done"

        threading.Thread(target=main, name=f"genlab-lab-job-{job_id[:6]}", daemon=True).start()
        return job_id

    def poll(self, job_id) -> Job | None:
        """The job (its state, progress, result or error), or None for an unknown id; a finished job is
        forgotten once polled."""
        if not isinstance(job_id, str):
            return None
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.state != "running":
                del self._jobs[job_id]
        return job

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

    def _trim(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.state != "running"]
        while len(self._jobs) > self.max_kept and finished:
            del self._jobs[finished.pop(0)]
