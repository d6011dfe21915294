"""The general engines run as fast as a plain loop (issue 15, goal 4) without changing a number.

``decompose_data`` and ``decompose`` run in this process unless given a store or
Dask, sharing their rounds (blocks) out to threads or worker processes only where
it pays (``genlab.analysis.biasvar.blocks.run_items``); through a store, rounds
travel in blocks, one job each. These tests check that none of this changes the
numbers: every way of running gives bitwise the numbers of a plain clone-fit-predict
loop, blocked store jobs give those of single rounds, a partial store resumes, and
progress counts blocks. No test is timed (the speed is measured in bench/general.py).
"""

import math
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from genlab.analysis.biasvar import blocks, decompose, decompose_data, decompose_round_job
from genlab.analysis.biasvar.real import _data_plan, _round_configs
from genlab.data.sources import Dataset, SyntheticSource, load_dataset
from genlab.runs.store import Store

FIELDS = ("bias2", "bias2_se", "variance", "variance_se", "error", "error_se", "hbar", "first_fits")


def same(a, b):
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def in_memory(data):
    """The same numbers without an origin: the rounds can only run in this process."""
    return Dataset(data.X, data.y, data.feature_names, data.target_name, data.task, data.name)


class PyKNN(RegressorMixin, BaseEstimator):
    """k nearest neighbours in plain Python: it holds the GIL, so threads do not pay and worker processes do."""

    def __init__(self, k=3):
        self.k = k

    def fit(self, X, y):
        self.X_, self.y_ = np.asarray(X, float).tolist(), np.asarray(y, float).tolist()
        return self

    def predict(self, X):
        out = []
        for row in np.asarray(X, float).tolist():
            d = sorted((sum((a - b) ** 2 for a, b in zip(row, p)), t) for p, t in zip(self.X_, self.y_))
            out.append(sum(t for _, t in d[:self.k]) / self.k)
        return np.array(out)


@pytest.fixture
def threads_only(monkeypatch):
    """Share the rounds out to threads, whatever they pay: no serial timing, a trial that never ends."""
    monkeypatch.setattr(blocks, "TIMING_S", 0.0)
    monkeypatch.setattr(blocks, "TRIAL_S", math.inf)


@pytest.fixture
def processes(monkeypatch):
    """Worker processes as soon as the threads' trial is over (their start-up counted as free, the machine
    as idle), the worker started beforehand, so that it takes its share before this thread is done."""
    from joblib.externals.loky import get_reusable_executor

    from genlab.runs.worker import THREAD_ENV

    monkeypatch.setattr(blocks, "TIMING_S", 0.0)
    monkeypatch.setattr(blocks, "TRIAL_S", 0.0)
    monkeypatch.setattr(blocks, "TRIAL_SHARE", 0.0)
    monkeypatch.setattr(blocks, "START_S", 0.0)
    monkeypatch.setattr(blocks, "_free_cores", lambda jobs, since: float(jobs))
    monkeypatch.setattr(blocks, "_by_processes", lambda *a: 100.0)  # the verdict, whatever the timings
    get_reusable_executor(max_workers=1, timeout=60, env=dict(THREAD_ENV)).submit(_busy, 0, 1).result()


# -- real data: every way of running, the same numbers ----------------------------------------

def test_rounds_are_those_of_a_plain_clone_fit_predict_loop():
    data = load_dataset("diabetes")
    ests = [DecisionTreeRegressor(max_depth=4, random_state=0), Ridge(alpha=0.5)]
    res = decompose_data(ests, data, method="bootstrap", rounds=40, seed=5, jobs=1)
    test, pool, indices = _data_plan(data.n, method="bootstrap", n_train=None, rounds=40, test_fraction=0.25,
                                     seed=5)
    X, y = data.X[pool], data.y[pool]
    loop = np.array([[clone(e).fit(X[i], y[i]).predict(data.X[test]) for e in ests] for i in indices])
    np.testing.assert_array_equal(res.first_fits, loop)  # (R, M, m): all 40 rounds


