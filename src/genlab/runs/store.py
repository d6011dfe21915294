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

One row per job, keyed by ``(kind, config_hash, seed)``:

========================  =====================================================
``kind``                  the job function, ``"module:qualname"``
``config``                canonical JSON of the config (sorted keys, compact)
``config_hash``           ``sha256(config)[:16]`` in hex
``seed``                  the sweep seed; the job's own stream is
                          ``SeedSequence(seed, spawn_key=(int(config_hash, 16),))``
``status``                ``pending``, ``running``, ``done`` or ``failed``
timings, host, pid        where and when it last ran
genlab version, git rev   of the driver that recorded it
``metrics``, ``series``   JSON: scalars, and 1-D sequences (loss per step)
``error``                 the traceback of a failure
========================  =====================================================

and, in the table ``arrays``, any n-dimensional numeric arrays a job returned
(``(job, name)`` → dtype, shape and the raw bytes in C order), for results
such as a block of bias–variance moments that are neither scalars nor series.

The schema version is ``PRAGMA user_version``; ``PRAGMA application_id`` marks
the file as genlab's so that a foreign database is refused with a clear error.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np

from ..core.errors import GenlabError

#: ``PRAGMA application_id`` of a genlab store: the bytes "gnlb".
APPLICATION_ID = int.from_bytes(b"gnlb", "big")
#: ``PRAGMA user_version`` written by this genlab; older files are migrated, newer refused.
SCHEMA_VERSION = 2  # 2: the arrays table
#: File name of the store inside an output folder.
STORE_NAME = "runs.sqlite"
STATUSES = ("pending", "running", "done", "failed")
HASH_CHARS = 16
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: How long a closing driver waits for readers to let go, to remove ``-wal`` and ``-shm``.
CLOSE_WAIT_S = 2.0
_MAX_SEED = 2**63 - 1  # SQLite integers are signed 64-bit

_ARRAYS_SCHEMA = """
CREATE TABLE arrays (
    job            INTEGER NOT NULL REFERENCES jobs(id),
    name           TEXT NOT NULL,
    dtype          TEXT NOT NULL,          -- numpy dtype string, e.g. '<f8'
    shape          TEXT NOT NULL,          -- JSON list
    data           BLOB NOT NULL,          -- raw bytes, C order
    PRIMARY KEY (job, name)
);
"""

_SCHEMA = """
CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    seed           INTEGER NOT NULL,
    n_jobs         INTEGER NOT NULL,
    executor       TEXT NOT NULL,
    status         TEXT NOT NULL,          -- running, finished, failed, interrupted, killed
    started_at     REAL NOT NULL,
    ended_at       REAL,
    host           TEXT,
    pid            INTEGER,
    genlab_version TEXT,
    git_rev        TEXT
);
CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    config_hash    TEXT NOT NULL,
    seed           INTEGER NOT NULL,
    config         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    session        INTEGER REFERENCES sessions(id),
    created_at     REAL NOT NULL,
    submitted_at   REAL,
    started_at     REAL,
    finished_at    REAL,
    duration_s     REAL,
    host           TEXT,
    pid            INTEGER,
    genlab_version TEXT,
    git_rev        TEXT,
    metrics        TEXT,
    series         TEXT,
    error          TEXT,
    UNIQUE (kind, config_hash, seed)
);
CREATE INDEX jobs_by_status ON jobs (status);
""" + _ARRAYS_SCHEMA

_JOB_COLUMNS = ("id", "kind", "config_hash", "seed", "config", "status", "attempts", "session",
                "created_at", "submitted_at", "started_at", "finished_at", "duration_s", "host", "pid",
                "genlab_version", "git_rev", "metrics", "series", "error")


# --------------------------------------------------------------------------- canonical configs

