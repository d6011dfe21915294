"""Safe evaluation of a user's regression target, given as text.

A target such as ``"sin(2*pi*x) + 0.5*x"`` is parsed with :func:`ast.parse`
and checked against a whitelist; evaluation walks the checked tree with
numpy float64 arithmetic. User text is never passed to ``eval``, ``exec`` or
``compile``. Only numbers, the declared variables, ``pi``, ``e``, the
operators ``+ - * / **``, parentheses and calls of :data:`FUNCTIONS` are
accepted; everything else raises :class:`~genlab.core.errors.GenlabError`.
"""

from __future__ import annotations

import ast
import keyword

import numpy as np

from .errors import GenlabError
from .limits import LIMITS

__all__ = ["CONSTANTS", "FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "Expression", "parse_expression"]

#: Functions a target may call, by bare name, with their number of arguments.
FUNCTIONS = {
    **{name: (getattr(np, name), 1) for name in (
        "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
        "exp", "log", "log10", "log2", "sqrt", "abs", "sign", "floor", "ceil")},
    "minimum": (np.minimum, 2),
    "maximum": (np.maximum, 2),
}
#: Named constants a target may use.
CONSTANTS = {"pi": np.float64(np.pi), "e": np.float64(np.e)}
#: Longest accepted text, in characters (checked before parsing, so the parser's recursion stays bounded).
MAX_LENGTH = int(LIMITS["expression"].cap)
#: Deepest accepted nesting of the syntax tree (checked before evaluation recurses).
MAX_DEPTH = int(LIMITS["expression_depth"].cap)

_BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
           ast.Div: np.divide, ast.Pow: np.power}
_UNARY = {ast.UAdd: np.positive, ast.USub: np.negative}
_OP_SYMBOLS = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&",
               ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>", ast.Not: "not",
               ast.Invert: "~"}
_EXAMPLE = "'2*x**2 + 1'"


