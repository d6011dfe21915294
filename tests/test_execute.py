"""Tests for sweeps (genlab.runs.sweep, .worker, .executors): resume, failures, kill -9, Ctrl-C, Dask.

Everything is real: loky worker processes, SQLite files, a driver in a
subprocess killed with SIGKILL, and a Dask LocalCluster with worker processes.
"""

import functools
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

from genlab import GenlabError
from genlab.runs.sweep import PlannedSweep, SweepResult, run_plan, run_sweep
from genlab.runs.worker import Job, function_path, job_seed
from genlab.runs.jobs import demo_job
from genlab.runs.records import canonical_json, config_hash
from genlab.runs.store import Store

# Fields that a job's result is made of; the rest (times, host, pid, attempts) say how it ran.
RESULT_FIELDS = ("id", "kind", "config", "config_hash", "seed", "status", "metrics", "series")


@pytest.fixture
def cli_main():
    """genlab.cli.app.main with `runs` registered (a no-op once cli.py registers it itself)."""
    import genlab.cli.app as cli
    from genlab.cli.runs import runs_app

    if not any(getattr(g, "typer_instance", None) is runs_app for g in cli.app.registered_groups):
        cli.app.add_typer(runs_app, name="runs")
    return cli.main


def results(records):
    """What must be identical between two runs of a sweep, by config (errors by their last line)."""
    out = {}
    for r in records:
        row = {k: r[k] for k in RESULT_FIELDS if k != "id"}
        row["error"] = r["error"].strip().splitlines()[-1] if r["error"] else None
        out[canonical_json(r["config"])] = row
    return out


def all_records(path):
    with Store(path, readonly=True) as st:
        return st.jobs()


def configs_for(n, *, sleep=0.0, fail=()):
    return [{"x": i / 10, "sleep": sleep, **({"fail": True} if i in fail else {})} for i in range(n)]


def returns_a_list(config, seed):
    return [1, 2]


def returns_bad_metric(config, seed):
    return {"metrics": {"m": [1.0, 2.0]}}


_HELD = []


def grows(config, seed):
    """Keeps 350 MB more each time, once, as a job importing torch does: not a leak to recycle for."""
    _HELD.append(np.ones(350 << 17))  # 350 MiB, written so that it counts in the RSS
    time.sleep(1.2)  # loky looks at a worker's memory at most once a second
    return {"metrics": {"pid": os.getpid()}}


# -- seeds and job identity ------------------------------------------------------------------

def test_job_seed_depends_on_sweep_seed_and_config_only():
    job = Job.make(demo_job, {"x": 0.5, "n": 10}, 3)
    assert job.kind == "genlab.runs.jobs:demo_job"
    assert job.config_hash == config_hash('{"n":10,"x":0.5}')
    assert job.key == ("genlab.runs.jobs:demo_job", job.config_hash, 3)
    ss = job.seed_sequence()
    assert ss.entropy == 3 and ss.spawn_key == (int(job.config_hash, 16),)
    assert Job.make(demo_job, {"n": 10, "x": 0.5}, 3).seed_sequence().generate_state(4).tolist() \
        == ss.generate_state(4).tolist()
    assert job_seed(4, job.config_hash).generate_state(1) != ss.generate_state(1)
    assert Job.make("genlab.runs.jobs.demo_job", {"x": 0.5, "n": 10}, 3) == job


def test_results_do_not_depend_on_order_or_worker_count(tmp_path):
    configs = configs_for(10, fail={4})
    one = run_sweep(demo_job, configs, store=tmp_path / "a.sqlite", seed=5, jobs=1, progress=False)
    rng = np.random.default_rng(0)
    shuffled = [configs[i] for i in rng.permutation(len(configs))]
    two = run_sweep(demo_job, shuffled, store=tmp_path / "b.sqlite", seed=5, jobs=2, progress=False)
    assert isinstance(one, SweepResult) and one.n_ran == 10 and one.n_cached == 0
    assert one.executor == "local (1 worker)" and two.executor == "local (2 workers)"
    assert results(one.records) == results(two.records)  # bitwise: floats compared with ==
    assert [r["config"] for r in one.records] == configs  # records come back in config order
    assert [r["config"] for r in two.records] == shuffled
    # and a job run again in this process gives the same numbers as in a worker
    rec = one.records[2]
    again = Job.from_record(rec).run()
    assert again["metrics"] == rec["metrics"] and again["series"]["loss"].tolist() == rec["series"]["loss"]
    # a different sweep seed gives different numbers
    other = run_sweep(demo_job, configs[:2], store=tmp_path / "c.sqlite", seed=6, jobs=2, progress=False)
    assert other.records[0]["metrics"]["mean"] != one.records[0]["metrics"]["mean"]


