"""Estimators named on the command line: ``"sklearn.tree.DecisionTreeRegressor(max_depth=3)"``,
``"mypkg.models:MyRegressor(width=16)"``.

The text is parsed, never evaluated, and checked in two passes. The first
looks at the text alone — nothing is imported or called:

* a name is a dotted path (``package.module.Class``, or ``package.module:Class``
  with the module made explicit) with no private part (no ``_``-prefixed module
  or attribute, so no dunders);
* its package is ``sklearn`` or ``genlab`` — or, where the caller allows the
  user's own modules (the command line: ``user_modules=True``), any package
  but Python's standard library (which has no estimators);
* arguments are keywords whose values are literals (numbers, strings, None,
  True/False, tuples, lists and dicts of them) or nested estimators, named
  the same way (pipelines, meta-estimators).

The second imports the modules named — only those, and only when the first pass
found nothing wrong — and checks each name before anything is called:

* it must resolve to a **class** whose own ``__module__`` lies in the package
  named (a re-export from elsewhere, such as a function or a standard-library
  class, is refused), and that class must be a scikit-learn estimator: a
  ``BaseEstimator`` subclass or a class defining ``fit`` (``fit`` and ``predict``
  for the estimator being decomposed);
* keyword names must be parameters of the class; values must fit its
  parameter types (scikit-learn's own parameter validation where the class has
  it, else its ``__init__`` annotations, else the kind of its defaults).

Only then is the class instantiated. Things that arrive from elsewhere (the
web lab, configs) are parsed with the default ``user_modules=False``: classes
of scikit-learn and genlab only. A worker rebuilding an estimator from a job
config (:func:`from_spec`) imports the module the config names and builds an
estimator class only: a config names an estimator class, never a function to
call.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import os
import sys
import tokenize

from .errors import GenlabError

ALLOWED = ("sklearn", "genlab")
SHORT = {"PolynomialRegression": "genlab.PolynomialRegression"}
MAX_TEXT = 4000   # characters of one estimator string
MAX_DEPTH = 8     # nesting of estimators inside estimators' arguments
EXAMPLE = "'sklearn.tree.DecisionTreeRegressor(max_depth=3)'"
#: Roots refused even among the user's modules: Python's own, which hold no estimators (and some of
#: which act on import).
STDLIB = frozenset(sys.stdlib_module_names) | {"builtins", "__main__"}


def _under(module: str | None, roots) -> bool:
    return bool(module) and module.split(".")[0] in roots


def _is_estimator_class(obj, *, predictor: bool) -> bool:
    """A class with the scikit-learn API: ``fit`` and ``predict`` for a ``predictor``; otherwise (a pipeline's
    step, a meta-estimator's part, a job config's class) a ``BaseEstimator`` subclass, or ``fit`` with
    ``get_params`` (what ``clone`` needs)."""
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
    return has("fit") and has("get_params")


# -- the first pass: the text alone ------------------------------------------------------------------

def _with_colons(text: str) -> tuple[str, dict]:
    """``text`` with each ``module:Class`` written ``module.Class`` (same length, so positions hold), and
    ``{"module.Class": ("module", "Class")}`` for the paths that named their module so. Text that is
    Python as it stands (a lambda's, a dict's colons) is left as it is."""
    try:
        ast.parse(text, mode="eval")
        return text, {}
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text, {}  # malformed: ast.parse says so
    lines = text.splitlines(keepends=True) or [""]
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    chars, splits = list(text), {}

    def chain(i, step):  # the dotted name that ends (step -1) or starts (step 1) at token i
        names = []
        while 0 <= i < len(tokens) and tokens[i].type == tokenize.NAME:
            names.append(tokens[i].string)
            if not (0 <= i + step < len(tokens) and tokens[i + step].string == "."):
                break
            i += 2 * step
        return ".".join(reversed(names) if step < 0 else names)

    for i, tok in enumerate(tokens):
        if (tok.type == tokenize.OP and tok.string == ":" and 0 < i < len(tokens) - 1
                and tokens[i - 1].type == tokenize.NAME and tokens[i + 1].type == tokenize.NAME):
            row, col = tok.start
            chars[starts[row - 1] + col] = "."
            module, qualname = chain(i - 1, -1), chain(i + 1, 1)
            splits[f"{module}.{qualname}"] = (module, qualname)
    return "".join(chars), splits


def _split(path: str, splits: dict) -> tuple[str, str]:
    """(module, qualname) of a dotted ``path``: as the text wrote it with a colon, else the last name."""
    if path in splits:
        return splits[path]
    module, _, name = path.rpartition(".")
    return module, name


def _check_path(path: str, splits: dict, *, user_modules: bool) -> tuple[str, str]:
    """(module, qualname) of a class path, refused on its text alone (nothing imported)."""
    parts = path.split(".")
    module, qualname = _split(path, splits)
    root = parts[0]
    if not all(p.isidentifier() for p in parts) or len(parts) < 2 or not module:
        raise GenlabError(f"estimator {path!r} is not a class path; write it like {EXAMPLE} or "
                          "'mypkg.models:MyRegressor(width=16)'")
    private = [p for p in parts if p.startswith("_")
               or (root in ALLOWED and p in ("tests", "conftest", "externals"))]
    if private:
        raise GenlabError(f"estimator {path!r} names a private part ({private[0]}); use the public path, "
                          f"like {EXAMPLE}")
    if not user_modules and root not in ALLOWED:
        raise GenlabError(f"estimator {path!r} is not allowed; name a class from {' or '.join(ALLOWED)}, "
                          f"like {EXAMPLE}")
    if root in STDLIB:
        raise GenlabError(f"estimator {path!r} is not allowed: {root} is Python's standard library, which has "
                          f"no estimators; name an estimator class, like {EXAMPLE}")
    return module, qualname


def _walk(node, text: str, depth: int, splits: dict, *, user_modules: bool) -> None:
    """The first pass over an estimator's AST: every name and literal checked, nothing imported."""
    if depth > MAX_DEPTH:
        raise GenlabError(f"estimator {text[:60]!r}...: estimators nested more than {MAX_DEPTH} deep; simplify it")
    node = _as_call(node)
    path = SHORT.get(ast.unparse(node.func), ast.unparse(node.func))
    _check_path(path, splits, user_modules=user_modules)
    for kw in node.keywords:
        if kw.arg is None:
            raise GenlabError(f"estimator {path}: **kwargs are not allowed; name each parameter")
        _walk_argument(kw.value, kw.arg, text, depth, splits, user_modules=user_modules)


