"""Per-view downloads on every page of the lab: its figures as PNG and SVG, its table (or, without one, its numbers
flattened) as CSV, and its exact numbers as JSON with the view's query string and shell command.

The figures are drawn in the browser: a client-side callback calls ``Plotly.downloadImage`` on each graph of the
page (plotly.js is the one the lab serves; nothing is fetched from elsewhere). CSV and JSON come from the server
through ``dcc.Download``. File names are the page's key and the settings that differ from its defaults, in safe
characters only (:func:`stem`).

Component ids, per page ``KEY`` (placed by :func:`buttons`, called from :func:`genlab.lab.layout.page`):
``{KEY}-dl-png``, ``{KEY}-dl-svg``, ``{KEY}-dl-csv``, ``{KEY}-dl-json`` (the buttons), ``{KEY}-dl-csv-file`` and
``{KEY}-dl-json-file`` (the ``dcc.Download``), ``{KEY}-dl-msg`` (why a download was refused), ``{KEY}-dl-name``
(the files' stem) and ``{KEY}-dl-images`` (what the client-side callback did).

The server callbacks read the page's numbers, table, query and command back from the browser as State: values
any client can forge, so they are checked as hostile. Wrong types and malformed tables are refused with a
message, sizes are bounded while the values are walked (before anything is serialized), and nothing raises:
the server goes on. Nothing here imports dash at import time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import sys
import traceback

from .common import lang_of
from .fields import QUERY_CHARS, FieldError, from_query, parse
from .words import LANGS, words

FORMATS = ("png", "svg", "csv", "json")
#: The largest file the server writes into a download (the page's numbers are far smaller).
MAX_BYTES = 8 * 2**20
#: The most values (numbers, strings, table cells) walked in one request's State.
MAX_ITEMS = 500_000
#: The deepest nesting walked (the pages' numbers are a few levels deep; a table is five).
MAX_DEPTH = 40
#: The longest query string and command read back.
MAX_QUERY = 50 * QUERY_CHARS
MAX_COMMAND = 100_000
#: The longest file name stem.
MAX_STEM = 80
_SAFE = re.compile(r"[^A-Za-z0-9.-]+")
STEM_RE = re.compile(r"^[A-Za-z0-9._-]{1,120}$")


class Refused(ValueError):
    """A State value that cannot be turned into a file; the message says why, in the page's language."""


# -- file names --------------------------------------------------------------------------------------------------

def stem(module, search) -> str:
    """The files' name without extension: the page's key and each setting of the query string ``search`` that
    differs from its default, as ``name-value`` in ``[A-Za-z0-9._-]``; where a value had to be changed to fit
    (an expression, say) or the name grew past :data:`MAX_STEM` characters, shortened and ended with a hash of
    the whole query, so that two views never share a name."""
    key = module.KEY
    search = search if isinstance(search, str) else ""
    raw, lang = from_query(module.FIELDS, search[:MAX_QUERY])
    parts, lossy = [key], False
    for f in module.FIELDS:
        text = raw.get(f.name)
        if text is None or _is_default(f, text):
            continue
        safe = _SAFE.sub("_", text).strip("_")
        lossy |= safe != text or len(safe) > 24
        parts.append(f"{f.name}-{safe[:24]}")
    if lang in LANGS and lang != "en":
        parts.append(lang)
    name = "_".join(parts)
    if lossy or len(name) > MAX_STEM:
        digest = hashlib.sha1(search.lstrip("?").encode("utf-8", "replace")).hexdigest()[:8]
        name = name[:MAX_STEM - 9].rstrip("_-.") + "_" + digest
    return name if STEM_RE.match(name) else key


def _is_default(field, text: str) -> bool:
    try:
        return parse(field, text) == field.default
    except FieldError:
        return False


# -- the page's numbers and table, read back as hostile values ----------------------------------------------------

class _Budget:
    """Counts the values and bytes walked; refuses past the limits."""

    def __init__(self, lang: str):
        self.items, self.bytes, self.w = 0, 0, words(lang)["dl"]

    def add(self, size: int = 8) -> None:
        self.items += 1
        self.bytes += size
        if self.items > MAX_ITEMS or self.bytes > MAX_BYTES:
            raise Refused(self.w["big"].format(size=max(self.bytes, MAX_BYTES + 1), limit=MAX_BYTES))

    def shape(self) -> Refused:
        return Refused(self.w["shape"])


