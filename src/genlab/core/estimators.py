"""Estimators named on the command line: ``"sklearn.tree.DecisionTreeRegressor(max_depth=3)"``.

The text is parsed, never evaluated, and nothing is called until every name in
it has been checked:

* a name must be a dotted path under ``sklearn.`` or ``genlab.`` with no
  private part (no ``_``-prefixed module or attribute);
* it must resolve to a **class** whose own ``__module__`` lies under those
  roots (a function, or a class that a module merely re-exports from the
  standard library, is refused), and that class must be a scikit-learn
  estimator: a ``BaseEstimator`` subclass or a class defining ``fit``
  (and ``predict`` for the estimator being decomposed);
* arguments are keywords whose values are literals (numbers, strings, None,
  True/False, tuples, lists and dicts of them) or nested estimators, which
  get the same checks (pipelines, meta-estimators);
* keyword names must be parameters of the class, and scikit-learn's own
  parameter validation runs before the estimator is returned.

Only then is the class instantiated. The same rules, without the root
restriction, hold when a worker rebuilds an estimator from a job config
(:func:`from_spec`): a config names an estimator class, never a function to
call.
"""

from __future__ import annotations

import ast
import importlib
import inspect

from .errors import GenlabError

ALLOWED = ("sklearn", "genlab")
SHORT = {"PolynomialRegression": "genlab.PolynomialRegression"}
MAX_TEXT = 4000   # characters of one estimator string
MAX_DEPTH = 8     # nesting of estimators inside estimators' arguments
EXAMPLE = "'sklearn.tree.DecisionTreeRegressor(max_depth=3)'"


def _under(module: str | None, roots) -> bool:
    return bool(module) and module.split(".")[0] in roots


def _is_estimator_class(obj, *, predictor: bool) -> bool:
    if not isinstance(obj, type) or inspect.isabstract(obj):
        return False
    has = lambda name: callable(getattr(obj, name, None))  # noqa: E731  on the class, not an instance
    if predictor:
        return has("fit") and has("predict")
    try:
        from sklearn.base import BaseEstimator

        if issubclass(obj, BaseEstimator):
            return True
    except ImportError:  # pragma: no cover - sklearn is a dependency
        pass
    return has("fit")


def _check_class(path: str, *, roots=ALLOWED, predictor: bool = False):
    """The estimator class at dotted ``path`` — checked, never called."""
    parts = path.split(".")
    if parts[0] not in roots or not all(p.isidentifier() for p in parts) or len(parts) < 2:
        raise GenlabError(f"estimator {path!r} is not allowed; name a class from {' or '.join(roots)}, "
                          f"like {EXAMPLE}")
    private = [p for p in parts if p.startswith("_") or p in ("tests", "conftest", "externals")]
    if private:
        raise GenlabError(f"estimator {path!r} names a private part ({private[0]}); use the public path, "
                          f"like {EXAMPLE}")
    module, _, name = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise GenlabError(f"estimator {path!r} does not exist; check the module and class name") from None
    if not isinstance(obj, type):
        raise GenlabError(f"{path} is not a class; name an estimator class, like {EXAMPLE}")
    if not _under(getattr(obj, "__module__", None), roots):
        raise GenlabError(f"{path} is {obj.__module__}.{obj.__qualname__}, re-exported from outside "
                          f"{' and '.join(roots)}; name an estimator class of those packages")
    if not _is_estimator_class(obj, predictor=predictor):
        what = "no fit/predict" if predictor else "no fit"
        raise GenlabError(f"{path} has {what}; name an estimator" + (" that predicts" if predictor else ""))
    return obj


def _param_names(cls) -> set[str] | None:
    getter = getattr(cls, "_get_param_names", None)
    try:
        return set(getter()) if getter is not None else None
    except Exception:  # noqa: BLE001  a class without a plain __init__ signature
        return None


