"""Tests for the results store (genlab.runs.store) and the `genlab runs` commands.

Real SQLite files throughout; the concurrent-readers test runs a real sweep in
a subprocess (the driver writes) while this process reads.
"""

import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

from genlab import GenlabError
from genlab.runs.records import canonical_json, config_hash
from genlab.runs.schema import APPLICATION_ID, SCHEMA_VERSION
from genlab.runs.store import Store, default_store_path

KIND = "genlab.runs.jobs:demo_job"


@pytest.fixture
def cli_main():
    """genlab.cli.app.main with `runs` registered (a no-op once cli.py registers it itself)."""
    import genlab.cli.app as cli
    from genlab.cli.runs import runs_app

    if not any(getattr(g, "typer_instance", None) is runs_app for g in cli.app.registered_groups):
        cli.app.add_typer(runs_app, name="runs")
    return cli.main


def run_cli(cli_main, capsys, *args):
    rc = cli_main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def outcome(ok=True, metrics=None, series=None, error=None, t=1_800_000_000.0):
    return {"ok": ok, "metrics": json.dumps(metrics or {}) if ok else None,
            "series": json.dumps(series or {}) if ok else None, "error": error,
            "started_at": t, "finished_at": t + 0.5, "duration_s": 0.5, "host": "h", "pid": 1}


# -- canonical configs ----------------------------------------------------------------

def test_canonical_json_sorted_compact_repr_floats():
    text = canonical_json({"b": [0.1, 2, (3, 4)], "a": 1, "c": {"z": None, "y": True}, "d": "é"})
    assert text == '{"a":1,"b":[0.1,2,[3,4]],"c":{"y":true,"z":null},"d":"é"}'
    # pinned: a change of the canonical form or the hash would orphan every existing store
    assert config_hash(text) == "7d2664887af99b25"
    assert canonical_json({"x": 1 / 3}) == '{"x":0.3333333333333333}'
    assert json.loads(canonical_json({"x": 0.1 + 0.2}))["x"] == 0.1 + 0.2  # repr round-trips


def test_canonical_json_numpy_values_and_int_float_distinction():
    assert canonical_json({"a": np.float64(0.5), "b": np.int64(3), "c": np.array([1, 2]), "d": np.bool_(True)}) \
        == '{"a":0.5,"b":3,"c":[1,2],"d":true}'
    assert canonical_json({"n": 1}) != canonical_json({"n": 1.0})


@pytest.mark.parametrize("bad", [{"x": float("nan")}, {"x": float("inf")}, {1: "a"}, {"p": object()},
                                 {"s": {1, 2}}, [1, 2]])
def test_canonical_json_rejects_non_json_configs(bad):
    with pytest.raises(GenlabError) as exc:
        canonical_json(bad)
    assert "\n" not in str(exc.value)


# -- a store's life -------------------------------------------------------------------

def test_new_store_is_wal_and_marked_as_genlab(tmp_path):
    path = tmp_path / "sub" / "runs.sqlite"
    with Store(path) as st:
        assert st.counts() == {"pending": 0, "running": 0, "done": 0, "failed": 0}
        assert st._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # while a driver writes
    assert sorted(p.name for p in path.parent.iterdir()) == ["runs.sqlite"]  # no -wal, -shm or .lock after
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()
    assert default_store_path(tmp_path) == tmp_path / "runs.sqlite"


def test_add_jobs_is_idempotent_and_keyed_by_kind_config_seed(tmp_path):
    path = tmp_path / "runs.sqlite"
    configs = [{"x": 0.1}, {"x": 0.2}, {"x": 0.3}]
    with Store(path) as st:
        ids = st.add_jobs(KIND, 7, configs)
        assert ids == [1, 2, 3]
        assert st.add_jobs(KIND, 7, list(reversed(configs))) == [3, 2, 1]
        assert st.add_jobs(KIND, 7, [{"x": 0.4}, {"x": 0.1}]) == [4, 1]
        assert st.add_jobs(KIND, 8, [{"x": 0.1}]) == [5]  # another seed, another job
        assert st.add_jobs("other.mod:f", 7, [{"x": 0.1}]) == [6]
    with Store(path, readonly=True) as st:
        assert st.counts()["pending"] == 6
        rec = st.lookup(KIND, {"x": 0.2}, 7)
        assert rec["id"] == 2 and rec["config"] == {"x": 0.2} and rec["status"] == "pending"
        assert rec["config_hash"] == config_hash(canonical_json({"x": 0.2}))
        assert st.lookup(KIND, {"x": 0.2}, 99) is None
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*), count(DISTINCT kind || config_hash || seed) FROM jobs").fetchone() == (6, 6)
    con.close()