def test_threads_give_the_serial_numbers(threads_only):
    data = in_memory(load_dataset("diabetes"))
    ests = [DecisionTreeRegressor(max_depth=5, random_state=0), Ridge(alpha=0.5)]
    one = decompose_data(ests, data, method="bootstrap", rounds=60, seed=2, jobs=1)
    two = decompose_data(ests, data, method="bootstrap", rounds=60, seed=2, jobs=2)
    assert blocks.last_way["way"] == "threads"
    same(one, two)
    wine = in_memory(load_dataset("wine"))
    clf = DecisionTreeClassifier(max_depth=3, random_state=0)
    for definition in ("domingos", "kohavi_wolpert"):
        a = decompose_data(clf, wine, method="bootstrap", rounds=40, loss="zero_one", definition=definition,
                           seed=1, jobs=1)
        b = decompose_data(clf, wine, method="bootstrap", rounds=40, loss="zero_one", definition=definition,
                           seed=1, jobs=2)
        same(a, b)


def test_worker_processes_give_the_serial_numbers(processes):
    data = in_memory(load_dataset("diabetes"))
    est = PyKNN(k=4)
    one = decompose_data(est, data, method="bootstrap", n_train=60, rounds=60, seed=3, jobs=1)
    two = decompose_data(est, data, method="bootstrap", n_train=60, rounds=60, seed=3, jobs=2)
    assert blocks.last_way["way"] == "threads, then processes"
    same(one, two)


def test_a_failing_round_is_raised_from_the_threads_and_leaves_no_filter_behind(threads_only):
    fits = {"n": 0}
    lock = threading.Lock()

    class Breaks(Ridge):
        def fit(self, X, y):
            with lock:
                fits["n"] += 1
                if fits["n"] == 25:
                    raise ValueError("round broke")
            return super().fit(X, y)

    filters = list(warnings.filters)
    with pytest.raises(ValueError, match="round broke"):
        decompose_data(Breaks(), in_memory(load_dataset("diabetes")), method="bootstrap", rounds=80, jobs=2)
    assert warnings.filters == filters
    deadline = time.monotonic() + 10
    while any(t.name == "genlab-items" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.name == "genlab-items" for t in threading.enumerate())


def test_progress_counts_blocks_of_rounds_whatever_the_way(threads_only):
    data = in_memory(load_dataset("diabetes"))
    for jobs in (1, 2):
        seen = []
        decompose_data(Ridge(), data, method="bootstrap", rounds=70, jobs=jobs, progress=seen.append)
        assert sum(seen) == len(blocks.blocks_of(70)[1]) == 24  # blocks of 3 rounds, the last of 1


# -- real data through a store: blocks of rounds ---------------------------------------------------

def test_a_block_job_gives_the_rounds_of_single_round_jobs():
    data = load_dataset("diabetes")
    est = DecisionTreeRegressor(max_depth=3, random_state=0)
    configs, why = _round_configs(data, [est], method="bootstrap", n_train=None, rounds=45, test_fraction=0.25,
                                  seed=7, k=45)
    assert why is None and [c["size"] for c in configs] == [2] * 22 + [1]
    block = configs[5]
    got = decompose_round_job(block, None)["arrays"]["predictions"]
    single = [decompose_round_job({**{k: v for k, v in block.items() if k not in ("first", "size")}, "round": r},
                                  None)["arrays"]["predictions"] for r in range(block["first"], block["first"] + 2)]
    assert got.shape == (2, 110, 1) and single[0].shape == (110, 1)
    np.testing.assert_array_equal(got, np.stack(single))


def test_the_store_holds_blocks_of_rounds_gives_the_in_process_numbers_and_resumes(tmp_path):
    data = load_dataset("diabetes")
    ests = [DecisionTreeRegressor(max_depth=4, random_state=0), Ridge(alpha=1.0)]
    store = tmp_path / "runs.sqlite"
    kw = dict(method="bootstrap", rounds=60, seed=9)
    stored = decompose_data(ests, data, store=store, jobs=2, **kw)
    here = decompose_data(ests, data, jobs=1, **kw)  # no store: in this process
    same(stored, here)
    with Store(store) as st:
        jobs = st.jobs()
        assert len(jobs) == 20 and {j["kind"] for j in jobs} == {"genlab.analysis.biasvar.real:decompose_round_job"}
        assert [(j["config"]["first"], j["config"]["size"]) for j in jobs[:2]] == [(0, 3), (3, 3)]
        st._require().execute("UPDATE jobs SET status = 'pending' WHERE id > 8")  # as a kill -9 would leave it
        st._require().execute("DELETE FROM arrays WHERE job > 8")
    seen = []
    resumed = decompose_data(ests, data, store=store, jobs=1, progress=seen.append, **kw)
    same(resumed, here)
    assert seen[0] == 8 and sum(seen) == 20
    with Store(store) as st:
        assert st.sessions()[-1]["n_jobs"] == 12