def _canonical(obj, where: str):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise GenlabError(f"config key {k!r} at {where} is not a string; configs are JSON objects")
            out[k] = _canonical(v, f"{where}.{k}")
        return out
    if isinstance(obj, (list, tuple)):
        return [_canonical(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return _canonical(obj.tolist(), where)
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        if not math.isfinite(obj):
            raise GenlabError(f"config value at {where} is {obj}; configs take finite numbers only")
        return float(obj)
    raise GenlabError(f"config value at {where} is a {type(obj).__name__}; "
                      "configs take str, int, float, bool, None, lists and dicts")


def canonical_json(config: dict) -> str:
    """The canonical JSON text of a config: sorted keys, compact separators, floats as ``repr``.

    ``1`` and ``1.0`` are different configs (an int and a float); tuples and
    NumPy values are written as the lists and numbers they hold.

    Raises
    ------
    GenlabError
        If the config is not a dict of JSON values (str keys, finite numbers).
    """
    if not isinstance(config, dict):
        raise GenlabError(f"a config must be a dict, got {type(config).__name__}")
    return json.dumps(_canonical(config, "config"), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def config_hash(config_json: str) -> str:
    """The first 16 hex digits of the SHA-256 of a canonical config JSON."""
    return hashlib.sha256(config_json.encode("utf-8")).hexdigest()[:HASH_CHARS]


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


def _version() -> str:
    from .. import __version__

    return __version__


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
    the real path). The lock is ``flock`` on ``REALPATH.lock``, a file that its
    holder removes on close while still holding it; whoever then gets the lock
    on the removed file sees that it is no longer at that path and tries again
    (see :meth:`_lock`). The lock goes with its process, even on ``kill -9``
    (which leaves the file, unlocked, for the next driver to take and remove).

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
                self._lock()
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
        if head[:len(_SQLITE_MAGIC)] != _SQLITE_MAGIC:
            raise GenlabError(f"{self.path} is not a genlab results store (not an SQLite database); "
                              "give another --store path or remove the file")

    def _lock(self):
        """Take the writer's lock: ``flock`` on ``REALPATH.lock``, which :meth:`_unlock` removes.

        Removing a lock file is safe only for its holder, and only if a
        process that opened the file before the removal and locks it after
        notices: so after locking, the inode locked must still be the one at the
        path, or the lock is dropped and taken again on the current file.
        """
        try:
            import fcntl
        except ImportError:  # Windows: no advisory lock, one driver per store by convention
            return
        lock_path = self._real.with_name(self._real.name + ".lock")
        while True:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise GenlabError(f"store {self.path} is being written by another genlab process (pid {holder}); "
                                  "wait for it to finish or give another --store") from None
            try:
                current = os.stat(lock_path)
            except FileNotFoundError:
                current = None
            if current is not None and os.path.samestat(os.fstat(fd), current):
                break
            os.close(fd)  # its holder removed it after we opened it: lock the file there now
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd, self._lock_path = fd, lock_path

    def _unlock(self):
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                self._lock_path.unlink()  # while holding the lock: see _lock
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

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
                conn.executescript(f"BEGIN IMMEDIATE; {_ARRAYS_SCHEMA} PRAGMA user_version = 2; COMMIT;")
                self._has_arrays = True

    def _create(self):
        conn = self._conn
        self._set_wal = True
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # One transaction: a kill -9 here leaves an empty database, created again next time.
        conn.executescript(f"BEGIN IMMEDIATE; PRAGMA application_id = {APPLICATION_ID}; "
                           f"PRAGMA user_version = {SCHEMA_VERSION}; {_SCHEMA} COMMIT;")
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
            self._unlock()

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
                 _version(), git_revision()))
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
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= _MAX_SEED:
            raise GenlabError(f"seed must be an integer between 0 and 2**63 - 1, got {seed!r}")
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
                if row["config"] != text and _unreadable(row["config"], "config"):
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
        return _record(row) if row is not None else None

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
        version, rev = _version(), git_revision()
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
        return _record(row)

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
        cols = ", ".join(c if series or c != "series" else "NULL AS series" for c in _JOB_COLUMNS)
        sql = f"SELECT {cols} FROM jobs" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        with self._errors():
            rows = [_record(r) for r in self._require().execute(sql, args)]
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
                dt, dims = _array_layout(dtype, shape, len(data))
            except ValueError:
                continue
            out[job][name] = np.frombuffer(data, dtype=dt).reshape(dims).copy()
        return [out[i] for i in ids]

    def damaged(self, ids=None) -> dict[int, str]:
        """Jobs whose stored results cannot be read back: ``{id: what is wrong}``.

        A cell of malformed JSON (config, metrics, series) or an array whose
        dtype, shape and bytes disagree, as a broken disk or a hand edit may
        leave. :func:`~genlab.runs.execute.run_sweep` runs such jobs again.
        """
        records = self.jobs(ids=ids)
        out = {r["id"]: r["damaged"] for r in records if r.get("damaged")}
        for job, name, dtype, shape, nbytes in self._array_rows([r["id"] for r in records],
                                                                 "job, name, dtype, shape, length(data)"):
            try:
                _array_layout(dtype, shape, nbytes)
            except ValueError as exc:
                out.setdefault(job, f"array {name!r} is damaged ({exc})")
        return out

    def counts(self) -> dict[str, int]:
        """Number of jobs per status (every status present, zeros included)."""
        with self._errors():
            rows = self._require().execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall()
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