def test_outcomes_are_recorded_and_read_back_exactly(tmp_path):
    path = tmp_path / "runs.sqlite"
    loss = [1.0, 0.5, 1 / 3, float("nan")]
    with Store(path) as st:
        session = st.begin_session(kind=KIND, seed=0, n_jobs=2, executor="test")
        a, b, c = st.add_jobs(KIND, 0, [{"x": 1}, {"x": 2}, {"x": 3}])
        st.mark_running([a, b], session)
        assert st.counts() == {"pending": 1, "running": 2, "done": 0, "failed": 0}
        st.record_outcomes([(a, outcome(metrics={"rmse": 0.1 + 0.2, "n": 3, "ok": True}, series={"loss": loss})),
                            (b, outcome(ok=False, error="Traceback ...\nValueError: bad x\n"))], session)
        st.end_session(session, "failed")
    with Store(path, readonly=True) as st:
        ra, rb, rc_ = st.jobs(ids=[a, b, c])
        assert ra["status"] == "done" and ra["attempts"] == 1 and ra["session"] == session
        assert ra["metrics"] == {"rmse": 0.1 + 0.2, "n": 3, "ok": True}
        assert ra["series"]["loss"][:3] == loss[:3] and np.isnan(ra["series"]["loss"][3])
        assert ra["host"] == "h" and ra["genlab_version"] and ra["duration_s"] == 0.5
        assert rb["status"] == "failed" and rb["error"].endswith("ValueError: bad x\n") and rb["metrics"] is None
        assert rc_["status"] == "pending"
        assert [r["id"] for r in st.jobs(status="failed")] == [b]
        assert [r["id"] for r in st.jobs(kind="demo_job")] == [a, b, c]
        assert st.sessions()[0]["status"] == "failed"
        assert st.counts(session=session) == {"pending": 0, "running": 0, "done": 1, "failed": 1}
        assert st.counts(session=session + 1) == {"pending": 0, "running": 0, "done": 0, "failed": 0}
        frame = st.to_frame()
        assert list(frame["id"]) == [a, b, c]
        assert {"config.x", "metrics.rmse", "metrics.n", "status", "error", "duration_s"} <= set(frame.columns)
        assert frame.loc[0, "metrics.rmse"] == 0.1 + 0.2
        assert frame.loc[1, "error"] == "ValueError: bad x"
        assert str(frame["finished_at"].dtype).startswith("datetime64")
        series = st.series_frame()
        assert list(series.columns) == ["id", "name", "step", "value"]
        assert series["step"].tolist() == [0, 1, 2, 3] and series["value"].iloc[2] == 1 / 3
        with pytest.raises(GenlabError, match="no job 99"):
            st.job(99)
        with pytest.raises(GenlabError, match="unknown status"):
            st.jobs(status="finished")


def test_begin_session_recovers_what_a_killed_driver_left_running(tmp_path):
    path = tmp_path / "runs.sqlite"
    with Store(path) as st:
        s1 = st.begin_session(kind=KIND, seed=0, n_jobs=2, executor="test")
        ids = st.add_jobs(KIND, 0, [{"x": 1}, {"x": 2}])
        st.mark_running(ids, s1)
    # the "driver" above vanished without ending its session; the next one cleans up
    with Store(path) as st:
        st.begin_session(kind=KIND, seed=0, n_jobs=2, executor="test")
        assert st.counts()["running"] == 0 and st.counts()["pending"] == 2
        assert st.sessions()[0]["status"] == "killed"


