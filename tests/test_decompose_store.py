"""Slow-estimator decompositions through the sweep executor and its store.

The general engine (``decompose``) and the real-data engine (``decompose_data``)
run one job per block of datasets (per round on real data), written to the
store as arrays. These tests check that the store keeps arrays exactly, that a
store written by genlab's first schema is migrated, that the store path gives
bitwise the numbers of the in-process path, that it resumes, and that
estimators travel to the workers as JSON that rebuilds them exactly.
"""

import json
import sqlite3

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from genlab import GenlabError
from genlab.data.sources import ClassificationSource, Dataset, SyntheticSource, load_csv, load_dataset
from genlab.analysis.biasvar import decompose, decompose_data, decompose_round_job
from genlab.core.estimators import NotDescribable, from_spec, to_spec
from genlab.runs.sweep import run_sweep
from genlab.runs.schema import SCHEMA_VERSION
from genlab.runs.store import Store

FIELDS = ("bias2", "bias2_se", "variance", "variance_se", "noise", "error", "error_se", "error_median", "hbar")


def array_job(config, seed):
    """A job returning arrays of several shapes and dtypes (importable by the workers)."""
    g = np.random.default_rng(seed)
    if config.get("bad"):
        return {"arrays": {"words": np.array(["a", "b"])}}
    return {"metrics": {"x": config["x"]}, "arrays": {
        "cube": g.normal(size=(2, 3, 4)), "ints": np.arange(5, dtype=np.int32) * config["x"],
        "flags": np.array([True, False]), "scalar": np.float64(config["x"]), "empty": np.zeros((0, 3))}}


def same(a, b):
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


# -- arrays in the store -------------------------------------------------------------------

def test_arrays_round_trip_exactly_and_bad_dtypes_fail_the_job(tmp_path):
    res = run_sweep(array_job, [{"x": 1}, {"x": 2}, {"x": 3, "bad": True}], store=tmp_path / "s.sqlite",
                    jobs=1, progress=False)
    assert [r["status"] for r in res.records] == ["done", "done", "failed"]
    assert "array 'words' has dtype <U1" in res.failures[0]["error"]
    cube = res.arrays("cube")
    assert cube[0].shape == (2, 3, 4) and cube[0].dtype == np.float64 and cube[2] is None
    assert not np.array_equal(cube[0], cube[1])  # each job its own stream
    np.testing.assert_array_equal(res.arrays("ints")[1], np.arange(5, dtype=np.int32) * 2)
    assert res.arrays("ints")[1].dtype == np.int32 and res.arrays("flags")[0].dtype == np.bool_
    assert res.arrays("scalar")[0].shape == () and res.arrays("empty")[0].shape == (0, 3)
    with Store(tmp_path / "s.sqlite", readonly=True) as st:  # read back by another connection
        again = st.arrays(res.ids)
    np.testing.assert_array_equal(again[0]["cube"], cube[0])
    assert again[2] == {}


def test_a_first_schema_store_is_migrated_and_still_readable(tmp_path):
    path = tmp_path / "old.sqlite"
    run_sweep("genlab.runs.jobs:demo_job", [{"x": 0.5}], store=path, jobs=1, progress=False)
    con = sqlite3.connect(path)
    con.executescript("DROP TABLE arrays; PRAGMA user_version = 1;")
    con.close()
    with Store(path, readonly=True) as st:  # a reader does not migrate, and sees no arrays
        assert st.arrays([1]) == [{}] and st.jobs()[0]["status"] == "done"
    res = run_sweep(array_job, [{"x": 1}], store=path, jobs=1, progress=False)  # a writer migrates
    assert res.arrays("ints")[0].tolist() == [0, 1, 2, 3, 4]
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    con.close()


# -- estimators as JSON ------------------------------------------------------------------

