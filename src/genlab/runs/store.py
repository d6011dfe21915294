"""The results store: one SQLite file that says what ran, with what, and what came out.

A sweep's driver is the only writer (workers return their results to it); any
number of readers (``genlab runs ls``, a notebook) may look at the file while it
is written, thanks to SQLite's write-ahead log. Every change is one
transaction, so a ``kill -9`` at any point leaves the file consistent: a job is
either recorded with all of its results or not at all.

Beside the file, only a running driver leaves anything: ``PATH.lock``,
``PATH-wal`` and ``PATH-shm`` exist while it writes and are removed when it
closes the store (the file goes back to SQLite's rollback journal, which
readers can read without creating any file). A reader never creates a file.

The file's format (tables, columns, schema version) is :mod:`genlab.runs.schema`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np

from ..core.errors import GenlabError
from ..core.version import __version__
from . import lock
from .records import (array_layout, canonical_json, check_sweep_seed, config_hash, parse_cell, read_record,
                      records_frame, series_frame)
from .schema import (APPLICATION_ID, ARRAYS_SCHEMA, JOB_COLUMNS, SCHEMA, SCHEMA_VERSION, SQLITE_MAGIC,
                     STATUSES)

#: File name of the store inside an output folder.
STORE_NAME = "runs.sqlite"
#: How long a closing driver waits for readers to let go, to remove ``-wal`` and ``-shm``.
CLOSE_WAIT_S = 2.0


# --------------------------------------------------------------------------- provenance

@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The git commit of genlab's source tree (``-dirty`` if modified), or None outside a checkout."""
    here = Path(__file__).resolve().parent
    root = next((p for p in here.parents if (p / ".git").exists()), None)
    if root is None:
        return None
    try:
        run = functools.partial(subprocess.run, cwd=root, capture_output=True, text=True, timeout=5)
        rev = run(["git", "rev-parse", "HEAD"])
        if rev.returncode != 0:
            return None
        dirty = run(["git", "diff", "--quiet", "HEAD", "--"]).returncode == 1
        return rev.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


# --------------------------------------------------------------------------- the store