def _snippet(text):
    """Collapse ``text`` to one short line, quoted, for an error message."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return "'" + (flat if len(flat) <= 60 else flat[:57] + "...") + "'"


class Expression:
    """A parsed, checked target expression; call it to evaluate.

    Build one with :func:`parse_expression`. Instances pickle by their text
    and are re-parsed (and re-checked) on unpickling.

    Attributes
    ----------
    text : str
        The original text.
    variables : tuple of str
        The variable names, in the order positional arguments bind to them.
    what : str
        How error messages name the text, e.g. ``"target expression"``.
    """

    def __init__(self, text, variables, tree, what="target expression"):
        self.text, self.variables, self.what, self._tree = text, tuple(variables), what, tree

    def __repr__(self):
        return f"Expression({self.text!r})"

    def __eq__(self, other):
        return (isinstance(other, Expression)
                and (self.text, self.variables) == (other.text, other.variables))

    def __hash__(self):
        return hash((self.text, self.variables))

    def __reduce__(self):
        return parse_expression, (self.text, self.variables, self.what)

    def __call__(self, *args, **kwargs):
        """Evaluate at the given values of the variables.

        Parameters
        ----------
        *args, **kwargs : array_like
            Values of :attr:`variables`, positionally in their order or by name.

        Returns
        -------
        numpy.ndarray
            float64 values, of the broadcast shape of the inputs. Non-finite
            values (``inf``, ``nan``) are returned as they come, not checked.
        """
        if len(args) > len(self.variables):
            raise TypeError(f"{self!r} takes {len(self.variables)} variable(s), got {len(args)}")
        values = dict(zip(self.variables, args))
        for name, value in kwargs.items():
            if name not in self.variables or name in values:
                raise TypeError(f"{self!r} got an unexpected or repeated variable {name!r}")
            values[name] = value
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise TypeError(f"{self!r} is missing variable(s) {', '.join(missing)}")
        values = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
        shape = np.broadcast_shapes(*(v.shape for v in values.values()))
        with np.errstate(all="ignore"):
            result = self._eval(self._tree, values)
        return np.array(np.broadcast_to(result, shape), dtype=np.float64)

    def _eval(self, node, values):
        """Evaluate a node of the checked tree (see :func:`_check`)."""
        if isinstance(node, ast.Constant):
            try:
                return np.float64(node.value)
            except OverflowError:  # an int literal beyond float range
                return np.float64(np.inf)
        if isinstance(node, ast.Name):
            return values[node.id] if node.id in values else CONSTANTS[node.id]
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](self._eval(node.left, values),
                                          self._eval(node.right, values))
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self._eval(node.operand, values))
        func = FUNCTIONS[node.func.id][0]  # an ast.Call, by the check
        return func(*(self._eval(arg, values) for arg in node.args))


def _check(node, text, variables, what, depth=0):
    """Raise :class:`GenlabError` unless ``node`` uses only what is allowed."""
    allowed = (f"use {', '.join(variables)}, numbers, + - * / **, pi, e and "
               f"{', '.join(FUNCTIONS)}")

    def reject(description, token=None):
        token = _snippet(token if token is not None else ast.get_source_segment(text, node) or "")
        raise GenlabError(f"{what} uses {description} {token}, which is not allowed; {allowed}")

    if depth > MAX_DEPTH:
        raise GenlabError(f"{what} nests deeper than {MAX_DEPTH} levels; simplify it")
    recurse = []  # the children to check next
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            reject("the literal")
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise GenlabError(
                f"{what} uses {node.id!r} without calling it; write it like {node.id}(x)")
        if node.id not in variables and node.id not in CONSTANTS:
            reject("the name", node.id)
    elif isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.BitXor):
            raise GenlabError(f"{what}: '^' is not a power in Python; write x**2")
        if type(node.op) not in _BINARY:
            reject("the operator", _OP_SYMBOLS.get(type(node.op), type(node.op).__name__))
        recurse = [node.left, node.right]
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            reject("the operator", _OP_SYMBOLS.get(type(node.op), type(node.op).__name__))
        recurse = [node.operand]
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            reject("a call of", ast.get_source_segment(text, node.func) or "")
        name, arity = node.func.id, FUNCTIONS[node.func.id][1]
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
            reject(f"keyword or starred arguments to {name}(), in")
        if len(node.args) != arity:
            raise GenlabError(
                f"{what}: {name}() takes {arity} argument{'s' if arity > 1 else ''}, "
                f"got {len(node.args)}; write it like {name}({', '.join(['x'] * arity)})")
        recurse = node.args
    else:
        kinds = {ast.Attribute: "attribute access", ast.Subscript: "indexing",
                 ast.Compare: "a comparison", ast.BoolOp: "'and'/'or'",
                 ast.IfExp: "a conditional", ast.Lambda: "a lambda",
                 ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
                 ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension"}
        reject(kinds.get(type(node), f"a {type(node).__name__} construct"))
    for child in recurse:
        _check(child, text, variables, what, depth + 1)


def parse_expression(text, variables=("x",), what="target expression"):
    """Parse and check ``text``; return a callable :class:`Expression`.

    Parameters
    ----------
    text : str
        Arithmetic in ``variables``, e.g. ``"sin(2*pi*x) + 0.5*x"``.
    variables : sequence of str, default ``("x",)``
        The variable names the text may use.
    what : str, default ``"target expression"``
        How error messages name the text.

    Returns
    -------
    Expression

    Raises
    ------
    GenlabError
        With a one-line message saying what to change, when the text is not a
        non-empty string of at most :data:`MAX_LENGTH` characters, is malformed,
        nests deeper than :data:`MAX_DEPTH`, or uses anything not allowed.
    """
    variables = (variables,) if isinstance(variables, str) else tuple(variables)
    for name in variables:
        if (not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name)
                or name in FUNCTIONS or name in CONSTANTS):
            raise GenlabError(f"{what}: variable name {name!r} is not usable; pick one like 'x'")
    if not isinstance(text, str):
        raise GenlabError(
            f"{what} must be text, not {type(text).__name__}; give one like {_EXAMPLE}")
    source = text.strip()
    if not source:
        raise GenlabError(f"{what} is empty; give one like {_EXAMPLE}")
    if len(text) > MAX_LENGTH:
        raise GenlabError(
            f"{what} is {len(text)} characters long; shorten it to {MAX_LENGTH} at most")
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as err:
        lines = source.splitlines()
        column = err.offset or len(lines[-1]) + 1  # offset 0: at the end of the text
        where = "" if not err.lineno else (
            f" at line {err.lineno}, column {column}" if len(lines) > 1 else f" at column {column}")
        raise GenlabError(f"{what} {_snippet(text)} is malformed: {err.msg}{where}; "
                          f"write it like {_EXAMPLE}") from None
    except (ValueError, RecursionError, MemoryError):
        raise GenlabError(f"{what} {_snippet(text)} cannot be parsed (null bytes or too deep "
                          f"nesting); write it like {_EXAMPLE}") from None
    _check(tree, source, variables, what)
    return Expression(text, variables, tree, what)