def _is_estimator_node(node) -> bool:
    call = isinstance(node, ast.Call) and not node.args and isinstance(node.func, (ast.Name, ast.Attribute))
    return call or isinstance(node, ast.Attribute) or (isinstance(node, ast.Name) and node.id in SHORT)


def _walk_argument(node, name, text, depth, splits, *, user_modules):
    if _is_estimator_node(node):
        return _walk(node, text, depth + 1, splits, user_modules=user_modules)
    if isinstance(node, (ast.List, ast.Tuple)):
        for e in node.elts:
            _walk_argument(e, name, text, depth, splits, user_modules=user_modules)
        return None
    if isinstance(node, ast.Dict) and None not in node.keys:
        for e in (*node.keys, *node.values):
            _walk_argument(e, name, text, depth, splits, user_modules=user_modules)
        return None
    _literal(node, name)
    return None


def _as_call(node) -> ast.Call:
    if isinstance(node, (ast.Name, ast.Attribute)):
        node = ast.Call(func=node, args=[], keywords=[])
    if not isinstance(node, ast.Call) or node.args or not isinstance(node.func, (ast.Name, ast.Attribute)):
        raise GenlabError(f"estimator {ast.unparse(node)[:80]!r}: give a class with keyword arguments only, "
                          "like 'sklearn.neighbors.KNeighborsRegressor(n_neighbors=5)'")
    return node


def _literal(node, name: str):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise GenlabError(f"estimator argument {name}={ast.unparse(node)[:80]} is not a literal; "
                          "use numbers, strings, None, True or False (or a nested estimator)") from None


# -- the second pass: import what was named, check it, build it ----------------------------------------

