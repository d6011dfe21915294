"""The user's own estimator classes on the command line (issue 16): ``--estimator "module:Class(...)"`` or
``"module.Class(...)"``, found from the current folder or PYTHONPATH, rebuilt in worker processes; every
mistake a user makes with one is one line, exit 2, nothing written; classifiers that predict one class
everywhere are reported as degenerate.

The module is ``tests/usermods/genlab_test_models.py``, never on genlab's own path: each test copies it
into its folder or puts its folder on PYTHONPATH, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from genlab.cli.app import main

USERMODS = Path(__file__).parent / "usermods"
MODULE = "genlab_test_models"
#: The CLI as the `genlab` script runs it: -P keeps the current folder off sys.path, as a console script does.
CLI = [sys.executable, "-P", "-c", "from genlab.cli.app import run; run()"]


def _forget_module():
    for name in [m for m in sys.modules if m == MODULE or m.startswith(MODULE + ".")]:
        del sys.modules[name]


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """A folder holding the user's module, as the current folder; sys.path, PYTHONPATH and sys.modules
    restored afterwards."""
    shutil.copy(USERMODS / f"{MODULE}.py", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(USERMODS))])
    _forget_module()
    yield tmp_path
    _forget_module()


def _reference(texts, *, n_datasets, seed=0):
    """The library's numbers for the same estimators, in this process (no store, no workers)."""
    from genlab.analysis.biasvar import decompose
    from genlab.core.estimators import parse_estimator

    ests = [parse_estimator(t, user_modules=True) for t in texts]
    return decompose(ests, n_datasets=n_datasets, seed=seed, labels=texts, jobs=1)