def test_readonly_store_refuses_writes_and_a_missing_file(tmp_path):
    path = tmp_path / "runs.sqlite"
    with pytest.raises(GenlabError, match="no results store at"):
        Store(path, readonly=True)
    assert not path.exists()
    Store(path).close()
    with Store(path, readonly=True) as st:
        with pytest.raises(GenlabError, match="read-only"):
            st.add_jobs(KIND, 0, [{"x": 1}])


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "runs.sqlite"
    with Store(path):
        with pytest.raises(GenlabError, match=f"being written by another genlab process \\(pid {os.getpid()}\\)"):
            Store(path)
        with Store(path, readonly=True) as reader:  # readers are welcome
            reader.counts()
    with Store(path):  # released on close
        pass


# -- foreign and corrupted files ----------------------------------------------------------

def assert_clear_error(path, readonly=False, op=lambda st: st.counts()):
    with pytest.raises(GenlabError) as exc:
        with Store(path, readonly=readonly) as st:
            op(st)
    message = str(exc.value)
    assert str(path) in message and "\n" not in message
    return message


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE jobs (id INTEGER, name TEXT)")
    con.execute("INSERT INTO jobs VALUES (1, 'not ours')")
    con.commit()
    con.close()
    before = path.read_bytes()
    for readonly in (False, True):
        assert "not a genlab results store" in assert_clear_error(path, readonly)
    assert path.read_bytes() == before  # left untouched


@pytest.mark.parametrize("content", [b"hello, this is a text file\n", os.urandom(8192), b"SQLite format 3\x00" + b"\xff" * 200])
def test_non_sqlite_or_garbage_file_is_refused(tmp_path, content):
    path = tmp_path / "runs.sqlite"
    path.write_bytes(content)
    for readonly in (False, True):
        message = assert_clear_error(path, readonly)
        assert "not" in message or "corrupted" in message
    assert path.read_bytes() == content


def _filled_store(path, n=300):
    with Store(path) as st:
        ids = st.add_jobs(KIND, 0, [{"x": i, "pad": "p" * 200} for i in range(n)])
        st.record_outcomes([(i, outcome(metrics={"m": i * 0.5}, series={"loss": list(range(50))})) for i in ids])
    assert not path.with_name(path.name + "-wal").exists()  # checkpointed into the main file on close


