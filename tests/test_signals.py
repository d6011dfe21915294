"""SIGTERM and kill -9 of a sweep's driver (`genlab runs demo` in a subprocess).

SIGTERM is handled as Ctrl-C: a message, the store left resumable, exit
status 143 (128 + 15), the workers stopped. After either signal no process the
driver started (loky workers, resource trackers) outlives it by more than a
few seconds: kill -9 leaves no chance to clean up, so the workers watch their
parent. Processes are found through /proc (Linux).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genlab.runs.store import Store

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def stat(pid):
    """(parent pid, state, start time) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return int(fields[1]), fields[0], int(fields[19])


def cmdline(pid):
    """A process's command line, or b"" once it is gone (short-lived helpers exit between listing and reading)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def descendants(pid):
    """{pid: start time} of every process below ``pid``."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            info = stat(int(entry.name))
            if info is not None:
                table[int(entry.name)] = info
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, _, start) in table.items():
            if ppid == parent and child not in found:
                found[child] = start
                todo.append(child)
    return found


def alive(procs):
    """Those of ``procs`` ({pid: start time}) still running (not gone, not a zombie, not a new process)."""
    out = []
    for pid, start in procs.items():
        info = stat(pid)
        if info is not None and info[1] != "Z" and info[2] == start:
            out.append(pid)
    return out


def start_demo(out, n=40, sleep=0.2):
    args = [sys.executable, "-m", "genlab.cli.app", "runs", "demo", "--n", str(n), "--sleep", str(sleep), "-j", "2",
            "--seed", "5", "--out", str(out)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, MPLBACKEND="Agg"))


def wait_until_running(proc, store, timeout=60):
    """Wait until both workers are inside a job; return the driver's descendants (workers, resource trackers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if store.exists():
            try:
                with Store(store, readonly=True) as st:
                    running = st.counts()["running"]
            except Exception:  # noqa: BLE001 - the driver may be creating the file right now
                running = 0
            workers = [pid for pid in descendants(proc.pid)
                       if b"popen_loky" in cmdline(pid)]
            if running >= 2 and len(workers) == 2:
                time.sleep(1.0)  # into their first job
                return descendants(proc.pid)
        time.sleep(0.05)
    raise AssertionError("the sweep did not start")


def gone_within(procs, seconds=5.0):
    """Those of ``procs`` still alive ``seconds`` from now (checked as they go)."""
    deadline = time.monotonic() + seconds
    while alive(procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(procs)


# The jobs take 30 s: a worker left to finish its job would outlive the driver by far more than 5 s.

def test_sigterm_stops_a_sweep_like_ctrl_c_with_exit_status_143(tmp_path):
    store = tmp_path / "runs.sqlite"
    proc = start_demo(tmp_path, n=4, sleep=30)
    procs = wait_until_running(proc, store)
    proc.send_signal(signal.SIGTERM)  # the driver only, as `kill PID` or a job scheduler does
    proc.wait(timeout=10)
    assert gone_within(procs) == [], "a worker or resource tracker outlived the driver"
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 143, err
    assert err.rstrip().endswith("genlab: terminated (SIGTERM)") and "Traceback" not in err
    assert "interrupted: 0 of 4 jobs done; run the same command to resume\n" in err
    with Store(store, readonly=True) as st:  # resumable: nothing left running, the session interrupted
        assert st.counts() == {"pending": 4, "running": 0, "done": 0, "failed": 0}
        assert st.sessions()[-1]["status"] == "interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.sqlite"]  # no lock, -wal or -shm left


def test_sigterm_then_the_same_command_resumes(tmp_path):
    proc = start_demo(tmp_path, n=30, sleep=0.1)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        try:
            with Store(tmp_path / "runs.sqlite", readonly=True) as st:
                if st.counts()["done"] >= 3:
                    break
        except Exception:  # noqa: BLE001 - not created yet
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    with Store(tmp_path / "runs.sqlite", readonly=True) as st:
        done = st.counts()["done"]
    again = start_demo(tmp_path, n=30, sleep=0.1)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert f"30 jobs, 30 done ({done} already in the store)" in out


def test_after_kill_9_of_the_driver_its_workers_leave_within_seconds(tmp_path):
    proc = start_demo(tmp_path, n=4, sleep=30)
    procs = wait_until_running(proc, tmp_path / "runs.sqlite")
    proc.kill()
    proc.wait(timeout=10)  # not communicate(): that would wait for every holder of its pipes
    assert gone_within(procs) == [], "a worker or resource tracker outlived the driver by more than 5 s"
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
