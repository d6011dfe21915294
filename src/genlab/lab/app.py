"""The lab's Dash app: the pages, their routing from the URL, and the callbacks that turn a page's
:func:`update` (see :mod:`genlab.lab.common`) into what the browser shows.

Everything a tab holds lives in the tab: its page's state is in its URL, a running job is known by an id
only the tab has. The server keeps only results that depend on their configuration alone (the pages'
caches) and the jobs of :class:`~genlab.lab.jobs.Jobs`. A callback never raises: a refused value is a
message under its field, anything unforeseen a message above the figures, and the server goes on.

``make_app`` is the only entry; dash is imported here and in :mod:`.layout`, never by ``import genlab``.
"""

from __future__ import annotations

import base64
import binascii
import sys
import traceback

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from . import layout
from .fields import from_query, initial
from .jobs import Busy, Jobs
from .pages import biasvar, overfitting, ridge, scaling
from .words import LANGS, words

PAGES = {"/overfitting": overfitting, "/biasvar": biasvar, "/ridge": ridge, "/scaling": scaling}
SHELL = {
    "/double-descent": ("double_descent", [
        "genlab double-descent --kind model --model relu --data digits",
        "genlab double-descent --kind model --model relu --label-noise 0,0.1,0.2",
        "genlab double-descent --kind model --model mlp --label-noise 0.2",
        "genlab double-descent --kind samples --model linear --data isotropic",
        "genlab double-descent --kind epochs", "genlab double-descent --kind variance --model relu"]),
    "/lottery": ("lottery", ["genlab lottery", "genlab lottery --rewind 20 --rate 0.5 --rounds 5"]),
}
#: The largest request body the server reads (a pasted or uploaded CSV travels in one, base64 for a file):
#: past it the request is refused before any callback runs.
MAX_REQUEST_BYTES = 16 * 2**20


def make_app(lang: str = "en", hosts=None) -> Dash:
    """The lab as a Dash app in ``lang``; ``hosts``, when given, are the only ``Host`` headers it answers (a
    page of another site that resolves its name to this machine is refused)."""
    words(lang)  # a bad language is one line, before anything is built
    app = Dash("genlab.lab", title="genlab lab", update_title=None, suppress_callback_exceptions=True,
               serve_locally=True, compress=False, include_assets_files=False, assets_folder="/nonexistent",
               index_string=layout.INDEX, enable_mcp=False)
    app.layout = html.Div([dcc.Location(id="url", refresh=False), dcc.Store(id="page-path"),
                           html.Div(id="page")])
    _secure(app.server, hosts)
    jobs = Jobs()
    app.genlab = {"callbacks": {}, "jobs": jobs, "lang": lang}
    _route(app, lang)
    for module in PAGES.values():
        _page(app, module, lang, jobs)
    _jobs(app, jobs, lang)
    _upload(app)
    return app


def _secure(server, hosts) -> None:
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    allowed = None if hosts is None else {h.lower() for h in hosts}

    @server.before_request
    def _host():
        from flask import abort, request

        if allowed is not None and (request.host or "").lower() not in allowed:
            abort(403)

    @server.after_request
    def _headers(response):
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response


def _lang_of(value, server_lang: str) -> str:
    return value if isinstance(value, str) and value in LANGS else server_lang


def _route(app, server_lang: str) -> None:
    @app.callback(Output("page", "children"), Output("page-path", "data"), Input("url", "pathname"),
                  State("url", "search"), State("page-path", "data"))
    def route(pathname, search, shown):
        if isinstance(pathname, str) and pathname == shown:
            raise PreventUpdate  # the page changed its own query string: nothing to render again
        return render(pathname, search, server_lang), pathname

    app.genlab["callbacks"]["route"] = route


def render(pathname, search, server_lang: str):
    """The page at ``pathname``, its controls set from the query string ``search``."""
    pathname = pathname if isinstance(pathname, str) else "/"
    module = PAGES.get(pathname)
    fields = module.FIELDS if module is not None else ()
    raw, lang = from_query(fields, search)
    lang = _lang_of(lang, server_lang)
    if module is None:
        if pathname in SHELL:
            key, commands = SHELL[pathname]
            return layout.shell_page(key, lang, server_lang, commands)
        return layout.home(lang, server_lang)
    values, notes = initial(module.FIELDS, raw, lang)
    extra = []
    if module is biasvar:
        extra = layout.progress_area(module.KEY, lang)
    elif module is scaling:
        if values["runs"] == "sample":
            values["csv"] = scaling.sample()
        else:
            notes.append(("csv", words(lang)["runs_missing"]))
        from .pages.scaling import UPLOAD_BYTES, size_text

        extra = layout.scaling_extra(lang, size_text(UPLOAD_BYTES)) + [
            html.P(words(lang)["phase2"], className="note"),
            html.Pre("genlab scaling train --quick\ngenlab scaling train --corpus markov", className="command")]
    return layout.page(module, values, notes, lang, server_lang, extra)