def other_job(config, seed):
    return {"metrics": {"draw": float(np.random.default_rng(seed).random()), "k": config["k"]}}


def test_a_plan_runs_several_sweeps_costliest_first_with_their_own_numbers(tmp_path):
    a = configs_for(6)
    b = [{"k": k} for k in range(5)]
    shared = a[:2]  # a third sweep repeats two jobs of the first: they run once
    plan = [PlannedSweep(demo_job, a, 5, cost=lambda c: c["x"]), PlannedSweep(other_job, b, 7, cost=lambda c: 2 * c["k"]),
            PlannedSweep(demo_job, shared, 5)]
    got = run_plan(plan, store=tmp_path / "plan.sqlite", jobs=1, progress=False)
    assert [r.n_ran for r in got] == [6, 5, 2] and [r.n_cached for r in got] == [0, 0, 0]
    alone_a = run_sweep(demo_job, a, store=tmp_path / "a.sqlite", seed=5, jobs=2, progress=False)
    alone_b = run_sweep(other_job, b, store=tmp_path / "b.sqlite", seed=7, jobs=2, progress=False)
    assert results(got[0].records) == results(alone_a.records)  # the same jobs, the same numbers
    assert results(got[1].records) == results(alone_b.records)
    assert results(got[2].records) == results(alone_a.records[:2])
    # one worker takes them in order of cost, whichever sweep they come from
    started = sorted(got[0].records + got[1].records, key=lambda r: r["started_at"])
    costs = [r["config"]["x"] if "x" in r["config"] else 2 * r["config"]["k"] for r in started]
    assert costs == sorted(costs, reverse=True)
    st = Store(tmp_path / "plan.sqlite")
    assert sum(st.counts().values()) == 11 and st.counts().get("done") == 11  # shared jobs ran once
    st.close()
    again = run_sweep(other_job, b, store=tmp_path / "plan.sqlite", seed=7, jobs=2, progress=False)
    assert again.n_ran == 0 and again.n_cached == 5 and results(again.records) == results(got[1].records)


def test_failures_are_recorded_the_sweep_goes_on_and_rerun_retries_them(tmp_path):
    path = tmp_path / "runs.sqlite"
    configs = configs_for(8, fail={2, 5})
    first = run_sweep(demo_job, configs, store=path, seed=0, jobs=2, progress=False)
    assert not first.ok and first.n_done == 6
    assert [r["id"] for r in first.failures] == [3, 6]
    assert "RuntimeError: demo job told to fail (x = 0.2)" in first.failures[0]["error"]
    assert "Traceback" in first.failures[0]["error"] and "run_job" not in first.failures[0]["error"]
    text = first.describe()
    assert "2 failed" in text and "job 3" in text and "job 6" in text
    assert np.isnan(first.metric("mean")[2]) and first.series("loss")[2] is None
    assert first.series("loss")[0].shape == (20,)
    finished = {r["id"]: r["finished_at"] for r in first.records if r["status"] == "done"}

    second = run_sweep(demo_job, configs, store=path, seed=0, jobs=2, progress=False)
    assert second.n_cached == 6 and second.n_ran == 2  # only the failed ones ran again
    assert {r["id"]: r["finished_at"] for r in second.records if r["status"] == "done"} == finished
    assert [r["attempts"] for r in second.records] == [1, 1, 2, 1, 1, 2, 1, 1]
    third = run_sweep(demo_job, configs, store=path, seed=0, jobs=2, progress=False, retry_failed=False)
    assert third.n_ran == 0 and third.executor == "" and len(third.failures) == 2
    assert results(first.records) == results(third.records)
    # a bigger sweep over the same store runs only what is new
    more = run_sweep(demo_job, configs + configs_for(10)[8:], store=path, seed=0, jobs=2, progress=False,
                     retry_failed=False)
    assert more.n_ran == 2 and more.n_cached == 6
    with Store(path, readonly=True) as st:
        assert [s["status"] for s in st.sessions()] == ["failed", "failed", "finished"]
        assert len(st.jobs()) == 10