def test_truncated_store_gives_a_clear_error(tmp_path):
    path = tmp_path / "runs.sqlite"
    _filled_store(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    assert "corrupted" in assert_clear_error(path, True, lambda st: st.to_frame())


def test_store_with_damaged_pages_gives_a_clear_error(tmp_path, cli_main, capsys):
    path = tmp_path / "runs.sqlite"
    _filled_store(path)
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page, len(data), 2 * page):  # scribble over every other page after the first
        data[start:start + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))
    assert "corrupted" in assert_clear_error(path, True, lambda st: st.to_frame())
    rc, out, err = run_cli(cli_main, capsys, "runs", "ls", "--store", path)
    assert rc == 2 and err.startswith("genlab: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_store_from_a_newer_genlab_is_refused(tmp_path):
    path = tmp_path / "runs.sqlite"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    assert "upgrade genlab" in assert_clear_error(path, True)


def test_folder_as_store_is_refused(tmp_path):
    with pytest.raises(GenlabError, match="is a folder"):
        Store(tmp_path)


# -- concurrent readers while a driver writes -------------------------------------------------

DRIVER = """
import json, sys
from genlab.runs.sweep import run_sweep
from genlab.runs.jobs import demo_job
configs = [{"x": i / 7, "sleep": 0.03} for i in range(int(sys.argv[2]))]
result = run_sweep(demo_job, configs, store=sys.argv[1], seed=3, jobs=2, progress=False)
sys.exit(0 if result.ok else 1)
"""


def test_concurrent_readers_while_the_driver_writes(tmp_path, cli_main, capsys):
    path = tmp_path / "runs.sqlite"
    n = 50
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(path), str(n)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    seen = {k: [] for k in range(2)}
    errors = []

    def read(k):
        started = False
        while driver.poll() is None:
            try:
                with Store(path, readonly=True) as st:
                    counts = st.counts()
                    frame = st.to_frame()
                    done = [r for r in st.jobs(series=False) if r["status"] == "done"]
                    # a job is done with all its results, or not done
                    assert all(r["metrics"] and r["finished_at"] for r in done)
                    assert len(done) >= counts["done"] and len(frame) in (0, n)
                    if done:
                        assert len(st.job(done[-1]["id"])["series"]["loss"]) == 20
                    seen[k].append(counts["done"])
                    started = True
            except GenlabError as exc:
                if started or not ("no results store" in str(exc) or "empty database" in str(exc)):
                    errors.append(exc)
                    return
            except Exception as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)
                return
            time.sleep(0.02)

    threads = [threading.Thread(target=read, args=(k,)) for k in seen]
    for t in threads:
        t.start()
    cli_counts = []
    while driver.poll() is None:
        if path.exists() and path.stat().st_size:
            rc, out, err = run_cli(cli_main, capsys, "runs", "ls", "--store", path, "--json")
            if rc == 0:
                cli_counts.append(sum(r["status"] == "done" for r in json.loads(out)))
        time.sleep(0.05)
    for t in threads:
        t.join()
    _, err = driver.communicate()
    assert driver.returncode == 0, err
    assert not errors, errors
    for counts in seen.values():
        assert counts == sorted(counts), "a reader saw finished jobs disappear"
        assert any(0 < c < n for c in counts), "the readers never overlapped the writes"
    assert cli_counts == sorted(cli_counts) and cli_counts
    with Store(path, readonly=True) as st:
        assert st.counts()["done"] == n


# -- genlab runs ls / show / export --------------------------------------------------------------

@pytest.fixture
def filled(tmp_path):
    path = tmp_path / "runs.sqlite"
    with Store(path) as st:
        s = st.begin_session(kind=KIND, seed=0, n_jobs=3, executor="test")
        ids = st.add_jobs(KIND, 0, [{"x": 0.1, "shape": [2, 3]}, {"x": 0.2, "shape": [4]}, {"x": 1 / 3, "shape": []}])
        st.record_outcomes([(ids[0], outcome(metrics={"rmse": 0.1 + 0.2}, series={"loss": [3.0, 2.0, 1 / 7]})),
                            (ids[1], outcome(ok=False, error="Traceback (most recent call last):\n"
                                                              "  File x\nRuntimeError: boom\n"))], s)
        st.end_session(s, "failed")
    return path


def test_runs_ls(filled, cli_main, capsys):
    rc, out, err = run_cli(cli_main, capsys, "runs", "ls", "--store", filled)
    assert rc == 0, err
    assert "3 jobs (1 pending, 1 done, 1 failed)" in out
    assert "rmse=0.3" in out and "RuntimeError: boom" in out
    rc, out, _ = run_cli(cli_main, capsys, "runs", "ls", "--store", filled, "--status", "failed", "--json")
    records = json.loads(out)
    assert rc == 0 and [r["id"] for r in records] == [2] and records[0]["error"].endswith("boom\n")
    rc, out, err = run_cli(cli_main, capsys, "runs", "ls", "--store", filled, "--status", "nope")
    assert rc == 2 and "unknown status" in err


def test_runs_show(filled, cli_main, capsys):
    rc, out, err = run_cli(cli_main, capsys, "runs", "show", 1, "--store", filled)
    assert rc == 0, err
    assert "job 1: done" in out and "rmse = 0.30000000000000004" in out and "loss, 3 values" in out
    rc, out, _ = run_cli(cli_main, capsys, "runs", "show", 2, "--store", filled)
    assert "job 2: failed" in out and "RuntimeError: boom" in out and "traceback:" in out
    rc, out, _ = run_cli(cli_main, capsys, "runs", "show", 1, "--store", filled, "--json")
    record = json.loads(out)
    assert record["series"]["loss"] == [3.0, 2.0, 1 / 7] and record["config"] == {"shape": [2, 3], "x": 0.1}
    rc, out, err = run_cli(cli_main, capsys, "runs", "show", 42, "--store", filled)
    assert rc == 2 and err == f"genlab: error: no job 42 in store {filled}; 'genlab runs ls' lists them\n"