# -- the general engine: in process unless a store is given ----------------------------------------

def test_decompose_in_process_gives_the_store_numbers(tmp_path, threads_only):
    ests = [DecisionTreeRegressor(max_depth=3, random_state=0), Ridge(alpha=0.1)]
    stored = decompose(ests, SyntheticSource(), n_datasets=200, seed=4, jobs=1, store=tmp_path / "s.sqlite")
    seen = []
    here = decompose(ests, SyntheticSource(), n_datasets=200, seed=4, jobs=1, progress=seen.append)
    threaded = decompose(ests, SyntheticSource(), n_datasets=200, seed=4, jobs=2)
    assert blocks.last_way["way"] == "threads" and sum(seen) == 20
    same(stored, here)
    same(stored, threaded)


# -- the pieces -------------------------------------------------------------------------------

def test_fresh_copies_are_clones():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for est in (DecisionTreeRegressor(max_depth=3).fit([[0], [1]], [0, 1]),
                make_pipeline(StandardScaler(), Ridge(alpha=2.0))):
        make = blocks.fresh(est)
        a, b = make(), make()
        assert a is not b and repr(a) == repr(clone(est)) and not hasattr(a, "tree_")
        assert make.func.__name__ == "deepcopy"

    class OwnClone(Ridge):
        def __sklearn_clone__(self):
            return OwnClone(alpha=self.alpha * 2)

    own = blocks.fresh(OwnClone(alpha=1.0))
    assert own.func is clone and own().alpha == own().alpha == 2.0  # what clone makes of the estimator given


def _busy(a, b, where="here"):
    """Items that hold the GIL (a Python loop, a millisecond or two each): their squares, and who made them."""
    x = 0
    for j in range(30_000 * (b - a)):
        x += j
    return [(i * i, where) for i in range(a, b)]


def test_run_items_keeps_item_order_whatever_the_way(processes):
    import functools


    def sleepy(a, b):  # releases the GIL: threads pay
        time.sleep(0.001 * (b - a))
        return [(i * i, "here") for i in range(a, b)]

    squares = [i * i for i in range(300)]
    for jobs in (1, 2):
        assert [v for v, _ in blocks.run_items(sleepy, 300, jobs)] == squares
    spans = []
    got = blocks.run_items(_busy, 300, 2, done=lambda a, b: spans.append((a, b)),
                           remote=functools.partial(_busy, where="worker"))
    assert blocks.last_way["way"] == "threads, then processes"
    assert [v for v, _ in got] == squares and {w for _, w in got} == {"here", "worker"}
    assert sorted(i for a, b in spans for i in range(a, b)) == list(range(300))  # each item reported once


def test_threads_kept_or_left_when_processes_do_not_pay(processes, monkeypatch):
    """Where worker processes would not pay, the threads are kept or the loop goes on serially (which, is a
    matter of timings, so both are accepted): either way the items come back in order, all from here."""
    import functools

    monkeypatch.setattr(blocks, "_by_processes", lambda *a: 1.0)
    got = blocks.run_items(_busy, 600, 2, remote=functools.partial(_busy, where="worker"))
    assert blocks.last_way["way"] in ("threads", "threads, then serial")
    assert [v for v, _ in got] == [i * i for i in range(600)] and {w for _, w in got} == {"here"}

def test_nothing_left_to_share_is_no_speed_up():
    """The verdict taken when every item is already claimed (a found 0/0 on one free core)."""
    assert blocks._by_processes(0.0, 2, None) == 1.0
    assert blocks._by_processes(10.0, 2, None) > 1.0
