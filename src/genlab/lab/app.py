"""The lab's Dash app: the pages, their routing from the URL, and the callbacks that turn a page's
:func:`update` (see :mod:`genlab.lab.common`) into what the browser shows.

Everything a tab holds lives in the tab: its page's state is in its URL, a running job is known by an id
only the tab has. The server keeps only results that depend on their configuration alone (the pages'
caches) and the jobs of :class:`~genlab.lab.jobs.Jobs`. A callback never raises: a refused value is a
message under its field, anything unforeseen a message above the figures, and the server goes on.

``make_app`` is the only entry; dash is imported here and in :mod:`.layout`, never by ``import genlab``.
"""

from __future__ import annotations

import sys
import threading
import traceback

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from . import layout
from .common import lang_of
from .fields import from_query, initial
from .jobs import Busy, Jobs
from .pages import biasvar, double_descent, lottery, overfitting, ridge, scaling
from .words import words

PAGES = {"/overfitting": overfitting, "/biasvar": biasvar, "/ridge": ridge, "/scaling": scaling, "/lottery": lottery,
         "/double-descent": double_descent}
#: The largest request body the server reads (a pasted or uploaded CSV travels in one, base64 for a file):
#: past it the request is refused before any callback runs.
MAX_REQUEST_BYTES = 16 * 2**20


def make_app(lang: str = "en", hosts=None, store=None) -> Dash:
    """The lab as a Dash app in ``lang``; ``hosts``, when given, are the only ``Host`` headers it answers (a
    page of another site that resolves its name to this machine is refused); ``store`` is the results store
    of its sweeps (default: a ``genlab-lab/runs.sqlite`` made when the first sweep starts)."""
    words(lang)  # a bad language is one line, before anything is built
    app = Dash("genlab.lab", title="genlab lab", update_title=None, suppress_callback_exceptions=True,
               serve_locally=True, compress=False, include_assets_files=False, assets_folder="/nonexistent",
               index_string=layout.INDEX, enable_mcp=False)
    app.layout = html.Div([dcc.Location(id="url", refresh=False), dcc.Store(id="page-path"),
                           html.Div(id="page")])
    _secure(app.server, hosts)
    jobs = Jobs(store=store)
    app.genlab = {"callbacks": {}, "jobs": jobs, "lang": lang}
    _route(app, lang)
    for module in PAGES.values():
        _page(app, module, lang, jobs)
    from . import downloads

    downloads.register(app, PAGES)
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


def _route(app, server_lang: str) -> None:
    @app.callback(Output("page", "children"), Output("page-path", "data"), Input("url", "pathname"),
                  Input("url", "search"), State("page-path", "data"))
    def route(pathname, search, shown):
        here = shown_key(pathname, search)
        if isinstance(pathname, str) and here == shown:
            raise PreventUpdate  # the page changed its own query string: nothing to render again
        # a new page, or Back/Forward to another state of this one: its controls from the link
        return render(pathname, search, server_lang), here

    app.genlab["callbacks"]["route"] = route


def render(pathname, search, server_lang: str):
    """The page at ``pathname``, its controls set from the query string ``search``."""
    pathname = pathname if isinstance(pathname, str) else "/"
    module = PAGES.get(pathname)
    fields = module.FIELDS if module is not None else ()
    raw, lang = from_query(fields, search)
    lang = lang_of(lang, server_lang)
    if module is None:
        return layout.home(lang, server_lang)
    values, notes = initial(module.FIELDS, raw, lang)
    extra = list(module.extra(values, notes, lang)) if hasattr(module, "extra") else []
    if getattr(module, "JOBS", False):
        extra = layout.progress_area(module.KEY, lang) + extra
    return layout.page(module, values, notes, lang, server_lang, extra)


def shown_key(pathname, search) -> str:
    """What the tab shows, as ``page-path`` holds it: the path and the query string, without its ``?``."""
    search = search if isinstance(search, str) else ""
    return f"{pathname}?{search.lstrip('?')}"