def test_runs_export_csv_is_exact_and_json_is_complete(filled, cli_main, capsys, tmp_path):
    rc, out, err = run_cli(cli_main, capsys, "runs", "export", "--store", filled)
    assert rc == 0, err
    frame = pd.read_csv(__import__("io").StringIO(out), float_precision="round_trip")
    assert frame["metrics.rmse"].iloc[0] == 0.1 + 0.2 and frame["config.x"].iloc[2] == 1 / 3
    assert json.loads(frame["config.shape"].iloc[0]) == [2, 3]
    assert list(frame["status"]) == ["done", "failed", "pending"]
    target = tmp_path / "x" / "jobs.json"
    rc, _, err = run_cli(cli_main, capsys, "runs", "export", "--store", filled, "--out", target)
    assert rc == 0 and "wrote" in err
    records = json.loads(target.read_text())
    assert records[0]["series"]["loss"] == [3.0, 2.0, 1 / 7] and records[1]["error"].endswith("boom\n")
    rc, out, _ = run_cli(cli_main, capsys, "runs", "export", "--store", filled, "--series", "--format", "csv")
    series = pd.read_csv(__import__("io").StringIO(out), float_precision="round_trip")
    assert series.to_dict("list") == {"id": [1, 1, 1], "name": ["loss"] * 3, "step": [0, 1, 2],
                                      "value": [3.0, 2.0, 1 / 7]}


def test_runs_export_parquet(filled, cli_main, capsys, tmp_path):
    target = tmp_path / "jobs.parquet"
    rc, out, err = run_cli(cli_main, capsys, "runs", "export", "--store", filled, "--out", target)
    assert rc == 0, err
    frame = pd.read_parquet(target)
    assert frame["metrics.rmse"].iloc[0] == 0.1 + 0.2
    expected = pd.read_csv(io.StringIO(run_cli(cli_main, capsys, "runs", "export", "--store", filled,
                                               "--format", "csv")[1]))
    assert list(frame.columns) == list(expected.columns) and len(frame) == len(expected)


def test_runs_export_mistakes(filled, cli_main, capsys, tmp_path):
    rc, _, err = run_cli(cli_main, capsys, "runs", "export", "--store", filled, "--format", "xlsx")
    assert rc == 2 and "unknown export format 'xlsx'" in err
    rc, _, err = run_cli(cli_main, capsys, "runs", "export", "--store", tmp_path / "none.sqlite")
    assert rc == 2 and "no results store" in err


# -- nothing beside the store; the lock through symlinks; damaged cells -------------------------------

def beside(path):
    return sorted(p.name for p in path.parent.iterdir())


def test_no_stray_files_after_a_run_a_refusal_or_a_reader(tmp_path, cli_main, capsys):
    from genlab.runs.sweep import run_sweep
    from genlab.runs.jobs import demo_job

    path = tmp_path / "runs.sqlite"
    run_sweep(demo_job, [{"x": i} for i in range(3)], store=path, jobs=1, progress=False)
    assert beside(path) == ["runs.sqlite"]
    with Store(path) as st:
        st.add_jobs(KIND, 1, [{"x": 9}])
        assert beside(path) == ["runs.sqlite", "runs.sqlite-shm", "runs.sqlite-wal", "runs.sqlite.lock"]
        with pytest.raises(GenlabError, match="being written by another"):
            Store(path)
        rc, out, err = run_cli(cli_main, capsys, "runs", "ls", "--store", path)  # a reader while it writes
        assert rc == 0 and "4 jobs" in out
    assert beside(path) == ["runs.sqlite"]
    foreign = tmp_path / "other" / "foreign.db"
    foreign.parent.mkdir()
    con = sqlite3.connect(foreign)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("CREATE TABLE t (x)")
    con.close()
    with pytest.raises(GenlabError, match="not a genlab results store"):
        Store(foreign)
    assert beside(foreign) == ["foreign.db"]