# -- a page's callback ---------------------------------------------------------------------------------------

def _ids(key: str, module) -> list[str]:
    return ([f"{key}-graph-{g}" for g in module.GRAPHS] + [f"{key}-{n}" for n in
                                                           ("numbers", "table", "raw", "command", "url", "general")])


def _page(app, module, server_lang: str, jobs: Jobs) -> None:
    key = module.KEY
    fields = [f for f in module.FIELDS if f.control != "hidden"]
    live = [f for f in fields if f.live]
    quiet = [f for f in fields if not f.live]
    props = ["figure"] * len(module.GRAPHS) + ["children", "children", "data", "children", "search", "children"]
    outputs = [Output(i, p) for i, p in zip(_ids(key, module), props)]
    outputs += [Output(f"{key}-{f.name}-msg", "children") for f in fields]
    inputs = [Input(f"{key}-{f.name}", "value") for f in live]
    if module is scaling:
        inputs += [Input("scaling-fit", "n_clicks"), Input("scaling-uploaded", "data")]
    states = [State(f"{key}-{f.name}", "value") for f in quiet] + [State(f"{key}-lang", "data")]
    names = [f.name for f in live] + (["_fit", "_uploaded"] if module is scaling else []) + [f.name for f in quiet]
    if module is biasvar:
        outputs += [Output("biasvar-job", "data"), Output("biasvar-poll", "disabled"),
                    Output("biasvar-progress", "style"), Output("biasvar-progress-text", "children")]
        states.append(State("biasvar-job", "data"))

    @app.callback(*outputs, *inputs, *states)
    def update(*args):
        raw = dict(zip(names, args))
        lang = _lang_of(args[len(names)], server_lang)
        out = _call(module, raw, lang)
        values = _outputs(out, module, fields, lang, server_lang)
        if module is biasvar:
            values += _start(out, jobs, lang, args[len(names) + 1])
        return values

    update.arg_names = names + ["_lang"] + (["_job"] if module is biasvar else [])
    update.output_ids = [f"{o.component_id}.{o.component_property}" for o in outputs]
    app.genlab["callbacks"][key] = update


def _call(module, raw: dict, lang: str):
    """``module.update(raw, lang)``; an exception it did not foresee becomes a message, with its traceback on
    the server's stderr, and the server goes on."""
    from .common import Outcome

    try:
        return module.update(raw, lang)
    except Exception as exc:  # noqa: BLE001 - one interaction failed; the page says so and the server goes on
        traceback.print_exc(file=sys.stderr)
        return Outcome(general=words(lang)["internal"].format(error=f"{type(exc).__name__}: {exc}"[:300]))


def _outputs(out, module, fields, lang: str, server_lang: str) -> list:
    msgs = [out.errors.get(f.name, "") for f in fields]
    general = out.general or ""
    if not out.ok or out.job is not None:
        return [no_update] * (len(module.GRAPHS) + 5) + [general] + msgs
    query = out.query + ("" if lang == server_lang else f"&lang={lang}")
    return (list(out.figures) + [layout.number_rows(out.numbers), layout.table_rows(out.table), out.raw,
                                 out.command, query, ""] + msgs)


def _start(out, jobs: Jobs, lang: str, running) -> list:
    """The job outputs of the §3 page: start ``out.job`` and show its progress, or hide the progress.

    The tab's ``running`` job goes on when it computes the same configuration (only the degree shown
    changed, say), and is cancelled otherwise: its result is no longer wanted.
    """
    hidden = {"display": "none"}
    if out.job is not None and jobs.running_key(running) == out.job[3]:
        return [running, False, {"display": "block", "margin": "8px 0"}, no_update]
    jobs.cancel(running)
    if out.job is None:
        return [None, True, hidden, ""]
    run, total, what, key = out.job
    try:
        job_id = jobs.start(run, total, key)
    except Busy as exc:
        return [None, True, {"display": "block", "margin": "8px 0"},
                words(lang)["busy"].format(n=exc.args[0], command=out.command or "genlab biasvar …")]
    return [job_id, False, {"display": "block", "margin": "8px 0"}, words(lang)["queued"]]


# -- the §3 page's jobs: progress, result, cancel -------------------------------------------------------------

