"""The house in layers: every import inside genlab points down, and no module imports itself back.

Layers, bottom to top (a module may import from its own layer and those below)::

    core  <  data, linalg, plots  <  models  <  runs  <  analysis  <  article  <  lab  <  cli

Lazy imports inside functions count too: a lower layer never reaches up, even late.
Also checked: no import cycles between modules, and the size rules of the layout
(no module over 600 lines, no function body over 80 lines unless its docstring says why).
"""

import ast
from pathlib import Path

import pytest

import genlab

ROOT = Path(genlab.__file__).parent
LAYERS = {"core": 0, "data": 1, "linalg": 1, "plots": 1, "models": 2, "runs": 3, "analysis": 4, "article": 5,
          "lab": 6, "cli": 7}
MAX_LINES = 600
MAX_BODY = 80  # lines of a function's body past its docstring; longer ones say why ("Long because ...")


def modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        yield ".".join(["genlab", *parts]), path, is_pkg


def imports_of(name, path, is_pkg):
    """(imported module, line, lazy) for every genlab import in the file."""
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    package = name.split(".") if is_pkg else name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "genlab":
                continue
            for alias in node.names:  # `from . import x` may name a module
                sub = f"{mod}.{alias.name}"
                target = sub if (ROOT.parent / (sub.replace(".", "/") + ".py")).exists() or \
                    (ROOT.parent / sub.replace(".", "/") / "__init__.py").exists() else mod
                found.append((target, node.lineno, id(node) not in top))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "genlab":
                    found.append((alias.name, node.lineno, id(node) not in top))
    return found


def layer(module: str):
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


ALL = list(modules())


def test_the_layers_are_the_packages():
    tops = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert tops == set(LAYERS), "a new top-level package needs a place in LAYERS and docs/architecture.md"
    loose = {p.name for p in ROOT.glob("*.py")} - {"__init__.py", "__main__.py"}
    assert not loose, f"modules outside the layers: {sorted(loose)}"


@pytest.mark.parametrize("name, path, is_pkg", ALL, ids=[m[0] for m in ALL])
def test_imports_point_down(name, path, is_pkg):
    own = layer(name)
    if own is None:  # genlab/__init__.py re-exports lazily from every layer
        return
    bad = [f"line {line}: {target}" + (" (lazy)" if lazy else "")
           for target, line, lazy in imports_of(name, path, is_pkg)
           if target == "genlab" or (layer(target) is not None and layer(target) > own)]
    assert not bad, f"{name} (layer {own}) imports from above: {bad}"


def test_no_import_cycles():
    names = {m[0] for m in ALL}
    graph = {}
    for name, path, is_pkg in ALL:
        graph[name] = {t for t, _, _ in imports_of(name, path, is_pkg) if t in names and t != name}
    # a package's __init__ importing its own submodules is how packages work; a submodule importing its
    # package's __init__ back would be a cycle
    state, stack, cycles = {}, [], []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("name, path, is_pkg", ALL, ids=[m[0] for m in ALL])
def test_modules_stay_readable(name, path, is_pkg):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{name} has {n} lines; split it (the layout allows {MAX_LINES})"


def _long_functions(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node) or ""
            first = node.body[0]
            has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                isinstance(first.value.value, str)
            start = first.end_lineno + 1 if has_doc else first.lineno
            if node.end_lineno - start + 1 > MAX_BODY and "Long because" not in doc:
                yield f"{node.name} (line {node.lineno}, {node.end_lineno - start + 1} lines)"


@pytest.mark.parametrize("name, path, is_pkg", ALL, ids=[m[0] for m in ALL])
def test_long_functions_say_why(name, path, is_pkg):
    bad = list(_long_functions(path))
    assert not bad, f"{name}: functions over {MAX_BODY} lines without 'Long because ...' in their docstring: {bad}"