def _build(node, text: str, depth: int, *, predictor: bool):
    """The estimator an ``ast.Call`` (or bare name) describes, every part checked before any call."""
    if depth > MAX_DEPTH:
        raise GenlabError(f"estimator {text[:60]!r}...: estimators nested more than {MAX_DEPTH} deep; simplify it")
    if isinstance(node, (ast.Name, ast.Attribute)):
        node = ast.Call(func=node, args=[], keywords=[])
    if not isinstance(node, ast.Call) or node.args or not isinstance(node.func, (ast.Name, ast.Attribute)):
        raise GenlabError(f"estimator {ast.unparse(node)[:80]!r}: give a class with keyword arguments only, "
                          "like 'sklearn.neighbors.KNeighborsRegressor(n_neighbors=5)'")
    path = ast.unparse(node.func)
    path = SHORT.get(path, path)
    cls = _check_class(path, predictor=predictor)
    names = _param_names(cls)
    kwargs = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise GenlabError(f"estimator {path}: **kwargs are not allowed; name each parameter")
        if names is not None and kw.arg not in names:
            raise GenlabError(f"estimator {path} has no parameter {kw.arg!r}; its parameters are "
                              f"{', '.join(sorted(names)) or '(none)'}")
        kwargs[kw.arg] = _argument(kw.value, kw.arg, text, depth)
    try:
        est = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise GenlabError(f"estimator {path}: {exc}") from None
    validate = getattr(est, "_validate_params", None)
    if callable(validate) and hasattr(cls, "_parameter_constraints"):  # scikit-learn checks types and ranges only at fit; do it before any work
        try:
            validate()
        except (TypeError, ValueError) as exc:
            raise GenlabError(f"estimator {path}: {' '.join(str(exc).split())}") from None
    return est


def _argument(node, name: str, text: str, depth: int):
    """A keyword argument's value: a literal, or containers holding literals and estimators."""
    call = isinstance(node, ast.Call) and not node.args and isinstance(node.func, (ast.Name, ast.Attribute))
    if call or isinstance(node, ast.Attribute) or (isinstance(node, ast.Name) and node.id in SHORT):
        return _build(node, text, depth + 1, predictor=False)
    if isinstance(node, ast.List):
        return [_argument(e, name, text, depth) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_argument(e, name, text, depth) for e in node.elts)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_argument(k, name, text, depth): _argument(v, name, text, depth)
                for k, v in zip(node.keys, node.values)}
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise GenlabError(f"estimator argument {name}={ast.unparse(node)[:80]} is not a literal; "
                          "use numbers, strings, None, True or False (or a nested estimator)") from None


def parse_estimator(text: str):
    """An unfitted estimator from ``"package.module.Class(arg=value, ...)"``.

    Parameters
    ----------
    text : str
        A class path under ``sklearn.`` or ``genlab.`` with keyword arguments
        that are literals or nested estimators, e.g.
        ``"sklearn.pipeline.Pipeline(steps=[('p', sklearn.preprocessing.PolynomialFeatures(degree=3)),
        ('r', sklearn.linear_model.Ridge())])"``.

    Raises
    ------
    GenlabError
        For anything but an estimator class of those packages with valid
        parameters; nothing in the text is called before all of it is checked.
    """
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise GenlabError(f"estimator string is {len(text):,} characters; at most {MAX_TEXT:,} are accepted")
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise GenlabError(f"estimator {text[:80]!r} is malformed; write it like {EXAMPLE}") from None
    except (RecursionError, MemoryError):
        raise GenlabError("estimator string is nested too deeply; simplify it") from None
    try:
        return _build(node, text, 0, predictor=True)
    except RecursionError:
        raise GenlabError("estimator string is nested too deeply; simplify it") from None


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


CALLABLE_ROOTS = ("numpy", "scipy", "sklearn", "genlab")


def _resolve(path: str, *, estimator: bool = False, roots=None):
    """The object a config's ``"module:qualname"`` names — checked before anything uses it.

    It must live where the path says (its own ``__module__`` and ``__qualname__``,
    so nothing re-exported from elsewhere); an ``estimator`` must be an
    estimator class, and a parameter's callable must come from ``roots``.
    """
    module, _, qualname = path.partition(":")
    parts = module.split(".") + qualname.split(".")
    if not module or not qualname or not all(p.isidentifier() for p in parts):
        raise GenlabError(f"job config names {path!r}; expected 'module:Class'")
    if roots is not None and module.split(".")[0] not in roots:
        raise GenlabError(f"job config names {path!r}; a parameter's callable must come from "
                          f"{', '.join(roots)}")
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        raise GenlabError(f"job config names {path!r}, which does not exist here") from None
    if getattr(found, "__module__", None) != module or getattr(found, "__qualname__", None) != qualname:
        raise GenlabError(f"job config names {path!r}, which is re-exported from elsewhere")
    if estimator and not _is_estimator_class(found, predictor=False):
        raise GenlabError(f"job config names {path!r}, which is not an estimator class")
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
        return _resolve(spec["callable"], roots=CALLABLE_ROOTS)
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
    cls = _resolve(spec["estimator"], estimator=True)
    return cls(**{k: _value(v) for k, v in spec["params"].items()})