def _jobs(app, jobs: Jobs, server_lang: str) -> None:
    key, module = biasvar.KEY, biasvar
    shared = [Output(i, p, allow_duplicate=True) for i, p in zip(
        _ids(key, module), ["figure"] * len(module.GRAPHS) + ["children", "children", "data", "children", "search",
                                                             "children"])]
    status = [Output(i, p, allow_duplicate=True) for i, p in (
        ("biasvar-job", "data"), ("biasvar-poll", "disabled"), ("biasvar-progress", "style"),
        ("biasvar-progress-text", "children"))] + [Output("biasvar-progress-bar", "value"),
                                                   Output("biasvar-progress-bar", "max")]

    fields = [f for f in module.FIELDS if f.control != "hidden"]

    @app.callback(*shared, *status, Input("biasvar-poll", "n_intervals"), State("biasvar-job", "data"),
                  State("biasvar-lang", "data"), *[State(f"{key}-{f.name}", "value") for f in fields],
                  prevent_initial_call=True)
    def poll(_n, job_id, lang, *values):
        lang = _lang_of(lang, server_lang)
        job = jobs.poll(job_id)
        result = None
        if job is not None and job.state == "done":
            # the page as its controls are now (the degree shown may have moved): the result is in the cache
            result = _call(module, dict(zip([f.name for f in fields], values)), lang)
            if not result.ok or result.job is not None or result.figures is None:
                result = job.result
        return poll_outputs(job, module, lang, server_lang, result)

    @app.callback(Output("biasvar-progress-text", "children", allow_duplicate=True),
                  Input("biasvar-cancel", "n_clicks"), State("biasvar-job", "data"), prevent_initial_call=True)
    def cancel(_n, job_id):
        return "…" if jobs.cancel(job_id) else no_update

    app.genlab["callbacks"]["biasvar-poll"] = poll
    app.genlab["callbacks"]["biasvar-cancel"] = cancel


def poll_outputs(job, module, lang: str, server_lang: str, result=None) -> list:
    from ..core.errors import GenlabError

    n = len(module.GRAPHS) + 6
    stop = [None, True, {"display": "none"}, ""]
    if job is None:
        return [no_update] * n + stop + [no_update, no_update]
    if job.state == "running":
        text = words(lang)["running"].format(what=module.KEY, done=job.done, total=job.total)
        return [no_update] * n + [no_update, False, {"display": "block", "margin": "8px 0"}, text,
                                  str(job.done), str(job.total)]
    if job.state == "done":
        values = _outputs(result or job.result, module, [], lang, server_lang)
        return values + stop + [no_update, no_update]
    if job.state == "cancelled":
        message = words(lang)["cancelled"]
    elif isinstance(job.error, (GenlabError, MemoryError)):
        message = str(job.error) or "out of memory"
    else:
        message = words(lang)["internal"].format(error=f"{type(job.error).__name__}: {job.error}"[:300])
    return [no_update] * (n - 1) + [message] + stop + [no_update, no_update]


# -- the §4.3 page: upload and download of the runs -------------------------------------------------------------

def _upload(app) -> None:
    @app.callback(Output("scaling-csv", "value"), Output("scaling-upload-msg", "children"),
                  Output("scaling-uploaded", "data"), Input("scaling-upload", "contents"),
                  State("scaling-upload", "filename"), State("scaling-uploaded", "data"), State("scaling-lang", "data"),
                  prevent_initial_call=True)
    def upload(contents, filename, count, lang):
        lang = _lang_of(lang, "en")
        text, message = read_upload(contents, filename, lang)
        if text is None:
            return no_update, message, no_update
        return text, message, (count if isinstance(count, int) else 0) + 1

    @app.callback(Output("scaling-download", "data"), Input("scaling-download-button", "n_clicks"),
                  State("scaling-csv", "value"), prevent_initial_call=True)
    def download(_n, text):
        if not isinstance(text, str) or not text.strip() or len(text) > scaling.UPLOAD_BYTES:
            raise PreventUpdate
        return {"content": text, "filename": "runs.csv"}

    app.genlab["callbacks"]["scaling-upload"] = upload
    app.genlab["callbacks"]["scaling-download"] = download


def read_upload(contents, filename, lang: str) -> tuple[str | None, str]:
    """The text of an uploaded file (a ``data:...;base64,...`` URL) and a message: ``(None, why)`` for one that
    is too large, not base64 or not UTF-8 text."""
    w = words(lang)
    name = filename if isinstance(filename, str) and len(filename) <= 200 else "(upload)"
    if not isinstance(contents, str) or "," not in contents[:300]:
        return None, w["upload_bad"].format(name=name, why="not a file")
    payload = contents.split(",", 1)[1]
    size = len(payload) * 3 // 4
    limit = scaling.UPLOAD_BYTES
    if size > limit:
        return None, w["upload_bad"].format(name=name, why=w["upload_big"].format(
            size=scaling.size_text(size), limit=scaling.size_text(limit)))
    try:
        text = base64.b64decode(payload, validate=True).decode("utf-8-sig")
    except (binascii.Error, ValueError):
        return None, w["upload_bad"].format(name=name, why="not UTF-8 text (a CSV file is text)")
    if "\x00" in text:
        return None, w["upload_bad"].format(name=name, why="not UTF-8 text (a CSV file is text)")
    return text, w["upload_ok"].format(name=name, rows=max(text.count("\n") - 1, 0) + (not text.endswith("\n")))
