"""Executors: what runs a sweep's jobs, on this machine (loky) or on a Dask cluster.

An executor takes batches of :class:`~genlab.runs.worker.Job` and runs them
with :func:`~genlab.runs.worker.run_batch` in its workers. Its interface, as
:func:`genlab.runs.sweep.run_sweep` drives it: ``name``, ``capacity()`` (batches
to keep in flight), ``submit(target, batch)`` (a future), ``wait(futures, timeout)``
(those finished, none if none did within ``timeout`` seconds), ``outcomes(future, n)``
(one dict per job, or :class:`WorkerCrash`), ``stalled(idle_s, stall_s)`` (None, or
what to tell a person waiting: a Dask cluster without workers),
``restart()``, ``abort(futures)`` and ``close()``.

Also here: the checks of ``--jobs`` and ``--dask`` (:func:`check_jobs`,
:func:`check_dask`) and the probe that asks a scheduler address, before any
store exists, whether it answers as Dask (:func:`reach_dask`).
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import time
import traceback
import uuid

import numpy as np

from ..core.errors import GenlabError
from .worker import THREAD_ENV, Job, failed_outcome, init_worker, run_batch

#: Batches kept in flight per worker: enough that a worker never waits for the driver.
IN_FLIGHT_PER_WORKER = 2
#: Seconds a Dask scheduler address has to answer (connect and handshake) before it is refused.
DASK_CONNECT_TIMEOUT = 10.0


def _duration(seconds: float) -> str:
    from ..core.limits import duration_text

    return duration_text(seconds)


class WorkerCrash(Exception):
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
            max_workers=self.n_workers, timeout=60, initializer=init_worker, initargs=(os.getpid(),),
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

    def wait(self, futures, timeout: float | None = None) -> list:
        import concurrent.futures as cf

        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def stalled(self, idle_s: float, stall_s: float):
        return None  # its own workers, restarted when one dies: a long wait is long jobs

    def outcomes(self, fut, n: int) -> list[dict]:
        from concurrent.futures.process import BrokenProcessPool

        exc = fut.exception()
        if exc is None:
            return fut.result()
        if isinstance(exc, BrokenProcessPool):
            text = " ".join(str(exc).split())
            raise WorkerCrash(text.partition(". ")[0] if text else type(exc).__name__)
        return [failed_outcome("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))] * n

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
        self.address = dask.scheduler.address if isinstance(dask, Client) else (
            self._cluster.scheduler_address if self._cluster is not None else dask)
        self._ac = as_completed(loop=self._client.loop, with_results=True, raise_errors=False)
        self._results: dict = {}
        self._capacity, self._checked = 1, -math.inf

    def _workers(self):
        """{worker: threads} now (and the capacity from it), or None if the scheduler does not answer.

        Raises
        ------
        GenlabError
            Once the client gave up on the scheduler (it tries to reconnect for a while first).
        """
        try:
            workers = self._client.nthreads(callback_timeout=DASK_CONNECT_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - the scheduler went away, or does not answer now
            if self._client.status in ("closing", "closed"):
                raise GenlabError(f"lost the Dask scheduler at {self.address} ({type(exc).__name__}); finished "
                                  "jobs are kept: run the same command again once it is back") from None
            return None
        self._capacity = max(1, IN_FLIGHT_PER_WORKER * sum(workers.values()))
        self._checked = time.monotonic()
        return workers

    def capacity(self) -> int:
        if time.monotonic() - self._checked > 2.0:  # clusters grow and shrink; ask again now and then
            self._workers()
        return self._capacity

    def stalled(self, idle_s: float, stall_s: float):
        """``("no workers", line)`` when the cluster has no worker, ``("no progress", line)`` when no job has
        finished for ``stall_s`` seconds or more, else None (a person waiting is told; the run goes on)."""
        keep = "Ctrl-C to stop (finished jobs are kept)"
        workers = self._workers()
        if workers is None:
            if idle_s < stall_s:
                return None
            return ("no scheduler", f"the Dask scheduler at {self.address} does not answer and no job has finished "
                                    f"for {_duration(idle_s)}: check it, or {keep}")
        if not workers:
            return ("no workers", f"the Dask cluster at {self.address} has no workers: start some with "
                                  f"'dask worker {self.address}', or {keep}")
        if idle_s < stall_s:
            return None
        n, threads = len(workers), sum(workers.values())
        return ("no progress", f"no job has finished for {_duration(idle_s)} on the Dask cluster at {self.address} "
                               f"({n} worker{'s' if n > 1 else ''}, {threads} thread{'s' if threads > 1 else ''}); "
                               f"still waiting: {keep}")

    def submit(self, target, batch: list[Job]):
        name = batch[0].kind.rpartition(":")[2].replace(".", "-")
        fut = self._client.submit(run_batch, target, batch[0].seed, [(j.config_json, j.config_hash) for j in batch],
                                  pure=False, key=f"genlab-{name}-{batch[0].config_hash}-{len(batch)}-"
                                                  f"{uuid.uuid4().hex[:8]}")
        self._ac.add(fut)
        return fut

    def wait(self, futures, timeout: float | None = None) -> list:
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        while not self._ac.has_ready():  # as as_completed itself waits, but for ``timeout`` at most
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            ready = getattr(self._ac, "thread_condition", None)  # notified as results come in
            if ready is None:
                time.sleep(min(left, 0.01))
                continue
            with ready:
                ready.wait(timeout=min(left, 0.1))
        batch = self._ac.next_batch(block=False)
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
                raise WorkerCrash(" ".join(str(exc).split())[:300])
            return [failed_outcome("".join(traceback.format_exception(typ, exc, tb)))] * n
        return [failed_outcome(f"the Dask cluster lost this job ({fut.status}): {result!r}")] * n

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
