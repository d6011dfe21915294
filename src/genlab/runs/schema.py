"""The file format of a results store (:mod:`genlab.runs.store`): its tables and pragmas.

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

#: ``PRAGMA application_id`` of a genlab store: the bytes "gnlb".
APPLICATION_ID = int.from_bytes(b"gnlb", "big")
#: ``PRAGMA user_version`` written by this genlab; older files are migrated, newer refused.
SCHEMA_VERSION = 2  # 2: the arrays table
#: The states of a job.
STATUSES = ("pending", "running", "done", "failed")
#: The first bytes of every SQLite file.
SQLITE_MAGIC = b"SQLite format 3\x00"

#: The table of n-dimensional arrays (added by schema 2).
ARRAYS_SCHEMA = """
CREATE TABLE arrays (
    job            INTEGER NOT NULL REFERENCES jobs(id),
    name           TEXT NOT NULL,
    dtype          TEXT NOT NULL,          -- numpy dtype string, e.g. '<f8'
    shape          TEXT NOT NULL,          -- JSON list
    data           BLOB NOT NULL,          -- raw bytes, C order
    PRIMARY KEY (job, name)
);
"""

#: Every table of a new store.
SCHEMA = """
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
""" + ARRAYS_SCHEMA

#: The columns of the jobs table, in order.
JOB_COLUMNS = ("id", "kind", "config_hash", "seed", "config", "status", "attempts", "session",
               "created_at", "submitted_at", "started_at", "finished_at", "duration_s", "host", "pid",
               "genlab_version", "git_rev", "metrics", "series", "error")
