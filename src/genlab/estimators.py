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


# -- estimators as job configs ---------------------------------------------------------------

class NotDescribable(Exception):
    """An estimator (or one of its parameters) that a JSON config cannot rebuild exactly."""


def _import_path(obj) -> str:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname:
        raise NotDescribable(f"{obj!r} is not importable by worker processes (define it in a module)")
    found = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not obj:
        raise NotDescribable(f"{obj!r} is not reachable as {module}.{qualname}")
    return f"{module}:{qualname}"


def _resolve(path: str):
    module, _, qualname = path.partition(":")
    found = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _value_spec(v):
    import numpy as np

    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)) and not isinstance(v, np.bool_):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, tuple):
        return {"tuple": [_value_spec(x) for x in v]}
    if isinstance(v, list):
        return [_value_spec(x) for x in v]
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            raise NotDescribable("a parameter dict has non-string keys")
        return {"dict": {k: _value_spec(x) for k, x in v.items()}}
    if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
        return {"ndarray": v.tolist(), "dtype": v.dtype.str}
    if hasattr(v, "get_params") and hasattr(v, "fit"):
        return to_spec(v)
    if isinstance(v, type) or callable(v):
        return {"callable": _import_path(v)}
    raise NotDescribable(f"parameter value {v!r} ({type(v).__name__}) has no JSON form")


def _value(spec):
    import numpy as np

    if isinstance(spec, list):
        return [_value(x) for x in spec]
    if not isinstance(spec, dict):
        return spec
    if "estimator" in spec:
        return from_spec(spec)
    if "tuple" in spec:
        return tuple(_value(x) for x in spec["tuple"])
    if "dict" in spec:
        return {k: _value(x) for k, x in spec["dict"].items()}
    if "ndarray" in spec:
        return np.asarray(spec["ndarray"], dtype=np.dtype(spec["dtype"]))
    if "callable" in spec:
        return _resolve(spec["callable"])
    raise ValueError(f"unknown value spec {spec!r}")


def to_spec(est) -> dict:
    """A JSON config that :func:`from_spec` turns back into an equal, unfitted estimator.

    ``{"estimator": "module:Class", "params": {...}}`` from ``get_params(deep=False)``;
    nested estimators (pipelines, meta-estimators), tuples, arrays and
    importable functions are kept. Worker processes rebuild the estimator from
    it, so a sweep's store records exactly what was fitted.

    Raises
    ------
    NotDescribable
        If the class or a parameter cannot be rebuilt from JSON (a class
        defined in ``__main__``, a lambda, an object without a JSON form), or
        the round trip does not give the same parameters back.
    """
    if not (hasattr(est, "get_params") and hasattr(est, "fit")):
        raise NotDescribable(f"{type(est).__name__} is not a scikit-learn estimator")
    spec = _spec(est)
    try:
        again = _spec(from_spec(spec))
    except Exception as exc:  # the class rejects its own parameters, or loses them
        raise NotDescribable(f"{type(est).__name__} cannot be rebuilt from its parameters ({exc})") from None
    if again != spec:
        raise NotDescribable(f"{type(est).__name__}'s parameters do not survive a round trip through JSON")
    return spec


def _spec(est) -> dict:
    return {"estimator": _import_path(type(est)),
            "params": {k: _value_spec(v) for k, v in sorted(est.get_params(deep=False).items())}}


def from_spec(spec: dict):
    """The unfitted estimator a :func:`to_spec` config describes."""
    cls = _resolve(spec["estimator"])
    return cls(**{k: _value(v) for k, v in spec["params"].items()})