def _import(module: str, path: str, *, user_modules: bool):
    """The module a checked path names, imported (its own code runs: the user named it)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        if not user_modules:
            raise GenlabError(f"estimator {path!r} does not exist; check the module and class name") from None
        if module == missing or module.startswith(missing + "."):
            if _under(module, ALLOWED):
                raise GenlabError(f"estimator {path!r} does not exist; check the module and class name") from None
            raise GenlabError(f"estimator {path!r} does not exist: no module {missing!r} in the current folder "
                              "or on PYTHONPATH; check the name, or run genlab where the module is") from None
        raise GenlabError(f"estimator {path!r}: importing {module} failed: it needs {missing!r}, which is "
                          "not installed") from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001  the user's module failed as it was imported
        why = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise GenlabError(f"estimator {path!r}: importing {module} failed ({type(exc).__name__}: {why}); "
                          "fix the module") from None


def _check_class(path: str, splits: dict | None = None, *, user_modules: bool = False, predictor: bool = False):
    """The estimator class at ``path`` — checked, never called."""
    splits = splits or {}
    module, qualname = _check_path(path, splits, user_modules=user_modules)
    if user_modules and not _under(module, ALLOWED):
        user_module_path()
        importlib.invalidate_caches()  # a module written since the last import
    found = _import(module, path, user_modules=user_modules)
    parts = qualname.split(".")
    for i, part in enumerate(parts):
        if i and not isinstance(found, type):  # only a class's own classes: no walking through other modules
            raise GenlabError(f"estimator {path!r}: {module}.{'.'.join(parts[:i])} is a {type(found).__name__}, "
                              "not a class; name the estimator class in the module that defines it")
        found = getattr(found, part, None)
        if found is None:
            raise GenlabError(f"estimator {path!r} does not exist: module {module} has no "
                              f"{'.'.join(parts[:i + 1])!r}; check the module and class name")
    obj = found
    if not isinstance(obj, type):
        raise GenlabError(f"{path} is not a class ({type(obj).__name__}); name an estimator class, like {EXAMPLE}")
    own = getattr(obj, "__module__", None)
    roots = (*ALLOWED, module.split(".")[0]) if user_modules else ALLOWED
    if not _under(own, roots) or _under(own, STDLIB):
        raise GenlabError(f"{path} is {own}.{obj.__qualname__}, re-exported from outside "
                          f"{' and '.join(roots)}; name an estimator class of those packages")
    if not _is_estimator_class(obj, predictor=predictor):
        what = "no fit/predict" if predictor else "no fit/get_params"
        raise GenlabError(f"{path} has {what}; name an estimator" + (" that predicts" if predictor else "")
                          + " (a class with the scikit-learn API)")
    return obj


def _signature(cls):
    try:
        return inspect.signature(cls)
    except (TypeError, ValueError):
        return None


def _param_names(cls) -> set[str] | None:
    """The keyword parameters of ``cls``: None where its constructor takes ``**kwargs`` (xgboost's, say: any
    name may be one), else scikit-learn's list or its signature's."""
    sig = _signature(cls)
    if sig is not None and any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    getter = getattr(cls, "_get_param_names", None)
    try:
        if getter is not None:
            return set(getter())
    except Exception:  # noqa: BLE001  a class without a plain __init__ signature
        pass
    if sig is None:
        return None
    return {n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _fits_hint(value, hint) -> bool:
    """Whether ``value`` (a literal or an estimator) fits the annotation ``hint``; True where not understood."""
    import types
    import typing

    if hint is typing.Any or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits_hint(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    kind = origin or hint
    if kind in (list, tuple, dict):
        return isinstance(value, kind)
    return True


def _hint_text(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _check_types(cls, kwargs: dict, path: str) -> None:
    """Refuse values of the wrong type for a class without scikit-learn's parameter constraints: by its
    ``__init__`` annotations where it has them, else by the kind of each parameter's default (a number
    or a flag takes no text, list or dict)."""
    import typing

    sig = _signature(cls)
    if sig is None:
        return
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001  annotations that do not resolve: judged by the defaults
        hints = {}
    for name, value in kwargs.items():
        param = sig.parameters.get(name)
        if param is None:
            continue
        if name in hints:
            if not _fits_hint(value, hints[name]):
                raise GenlabError(f"estimator {path}: {name}={value!r} is not {_hint_text(hints[name])}; "
                                  "give a value of that type")
            continue
        default = param.default
        if default is param.empty or default is None or isinstance(value, type(None)):
            continue
        if isinstance(default, bool):
            ok, kind = isinstance(value, (bool, int)), "True or False"
        elif isinstance(default, (int, float)):
            ok, kind = isinstance(value, (int, float)), "a number"
        else:
            continue
        if not ok:
            raise GenlabError(f"estimator {path}: {name}={value!r} should be {kind} (its default is {default!r}); "
                              "give a value of that type")


def _build(node, text: str, depth: int, splits: dict, *, predictor: bool, user_modules: bool):
    """The estimator an ``ast.Call`` (or bare name) describes; :func:`_walk` has checked its text."""
    node = _as_call(node)
    path = SHORT.get(ast.unparse(node.func), ast.unparse(node.func))
    cls = _check_class(path, splits, user_modules=user_modules, predictor=predictor)
    names = _param_names(cls)
    kwargs = {}
    for kw in node.keywords:
        if names is not None and kw.arg not in names:
            raise GenlabError(f"estimator {path} has no parameter {kw.arg!r}; its parameters are "
                              f"{', '.join(sorted(names)) or '(none)'}")
        kwargs[kw.arg] = _argument(kw.value, kw.arg, text, depth, splits, user_modules=user_modules)
    constrained = hasattr(cls, "_parameter_constraints")
    if not constrained:
        _check_types(cls, kwargs, path)
    try:
        est = cls(**kwargs)
    except Exception as exc:  # noqa: BLE001  the class refuses its arguments
        raise GenlabError(f"estimator {path}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None
    validate = getattr(est, "_validate_params", None)
    if callable(validate) and constrained:  # scikit-learn checks types and ranges only at fit; do it before any work
        try:
            validate()
        except (TypeError, ValueError) as exc:
            raise GenlabError(f"estimator {path}: {' '.join(str(exc).split())}") from None
    return est


def _argument(node, name: str, text: str, depth: int, splits: dict, *, user_modules: bool):
    """A keyword argument's value: a literal, or containers holding literals and estimators."""
    if _is_estimator_node(node):
        return _build(node, text, depth + 1, splits, predictor=False, user_modules=user_modules)
    if isinstance(node, ast.List):
        return [_argument(e, name, text, depth, splits, user_modules=user_modules) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_argument(e, name, text, depth, splits, user_modules=user_modules) for e in node.elts)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_argument(k, name, text, depth, splits, user_modules=user_modules):
                _argument(v, name, text, depth, splits, user_modules=user_modules)
                for k, v in zip(node.keys, node.values)}
    return _literal(node, name)