def test_estimator_specs_rebuild_equal_estimators():
    from sklearn.ensemble import BaggingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures

    from genlab import PolynomialRegression

    for est in (make_pipeline(PolynomialFeatures(3), Ridge(alpha=0.1)),
                BaggingRegressor(DecisionTreeRegressor(max_depth=2), n_estimators=3, random_state=0),
                FunctionTransformer(np.log1p), PolynomialRegression(7, basis="chebyshev")):
        spec = to_spec(est)
        assert json.loads(json.dumps(spec)) == spec  # plain JSON
        rebuilt = from_spec(spec)
        assert type(rebuilt) is type(est) and repr(rebuilt) == repr(est)
        assert to_spec(rebuilt) == spec
    assert to_spec(FunctionTransformer(np.log1p))["params"]["func"] == {"callable": "numpy:log1p"}
    with pytest.raises(NotDescribable, match="not importable"):
        to_spec(FunctionTransformer(lambda x: x))
    with pytest.raises(NotDescribable, match="no JSON form"):
        to_spec(DecisionTreeRegressor(random_state=np.random.RandomState(0)))


# -- the general engine -----------------------------------------------------------------

def test_store_path_gives_the_in_process_numbers_and_resumes(tmp_path):
    ests = [DecisionTreeRegressor(max_depth=2), DecisionTreeRegressor(max_depth=5)]
    store = tmp_path / "runs.sqlite"
    via_store = decompose(ests, SyntheticSource(), n_datasets=200, seed=3, jobs=2, store=store)
    # a callable target cannot be written as JSON: the same numbers, computed in this process
    in_process = decompose(ests, SyntheticSource(lambda x: 2 * x ** 2 + 1), n_datasets=200, seed=3, jobs=1)
    same(via_store, in_process)
    np.testing.assert_array_equal(via_store.first_fits, in_process.first_fits)
    with Store(store) as st:
        assert st.counts()["done"] == 20 and len(st.sessions()) == 1
        # lose the second half of the blocks, as a kill -9 would: the rerun fits only those
        st._require().execute("UPDATE jobs SET status = 'pending' WHERE id > 10")
        st._require().execute("DELETE FROM arrays WHERE job > 10")
    calls = []
    resumed = decompose(ests, SyntheticSource(), n_datasets=200, seed=3, jobs=1, store=store,
                        progress=calls.append)
    same(resumed, via_store)
    assert sum(calls) == 20 and calls[0] == 10  # 10 read back from the store, then 10 fitted
    with Store(store) as st:
        sessions = st.sessions()
        assert len(sessions) == 2 and sessions[-1]["n_jobs"] == 10


def test_classification_blocks_through_the_store_match_in_process():
    src = ClassificationSource("0.5 + 0.4*sin(2*pi*x)")
    est = DecisionTreeClassifier(max_depth=3, random_state=0)
    for loss in ("zero_one", "cross_entropy"):
        a = decompose(est, src, loss=loss, n_datasets=100, seed=1, jobs=1)
        b = decompose(est, ClassificationSource(lambda x: 0.5 + 0.4 * np.sin(2 * np.pi * x)), loss=loss,
                      n_datasets=100, seed=1, jobs=1)
        for f in ("bias2", "variance", "noise", "error", "sum_terms"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f"{loss} {f}")


def test_what_cannot_be_written_as_json_refuses_a_store(tmp_path):
    with pytest.raises(GenlabError, match="cannot run through a store.*callable"):
        decompose(Ridge(), SyntheticSource(lambda x: x), n_datasets=40, store=tmp_path / "s.sqlite")
    data = load_dataset("diabetes")
    in_memory = Dataset(data.X, data.y, data.feature_names, data.target_name, data.task, data.name)
    with pytest.raises(GenlabError, match="made in memory"):
        decompose_data(Ridge(), in_memory, rounds=5, store=tmp_path / "s.sqlite")


# -- real data ---------------------------------------------------------------------------

