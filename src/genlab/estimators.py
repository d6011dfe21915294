"""Estimators named on the command line: ``"sklearn.tree.DecisionTreeRegressor(max_depth=3)"``.

Only classes from scikit-learn and genlab can be named, and arguments must be
literals (numbers, strings, None, True/False, tuples and lists of them): the
text is parsed, never evaluated.
"""

from __future__ import annotations

import ast
import importlib

from .errors import GenlabError

ALLOWED = ("sklearn.", "genlab.")
SHORT = {"PolynomialRegression": "genlab.PolynomialRegression"}


def parse_estimator(text: str):
    """An unfitted estimator from ``"package.module.Class(arg=value, ...)"``."""
    text = text.strip()
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise GenlabError(f"estimator {text!r} is malformed; write it like "
                          "'sklearn.tree.DecisionTreeRegressor(max_depth=3)'") from None
    if isinstance(node, (ast.Name, ast.Attribute)):
        node = ast.Call(func=node, args=[], keywords=[])
    if not isinstance(node, ast.Call) or node.args:
        raise GenlabError(f"estimator {text!r}: give a class with keyword arguments only, "
                          "like 'sklearn.neighbors.KNeighborsRegressor(n_neighbors=5)'")
    path = ast.unparse(node.func)
    path = SHORT.get(path, path)
    if not path.startswith(ALLOWED) or not all(p.isidentifier() for p in path.split(".")):
        raise GenlabError(f"estimator {path!r} is not allowed; name a class from sklearn or genlab")
    module, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise GenlabError(f"estimator {path!r} does not exist; check the module and class name") from None
    kwargs = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise GenlabError(f"estimator {text!r}: **kwargs are not allowed")
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise GenlabError(f"estimator argument {kw.arg}={ast.unparse(kw.value)} is not a literal; "
                              "use numbers, strings, None, True or False") from None
    try:
        est = cls(**kwargs)
    except TypeError as exc:
        raise GenlabError(f"estimator {path}: {exc}") from None
    if not callable(getattr(est, "fit", None)) or not callable(getattr(est, "predict", None)):
        raise GenlabError(f"{path} has no fit/predict; name an estimator")
    return est