# -- a page's callback ---------------------------------------------------------------------------------------

def _ids(key: str, module) -> list[str]:
    return ([f"{key}-graph-{g}" for g in module.GRAPHS] + [f"{key}-{n}" for n in
                                                           ("numbers", "table", "raw", "command", "url", "general")])


#: In-request computations running at once, all tabs together (more would only share the cores and make
#: every one of them late); one that cannot start within :data:`WAIT_S` seconds is refused with a message.
MAX_INLINE = 3
WAIT_S = 15.0
_INLINE = threading.BoundedSemaphore(MAX_INLINE)


def _page(app, module, server_lang: str, jobs: Jobs) -> None:
    key = module.KEY
    fields = [f for f in module.FIELDS if f.control != "hidden"]
    live = [f for f in fields if f.live]
    quiet = [f for f in fields if not f.live]
    has_jobs = getattr(module, "JOBS", False)
    triggers = tuple(getattr(module, "INPUTS", ()))
    props = ["figure"] * len(module.GRAPHS) + ["children", "children", "data", "children", "search", "children"]
    outputs = [Output(i, p) for i, p in zip(_ids(key, module), props)]
    outputs += [Output(f"{key}-{f.name}-msg", "children") for f in fields]
    outputs.append(Output("page-path", "data", allow_duplicate=True))
    inputs = [Input(f"{key}-{f.name}", "value") for f in live] + [Input(i, p) for i, p, _ in triggers]
    states = [State(f"{key}-{f.name}", "value") for f in quiet] + [State(f"{key}-lang", "data")]
    names = [f.name for f in live] + [n for _, _, n in triggers] + [f.name for f in quiet]
    if has_jobs:
        outputs += [Output(f"{key}-job", "data"), Output(f"{key}-poll", "disabled"),
                    Output(f"{key}-progress", "style"), Output(f"{key}-progress-text", "children")]
        states.append(State(f"{key}-job", "data"))
    path = next(p for p, m in PAGES.items() if m is module)

    @app.callback(*outputs, *inputs, *states, prevent_initial_call="initial_duplicate")
    def update(*args):
        raw = dict(zip(names, args))
        lang = lang_of(args[len(names)], server_lang)
        out = _call(module, raw, lang)
        values = _outputs(out, module, fields, lang, server_lang)
        values.append(no_update if values[len(module.GRAPHS) + 4] is no_update else
                      shown_key(path, values[len(module.GRAPHS) + 4]))
        if has_jobs:
            values += _start(out, jobs, lang, args[len(names) + 1])
        return values

    update.arg_names = names + ["_lang"] + (["_job"] if has_jobs else [])
    update.output_ids = [f"{o.component_id}.{o.component_property}" for o in outputs]
    app.genlab["callbacks"][key] = update
    if has_jobs:
        _jobs(app, jobs, module, server_lang)
    if hasattr(module, "register"):
        module.register(app, server_lang)


def _call(module, raw: dict, lang: str):
    """``module.update(raw, lang)``; an exception it did not foresee becomes a message, with its traceback on
    the server's stderr, and the server goes on. At most :data:`MAX_INLINE` run at once."""
    from .common import Outcome

    if not _INLINE.acquire(timeout=WAIT_S):
        return Outcome(general=words(lang)["busy_inline"].format(n=MAX_INLINE))
    try:
        return module.update(raw, lang)
    except Exception as exc:  # noqa: BLE001 - one interaction failed; the page says so and the server goes on
        traceback.print_exc(file=sys.stderr)
        return Outcome(general=words(lang)["internal"].format(error=f"{type(exc).__name__}: {exc}"[:300]))
    finally:
        _INLINE.release()