def test_real_data_rounds_through_the_store_match_in_process(tmp_path):
    data = load_dataset("diabetes")
    in_memory = Dataset(data.X, data.y, data.feature_names, data.target_name, data.task, data.name)
    ests = [Ridge(alpha=1.0), Ridge(alpha=1e-3)]
    for method in ("disjoint", "bootstrap"):
        a = decompose_data(ests, data, method=method, rounds=30, seed=4, jobs=2, store=tmp_path / f"{method}.sqlite")
        b = decompose_data(ests, in_memory, method=method, rounds=30, seed=4, jobs=1)
        same(a, b)
        assert a.n_datasets == b.n_datasets >= 2


def test_a_round_job_refuses_data_that_changed(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "".join(f"{i / 40},{(i / 40) ** 2}\n" for i in range(40)))
    data = load_csv(path)
    seen = []
    res = decompose_data(Ridge(), data, rounds=5, n_train=4, seed=0, jobs=1, store=tmp_path / "s.sqlite",
                         progress=seen.append)
    assert res.n_datasets == 5 and sum(seen) == 5
    with Store(tmp_path / "s.sqlite", readonly=True) as st:
        config = st.jobs()[0]["config"]
    assert config["data"]["csv"] == str(path.resolve()) and config["fingerprint"] == data.fingerprint()
    path.write_text(path.read_text().replace("0.0,0.0", "0.0,5.0"))
    with pytest.raises(GenlabError, match="changed since the decomposition started"):
        decompose_round_job(config, None)


def test_cli_biasvar_estimator_writes_block_jobs_to_the_out_store(tmp_path, capsys):
    from genlab.cli.app import main

    args = ["biasvar", "--estimator", "sklearn.tree.DecisionTreeRegressor(max_depth=3)", "--datasets", "100",
            "--jobs", "1", "--json", "--out", str(tmp_path)]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    with Store(tmp_path / "runs.sqlite", readonly=True) as st:
        jobs = st.jobs()
    assert len(jobs) == 20 and {j["kind"] for j in jobs} == {"genlab.analysis.biasvar.general:decompose_block_job"}
    assert main(args) == 0  # read back from the store: the same numbers
    assert json.loads(capsys.readouterr().out)["models"] == first["models"]
    assert main(["biasvar", "--store", str(tmp_path / "x.sqlite"), "--out", str(tmp_path)]) == 2
    assert "--store and --dask are for --estimator" in capsys.readouterr().err


def test_a_dask_local_cluster_gives_bitwise_the_local_blocks(tmp_path):
    # the blocks' arrays travel back from Dask workers as bytes; the numbers must not change
    ests = [DecisionTreeRegressor(max_depth=3)]
    local = decompose(ests, SyntheticSource(), n_datasets=100, seed=5, jobs=1, store=tmp_path / "local.sqlite")
    on_dask = decompose(ests, SyntheticSource(), n_datasets=100, seed=5, jobs=2, dask="local",
                        store=tmp_path / "dask.sqlite")
    same(local, on_dask)
    with Store(tmp_path / "dask.sqlite", readonly=True) as st:
        assert st.sessions()[-1]["executor"].startswith("dask")


# -- what the store keeps of a block's scatter -------------------------------------------------

def array_bytes(path) -> dict:
    """Bytes of the arrays a store holds, by array name."""
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT name, SUM(LENGTH(data)) FROM arrays GROUP BY name").fetchall())
    finally:
        con.close()


def test_a_4_model_sweep_stores_the_deviations_not_the_26_mb_scatter_with_the_same_numbers(tmp_path):
    """100 datasets (20 blocks of 5) of 4 models on 200 test points: each block's scatter (4 x 200 x 200) is
    stored as the deviations it is made of (5 x 200 x 4), and every number comes out as in process."""
    from sklearn.neighbors import KNeighborsRegressor

    ests = [KNeighborsRegressor(n_neighbors=k) for k in (1, 2, 4, 8)]
    kw = dict(n_datasets=100, seed=2, jobs=1, knob="n_neighbors", values=[1, 2, 4, 8])
    via_store = decompose(ests, SyntheticSource(), store=tmp_path / "runs.sqlite", **kw)
    in_process = decompose(ests, SyntheticSource(lambda x: 2 * x ** 2 + 1), **kw)
    same(via_store, in_process)
    for f in ("var_x", "first_fits", "per_dataset_error", "noise_se", "drift_z"):
        np.testing.assert_array_equal(getattr(via_store, f), getattr(in_process, f), err_msg=f)
    stored = array_bytes(tmp_path / "runs.sqlite")
    full_scatter = 20 * 4 * 200 * 200 * 8                      # 25.6 MB: what the store kept before
    assert "cov" not in stored and stored["dev"] == 20 * 5 * 200 * 4 * 8
    assert sum(stored.values()) < full_scatter / 25


