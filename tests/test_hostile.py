"""Hostile inputs, per command: absurd sizes, paths that are not files, huge numbers and values,
deeply nested expressions. Each is refused with exit status 2 and exactly one line on stderr
(``genlab: error: ...``), no traceback, no file written, in bounded time; the cases that would
take the machine's memory run in a subprocess under an address-space limit (issue 12, §2, §4, §5).
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from genlab.cli.app import main
from genlab.core.errors import GenlabError

BIG = str(10**10)
HUGE = "99999999999999999999"          # 10^20: past any C integer
SEED_2_64 = str(2**64)

CSV_FILES = {
    "huge.csv": "x,y\n0.1,1\n0.2,1e300\n0.3,2\n",
    "runs_huge.csv": "N,D,loss\n1e3,1e5,3\n1e4,1e5,2.5\n1e5,1e5,1e300\n1e6,1e6,2\n",
}

#: id -> (arguments, text the message must contain). Run in this process: each is refused by a
#: check up front, in milliseconds after the imports.
CASES = {
    # biasvar
    "biasvar --datasets 1e10": (["biasvar", "--datasets", BIG], "--datasets"),
    "biasvar --n 1e9": (["biasvar", "--n", "1000000000"], "--n 1,000,000,000"),
    "biasvar --n-test 1e9": (["biasvar", "--n-test", "1000000000"], "--n-test"),
    "biasvar --degrees 0-1e11": (["biasvar", "--degrees", "0-99999999999"], "--degrees"),
    "biasvar --degrees 0-20000": (["biasvar", "--degrees", "0-20000", "--solver", "minnorm"], "--degrees"),
    "biasvar --seed 2**64": (["biasvar", "--seed", SEED_2_64], "2**63"),
    "biasvar --jobs 10000": (["biasvar", "--jobs", "10000"], "--jobs"),
    "biasvar --rounds 1e10": (["biasvar", "--data", "diabetes", "--estimator",
                               "sklearn.linear_model.Ridge()", "--rounds", BIG], "--rounds"),
    "biasvar --probs 1000 classes": (["biasvar", "--loss", "zero_one", "--estimator",
                                      "sklearn.tree.DecisionTreeClassifier()", "--probs", ";".join(["1"] * 1000)],
                                     "--probs"),
    "biasvar --x uniform(-1e308, 1e308)": (["biasvar", "--x", "uniform(-1e308, 1e308)"], "1e100"),
    "biasvar --noise 1e300": (["biasvar", "--noise", "1e300"], "noise"),
    "biasvar --target 1e300*x": (["biasvar", "--target", "1e300*x"], "rescale it"),
    "capacity --folds 1e20": (["curve", "capacity", "--method", "kfold", "--folds", HUGE], "folds"),
    # fit
    "fit --degree 1e6": (["fit", "--degree", "1000000"], "--degree"),
    "fit --degree 1e7": (["fit", "--degree", "10000000"], "--degree"),
    "fit --degree 1e20": (["fit", "--degree", HUGE], "--degree"),
    "fit --n 1e9": (["fit", "--n", "1000000000"], "--n"),
    "fit --n-val 1e9": (["fit", "--n-val", "1000000000"], "--n-val"),
    "fit --seed 2**64": (["fit", "--seed", SEED_2_64], "2**63"),
    "fit --csv directory": (["fit", "--csv", "adir"], "folder"),
    "fit --csv 1e300": (["fit", "--csv", "huge.csv"], "row 2"),
    "fit --target (((...": (["fit", "--target", "(" * 100000], "characters"),
    "fit --target ---...x": (["fit", "--target", "-" * 50000 + "x"], "characters"),
    "fit --target x**x**...": (["fit", "--target", "x" + "**x" * 10000], "characters"),
    "fit --target deep within the length": (["fit", "--target", "-" * 999 + "x"], "nests deeper"),
    "fit --target nested calls": (["fit", "--target", "sin(" * 150 + "x" + ")" * 150], "nests deeper"),
    "fit --target nested parentheses": (["fit", "--target", "(" * 300 + "x" + ")" * 300], "malformed"),
    "fit --target huge literal power": (["fit", "--target", "9" * 990 + "**9"], "not finite"),
    # curve capacity
    "capacity --repeats 1e9": (["curve", "capacity", "--repeats", "1000000000"], "--repeats"),
    "capacity --degrees 0-1e11": (["curve", "capacity", "--degrees", "0-99999999999"], "--degrees"),
    "capacity --degrees 10^5000": (["curve", "capacity", "--degrees", "9" * 5000], "--degrees"),
    "capacity --n 1e9": (["curve", "capacity", "--n", "1000000000"], "--n"),
    "capacity --seed 2**64": (["curve", "capacity", "--seed", SEED_2_64], "2**63"),
    # double descent, regularize
    "double-descent --seeds 1e9": (["double-descent", "--seeds", "1000000000"], "--seeds"),
    "double-descent --n 1e9": (["double-descent", "--kind", "samples", "--model", "linear", "--data", "isotropic",
                                "--n", "1000000000"], "--n"),
    "double-descent --seed 2**64": (["double-descent", "--seed", SEED_2_64], "2**63"),
    "double-descent --jobs 10000": (["double-descent", "--jobs", "10000"], "--jobs"),
    "regularize --degree 1e6": (["regularize", "--degree", "1000000"], "--degree"),
    "regularize --seeds 1e9": (["regularize", "--method", "tuned-ridge", "--seeds", "1000000000"], "--seeds"),
    "regularize --seed 2**64": (["regularize", "--seed", SEED_2_64], "2**63"),
    # lottery
    "lottery --seeds 1e9": (["lottery", "--seeds", "1000000000"], "--seeds"),
    "lottery --width 1e6": (["lottery", "--width", "1000000"], "--width"),
    "lottery --depth 1e6": (["lottery", "--depth", "1000000"], "--depth"),
    "lottery --epochs 1e9": (["lottery", "--epochs", "1000000000"], "--epochs"),
    "lottery --rounds 1e9": (["lottery", "--rounds", "1000000000"], "--rounds"),
    "lottery --jobs 10000": (["lottery", "--jobs", "10000"], "--jobs"),
    # scaling
    "scaling train --tokens 1e15": (["scaling", "train", "--tokens", "1e15"], "--tokens"),
    "scaling train --repeats 1e9": (["scaling", "train", "--repeats", "1000000000"], "--repeats"),
    "scaling train --batch-size 1e9": (["scaling", "train", "--batch-size", "1000000000"], "--batch-size"),
    "scaling train --block-size 1e9": (["scaling", "train", "--block-size", "1000000000"], "--block-size"),
    "scaling train --bootstrap 1e9": (["scaling", "train", "--bootstrap", "1000000000"], "--bootstrap"),
    "scaling train --jobs 10000": (["scaling", "train", "--jobs", "10000"], "--jobs"),
    "scaling train --corpus directory": (["scaling", "train", "--corpus", "adir"], "not a file"),
    "scaling fit directory": (["scaling", "fit", "adir"], "folder"),
    "scaling fit 1e300": (["scaling", "fit", "runs_huge.csv", "--form", "power"], "row 3"),
    "scaling fit --bootstrap 1e9": (["scaling", "fit", "runs_huge.csv", "--bootstrap", "1000000000"],
                                    "--bootstrap"),
    "scaling fit --seed 2**64": (["scaling", "fit", "runs_huge.csv", "--seed", SEED_2_64], "2**63"),
    "scaling plan --law directory": (["scaling", "plan", "--law", "adir.json"], "folder"),
    # runs, article
    "runs demo --n 1e9": (["runs", "demo", "--n", "1000000000"], "--n"),
    "runs demo --jobs 10000": (["runs", "demo", "--jobs", "10000"], "--jobs"),
    "runs demo --seed 2**64": (["runs", "demo", "--seed", SEED_2_64], "2**63"),
    "runs show 1e23": (["runs", "show", "99999999999999999999999", "--store", "store/runs.sqlite"], "too large"),
    "article --jobs 10000": (["article", "--jobs", "10000"], "--jobs"),
}

#: Run in a subprocess under an address-space limit and a timeout: refused by the memory
#: estimate, or by a path check that, missing, would hang (a FIFO) or read forever (/dev/zero).
LIMITED = {
    "biasvar --n-test 1e6 (memory)": (["biasvar", "--n-test", "1000000"], "memory"),
    "biasvar --n 1e5 (memory)": (["biasvar", "--n", "100000"], "memory"),
    "biasvar --datasets 1e7 --allow-large (memory)": (["biasvar", "--datasets", "10000000", "--allow-large"],
                                                      "memory"),
    "fit --degree 1e7 --allow-large (memory)": (["fit", "--degree", "10000000", "--allow-large"], "memory"),
    "capacity --degrees 0-1e5 --allow-large (memory)": (["curve", "capacity", "--degrees", "0-100000", "--n",
                                                         "100000", "--allow-large"], "memory"),
    "double-descent isotropic --n 1e4 --allow-large (memory)": (
        ["double-descent", "--kind", "samples", "--model", "linear", "--data", "isotropic", "--n", "10000",
         "--allow-large"], "memory"),
    "fit --csv /dev/zero": (["fit", "--csv", "/dev/zero"], "device"),
    "fit --csv FIFO": (["fit", "--csv", "fifo"], "FIFO"),
    "biasvar --csv FIFO": (["biasvar", "--csv", "fifo", "--estimator", "sklearn.linear_model.Ridge()"], "FIFO"),
    "curve capacity --csv /dev/zero": (["curve", "capacity", "--csv", "/dev/zero"], "device"),
    "scaling fit /dev/zero": (["scaling", "fit", "/dev/zero"], "device"),
    "scaling fit FIFO": (["scaling", "fit", "fifo"], "FIFO"),
    "scaling train --corpus FIFO": (["scaling", "train", "--corpus", "fifo"], "not a file"),
    "scaling plan --law /dev/zero": (["scaling", "plan", "--law", "/dev/zero"], "device"),
    "fit --target deep nesting": (["fit", "--target", "-" * 999 + "x"], "nests deeper"),
}

LIMIT_AS = 3 * 2**30   # bytes of address space for the subprocess cases
TIMEOUT_S = 60         # seconds a subprocess case may take (imports included)
IN_PROCESS_S = 10      # seconds an in-process refusal may take (after the first imports)


def tree(root: Path) -> set:
    return {p.relative_to(root) for p in root.rglob("*")}


@pytest.fixture
def hostile_dir(tmp_path, monkeypatch):
    """A working folder with the files the cases name: CSVs, a folder, a FIFO, an empty store."""
    for name, text in CSV_FILES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir.json").mkdir()
    os.mkfifo(tmp_path / "fifo")
    from genlab.runs.store import Store

    with Store(tmp_path / "store" / "runs.sqlite"):
        pass
    monkeypatch.chdir(tmp_path)
    return tmp_path


def assert_refused(rc, out, err, must):
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("genlab: error: "), err
    assert must in err, err
    assert out == ""


@pytest.mark.parametrize("args,must", list(CASES.values()), ids=list(CASES))
def test_hostile_input_is_refused_up_front(capfd, hostile_dir, args, must):
    before = tree(hostile_dir)
    start = time.perf_counter()
    rc = main([*args, *_out(args)])
    took = time.perf_counter() - start
    out, err = capfd.readouterr()
    assert_refused(rc, out, err, must)
    assert tree(hostile_dir) == before, "a refused command wrote files"
    assert took < IN_PROCESS_S, f"refused after {took:.1f} s"


def _out(args):
    """An --out folder inside the working folder, for the commands that take one."""
    return [] if args[:2] == ["runs", "show"] else ["--out", "out"]


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


@pytest.mark.parametrize("args,must", list(LIMITED.values()), ids=list(LIMITED))
def test_hostile_input_is_refused_within_bounded_memory_and_time(hostile_dir, args, must):
    before = tree(hostile_dir)
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    code = "import sys; from genlab.cli.app import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, *args, "--out", "out"], cwd=hostile_dir, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S, preexec_fn=_limit)
    assert_refused(proc.returncode, proc.stdout, proc.stderr, must)
    assert tree(hostile_dir) == before, "a refused command wrote files"


# -- the library refuses too ------------------------------------------------------------------

def test_library_refuses_absurd_sizes_before_allocating():
    from genlab.analysis.curves import capacity_curve, parse_degrees
    from genlab.data.sources import ARTICLE_SOURCE
    from genlab.analysis.biasvar import decompose_polynomial
    from genlab.runs.executors import check_jobs
    from genlab.core.seeding import check_seed

    with pytest.raises(GenlabError, match="memory"):
        decompose_polynomial(ARTICLE_SOURCE, range(3), n_datasets=10**12)
    with pytest.raises(GenlabError, match="memory"):
        decompose_polynomial(ARTICLE_SOURCE, range(3), n_test=10**12)
    with pytest.raises(GenlabError, match="memory"):
        capacity_curve(ARTICLE_SOURCE, [2], repeats=10**12)
    with pytest.raises(GenlabError, match="--degrees"):
        parse_degrees("0-99999999999999")
    with pytest.raises(GenlabError, match="2\\*\\*63"):
        check_seed(2**63)
    assert check_seed(2**63 - 1) == 2**63 - 1
    with pytest.raises(GenlabError, match="--jobs"):
        check_jobs(10_000)


def test_allow_large_lifts_only_the_caps_that_bound_time():
    from genlab.core.limits import LIMITS, check_cap

    assert check_cap(20_000, "degree", allow_large=True) == 20_000
    with pytest.raises(GenlabError, match="--degree 20,000 is above the limit of 10,000 .*--allow-large"):
        check_cap(20_000, "degree")
    with pytest.raises(GenlabError, match="--seed"):
        check_cap(2**64, "seed", allow_large=True)
    assert check_cap(None, "datasets") is None
    assert all(lim.why and lim.past for lim in LIMITS.values())


def test_read_csv_refuses_what_is_not_a_regular_file(tmp_path):
    from genlab.data.sources import read_csv

    os.mkfifo(tmp_path / "fifo")
    for path, what in ((tmp_path / "fifo", "FIFO"), (tmp_path, "folder"), ("/dev/zero", "device"),
                       (tmp_path / "missing.csv", "does not exist")):
        with pytest.raises(GenlabError, match=what):
            read_csv(path)


def test_csv_values_beyond_the_limit_name_column_and_row(tmp_path):
    from genlab.data.sources import load_csv

    (tmp_path / "a.csv").write_text("x,y\n1,2\n2,-1e101\n")
    with pytest.raises(GenlabError, match="column 'y', data row 2: -1e\\+?101 is beyond"):
        load_csv(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("x,y\n1,2\n2,1e99\n")
    assert load_csv(tmp_path / "b.csv").y[1] == 1e99


def test_dense_scatter_layers_are_rasterized_in_svg(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genlab.plots.helpers import RASTERIZE_ABOVE, scatter

    x = np.random.default_rng(0).random(20 * RASTERIZE_ABOVE)
    fig, ax = plt.subplots()
    dense = scatter(ax, x, x)
    sparse = scatter(ax, x[:10], x[:10])
    fig.savefig(tmp_path / "f.svg")
    plt.close(fig)
    assert dense.get_rasterized() and not sparse.get_rasterized()
    assert (tmp_path / "f.svg").stat().st_size < 1_000_000


def test_long_runs_say_so_and_default_runs_stay_silent():
    from genlab.core.limits import LONG_RUN_S, announce, biasvar_seconds, capacity_seconds

    assert biasvar_seconds(n_datasets=10_000, n=30, n_params=30, n_models=30) < LONG_RUN_S
    assert capacity_seconds(n=30, degree=30, repeats=100, n_degrees=31) < LONG_RUN_S
    buf = io.StringIO()
    announce(biasvar_seconds(n_datasets=10**7, n=30, n_params=30, n_models=30), "10,000,000 datasets", buf)
    assert buf.getvalue().startswith("genlab: note: this run takes about ") and buf.getvalue().count("\n") == 1
    buf = io.StringIO()
    announce(1.0, "a short run", buf)
    assert buf.getvalue() == ""


def test_limits_table_is_documented_in_the_readme():
    from genlab.core.limits import LIMITS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    for lim in LIMITS.values():
        assert f"`{lim.option}`" in section or lim.option in section, lim.option