def _outputs(out, module, fields, lang: str, server_lang: str) -> list:
    msgs = [out.errors.get(f.name, "") for f in fields]
    general = out.general or ""
    if not out.ok or out.job is not None:
        return [no_update] * (len(module.GRAPHS) + 5) + [general] + msgs
    query = out.query + ("" if lang == server_lang else f"&lang={lang}")
    return (list(out.figures) + [layout.number_rows(out.numbers), layout.table_rows(out.table), out.raw,
                                 out.command, query, ""] + msgs)


def _start(out, jobs: Jobs, lang: str, running) -> list:
    """The job outputs of a page with jobs: start ``out.job`` and show its progress, or hide the progress.

    The tab's ``running`` job goes on when it computes the same configuration (only the degree shown
    changed, say), and is cancelled otherwise: its result is no longer wanted.
    """
    hidden = {"display": "none"}
    if out.job is not None and jobs.running_key(running) == out.job[3]:
        return [running, False, {"display": "block", "margin": "8px 0"}, no_update]
    jobs.cancel(running)
    if out.job is None:
        return [None, True, hidden, ""]
    run, total, what, key = out.job[:4]
    store = len(out.job) > 4 and bool(out.job[4])
    try:
        job_id = jobs.start(run, total, key, store=store, what=what if store else None)
    except Busy as exc:
        return [None, True, {"display": "block", "margin": "8px 0"},
                words(lang)["busy"].format(n=exc.args[0], command=out.command or "genlab …")]
    return [job_id, False, {"display": "block", "margin": "8px 0"}, words(lang)["queued"]]


# -- the jobs of a page: progress, result, cancel -------------------------------------------------------------

def _jobs(app, jobs: Jobs, module, server_lang: str) -> None:
    key = module.KEY
    shared = [Output(i, p, allow_duplicate=True) for i, p in zip(
        _ids(key, module), ["figure"] * len(module.GRAPHS) + ["children", "children", "data", "children", "search",
                                                             "children"])]
    status = [Output(i, p, allow_duplicate=True) for i, p in (
        (f"{key}-job", "data"), (f"{key}-poll", "disabled"), (f"{key}-progress", "style"),
        (f"{key}-progress-text", "children"))] + [Output(f"{key}-progress-bar", "value"),
                                                  Output(f"{key}-progress-bar", "max")]

    fields = [f for f in module.FIELDS if f.control != "hidden"]

    @app.callback(*shared, *status, Input(f"{key}-poll", "n_intervals"), State(f"{key}-job", "data"),
                  State(f"{key}-lang", "data"), *[State(f"{key}-{f.name}", "value") for f in fields],
                  prevent_initial_call=True)
    def poll(_n, job_id, lang, *values):
        lang = lang_of(lang, server_lang)
        job = jobs.poll(job_id)
        result = None
        if job is not None and job.state == "done":
            # the page as its controls are now (the degree shown may have moved): the result is in the cache
            result = _call(module, dict(zip([f.name for f in fields], values)), lang)
            if not result.ok or result.job is not None or result.figures is None:
                result = job.result
        return poll_outputs(job, module, lang, server_lang, result)

    @app.callback(Output(f"{key}-progress-text", "children", allow_duplicate=True),
                  Input(f"{key}-cancel", "n_clicks"), State(f"{key}-job", "data"), prevent_initial_call=True)
    def cancel(_n, job_id):
        return "…" if jobs.cancel(job_id) else no_update

    app.genlab["callbacks"][f"{key}-poll"] = poll
    app.genlab["callbacks"][f"{key}-cancel"] = cancel


def poll_outputs(job, module, lang: str, server_lang: str, result=None) -> list:
    from ..core.errors import GenlabError

    n = len(module.GRAPHS) + 6
    stop = [None, True, {"display": "none"}, ""]
    if job is None:
        return [no_update] * n + stop + [no_update, no_update]
    if job.state == "running":
        key = "waiting" if job.waiting else "running_store" if job.in_store else "running"
        text = words(lang)[key].format(what=job.what or module.KEY, done=job.done, total=job.total)
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