@pytest.mark.parametrize("mode", ["closed by genlab", "left in WAL mode"])
def test_reading_a_store_creates_no_file(tmp_path, cli_main, capsys, mode):
    path = tmp_path / "store" / "runs.sqlite"
    with Store(path) as st:
        st.add_jobs(KIND, 0, [{"x": 1}])
    if mode == "left in WAL mode":  # as an older genlab closed it, or a copy of a store in use
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
        con.close()
        assert path.read_bytes()[18:20] == b"\x02\x02"
    os.chmod(path, 0o444)
    os.chmod(path.parent, 0o555)  # a read-only store (root may write anyway: the listing is what counts)
    try:
        for args in (["ls"], ["show", "1"], ["export", "--format", "json"]):
            rc, out, err = run_cli(cli_main, capsys, "runs", *args, "--store", path)
            assert rc == 0 and err == "", err
            assert beside(path) == ["runs.sqlite"]
    finally:
        os.chmod(path.parent, 0o755)
        os.chmod(path, 0o644)


def test_the_writer_lock_holds_through_a_symlink(tmp_path):
    real = tmp_path / "a" / "runs.sqlite"
    link = tmp_path / "link.sqlite"
    link.symlink_to(real)  # dangling until the store is made through it
    with Store(link):
        assert real.exists()
        with pytest.raises(GenlabError, match="being written by another genlab process"):
            Store(real)
    with Store(real):
        with pytest.raises(GenlabError, match="being written by another genlab process"):
            Store(link)
    assert beside(real) == ["runs.sqlite"] and beside(link) == ["a", "link.sqlite"]
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(link), "60"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # two drivers, one through the link
    try:
        deadline = time.monotonic() + 60
        while not (real.parent / "runs.sqlite.lock").exists():
            assert driver.poll() is None and time.monotonic() < deadline, driver.communicate()
            time.sleep(0.01)
        with pytest.raises(GenlabError, match=f"pid {driver.pid}"):
            Store(real)
    finally:
        _, err = driver.communicate(timeout=120)
    assert driver.returncode == 0, err
    assert beside(real) == ["runs.sqlite"]


def test_a_lock_file_removed_between_open_and_lock_is_not_trusted(tmp_path, monkeypatch):
    path = tmp_path / "runs.sqlite"
    Store(path).close()
    lock = tmp_path / "runs.sqlite.lock"
    lock.write_text("123")  # as a kill -9 leaves it: not locked
    real_open, opened = os.open, []

    def open_and_lose_the_race(p, flags, mode=0o777):
        fd = real_open(p, flags, mode)
        if not opened:  # its holder removes it right after we opened it
            os.unlink(p)
        opened.append(p)
        return fd

    monkeypatch.setattr("genlab.runs.lock.os.open", open_and_lose_the_race)
    with Store(path) as st:
        assert len(opened) == 2  # the removed file was let go, the one now at the path locked
        assert os.path.samestat(os.fstat(st._lock_fd), os.stat(lock))
        assert lock.read_text() == str(os.getpid())
    assert beside(path) == ["runs.sqlite"]