def clean(value, budget: _Budget, depth: int = 0):
    """``value`` as plain JSON (dicts with string keys, lists, strings, finite numbers or None, booleans),
    walked within the budget's limits; non-finite floats become None; anything else is refused."""
    if depth > MAX_DEPTH:
        raise budget.shape()
    if value is None or isinstance(value, bool):
        budget.add()
        return value
    if isinstance(value, int):
        if value.bit_length() > 1000:  # past a float, and past what json writes quickly
            raise budget.shape()
        budget.add()
        # a float past 2**53 with no fraction comes back from the browser as its shortest digits, an int that is
        # not the float's exact value: the float again (which is all the browser held)
        return float(value) if abs(value) > 2**53 else value
    if isinstance(value, float):
        budget.add()
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        budget.add(len(value) + 2)
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise budget.shape()
            budget.add(len(k) + 4)
            out[k] = clean(v, budget, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        budget.add(2)
        return [clean(v, budget, depth + 1) for v in value]
    raise budget.shape()


def flatten(value, prefix: str = "") -> list[tuple[str, str]]:
    """``(name, text)`` of every number and string of a :func:`clean` value: names as ``key.sub[3]``, numbers
    written exactly (``repr``), None as an empty cell."""
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in flatten(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(value, list):
        return [row for i, v in enumerate(value) for row in flatten(v, f"{prefix}[{i}]")]
    if value is None:
        return [(prefix, "")]
    if isinstance(value, bool):
        return [(prefix, "true" if value else "false")]
    return [(prefix, repr(value) if isinstance(value, float) else str(value))]


def _props(node: dict, budget: _Budget) -> dict:
    props = node.get("props")
    if not isinstance(props, dict):
        raise budget.shape()
    return props


def _children(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _text(value, budget: _Budget, depth: int) -> str:
    """The text a cell shows: its strings and numbers, in order, through nested components."""
    if depth > MAX_DEPTH:
        raise budget.shape()
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str):
        budget.add(len(value) + 1)
        return value
    if isinstance(value, (int, float)):
        value = clean(value, budget)
        return "" if value is None else str(value)
    if isinstance(value, list):
        return "".join(_text(v, budget, depth + 1) for v in value)
    if isinstance(value, dict):
        return _text(_props(value, budget).get("children"), budget, depth + 1)
    raise budget.shape()


def table_cells(children, budget: _Budget) -> list[list[str]] | None:
    """The rows of a page's table as its component sent them back (``{KEY}-table.children``: ``Thead`` and
    ``Tbody`` of ``Tr`` of ``Th``/``Td``, as JSON), each a list of the cells' texts; None when the page has no
    table. Anything else is refused."""
    if children is None or children == [] or children == "":
        return None
    rows: list[list[str]] = []

    def walk(node, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise budget.shape()
        if isinstance(node, list):
            budget.add(2)
            for child in node:
                walk(child, depth + 1)
            return
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise budget.shape()
        budget.add(len(node["type"]) + 8)
        kind = node["type"]
        children = _props(node, budget).get("children")
        if kind == "Tr":
            cells = []
            for cell in _children(children):
                if not isinstance(cell, dict) or cell.get("type") not in ("Th", "Td"):
                    raise budget.shape()
                cells.append(_text(_props(cell, budget).get("children"), budget, depth + 1))
            rows.append(cells)
        elif kind in ("Thead", "Tbody", "Tfoot"):
            for child in _children(children):
                walk(child, depth + 1)
        else:
            raise budget.shape()

    walk(children, 0)
    return rows or None


# -- the files ------------------------------------------------------------------------------------------------------

def json_file(module, raw, search, command, lang: str = "en", path: str | None = None) -> dict:
    """The JSON download of a view: ``{"page", "path", "query", "command", "numbers"}``, the numbers being the
    page's ``{KEY}-raw`` and ``path`` the page's (default ``/{KEY}``); a :class:`Refused` for values that are not
    a page's numbers or too large."""
    budget = _Budget(lang)
    if not isinstance(raw, dict) or not raw:
        raise Refused(words(lang)["dl"]["empty"])
    numbers = clean(raw, budget)
    query = search if isinstance(search, str) and len(search) <= MAX_QUERY else ""
    command = command if isinstance(command, str) and len(command) <= MAX_COMMAND else None
    doc = {"page": module.KEY, "path": path or f"/{module.KEY}", "query": query, "command": command,
           "numbers": numbers}
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=1) + "\n"
    if len(text) > MAX_BYTES:
        raise Refused(words(lang)["dl"]["big"].format(size=len(text), limit=MAX_BYTES))
    return {"content": text, "filename": f"{stem(module, query)}.json", "type": "application/json"}


def csv_file(module, raw, table, search, lang: str = "en") -> dict:
    """The CSV download of a view: the rows of its table as shown, or, for a page without a table, its numbers
    flattened as ``name,value`` rows; a :class:`Refused` for malformed or too large values."""
    budget = _Budget(lang)
    rows = table_cells(table, budget)
    if rows is None:
        if not isinstance(raw, dict) or not raw:
            raise Refused(words(lang)["dl"]["empty"])
        rows = [["name", "value"]] + [list(r) for r in flatten(clean(raw, budget))]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    text = out.getvalue()
    if len(text) > MAX_BYTES:
        raise Refused(words(lang)["dl"]["big"].format(size=len(text), limit=MAX_BYTES))
    query = search if isinstance(search, str) and len(search) <= MAX_QUERY else ""
    return {"content": text, "filename": f"{stem(module, query)}.csv", "type": "text/csv"}


# -- the components and callbacks ------------------------------------------------------------------------------

def buttons(key: str, lang: str) -> list:
    """The download row of page ``key``: a label, the four buttons, the refusal line and the components the
    callbacks use."""
    from dash import dcc, html

    w = words(lang)["dl"]
    style = {"marginLeft": "6px", "padding": "2px 10px"}
    return [html.Div([html.Span(w["label"], className="note"),
                      *[html.Button(f.upper(), id=f"{key}-dl-{f}", n_clicks=0, style=style) for f in FORMATS],
                      html.Span(id=f"{key}-dl-msg", className="msg", style={"marginLeft": "10px"}),
                      dcc.Download(id=f"{key}-dl-csv-file"), dcc.Download(id=f"{key}-dl-json-file"),
                      dcc.Store(id=f"{key}-dl-name", data=key), dcc.Store(id=f"{key}-dl-images")],
                     className="downloads", style={"margin": "6px 0"})]


#: The client-side callback of the PNG and SVG buttons: ``Plotly.downloadImage`` on each graph of the page that has
#: data, named ``{stem}-{graph}``; returns what it did (``"png:3"``).
IMAGES_JS = """
function (png, svg, name) {
    var dc = window.dash_clientside, ctx = dc.callback_context, key = %(key)s, graphs = %(graphs)s;
    var id = (ctx.triggered && ctx.triggered.length) ? ctx.triggered[0].prop_id : "";
    var format = id === key + "-dl-png.n_clicks" ? "png" : id === key + "-dl-svg.n_clicks" ? "svg" : null;
    if (!format || !window.Plotly) { return dc.no_update; }
    var stem = (typeof name === "string" && /^[A-Za-z0-9._-]{1,120}$/.test(name)) ? name : key;
    var done = 0;
    graphs.forEach(function (g) {
        var box = document.getElementById(key + "-graph-" + g);
        var gd = box && (box.classList.contains("js-plotly-plot") ? box : box.querySelector(".js-plotly-plot"));
        if (gd && gd.data && gd.data.length) {
            window.Plotly.downloadImage(gd, {format: format, filename: stem + "-" + g});
            done += 1;
        }
    });
    return format + ":" + done;
}
"""


def register(app, pages: dict) -> None:
    """The download callbacks of every page of ``pages`` (path -> module), each server callback also in
    ``app.genlab["callbacks"]`` as ``{KEY}-download-csv``, ``{KEY}-download-json`` and ``{KEY}-download-name``."""
    for path, module in pages.items():
        _register(app, path, module, app.genlab.get("lang", "en"))


def _register(app, path: str, module, server_lang: str) -> None:
    from dash import Input, Output, State, no_update

    key = module.KEY
    app.clientside_callback(IMAGES_JS % {"key": json.dumps(key), "graphs": json.dumps(list(module.GRAPHS))},
                            Output(f"{key}-dl-images", "data"), Input(f"{key}-dl-png", "n_clicks"),
                            Input(f"{key}-dl-svg", "n_clicks"), State(f"{key}-dl-name", "data"),
                            prevent_initial_call=True)

    @app.callback(Output(f"{key}-dl-name", "data"), Input(f"{key}-url", "search"))
    def name(search):
        try:
            return stem(module, search)
        except Exception:  # noqa: BLE001 - a name is never worth a failed callback
            traceback.print_exc(file=sys.stderr)
            return key

    def serve(make, n, lang):
        lang = lang_of(lang, server_lang)
        if not n:
            return no_update, no_update
        try:
            return make(lang), ""
        except Refused as exc:
            return no_update, words(lang)["dl"]["bad"].format(why=exc)
        except RecursionError:
            return no_update, words(lang)["dl"]["bad"].format(why=words(lang)["dl"]["shape"])
        except Exception as exc:  # noqa: BLE001 - one download failed; the page says so and the server goes on
            traceback.print_exc(file=sys.stderr)
            return no_update, words(lang)["internal"].format(error=f"{type(exc).__name__}: {exc}"[:300])

    @app.callback(Output(f"{key}-dl-csv-file", "data"), Output(f"{key}-dl-msg", "children", allow_duplicate=True),
                  Input(f"{key}-dl-csv", "n_clicks"), State(f"{key}-raw", "data"), State(f"{key}-table", "children"),
                  State(f"{key}-url", "search"), State(f"{key}-lang", "data"), prevent_initial_call=True)
    def download_csv(n, raw, table, search, lang):
        return serve(lambda lang: csv_file(module, raw, table, search, lang), n, lang)

    @app.callback(Output(f"{key}-dl-json-file", "data"), Output(f"{key}-dl-msg", "children", allow_duplicate=True),
                  Input(f"{key}-dl-json", "n_clicks"), State(f"{key}-raw", "data"), State(f"{key}-url", "search"),
                  State(f"{key}-command", "children"), State(f"{key}-lang", "data"), prevent_initial_call=True)
    def download_json(n, raw, search, command, lang):
        return serve(lambda lang: json_file(module, raw, search, command, lang, path), n, lang)

    callbacks = app.genlab["callbacks"]
    callbacks[f"{key}-download-csv"] = download_csv
    callbacks[f"{key}-download-json"] = download_json
    callbacks[f"{key}-download-name"] = name