class Store:
    """A genlab results store (SQLite, WAL mode while a driver writes).

    Parameters
    ----------
    path : str or Path
        The database file. A missing or empty file is created (unless
        ``readonly``); a file that is not a genlab store is refused.
    readonly : bool, default False
        Open for reading only, as ``genlab runs`` does; any number of readers
        may look while a sweep writes.

    Notes
    -----
    A writable store holds an exclusive lock until :meth:`close`: one driver
    writes a store at a time, and a second gets a :class:`~genlab.GenlabError`,
    also when it names the store through a symbolic link (the lock is taken on
    the real path). The lock is ``flock`` on ``REALPATH.lock``, removed on
    close (see :mod:`genlab.runs.lock`); it goes with its process, even on
    ``kill -9``.

    Raises
    ------
    GenlabError
        If the file is not a genlab store (foreign or corrupted SQLite, or not
        SQLite at all), was written by a newer genlab, is missing (readonly),
        or is being written by another process.
    """

    def __init__(self, path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = bool(readonly)
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._lock_path: Path | None = None
        self._has_arrays = False
        self._wal_header = False
        self._set_wal = False  # this writer put the file in WAL mode: it puts it back on close
        if self.path.is_dir():
            raise GenlabError(f"store {self.path} is a folder; give a file path, e.g. {self.path / STORE_NAME}")
        self._real = Path(os.path.realpath(self.path))  # symlinks resolved: one lock, one -wal per file
        exists = self.path.exists() and self.path.stat().st_size > 0
        if readonly and not exists:
            raise GenlabError(f"no results store at {self.path}; run a sweep first or give --store PATH")
        if exists:
            self._check_header()
        try:
            if not readonly:
                self._real.parent.mkdir(parents=True, exist_ok=True)
                held = lock.acquire(self._real, self.path)
                if held is not None:
                    self._lock_fd, self._lock_path = held
            with self._errors():
                self._connect()
                self._check_or_create()
        except BaseException:
            self.close()
            raise

    # -- opening

    def _check_header(self):
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(20)
        except OSError as exc:
            raise GenlabError(f"cannot read store {self.path}: {exc.strerror}") from None
        self._wal_header = head[18:20] == b"\x02\x02"  # file format versions: 2 is WAL
        if head[:len(SQLITE_MAGIC)] != SQLITE_MAGIC:
            raise GenlabError(f"{self.path} is not a genlab results store (not an SQLite database); "
                              "give another --store path or remove the file")

    def _connect(self):
        if self.readonly:
            uri = self._real.as_uri() + "?mode=ro"
            if self._wal_header and not all(Path(f"{self._real}{end}").exists() for end in ("-wal", "-shm")):
                # a WAL-mode file that no driver has open (a copy, or one closed by an older genlab):
                # read it as it is, or SQLite would create -wal and -shm beside it and leave them
                uri += "&immutable=1"
            conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None)
        else:
            conn = sqlite3.connect(self._real, timeout=30.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        self._conn = conn
        conn.execute("PRAGMA busy_timeout = 30000")

    def _check_or_create(self):
        conn = self._conn
        conn.execute("BEGIN")  # one read snapshot: a driver may be creating the file right now
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            n_objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.execute("COMMIT")
        if app_id == 0 and version == 0 and n_objects == 0:
            if self.readonly:
                raise GenlabError(f"{self.path} is an empty database, not a genlab results store")
            self._create()
            return
        if app_id != APPLICATION_ID:
            raise GenlabError(f"{self.path} is an SQLite database but not a genlab results store; "
                              "give another --store path")
        if version > SCHEMA_VERSION:
            raise GenlabError(f"store {self.path} has schema version {version}, newer than this genlab's "
                              f"{SCHEMA_VERSION}; upgrade genlab to read it")
        if version < 1:
            raise GenlabError(f"store {self.path} has no schema version; it is damaged, give another --store")
        self._has_arrays = version >= 2
        if not self.readonly:
            self._set_wal = True
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            if version == 1:  # migrate: add the arrays table, in one transaction
                conn.executescript(f"BEGIN IMMEDIATE; {ARRAYS_SCHEMA} PRAGMA user_version = 2; COMMIT;")
                self._has_arrays = True

    def _create(self):
        conn = self._conn
        self._set_wal = True
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # One transaction: a kill -9 here leaves an empty database, created again next time.
        conn.executescript(f"BEGIN IMMEDIATE; PRAGMA application_id = {APPLICATION_ID}; "
                           f"PRAGMA user_version = {SCHEMA_VERSION}; {SCHEMA} COMMIT;")
        self._has_arrays = True

    @contextlib.contextmanager
    def _errors(self):
        """Turn SQLite's errors about the file into one-line GenlabErrors naming it."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            msg = str(exc)
            if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
                raise GenlabError(f"store {self.path} is corrupted ({msg}); "
                                  "give another --store path or remove the file") from None
            if "disk is full" in msg:
                raise GenlabError(f"store {self.path}: {msg}; free some space or give another --store "
                                  "(finished jobs are kept)") from None
            if "readonly" in msg or "read-only" in msg or "unable to open" in msg:
                raise GenlabError(f"cannot use store {self.path} ({msg}); check the path and its permissions") from None
            raise GenlabError(f"store {self.path}: {msg}") from None

    @contextlib.contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (KeyboardInterrupt included)."""
        conn = self._require()
        with self._errors():
            if not conn.in_transaction:
                conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise GenlabError(f"store {self.path} is closed")
        return self._conn

    def _writable(self):
        if self.readonly:
            raise GenlabError(f"store {self.path} was opened read-only")

    def close(self) -> None:
        """Close the connection and release the writer's lock, leaving no file beside the store.

        A writer first switches the file back to SQLite's rollback journal,
        which checkpoints and removes ``-wal`` and ``-shm``; if a reader keeps
        the file open for longer than a few seconds the switch is skipped, and
        the next driver removes them.
        """
        conn, self._conn = self._conn, None
        try:
            if conn is not None and self._set_wal and not conn.in_transaction:
                deadline = time.monotonic() + CLOSE_WAIT_S
                while True:
                    with contextlib.suppress(sqlite3.Error):  # "database is locked": a reader has it open
                        if conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete":
                            break
                    if time.monotonic() > deadline:
                        break  # leave it in WAL mode
                    time.sleep(0.02)
        finally:
            if conn is not None:
                conn.close()
            if self._lock_fd is not None:
                lock.release(self._lock_fd, self._lock_path)
                self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"Store({str(self.path)!r}{', readonly=True' if self.readonly else ''})"

    # -- sessions (one per driver run)

    def begin_session(self, *, kind: str, seed: int, n_jobs: int, executor: str) -> int:
        """Record the start of a driver run; return its id.

        The writer's lock proves that no other driver is alive, so sessions
        still 'running' were killed, and their jobs still 'running' go back
        to 'pending'.
        """
        self._writable()
        with self._transaction() as conn:
            conn.execute("UPDATE sessions SET status = 'killed' WHERE status = 'running'")
            conn.execute("UPDATE jobs SET status = 'pending' WHERE status = 'running'")
            cur = conn.execute(
                "INSERT INTO sessions (kind, seed, n_jobs, executor, status, started_at, host, pid, "
                "genlab_version, git_rev) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
                (kind, seed, n_jobs, executor, time.time(), socket.gethostname(), os.getpid(),
                 __version__, git_revision()))
            return cur.lastrowid

    def end_session(self, session: int, status: str) -> None:
        self._writable()
        with self._transaction() as conn:
            conn.execute("UPDATE sessions SET status = ?, ended_at = ? WHERE id = ?", (status, time.time(), session))

    def sessions(self) -> list[dict]:
        """All driver runs, oldest first."""
        with self._errors():
            return [dict(r) for r in self._require().execute("SELECT * FROM sessions ORDER BY id")]

    # -- jobs

    def add_jobs(self, kind: str, seed: int, configs) -> list[int]:
        """Add jobs as 'pending' unless already present; return their ids in the order given.

        Parameters
        ----------
        kind : str
            The job function, ``"module:qualname"``.
        seed : int
            The sweep seed.
        configs : iterable of dict or of str
            Configs, or their canonical JSON texts.

        Returns
        -------
        list of int
            The job ids, existing or new, one per config.
        """
        self._writable()
        check_sweep_seed(seed)
        texts = [c if isinstance(c, str) else canonical_json(c) for c in configs]
        now = time.time()
        ids = []
        with self._transaction() as conn:
            for text in texts:
                h = config_hash(text)
                conn.execute("INSERT OR IGNORE INTO jobs (kind, config_hash, seed, config, status, created_at) "
                             "VALUES (?, ?, ?, ?, 'pending', ?)", (kind, h, int(seed), text, now))
                row = conn.execute("SELECT id, config FROM jobs WHERE kind = ? AND config_hash = ? AND seed = ?",
                                   (kind, h, int(seed))).fetchone()
                if row["config"] != text and parse_cell(row["config"], "config")[1]:
                    # a damaged cell: the job is this config (same hash), whose results cannot be trusted
                    conn.execute("UPDATE jobs SET config = ?, status = 'pending' WHERE id = ?", (text, row["id"]))
                elif row["config"] != text:  # 64-bit hash collision: astronomically unlikely, never silent
                    raise GenlabError(f"configs {row['config']} and {text} share the hash {h}; "
                                      "add a key to one of them")
                ids.append(row["id"])
        return ids

    def lookup(self, kind: str, config, seed: int) -> dict | None:
        """The record of one job (by function, config and seed), or None if it was never added."""
        text = config if isinstance(config, str) else canonical_json(config)
        with self._errors():
            row = self._require().execute("SELECT * FROM jobs WHERE kind = ? AND config_hash = ? AND seed = ?",
                                          (kind, config_hash(text), int(seed))).fetchone()
        return read_record(row) if row is not None else None

    def mark_running(self, ids, session: int | None = None) -> None:
        """Mark jobs as handed to an executor (one transaction)."""
        self._writable()
        now = time.time()
        with self._transaction() as conn:
            conn.executemany("UPDATE jobs SET status = 'running', attempts = attempts + 1, session = ?, "
                             "submitted_at = ? WHERE id = ?", [(session, now, int(i)) for i in ids])

    def mark_pending(self, ids=None) -> int:
        """Put 'running' jobs back to 'pending' (all of them if ``ids`` is None); return how many."""
        self._writable()
        with self._transaction() as conn:
            if ids is None:
                return conn.execute("UPDATE jobs SET status = 'pending' WHERE status = 'running'").rowcount
            return sum(conn.execute("UPDATE jobs SET status = 'pending' WHERE id = ? AND status = 'running'",
                                    (int(i),)).rowcount for i in ids)

    def record_outcomes(self, outcomes, session: int | None = None) -> None:
        """Write finished jobs, done or failed, in one transaction.

        Parameters
        ----------
        outcomes : iterable of (int, dict)
            ``(job id, outcome)``; an outcome has ``ok`` (bool), ``metrics`` and
            ``series`` (JSON texts), ``error`` (a traceback or None),
            ``started_at``, ``finished_at``, ``duration_s``, ``host`` and ``pid``;
            optionally ``arrays``, a list of ``(name, dtype, shape JSON, bytes)``.
        """
        self._writable()
        version, rev = __version__, git_revision()
        rows, arrays = [], []
        outcomes = list(outcomes)
        for job_id, o in outcomes:
            if o["ok"]:
                arrays += [(int(job_id), name, dtype, shape, sqlite3.Binary(data))
                           for name, dtype, shape, data in o.get("arrays") or ()]
            rows.append(("done" if o["ok"] else "failed", session, o.get("started_at"), o.get("finished_at"),
                         o.get("duration_s"), o.get("host"), o.get("pid"), version, rev,
                         o.get("metrics") if o["ok"] else None, o.get("series") if o["ok"] else None,
                         None if o["ok"] else o.get("error") or "failed", int(job_id)))
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE jobs SET status = ?, session = coalesce(?, session), started_at = ?, finished_at = ?, "
                "duration_s = ?, host = ?, pid = ?, genlab_version = ?, git_rev = ?, metrics = ?, series = ?, "
                "error = ? WHERE id = ?", rows)
            conn.executemany("DELETE FROM arrays WHERE job = ?", [(int(j),) for j, _ in outcomes])
            conn.executemany("INSERT INTO arrays (job, name, dtype, shape, data) VALUES (?, ?, ?, ?, ?)", arrays)

    def job(self, job_id: int) -> dict:
        """The full record of job ``job_id`` (config, metrics and series parsed).

        Raises
        ------
        GenlabError
            If there is no such job.
        """
        with self._errors():
            row = self._require().execute("SELECT * FROM jobs WHERE id = ?", (int(job_id),)).fetchone()
        if row is None:
            raise GenlabError(f"no job {job_id} in store {self.path}; 'genlab runs ls' lists them")
        return read_record(row)

    def jobs(self, *, ids=None, kind: str | None = None, status: str | None = None,
             series: bool = True) -> list[dict]:
        """Job records, by id (in the order of ``ids`` when given).

        Parameters
        ----------
        ids : sequence of int, optional
            Only these jobs, in this order.
        kind, status : str, optional
            Filters: a job function (``"module:qualname"``, or its last part) and a status.
        series : bool, default True
            Parse the series too (they can be long).
        """
        if status is not None and status not in STATUSES:
            raise GenlabError(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}")
        where, args = [], []
        if kind is not None:  # "module:function", or its last part(s): "function", "Class.method"
            where.append("(kind = ? OR substr(kind, -?) = ? OR substr(kind, -?) = ?)")
            args += [kind, len(kind) + 1, f":{kind}", len(kind) + 1, f".{kind}"]
        if status is not None:
            where.append("status = ?")
            args.append(status)
        cols = ", ".join(c if series or c != "series" else "NULL AS series" for c in JOB_COLUMNS)
        sql = f"SELECT {cols} FROM jobs" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        with self._errors():
            rows = [read_record(r) for r in self._require().execute(sql, args)]
        if ids is None:
            return rows
        by_id = {r["id"]: r for r in rows}
        missing = [i for i in ids if int(i) not in by_id]
        if missing:
            raise GenlabError(f"no job {missing[0]} in store {self.path}")
        return [by_id[int(i)] for i in ids]

    def _array_rows(self, ids, columns: str):
        ids = [int(i) for i in ids]
        if not self._has_arrays or not ids:
            return
        conn = self._require()
        with self._errors():
            for lo in range(0, len(ids), 500):  # SQLite's limit on bound parameters
                chunk = ids[lo:lo + 500]
                yield from conn.execute(f"SELECT {columns} FROM arrays WHERE job IN "
                                        f"({', '.join('?' * len(chunk))}) ORDER BY job, name", chunk)

    def arrays(self, ids) -> list[dict]:
        """The arrays of each job in ``ids``, in that order: ``{name: numpy array}`` (empty if none).

        An array whose stored dtype, shape and bytes do not agree is left out
        (:meth:`damaged` names it).
        """
        ids = [int(i) for i in ids]
        out: dict[int, dict] = {i: {} for i in ids}
        for job, name, dtype, shape, data in self._array_rows(ids, "job, name, dtype, shape, data"):
            try:
                dt, dims = array_layout(dtype, shape, len(data))
            except ValueError:
                continue
            out[job][name] = np.frombuffer(data, dtype=dt).reshape(dims).copy()
        return [out[i] for i in ids]

    def damaged(self, ids=None) -> dict[int, str]:
        """Jobs whose stored results cannot be read back: ``{id: what is wrong}``.

        A cell of malformed JSON (config, metrics, series) or an array whose
        dtype, shape and bytes disagree, as a broken disk or a hand edit may
        leave. :func:`~genlab.runs.sweep.run_sweep` runs such jobs again.
        """
        records = self.jobs(ids=ids)
        out = {r["id"]: r["damaged"] for r in records if r.get("damaged")}
        for job, name, dtype, shape, nbytes in self._array_rows([r["id"] for r in records],
                                                                 "job, name, dtype, shape, length(data)"):
            try:
                array_layout(dtype, shape, nbytes)
            except ValueError as exc:
                out.setdefault(job, f"array {name!r} is damaged ({exc})")
        return out

    def counts(self, *, session: int | None = None) -> dict[str, int]:
        """Number of jobs per status (every status present, zeros included); with ``session``, of the jobs
        that session finished."""
        where, args = ("", ()) if session is None else (" WHERE session = ?", (int(session),))
        with self._errors():
            rows = self._require().execute(f"SELECT status, count(*) FROM jobs{where} GROUP BY status",
                                           args).fetchall()
        out = dict.fromkeys(STATUSES, 0)
        out.update({s: n for s, n in rows})
        return out

    def to_frame(self, *, ids=None, kind: str | None = None, status: str | None = None):
        """One row per job: id, kind, status, seed, ``config.*`` and ``metrics.*`` columns, timings, error.

        Nested config values become dotted columns (``config.model.width``);
        series are left out (see :meth:`series_frame`). Times are UTC
        timestamps.

        Returns
        -------
        pandas.DataFrame
        """
        return records_frame(self.jobs(ids=ids, kind=kind, status=status, series=False))

    def series_frame(self, *, ids=None, kind: str | None = None, name: str | None = None):
        """Series in long form: one row per (job id, series name, step) with its value.

        Returns
        -------
        pandas.DataFrame
            Columns ``id``, ``name``, ``step``, ``value``.
        """
        return series_frame(self.jobs(ids=ids, kind=kind), name)


def default_store_path(out) -> Path:
    """The store of an output folder: ``OUT/runs.sqlite``."""
    return Path(out) / STORE_NAME