def test_damaged_cells_are_one_line_each_and_a_resume_runs_those_jobs_again(tmp_path, cli_main, capsys):
    from genlab.runs.sweep import run_sweep
    from genlab.runs.jobs import demo_job

    path = tmp_path / "runs.sqlite"
    configs = [{"x": i / 4, "steps": 3} for i in range(5)]
    first = run_sweep(demo_job, configs, store=path, jobs=1, progress=False)
    con = sqlite3.connect(path)
    con.execute("UPDATE jobs SET metrics = '{\"mean\": 0.1' WHERE id = 2")  # cut short
    con.execute("UPDATE jobs SET series = '[1, 2]' WHERE id = 3")  # valid JSON, wrong shape
    con.execute("UPDATE jobs SET config = 'x' WHERE id = 4")
    con.commit()
    con.close()
    for args, bad in (["ls"], (2, 4)), (["ls", "--json"], (2, 4)), (["export"], (2, 4)), \
            (["export", "--format", "json"], (2, 3, 4)), (["export", "--series"], (2, 3, 4)):
        rc, out, err = run_cli(cli_main, capsys, "runs", *args, "--store", path)  # ls reads no series
        assert rc == 0, err
        lines = err.splitlines()
        assert [ln.split(" is damaged: ")[0] for ln in lines] == [f"genlab: warning: job {i} in {path}" for i in bad]
        assert "its metrics is not valid JSON" in lines[0] and "its config is not valid JSON" in lines[-1]
        assert 3 not in bad or "its series is a JSON list, not an object" in lines[1]
    assert json.loads(run_cli(cli_main, capsys, "runs", "ls", "--json", "--store", path)[1])[1]["metrics"] is None
    rc, out, err = run_cli(cli_main, capsys, "runs", "export", "--store", path)
    assert len(pd.read_csv(io.StringIO(out))) == 5  # every row, the damaged cells empty
    rc, out, err = run_cli(cli_main, capsys, "runs", "show", "4", "--store", path)
    assert rc == 0 and "job 4: done" in out and "config    (damaged)" in out and err.count("\n") == 1
    with pytest.warns(UserWarning, match="job 2 in .* is damaged .*; running it again"):
        again = run_sweep(demo_job, configs, store=path, jobs=1, progress=False)
    assert again.ok and again.n_ran == 3 and again.n_cached == 2
    assert [r["metrics"] for r in again.records] == [r["metrics"] for r in first.records]
    assert [r["series"] for r in again.records] == [r["series"] for r in first.records]
    with Store(path, readonly=True) as st:
        assert st.damaged() == {} and st.job(4)["config"] == configs[3]


def test_a_damaged_array_is_left_out_and_named(tmp_path):
    path = tmp_path / "runs.sqlite"
    with Store(path) as st:
        ids = st.add_jobs(KIND, 0, [{"x": 1}, {"x": 2}])
        arr = ("m", "<f8", "[2, 2]", np.arange(4.0).tobytes())
        st.record_outcomes([(i, dict(outcome(), arrays=[arr])) for i in ids])
        st._conn.execute("UPDATE arrays SET shape = '[3, 2]' WHERE job = ?", (ids[1],))
        assert st.damaged() == {ids[1]: "array 'm' is damaged (32 bytes for shape [3, 2] of float64)"}
        first, second = st.arrays(ids)
        assert first["m"].tolist() == [[0, 1], [2, 3]] and second == {}


def _private_mounts() -> bool:
    import shutil

    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=16k none /mnt"],
                          capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _private_mounts(), reason="needs user and mount namespaces (unshare -rm)")
def test_runs_ls_on_a_read_only_filesystem(tmp_path):
    """A store on a tmpfs remounted read-only in a private mount namespace: readable, nothing created."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = '''mount -t tmpfs -o size=1m none "$1" || exit 99
"$2" -c "
import sqlite3, sys
from genlab.runs.store import Store
for name in ('delete', 'wal'):
    with Store(f'$1/{name}.sqlite') as st:
        st.add_jobs('genlab.runs.jobs:demo_job', 0, [{'x': 1}])
    if name == 'wal':  # as an older genlab left it
        sqlite3.connect(f'$1/{name}.sqlite').execute('PRAGMA journal_mode = WAL').fetchone()
" || exit 98
mount -o remount,ro "$1" || exit 97
for name in delete wal; do "$2" -m genlab.cli.app runs ls --store "$1/$name.sqlite" || exit 96; done
ls -A "$1"'''
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", str(mnt), sys.executable],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("1 jobs (1 pending)") == 2 and proc.stderr == ""
    assert proc.stdout.splitlines()[-2:] == ["delete.sqlite", "wal.sqlite"]
