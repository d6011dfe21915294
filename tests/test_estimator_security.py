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


# -- the command line's own modules: imported only when named, and only once the whole text is checked ---

SIDE_EFFECT_MODULE = '''
import pathlib

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

pathlib.Path("imported").write_text("this module's code ran")


class Model(RegressorMixin, BaseEstimator):
    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        self.m_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.m_)


class Writer:
    """Has fit and writes a file when built: never built, since it cannot predict."""

    def __init__(self, path="canary"):
        pathlib.Path(path).write_text("built")

    def fit(self, X, y):
        return self
'''


def user_hostile(tmp):
    canary = tmp / "canary"
    mod = "sideeffect_16"
    # (text, words of the message, whether importing the named module is allowed: the rest of the text is
    # refused first, so the module must not even be imported)
    return [
        (f"os:system(command='touch {canary}')", "Python's standard library", False),
        (f"os.system(command='touch {canary}')", "Python's standard library", False),
        ("builtins.eval(source='1')", "Python's standard library", False),
        ("builtins:exec(source='1')", "Python's standard library", False),
        (f"subprocess:run(args=['touch', '{canary}'])", "Python's standard library", False),
        (f"importlib:import_module(name='{mod}')", "Python's standard library", False),
        ("__import__(name='os')", "not a class path", False),
        (f"{mod}:Model(alpha=__import__('os').system('touch {canary}'))", "not a literal", False),
        (f"{mod}:Model(alpha=os.system)", "Python's standard library", False),
        (f"{mod}:Model(alpha=eval('1'))", "not a literal", False),
        (f"{mod}:Model.__init__.__globals__", "private part (__init__)", False),
        (f"{mod}:Model.fit.__globals__", "private part (__globals__)", False),
        (f"{mod}.__builtins__.eval()", "private part (__builtins__)", False),
        (f"{mod}:Model(**{{'alpha': 1}})", "**kwargs", False),
        (f"{mod}:Writer(path='{canary}')", "no fit/predict", True),
        (f"{mod}:pathlib.Path(path='{canary}')", f"{mod}.pathlib is a module, not a class", True),
        (f"{mod}:Model.fit", "not a class (function)", True),
        (f"{mod}:BaseEstimator()", "no fit/predict", True),
        (f"{mod}:Model(alpha={mod}:Writer(path='{canary}'))", "Writer has no fit/get_params", True),
        (f"genlab.core.io:atomic_write_text(path='{canary}', text='x')", "not a class", False),
    ]


USER_CASES = user_hostile(__import__("pathlib").Path("/nonexistent-genlab-canary"))


@pytest.fixture
def side_effect_folder(tmp_path, monkeypatch):
    import sys

    (tmp_path / "sideeffect_16.py").write_text(SIDE_EFFECT_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    sys.modules.pop("sideeffect_16", None)
    yield tmp_path
    sys.modules.pop("sideeffect_16", None)


@pytest.mark.parametrize("i", range(len(USER_CASES)), ids=[c[0][:60] for c in USER_CASES])
def test_hostile_text_naming_modules_is_refused_before_anything_runs(side_effect_folder, capsys, i):
    tmp = side_effect_folder
    text, match, imports = user_hostile(tmp)[i]
    rc = main(["biasvar", "--estimator", text, "--datasets", "20", "--out", "o"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("genlab: error:"), err
    assert match in lines[0], lines[0]
    written = sorted(p.name for p in tmp.iterdir() if p.name != "__pycache__")
    assert written == sorted(["sideeffect_16.py", *(["imported"] if imports else [])]), written


def test_a_clean_text_imports_the_module_it_names(side_effect_folder):
    """The other side of the test above: the marker file does appear when the module is imported."""
    est = parse_estimator("sideeffect_16:Model(alpha=2.0)", user_modules=True)
    assert type(est).__module__ == "sideeffect_16" and est.alpha == 2.0
    assert (side_effect_folder / "imported").exists()


def test_text_from_elsewhere_names_sklearn_and_genlab_only(side_effect_folder):
    """Without user_modules (the web lab, configs), a module of one's own is refused unimported."""
    with pytest.raises(GenlabError, match="not allowed; name a class from sklearn or genlab"):
        parse_estimator("sideeffect_16:Model()")
    assert not (side_effect_folder / "imported").exists()


def test_workers_rebuild_own_classes_but_never_call_other_things(side_effect_folder):
    est = parse_estimator("sideeffect_16:Model(alpha=3.0)", user_modules=True)
    spec = json.loads(json.dumps(to_spec(est)))
    assert spec == {"estimator": "sideeffect_16:Model", "params": {"alpha": 3.0}}
    again = from_spec(spec)
    assert type(again) is type(est) and again.alpha == 3.0
    with pytest.raises(GenlabError, match="not an estimator class"):
        from_spec({"estimator": "sideeffect_16:Writer", "params": {"path": "canary"}})
    assert not (side_effect_folder / "canary").exists()