def test_a_sweep_result_follows_the_results_protocol(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from genlab.core.results import Result

    result = run_sweep(demo_job, configs_for(3, fail={1}), store=tmp_path / "runs.sqlite", jobs=1, progress=False)
    assert isinstance(result, Result)
    frame = result.summary()
    assert isinstance(frame, pd.DataFrame) and list(frame["id"]) == result.ids
    assert list(frame["status"]) == ["done", "failed", "done"] and result.to_frame().equals(frame)
    record = result.to_dict()
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert record["n_jobs"] == 3 and record["n_failed"] == 1 and not record["ok"]
    assert record["jobs"][1]["error"] == "RuntimeError: demo job told to fail (x = 0.1)"
    ax = Figure().add_subplot()
    assert result.plot(ax) is ax and len(ax.patches) == 3
    assert "<svg" in result._repr_html_()


def test_a_crashing_worker_fails_its_job_only(tmp_path):
    configs = configs_for(5, sleep=0.05)
    configs.insert(2, {"x": 9.0, "sleep": 0.05, "crash": True})  # in flight with others when it dies
    result = run_sweep(demo_job, configs, store=tmp_path / "runs.sqlite", seed=0, jobs=2, progress=False)
    assert [r["status"] for r in result.records] == ["done"] * 2 + ["failed"] + ["done"] * 3
    assert "worker process died while running this job" in result.records[2]["error"]
    for rec in result.records[:2] + result.records[3:]:  # the others' numbers are untouched
        again = Job.from_record(rec).run()
        assert again["metrics"] == rec["metrics"] and again["series"]["loss"].tolist() == rec["series"]["loss"]


def test_a_worker_that_grows_once_is_kept(tmp_path):
    # loky replaced a worker grown by 300 MB since its first job, warning mid-sweep; the next job paid the
    # new worker's imports again
    result = run_sweep(grows, [{"i": i} for i in range(3)], store=tmp_path / "runs.sqlite", jobs=1, progress=False)
    assert result.ok and len({r["pid"] for r in result.records}) == 1


def test_bad_return_values_fail_the_job_with_a_clear_message(tmp_path):
    path = tmp_path / "runs.sqlite"
    bad = run_sweep(returns_a_list, [{"a": 1}], store=path, progress=False, jobs=1)
    assert "a job function returns dict(metrics=" in bad.failures[0]["error"]
    bad = run_sweep(returns_bad_metric, [{"a": 1}], store=path, progress=False, jobs=1)
    assert "metric 'm' is a list" in bad.failures[0]["error"]
    assert bad.records[0]["kind"] == f"{__name__}:returns_bad_metric"


def test_user_mistakes_are_genlab_errors_before_anything_is_written(tmp_path):
    path = tmp_path / "runs.sqlite"

    def nested(config, seed):
        return {}

    mistakes = [
        (dict(fn=lambda c, s: {}, configs=[{}]), "top level of a module"),
        (dict(fn=nested, configs=[{}]), "top level of a module"),
        (dict(fn=functools.partial(demo_job), configs=[{}]), "top level of a module"),
        (dict(fn="genlab.runs.jobs:no_such_job", configs=[{}]), "cannot import job function"),
        (dict(fn=demo_job, configs=[]), "no configs"),
        (dict(fn=demo_job, configs=[{"x": 1}, {"x": 2}, {"x": 1}]), "config 2 repeats config 0"),
        (dict(fn=demo_job, configs=[{"x": float("nan")}]), "finite numbers"),
        (dict(fn=demo_job, configs=[[1, 2]]), "must be a dict"),
        (dict(fn=demo_job, configs=[{}], seed=-1), "seed must be an integer"),
        (dict(fn=demo_job, configs=[{}], seed=2**64), "seed must be an integer"),
        (dict(fn=demo_job, configs=[{}], jobs=0), "--jobs must be an integer >= 1"),
        (dict(fn=demo_job, configs=[{}], dask="nonsense"), "not a scheduler address"),
        (dict(fn=demo_job, configs=[{}], dask="tcp://127.0.0.1:1", jobs=2), "the cluster decides"),
    ]
    for kwargs, expected in mistakes:
        kwargs = {"seed": 0, "progress": False, **kwargs}
        with pytest.raises(GenlabError, match=expected):
            run_sweep(kwargs.pop("fn"), kwargs.pop("configs"), store=path, **kwargs)
    assert not path.exists()
    assert function_path(demo_job) == "genlab.runs.jobs:demo_job"


def test_unreachable_dask_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("genlab.runs.executors.DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(GenlabError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_sweep(demo_job, [{}], store=tmp_path / "runs.sqlite", dask="127.0.0.1:9", progress=False)


def test_progress_bar_shows_counts_and_failures(tmp_path, capfd):
    run_sweep(demo_job, configs_for(4, fail={1}), store=tmp_path / "runs.sqlite", jobs=2, progress=True)
    err = capfd.readouterr().err
    assert "demo_job" in err and "4/4" in err and "1 failed" in err and "ETA" in err


def test_progress_names_the_experiment_and_the_label_is_no_part_of_the_jobs(tmp_path, capfd):
    path = tmp_path / "runs.sqlite"
    plain = run_sweep(demo_job, configs_for(3), store=path, seed=4, jobs=1, progress=False)
    capfd.readouterr()
    labelled = run_sweep(demo_job, configs_for(4), store=path, seed=4, jobs=1, progress=True,
                         label="demo on a small grid")
    err = capfd.readouterr().err
    assert "demo on a small grid" in err and "4/4" in err and "demo_job" not in err
    # the same jobs, keys and numbers as without a label: the three found in the store, one run
    assert labelled.n_cached == 3 and labelled.n_ran == 1 and labelled.ids[:3] == plain.ids
    assert results(labelled.records[:3]) == results(plain.records)
    plan = [PlannedSweep(demo_job, configs_for(2), 8, label="first experiment"),
            PlannedSweep(other_job, [{"k": 1}], 8, label="second experiment")]
    run_plan(plan, store=tmp_path / "plan.sqlite", jobs=1, progress=True)
    err = capfd.readouterr().err
    assert "first experiment, second experiment" in err and "3/3" in err


def test_experiments_name_their_sweeps(tmp_path):
    from genlab.analysis.double_descent.random_features import label_noise_sweep, random_features_sweep
    from genlab.analysis.scaling.sweep import scaling_sweep
    from genlab.runs.sweep import planned_sweeps

    got = {}
    for compute in (lambda: random_features_sweep("digits", seeds=1),
                    lambda: label_noise_sweep("wine", n_train=50, n_test=50, seeds=1),
                    lambda: scaling_sweep(quick=True)):
        (planned,) = planned_sweeps(compute)
        got[planned.label] = planned
    assert list(got) == ["random relu features on digits", "label noise: random relu features on wine",
                         "transformers on python"]
    for label, planned in got.items():  # a job's identity (its config, hence its key) does not hold the label
        assert all(label not in canonical_json(config) for config in planned.configs)


def test_runs_demo_command_exits_1_on_failures(tmp_path, cli_main, capsys):
    args = ["runs", "demo", "--n", "5", "--sleep", "0", "--fail", "3", "--out", str(tmp_path), "-j", "2"]
    rc = cli_main(args)
    out, err = capsys.readouterr()
    assert rc == 1, err
    assert "5 jobs, 4 done, 1 failed" in out and "failed: job 4" in out
    assert (tmp_path / "runs.sqlite").exists()
    rc = cli_main(args + ["--json"])
    out, err = capsys.readouterr()
    assert rc == 1 and len(json.loads(out)) == 5 and "4 already in the store" in err
    rc = cli_main(["runs", "demo", "--dask", "tcp://h:1", "-j", "2", "--out", str(tmp_path)])
    assert rc == 2 and "the cluster decides" in capsys.readouterr().err


# -- kill -9 and Ctrl-C -----------------------------------------------------------------------------

DRIVER = """
import json, sys
from genlab.runs.sweep import run_sweep
from genlab.runs.jobs import demo_job
try:
    result = run_sweep(demo_job, json.loads(sys.argv[2]), store=sys.argv[1], seed=11, jobs=2, progress=False)
except KeyboardInterrupt:
    sys.exit(130)
sys.exit(0 if result.ok else 1)
"""


def start_driver(path, configs):
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(path), json.dumps(configs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def store_state(path):
    """(status counts, {id: finished_at} of done jobs) as a reader sees it now, or None before the store exists."""
    try:
        with Store(path, readonly=True) as st:
            return st.counts(), {r["id"]: r["finished_at"] for r in st.jobs(status="done", series=False)}
    except GenlabError as exc:
        if "no results store" in str(exc) or "empty database" in str(exc):
            return None
        raise


def wait_for(proc, path, condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = store_state(path)
        if state is not None and condition(*state):
            return state
        assert proc.poll() is None, f"driver ended early: {proc.communicate()}"
        time.sleep(0.003)
    raise AssertionError("timed out waiting for the driver")


def kill_group(proc, sig):
    """Signal the driver's whole process group; its exit status and what it wrote to stderr."""
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


def test_kill_9_at_several_points_then_resume_gives_the_uninterrupted_results(tmp_path):
    n = 30
    configs = configs_for(n, sleep=0.04, fail={7, 22})
    reference = run_sweep(demo_job, configs, store=tmp_path / "reference.sqlite", seed=11, jobs=2, progress=False)
    path = tmp_path / "killed.sqlite"
    kept: dict = {}  # done jobs seen after each kill: they must never run again
    points = [
        lambda counts, done: True,  # as soon as the store exists (jobs being added, or the pool starting)
        lambda counts, done: counts["running"] > 0,  # the first jobs handed to workers
        lambda counts, done: len(done) >= len(kept) + 3,  # mid-sweep, a few more done
        lambda counts, done: len(done) >= 2 * n // 3,  # late
    ]
    for point in points:
        proc = start_driver(path, configs)
        wait_for(proc, path, point)
        assert kill_group(proc, signal.SIGKILL)[0] == -signal.SIGKILL
        counts, done = store_state(path)  # opens cleanly: kill -9 never leaves a broken store
        assert sum(counts.values()) in (0, n)  # the jobs were added all at once, or not at all
        for job_id, finished_at in kept.items():
            assert done[job_id] == finished_at, "a finished job was lost or run again"
        kept.update(done)
    assert 0 < len(kept) < n
    proc = start_driver(path, configs)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err  # two jobs fail by design
    records = all_records(path)
    assert len(records) == n and len({(r["kind"], r["config_hash"], r["seed"]) for r in records}) == n
    assert results(records) == results(reference.records)
    assert [r["id"] for r in records] == reference.ids  # same ids too: jobs are added in config order
    assert {r["id"]: r["finished_at"] for r in records if r["id"] in kept} == kept
    with Store(path, readonly=True) as st:
        statuses = [s["status"] for s in st.sessions()]
    assert statuses[-1] == "failed" and set(statuses[:-1]) <= {"killed"}


def test_ctrl_c_stops_cleanly_and_leaves_a_resumable_store(tmp_path):
    configs = configs_for(40, sleep=0.1)  # 4 s of jobs: time for a slow second worker to start
    path = tmp_path / "runs.sqlite"
    before = run_sweep(demo_job, configs[:5], store=path, seed=11, jobs=2, progress=False)  # done before
    assert before.ok
    proc = start_driver(path, configs)

    def both_workers_ran(counts, done):
        # Ctrl-C while a worker is still importing (a loaded machine) prints that worker's own traceback
        # from its interpreter's start, which no driver can prevent: signal once both workers run jobs
        if len(done) < 9:
            return False
        with Store(path, readonly=True) as st:
            fresh = [r["pid"] for r in st.jobs(status="done", series=False) if r["id"] not in set(before.ids)]
        return len(set(fresh)) >= 2

    wait_for(proc, path, both_workers_ran)
    t0 = time.monotonic()
    rc, err = kill_group(proc, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    assert rc == 130
    assert "Traceback" not in err, err  # e.g. loky's manager thread dying on a future we cancelled
    assert time.monotonic() - t0 < 10
    with Store(path, readonly=True) as st:
        counts = st.counts()
        assert counts["running"] == 0 and 9 <= counts["done"] < 40 and counts["failed"] == 0
        assert st.sessions()[-1]["status"] == "interrupted"
    # k and n count the sweep's jobs, those done before this run included
    assert err.splitlines()[-1] == f"interrupted: {counts['done']} of 40 jobs done; run the same command to resume"
    resumed = run_sweep(demo_job, configs, store=path, seed=11, jobs=2, progress=False)
    assert resumed.ok and resumed.n_cached == counts["done"]
    reference = run_sweep(demo_job, configs, store=tmp_path / "ref.sqlite", seed=11, jobs=2, progress=False)
    assert results(resumed.records) == results(reference.records)


def test_aborting_a_local_pool_stops_its_workers_without_an_error_in_its_threads(monkeypatch):
    import threading

    from genlab.runs.executors import LocalExecutor

    errors = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    executor = LocalExecutor(3)  # a worker count no other test keeps warm
    jobs = [Job.make(demo_job, config, 1) for config in configs_for(12, sleep=0.2)]
    futures = [executor.submit(demo_job, [job]) for job in jobs]  # more than the workers take at once
    time.sleep(0.3)
    pids = list(executor._ex._processes)
    manager = executor._ex._executor_manager_thread
    executor.abort(futures)  # what Ctrl-C does
    manager.join(timeout=30)
    assert not manager.is_alive() and errors == []
    assert all(fut.done() for fut in futures)
    for pid in pids:  # killed, not left to idle out while the driver's exit waits for them
        with pytest.raises(ProcessLookupError):
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)


# -- Dask -----------------------------------------------------------------------------------------

def test_dask_local_cluster_gives_bitwise_the_local_results(tmp_path):
    from distributed import Client, LocalCluster

    configs = configs_for(12, fail={5}) + [{"x": 0.25, "n": 1000, "work": 20, "steps": 50}]
    local = run_sweep(demo_job, configs, store=tmp_path / "local.sqlite", seed=2, jobs=2, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_port=0, host="127.0.0.1") as cluster:
        on_dask = run_sweep(demo_job, configs, store=tmp_path / "dask.sqlite", seed=2, dask=cluster.scheduler_address,
                            progress=False)
        assert on_dask.executor == f"dask ({cluster.scheduler_address})"
        with Client(cluster, set_as_default=False) as client:
            worker_pids = set(client.run(os.getpid).values())
            assert {r["pid"] for r in on_dask.records} <= worker_pids and os.getpid() not in worker_pids
            again = run_sweep(demo_job, configs, store=tmp_path / "dask.sqlite", seed=2, dask=client, progress=False)
            assert again.n_ran == 1 and again.n_cached == 12  # the failed job ran again, the rest was kept
            assert client.status == "running"  # a Client passed in is left open
    assert results(on_dask.records) == results(local.records)
    frame_local, frame_dask = local.to_frame(), on_dask.to_frame()
    cols = [c for c in frame_local.columns if c.startswith(("config.", "metrics.")) or c in ("id", "status")]
    pd.testing.assert_frame_equal(frame_local[cols], frame_dask[cols], check_exact=True)
    assert "RuntimeError: demo job told to fail" in on_dask.failures[0]["error"]


class _Stderr(io.StringIO):
    """A stderr that also hands each write to ``seen(text)``."""

    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def write(self, text):
        self.seen(text)
        return super().write(text)


def test_a_dask_cluster_without_workers_says_so_and_the_sweep_runs_once_one_comes(tmp_path, monkeypatch):
    from distributed import LocalCluster

    import genlab.runs.drive as drive

    monkeypatch.setattr(drive, "STALL_S", 0.5)
    monkeypatch.setattr(drive, "WATCH_S", 0.1)
    configs = configs_for(4) + [{"x": 2.0, "sleep": 2.0}]  # a job long beside STALL_S
    with LocalCluster(n_workers=0, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_port=0, host="127.0.0.1") as cluster:
        address = cluster.scheduler_address
        written = []

        def seen(text):  # the first time the driver says there are no workers, one comes
            if "has no workers" in text and not any("has no workers" in t for t in written):
                cluster.scale(1)
            written.append(text)

        monkeypatch.setattr(sys, "stderr", _Stderr(seen))
        backstop = threading.Timer(120, cluster.scale, (1,))  # a driver that says nothing fails here, not hangs
        backstop.start()
        try:
            got = run_sweep(demo_job, configs, store=tmp_path / "dask.sqlite", seed=3, dask=address, progress=False)
        finally:
            backstop.cancel()
            monkeypatch.undo()
    lines = "".join(written).splitlines()
    assert lines[0] == (f"the Dask cluster at {address} has no workers: start some with 'dask worker {address}', "
                        "or Ctrl-C to stop (finished jobs are kept)")
    stalled = [line for line in lines if line.startswith("no job has finished for ")]
    assert stalled and stalled[0].endswith(f"on the Dask cluster at {address} (1 worker, 1 thread); still "
                                           "waiting: Ctrl-C to stop (finished jobs are kept)")
    assert got.ok and got.n_ran == 5
    local = run_sweep(demo_job, configs, store=tmp_path / "local.sqlite", seed=3, jobs=1, progress=False)
    assert results(got.records) == results(local.records)


def test_sweep_uses_a_temporary_store_and_raises_on_failure():
    from genlab.core.errors import GenlabError
    from genlab.runs.sweep import sweep

    result = sweep("genlab.runs.jobs:demo_job", [{"x": i / 4} for i in range(4)], seed=2, jobs=1)
    assert result.ok and len(result.records) == 4 and not result.store.exists()
    with pytest.raises(GenlabError, match="1 of 2 jobs failed"):
        sweep("genlab.runs.jobs:demo_job", [{"x": 0.1}, {"x": 0.2, "fail": True}], jobs=1)


def test_a_watched_sweep_reports_progress_and_stops_when_asked(tmp_path, capfd):
    """watching(): another thread follows a sweep run inside library code and stops it; the store is left
    resumable (the same sweep again runs only what was not done) and the numbers are the same."""
    from genlab.runs.drive import Stopped
    from genlab.runs.sweep import watching

    # 12 jobs of 0.6 s on 2 workers: 3.6 s of jobs after the workers start; the stop comes after 2 and is seen
    # within a second, so "done < 12" below means stopped before the end (a wall-clock bound would also count
    # the workers' start-up, which a loaded machine stretches)
    configs = [{"n": 10, "sleep": 0.6, "i": i} for i in range(12)]
    stop, counted = threading.Event(), []

    def progress(n):
        counted.append(n)
        if sum(counted) >= 2:
            stop.set()

    with watching(progress=progress, stop=stop), pytest.raises(Stopped):
        run_sweep(demo_job, configs, store=tmp_path / "s.sqlite", jobs=2, progress=True)
    assert "stopped:" in capfd.readouterr().err
    with Store(tmp_path / "s.sqlite") as st:
        counts = st.counts()
    assert counts["running"] == 0 and 2 <= counts["done"] < 12
    again = run_sweep(demo_job, configs, store=tmp_path / "s.sqlite", jobs=1, progress=False)
    assert again.ok and again.n_cached == counts["done"] and again.n_ran == 12 - counts["done"]
    fresh = run_sweep(demo_job, configs, store=tmp_path / "t.sqlite", jobs=1, progress=False)
    assert [r["metrics"] for r in again.records] == [r["metrics"] for r in fresh.records]
