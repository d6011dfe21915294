"""Estimator strings are parsed, never run: nothing in them is called before every part is checked.

Each hostile string below would, without the checks, run a shell command,
write or delete a file, or create a store. A canary file beside the test
proves nothing ran; the CLI refuses with one line, exit 2, and writes nothing.
"""

import json

import pytest
from sklearn.ensemble import BaggingRegressor
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeRegressor

from genlab import GenlabError
from genlab.cli.app import main
from genlab.core.estimators import from_spec, parse_estimator, to_spec


def hostile(tmp):
    canary = tmp / "canary"
    victim = tmp / "victim"
    return [
        # the four: functions re-exported by modules of the allowed packages
        (f"sklearn.utils._testing.check_output(args=['touch', '{canary}'])", "private part"),
        (f"sklearn.datasets._species_distributions.remove(path='{victim}')", "private part"),
        (f"sklearn.datasets._rcv1.makedirs(name='{canary}')", "private part"),
        (f"genlab.core.io.atomic_write_text(path='{canary}', text='x')", "not a class"),
        # public paths to functions and to classes of other packages
        (f"sklearn.calibration.signature(obj='{canary}')", "not a class"),
        ("sklearn.base.defaultdict()", "re-exported from outside"),
        ("sklearn.conftest.SkipTest()", "private part"),
        # a class of genlab's whose constructor creates a file, but is no estimator
        (f"genlab.runs.store.Store(path='{canary}')", "no fit/predict"),
        # the same, nested inside a meta-estimator's arguments
        (f"sklearn.pipeline.Pipeline(steps=[('s', genlab.runs.store.Store(path='{canary}'))])", "no fit"),
        (f"sklearn.ensemble.BaggingRegressor(estimator=genlab.core.io.atomic_write_text(path='{canary}', text='x'))",
         "not a class"),
        # methods, dunders, positional calls, computed arguments
        ("sklearn.linear_model.Ridge.fit", "does not exist"),
        ("genlab.PolynomialRegression.__init__", "private part"),
        (f"sklearn.linear_model.Ridge(alpha=open('{canary}', 'w'))", "not a literal"),
        ("sklearn.linear_model.Ridge(alpha=__import__('os').system('touch canary'))", "not a literal"),
        (f"sklearn.tree.DecisionTreeRegressor(max_depth=(lambda: open('{canary}', 'w'))())", "not a literal"),
        ("sklearn.tree.DecisionTreeRegressor(**{'max_depth': 3})", "**kwargs"),
        (f"os.system('touch {canary}')", "keyword arguments"),
        ("subprocess.Popen(args='ls')", "not allowed"),
        ("functools.partial(func=print)", "not allowed"),
        # parameters are checked before any store exists
        ("sklearn.linear_model.Ridge(alhpa=1.0)", "no parameter 'alhpa'"),
        ("sklearn.linear_model.Ridge(alpha=-1.0)", "range"),
        # sizes and nesting
        ("sklearn.tree.DecisionTreeRegressor(max_depth=" + "[" * 150 + "]" * 150 + ")", "max_depth"),
        ("sklearn.linear_model.Ridge(alpha=" + "-" * 1900 + "1)", "nested too deeply"),
        ("sklearn.linear_model.Ridge(alpha=" + "1," * 3000 + "1)", "characters"),
    ]


CASES = hostile(__import__("pathlib").Path("/nonexistent-genlab-canary"))


@pytest.mark.parametrize("i", range(len(CASES)))
def test_hostile_estimator_strings_are_refused_and_nothing_runs(tmp_path, capsys, monkeypatch, i):
    monkeypatch.chdir(tmp_path)
    text, match = hostile(tmp_path)[i]
    (tmp_path / "victim").write_text("keep me")
    rc = main(["biasvar", "--estimator", text, "--datasets", "20", "--out", "o"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("genlab: error:"), err
    assert match in lines[0], lines[0]
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim"], "something was written"
    assert (tmp_path / "victim").read_text() == "keep me"


def test_nested_estimators_are_built_after_the_same_checks():
    est = parse_estimator("sklearn.pipeline.Pipeline(steps=[('p', sklearn.preprocessing.PolynomialFeatures("
                          "degree=3)), ('r', sklearn.linear_model.Ridge(alpha=0.5))])")
    assert isinstance(est, Pipeline) and est.get_params()["r__alpha"] == 0.5
    assert est.get_params()["p__degree"] == 3
    bag = parse_estimator("sklearn.ensemble.BaggingRegressor(estimator=sklearn.tree.DecisionTreeRegressor("
                          "max_depth=2), n_estimators=3)")
    assert isinstance(bag, BaggingRegressor) and isinstance(bag.estimator, DecisionTreeRegressor)
    assert bag.estimator.max_depth == 2
    assert parse_estimator("PolynomialRegression(degree=4)").degree == 4


@pytest.mark.parametrize("spec, match", [
    ({"estimator": "os:system", "params": {}}, "re-exported"),
    ({"estimator": "subprocess:Popen", "params": {"args": "id"}}, "not an estimator class"),
    ({"estimator": "sklearn.utils._testing:check_output", "params": {}}, "re-exported"),
    ({"estimator": "sklearn.base:defaultdict", "params": {}}, "re-exported"),
    ({"estimator": "genlab.runs.store:Store", "params": {"path": "/nonexistent/x"}}, "not an estimator class"),
    ({"estimator": "posixpath:join", "params": {}}, "not an estimator class"),
    ({"estimator": "sklearn.linear_model:Ridge()", "params": {}}, "expected 'module:Class'"),
    ({"estimator": "sklearn.preprocessing._function_transformer:FunctionTransformer", "params": {"func": {"callable": "posix:system"}}},
     "must come from"),
    ({"estimator": "sklearn.preprocessing._function_transformer:FunctionTransformer", "params": {"func": {"callable": "builtins:eval"}}},
     "must come from"),
    ({"estimator": "sklearn.pipeline:Pipeline", "params": {"steps": [{"tuple": ["a", {
        "estimator": "genlab.runs.store:Store", "params": {}}]}]}}, "not an estimator class"),
])
def test_job_configs_name_estimator_classes_only(spec, match):
    with pytest.raises(GenlabError, match=match):
        from_spec(json.loads(json.dumps(spec)))


def test_round_trip_still_keeps_importable_functions():
    import numpy as np
    from sklearn.preprocessing import FunctionTransformer

    spec = to_spec(FunctionTransformer(np.log1p))
    assert from_spec(spec).func is np.log1p