def test_a_store_holding_full_scatters_still_reads_with_the_same_numbers(tmp_path):
    """Stores written before kept each block's whole scatter as "cov": they are read back, not refitted."""
    from genlab.analysis.biasvar.blocks import scatter

    ests = [DecisionTreeRegressor(max_depth=2), DecisionTreeRegressor(max_depth=4)]
    kw = dict(n_datasets=100, seed=7, jobs=1)
    store = tmp_path / "old.sqlite"
    decompose(ests, SyntheticSource(), store=store, **kw)
    con = sqlite3.connect(store)  # make it a store as written before: each block's whole scatter, as "cov"
    with con:
        for job, shape, data in con.execute("SELECT job, shape, data FROM arrays WHERE name = 'dev'").fetchall():
            cov = scatter(np.frombuffer(data, dtype="<f8").reshape(json.loads(shape)))
            con.execute("INSERT INTO arrays VALUES (?, 'cov', '<f8', ?, ?)", (job, json.dumps(cov.shape),
                                                                                cov.tobytes()))
        con.execute("DELETE FROM arrays WHERE name = 'dev'")
    con.close()
    assert array_bytes(store)["cov"] == 20 * 2 * 200 * 200 * 8 and "dev" not in array_bytes(store)
    again = decompose(ests, SyntheticSource(), store=store, **kw)
    with Store(store, readonly=True) as st:
        assert len(st.sessions()) == 1  # nothing ran again: all 20 blocks were read back
    assert "dev" not in array_bytes(store)
    same(again, decompose(ests, SyntheticSource(lambda x: 2 * x ** 2 + 1), **kw))


def test_large_blocks_store_the_upper_triangle_of_their_scatter(tmp_path):
    """Blocks of more datasets than half the test points: the scatter's upper triangle, the same numbers."""
    ests = [Ridge(alpha=1.0), DecisionTreeRegressor(max_depth=2)]
    kw = dict(n_datasets=400, n_test=12, seed=1, jobs=1)       # 20 blocks of 20 datasets, 12 test points
    via_store = decompose(ests, SyntheticSource(), store=tmp_path / "s.sqlite", **kw)
    same(via_store, decompose(ests, SyntheticSource(lambda x: 2 * x ** 2 + 1), **kw))
    np.testing.assert_array_equal(via_store.var_x, decompose(ests, SyntheticSource(), **kw).var_x)
    stored = array_bytes(tmp_path / "s.sqlite")
    assert "cov" not in stored and "dev" not in stored and stored["cov_upper"] == 20 * 2 * (12 * 13 // 2) * 8


def test_scatter_forms_give_back_the_same_bits():
    from genlab.analysis.biasvar.blocks import scatter, scatter_arrays, scatter_from

    g = np.random.default_rng(0)
    for b, K, M, form in ((1, 1, 1, "cov_upper"), (5, 200, 3, "dev"), (40, 30, 2, "cov_upper")):
        dev = g.standard_cauchy((b, K, M))
        cov = scatter(dev)
        arrays = scatter_arrays(dev, cov)
        assert list(arrays) == [form]
        np.testing.assert_array_equal(scatter_from(arrays), cov)
    lopsided = cov + np.triu(np.ones_like(cov), 1)             # not symmetric: kept whole
    assert list(scatter_arrays(np.zeros((40, 30, 2)), lopsided)) == ["cov"]
    np.testing.assert_array_equal(scatter_from({"cov": lopsided}), lopsided)