def _parse(text, column: str):
    """A JSON cell of the jobs table: ``(value, None)``, or ``(None, why it cannot be read back)``."""
    if text is None:
        return None, (None if column != "config" else "empty")
    try:
        value = json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    if column == "metrics" and not all(v is None or isinstance(v, (bool, int, float, str)) for v in value.values()):
        return None, "holding a metric that is not a number or a string"
    if column == "series" and not all(isinstance(v, list) for v in value.values()):
        return None, "holding a series that is not a list"
    return value, None


def _unreadable(text, column: str) -> str | None:
    return _parse(text, column)[1]


def _record(row) -> dict:
    """A job row as a dict, JSON cells parsed; a cell that cannot be read back is None, and the
    record then has ``damaged`` saying which and why."""
    rec = dict(row)
    problems = []
    for column in ("config", "metrics", "series"):
        rec[column], problem = _parse(rec[column], column)
        if problem is not None:
            problems.append(f"its {column} is {problem}")
    if problems:
        rec["damaged"] = "; ".join(problems)
    return rec


def _array_layout(dtype: str, shape: str, nbytes: int):
    """The numpy dtype and shape of a stored array, checked against its size in bytes."""
    try:
        dt = np.dtype(dtype)
        dims = json.loads(shape)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dtype {dtype!r}, shape {shape!r}: {exc}") from None
    if dt.kind not in "biuf" or not isinstance(dims, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise ValueError(f"dtype {dtype!r}, shape {shape!r}")
    if math.prod(dims) * dt.itemsize != nbytes:
        raise ValueError(f"{nbytes} bytes for shape {dims} of {dt}")
    return dt, dims


def _flatten(prefix: str, value, out: dict):
    if isinstance(value, dict):  # an empty dict adds no column
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    else:
        out[prefix] = value


def records_frame(records):
    """A DataFrame of job records (as :meth:`Store.jobs` returns), one row per job, series left out."""
    import pandas as pd

    head = ["id", "kind", "status", "seed", "config_hash"]
    tail = ["duration_s", "started_at", "finished_at", "attempts", "host", "genlab_version", "git_rev", "error"]
    rows, conf, mets = [], set(), set()
    for rec in records:
        row = {k: rec[k] for k in head + tail}
        row["error"] = last_line(rec["error"])
        flat: dict = {}
        _flatten("config", rec["config"] or {}, flat)
        conf.update(flat)
        row.update(flat)
        flat = {}
        _flatten("metrics", rec["metrics"] or {}, flat)
        mets.update(flat)
        row.update(flat)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=head + sorted(conf) + sorted(mets) + tail)
    for col in ("started_at", "finished_at"):
        frame[col] = pd.to_datetime(frame[col].astype("float64"), unit="s", utc=True)
    return frame


def series_frame(records, name: str | None = None):
    """The series of job records (as :meth:`Store.jobs` returns) in long form: id, name, step, value."""
    import pandas as pd

    parts = []
    for rec in records:
        for key, values in (rec["series"] or {}).items():
            if name is None or key == name:
                parts.append(pd.DataFrame({"id": rec["id"], "name": key, "step": np.arange(len(values)),
                                           "value": np.asarray(values, dtype=np.float64)}))
    if not parts:
        return pd.DataFrame({"id": pd.Series(dtype="int64"), "name": pd.Series(dtype="object"),
                             "step": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64")})
    return pd.concat(parts, ignore_index=True)


def last_line(text: str | None) -> str | None:
    """The last non-empty line of a traceback (``ValueError: ...``), or None."""
    if not text:
        return None
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else None


def default_store_path(out) -> Path:
    """The store of an output folder: ``OUT/runs.sqlite``."""
    return Path(out) / STORE_NAME