def _cli(args, *, cwd, env_path=None, timeout=240):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if env_path is not None:
        env["PYTHONPATH"] = env_path
    with subprocess.Popen([*CLI, *map(str, args)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        out, err = proc.communicate(timeout=timeout)
    return SimpleNamespace(returncode=proc.returncode, stdout=out, stderr=err, pid=proc.pid)


def test_own_class_from_the_current_folder_in_worker_processes(user_folder):
    """The colon spelling, compared with a scikit-learn estimator in one run: the driver finds the module
    in the current folder, and so do the worker processes that rebuild it from the store's job configs."""
    from genlab.runs.store import Store

    texts = [f"{MODULE}:BinRegressor(width=3)", "sklearn.linear_model.LinearRegression()"]
    args = ["biasvar", "--datasets", 60, "--jobs", 2, "--json", "--out", "o"]
    for t in texts:
        args += ["--estimator", t]
    proc = _cli(args, cwd=user_folder)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert [m["label"] for m in record["models"]] == texts
    with Store(user_folder / "o" / "runs.sqlite", readonly=True) as st:
        jobs = st.jobs()
    assert jobs and {j["status"] for j in jobs} == {"done"}
    assert proc.pid not in {j["pid"] for j in jobs}, "the blocks ran in the driver, not in workers"
    assert all(j["config"]["estimators"][0]["estimator"] == f"{MODULE}:BinRegressor" for j in jobs)
    ref = _reference(texts, n_datasets=60)
    for m, b2, var, err in zip(record["models"], ref.bias2, ref.variance, ref.error):
        assert (m["bias2"], m["variance"], m["error"]) == pytest.approx((b2, var, err), rel=1e-12)
    # the histogram's bias: 3 bins of 2x² + 1 leave a clear bias², the line's is 1/45 (as the article's)
    assert record["models"][0]["bias2"] > 4 * record["models"][0]["bias2_se"]
    assert record["models"][1]["bias2"] == pytest.approx(1 / 45, rel=0.1)


def test_own_class_on_pythonpath_dotted_spelling(tmp_path, monkeypatch):
    texts = [f"{MODULE}.BinRegressor(width=5)"]
    proc = _cli(["biasvar", "--estimator", texts[0], "--datasets", 40, "--jobs", 1, "--json", "--out", "o"],
                cwd=tmp_path, env_path=str(USERMODS))
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(USERMODS))
    ref = _reference(texts, n_datasets=40)
    assert record["models"][0]["label"] == texts[0]
    assert record["models"][0]["variance"] == pytest.approx(ref.variance[0], rel=1e-12)


def test_without_the_folder_the_module_is_not_found(tmp_path):
    """The same command where neither the current folder nor PYTHONPATH holds the module: one line."""
    proc = _cli(["biasvar", "--estimator", f"{MODULE}:BinRegressor()", "--datasets", 20, "--out", "o"],
                cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"genlab: error: estimator '{MODULE}.BinRegressor' does not exist: no module '{MODULE}' in the current "
        "folder or on PYTHONPATH; check the name, or run genlab where the module is"]
    assert not (tmp_path / "o").exists()


BAD = [
    # (estimator text, extra arguments, the message's words)
    ("no_such_module_16:Reg()", (), "no module 'no_such_module_16'"),
    ("broken_module_16:Reg()", (), "importing broken_module_16 failed (RuntimeError: half-written"),
    ("needs_dep_16:Reg()", (), "it needs 'a_dependency_not_installed_16', which is not installed"),
    (f"{MODULE}:FitOnly()", (), "has no fit/predict"),
    (f"{MODULE}:make_regressor(width=3)", (), "is not a class (function)"),
    (f"{MODULE}:NoSuch()", (), f"module {MODULE} has no 'NoSuch'"),
    (f"{MODULE}:BinRegressor(depth=3)", (), "has no parameter 'depth'; its parameters are hi, lo, width"),
    (f"{MODULE}:BinRegressor(width='wide')", (), "width='wide' is not int"),
    (f"{MODULE}:BinRegressor(width=2.5)", (), "width=2.5 is not int"),
    (f"{MODULE}:BinRegressor(lo=[0])", (), "lo=[0] is not float"),
    ("sklearn.tree.DecisionTreeRegressor(max_depth='deep')", (), "'max_depth' parameter"),
    (f"{MODULE}:BinRegressor(width=0)", (), "failed on a first dataset (ValueError: width must be at least 1"),
    (f"{MODULE}:WrongShape()", (), "predict gave shape (200, 2) for 200 test points"),
    (f"{MODULE}:BinRegressor.fit", (), "is not a class (function)"),
    (f"{MODULE}:BinRegressor.__init__", (), "private part (__init__)"),
    (f"{MODULE}.np.random.Generator()", (), "does not exist"),
    (f"{MODULE}:np.ndarray()", (), f"{MODULE}.np is a module, not a class"),
    (f"{MODULE}:Generator()", (), "is numpy.random._generator.Generator, re-exported from outside"),
    (f"{MODULE}:MajorityClassifier()", (), "is not a regressor"),
    (f"{MODULE}:BinRegressor()", ("--loss", "zero_one"), "is not a classifier"),
]


@pytest.mark.parametrize("text, extra, match", BAD, ids=[b[0] for b in BAD])
def test_bad_own_estimators_are_one_line_and_nothing_is_written(user_folder, capsys, text, extra, match):
    (user_folder / "broken_module_16.py").write_text("raise RuntimeError('half-written module')\n")
    (user_folder / "needs_dep_16.py").write_text("import a_dependency_not_installed_16\n")
    before = sorted(p.name for p in user_folder.iterdir())
    rc = main(["biasvar", "--estimator", text, "--datasets", "20", "--out", "o", *extra])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("genlab: error:"), err
    assert match in lines[0], lines[0]
    after = sorted(p.name for p in user_folder.iterdir() if p.name != "__pycache__")
    assert after == before, "something was written"


def _csv(path, rows=120):
    g = np.random.default_rng(0)
    a, b = g.uniform(0, 1, rows), g.uniform(0, 1, rows)
    y = 2 * a ** 2 + b + g.normal(0, 0.1, rows)
    path.write_text("a,b,target\n" + "".join(f"{u},{v},{w}\n" for u, v, w in zip(a, b, y)))
    return path


@pytest.mark.parametrize("args, match", [
    (("--csv", "d.csv", "--y-col", "label", "--estimator", "sklearn.linear_model.Ridge()"),
     "has no column 'label'; its columns are a, b, target"),
    (("--csv", "d.csv", "--y-col", "target", "--estimator", "sklearn.linear_model.Ridge()",
      "--estimator", "sklearn.tree.DecisionTreeClassifier()"),
     "mixes classifiers (sklearn.tree.DecisionTreeClassifier()) and regressors (sklearn.linear_model.Ridge())"),
    (("--estimator", "sklearn.linear_model.Ridge()", "--estimator", f"{MODULE}:MajorityClassifier()"),
     f"mixes classifiers ({MODULE}:MajorityClassifier()) and regressors"),
    (("--loss", "zero_one", "--estimator", "sklearn.dummy.DummyClassifier()", "--estimator",
      "sklearn.linear_model.Ridge()"), "mixes classifiers"),
    (("--estimator", "sklearn.linear_model.Ridge()", "--estimator", " sklearn.linear_model.Ridge() "),
     "is given twice"),
])
def test_bad_data_and_comparisons(user_folder, capsys, args, match):
    _csv(user_folder / "d.csv")
    rc = main(["biasvar", *args, "--datasets", "20", "--out", "o"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and match in lines[0], lines
    assert not (user_folder / "o").exists()


def test_csv_comparison_uses_every_column_but_y(user_folder, capsys):
    """--csv with --y-col only: the inputs are the other columns, and two models share one run and table."""
    from genlab.analysis.biasvar import decompose_data
    from genlab.data.sources import load_csv
    from sklearn.linear_model import LinearRegression
    from sklearn.tree import DecisionTreeRegressor

    _csv(user_folder / "d.csv")
    texts = ["sklearn.linear_model.LinearRegression()",
             "sklearn.tree.DecisionTreeRegressor(max_depth=2, random_state=0)"]
    rc = main(["biasvar", "--csv", "d.csv", "--y-col", "target", "--estimator", texts[0], "--estimator", texts[1],
               "--n-train", "10", "--jobs", "1", "--json", "--out", "o"])
    out = capsys.readouterr().out
    assert rc == 0
    record = json.loads(out)
    ref = decompose_data([LinearRegression(), DecisionTreeRegressor(max_depth=2, random_state=0)],
                         load_csv(user_folder / "d.csv", x=("a", "b"), y="target"), n_train=10, labels=texts)
    assert [m["label"] for m in record["models"]] == texts
    assert [m["bias2_plus_noise"] for m in record["models"]] == pytest.approx(list(ref.bias2), rel=1e-12)
    assert [m["variance"] for m in record["models"]] == pytest.approx(list(ref.variance), rel=1e-12)


# -- degenerate classifiers -----------------------------------------------------------------------

def test_a_classifier_that_predicts_one_class_is_degenerate(tmp_path, monkeypatch):
    """Flagged in the result (share of one-class fits, a column, a note), in this process and through a store
    alike; a classifier that learns is not."""
    from sklearn.dummy import DummyClassifier
    from sklearn.tree import DecisionTreeClassifier

    from genlab.analysis.biasvar import decompose
    from genlab.data.sources import ClassificationSource

    monkeypatch.syspath_prepend(str(USERMODS))
    from genlab_test_models import MajorityClassifier

    source = ClassificationSource("0.5 + 0.4*sin(2*pi*x)")
    ests = [DummyClassifier(), MajorityClassifier(), DecisionTreeClassifier(max_depth=3)]
    res = decompose(ests, source, loss="zero_one", n_datasets=60, seed=2)
    assert list(res.degenerate) == [1.0, 1.0, 0.0]
    assert list(res.is_degenerate) == [True, True, False]
    cols = res.summary(as_frame=False)
    assert list(cols["degenerate"]) == [True, True, False]
    notes = res.config["notes"]
    assert len(notes) == 2 and "DummyClassifier is degenerate: 100% of its fits" in notes[0]
    stored = decompose(ests[:1] + ests[2:], source, loss="zero_one", n_datasets=60, seed=2,
                       store=tmp_path / "s.sqlite", jobs=1)
    assert list(stored.degenerate) == [1.0, 0.0]
    ce = decompose([DummyClassifier(), DecisionTreeClassifier(max_depth=3)], source, loss="cross_entropy",
                   n_datasets=40, seed=2)
    assert list(ce.is_degenerate) == [True, False]


def test_degenerate_on_real_data_and_in_the_table(tmp_path, monkeypatch, capsys):
    from sklearn.dummy import DummyClassifier
    from sklearn.tree import DecisionTreeClassifier

    from genlab.analysis.biasvar import decompose_data
    from genlab.data.sources import load_dataset

    res = decompose_data([DummyClassifier(), DecisionTreeClassifier(max_depth=2)], load_dataset("wine"),
                         loss="zero_one", method="bootstrap", rounds=12)
    assert list(res.is_degenerate) == [True, False]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    rc = main(["biasvar", "--loss", "zero_one", "--estimator", "sklearn.dummy.DummyClassifier()", "--estimator",
               "sklearn.tree.DecisionTreeClassifier(max_depth=2)", "--datasets", "40", "--jobs", "1", "--out", "o"])
    out = capsys.readouterr().out
    assert rc == 0
    rows = [line for line in out.splitlines() if line.count("│") > 5]
    assert "DummyClassifier() (degenerate)" in rows[0] and "degenerate" not in rows[1]
    assert "note: sklearn.dummy.DummyClassifier() is degenerate: 100% of its fits predict one class" in out
    stem = "biasvar_DummyClassifier+DecisionTreeClassifier-max_depth=2_datasets=40_loss=zero_one"
    record = json.loads((tmp_path / "o" / f"{stem}.json").read_text())
    assert [m["degenerate"] for m in record["models"]] == [True, False]