def user_module_path() -> None:
    """Make the current folder importable, after everything installed (so a file there never shadows a
    package), as ``python -m`` makes it for a script; PYTHONPATH's folders are on ``sys.path`` already.
    The worker processes a run starts get this ``sys.path`` (loky's and a local Dask cluster's send it to
    each worker they spawn), so they find the user's module where this process found it."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)


def parse_estimator(text: str, *, user_modules: bool = False):
    """An unfitted estimator from ``"package.module.Class(arg=value, ...)"``.

    Parameters
    ----------
    text : str
        A class path with keyword arguments that are literals or nested
        estimators, e.g. ``"sklearn.pipeline.Pipeline(steps=[('p', sklearn.preprocessing.PolynomialFeatures(
        degree=3)), ('r', sklearn.linear_model.Ridge())])"``. The module may be
        set off with a colon: ``"mypkg.models:MyRegressor(width=16)"``.
    user_modules : bool, default False
        Allow classes of any importable package but the standard library (the
        user's own, from the current folder or PYTHONPATH; xgboost, lightgbm…):
        naming a module imports it, so its code runs. For text typed by the user
        on the command line; text from elsewhere keeps the default, scikit-learn
        and genlab classes only.

    Raises
    ------
    GenlabError
        For anything but an estimator class with valid parameters; nothing in
        the text is imported before all of it is checked, and nothing is called
        before every class it names is.
    """
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise GenlabError(f"estimator string is {len(text):,} characters; at most {MAX_TEXT:,} are accepted")
    source, splits = _with_colons(text)
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        raise GenlabError(f"estimator {text[:80]!r} is malformed; write it like {EXAMPLE}") from None
    except (RecursionError, MemoryError):
        raise GenlabError("estimator string is nested too deeply; simplify it") from None
    try:
        _walk(node, text, 0, splits, user_modules=user_modules)
        return _build(node, text, 0, splits, predictor=True, user_modules=user_modules)
    except RecursionError:
        raise GenlabError("estimator string is nested too deeply; simplify it") from None


# -- estimators as job configs ---------------------------------------------------------------

class NotDescribable(Exception):
    """An estimator (or one of its parameters) that a JSON config cannot rebuild exactly."""


def _import_path(obj) -> str:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname:
        raise NotDescribable(f"{obj!r} is not importable by worker processes (define it in a module, or give "
                             "its import path as a string 'module:function')")
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


def _value(spec, roots=CALLABLE_ROOTS):
    import numpy as np

    if isinstance(spec, list):
        return [_value(x, roots) for x in spec]
    if not isinstance(spec, dict):
        return spec
    if "estimator" in spec:
        return from_spec(spec)
    if "tuple" in spec:
        return tuple(_value(x, roots) for x in spec["tuple"])
    if "dict" in spec:
        return {k: _value(x, roots) for k, x in spec["dict"].items()}
    if "ndarray" in spec:
        return np.asarray(spec["ndarray"], dtype=np.dtype(spec["dtype"]))
    if "callable" in spec:
        if roots is None and spec["callable"].partition(":")[0].split(".")[0] in STDLIB:
            raise GenlabError(f"job config names {spec['callable']!r}: the standard library makes no networks")
        return _resolve(spec["callable"], roots=roots)
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
    # a class may name parameters that take the user's own function (TorchRegressor's module_factory): those
    # come from any importable module but the standard library; every other callable from CALLABLE_ROOTS
    free = set(getattr(cls, "_importable_callables", ()))
    return cls(**{k: _value(v, None if k in free else CALLABLE_ROOTS) for k, v in spec["params"].items()})
