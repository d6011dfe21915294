"""The lab's pages as Dash components: the navigation, a page's controls with a message line under each,
its figures, numbers, downloads and shell command, and the contents page. Component ids are ``{page}-{name}`` (a control), ``{page}-{name}-msg`` (its message),
``{page}-graph-{graph}``, ``{page}-numbers``, ``{page}-table``, ``{page}-command``, ``{page}-general``,
``{page}-raw`` (the exact numbers, JSON), ``{page}-url`` and ``{page}-lang``. Imported only by the server.
"""

from __future__ import annotations

from dash import dcc, html

from .common import paragraphs, title
from .words import words

#: Pages, in the article's order: path -> (key, report section)
NAV = (("/overfitting", "overfitting"), ("/biasvar", "biasvar"), ("/double-descent", "double_descent"),
       ("/ridge", "ridge"), ("/scaling", "scaling"), ("/lottery", "lottery"))

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK JP', sans-serif; margin: 0; color: #222; }
.lab { max-width: 1240px; margin: 0 auto; padding: 0 20px 40px; }
nav.lab-nav { display: flex; flex-wrap: wrap; gap: 14px; padding: 12px 0; border-bottom: 1px solid #ddd; }
nav.lab-nav a { text-decoration: none; color: #1f77b4; }
nav.lab-nav a.here { font-weight: 600; color: #222; }
.controls { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 10px 18px;
            background: #f7f7f9; padding: 12px; border-radius: 6px; }
.control label { display: block; font-size: 0.85em; color: #444; margin-bottom: 2px; }
.control input[type=text] { width: 100%; box-sizing: border-box; padding: 4px; }
.control.wide { grid-column: 1 / -1; }
.control textarea { width: 100%; height: 9em; font-family: monospace; }
.hint { font-size: 0.75em; color: #777; }
.msg { color: #b00020; font-size: 0.85em; min-height: 0; white-space: pre-wrap; }
.general { color: #b00020; margin: 8px 0; white-space: pre-wrap; }
.graphs { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 8px; }
table.numbers td, table.numbers th, table.grid td, table.grid th { padding: 2px 10px; text-align: left;
                                                                 font-weight: normal; }
table.numbers th { color: #555; }
table.grid { border-collapse: collapse; font-size: 0.9em; }
table.grid tr:nth-child(even) { background: #f5f5f5; }
pre.command { background: #272822; color: #f8f8f2; padding: 10px; border-radius: 4px; white-space: pre-wrap;
              word-break: break-all; }
.note { color: #555; font-size: 0.9em; }
.upload { border: 1px dashed #999; padding: 10px; text-align: center; border-radius: 4px; cursor: pointer; }
"""

INDEX = f"""<!DOCTYPE html>
<html>
    <head>
        {{%metas%}}
        <title>{{%title%}}</title>
        {{%favicon%}}
        {{%css%}}
        <style>{CSS}</style>
    </head>
    <body>
        {{%app_entry%}}
        <footer>
            {{%config%}}
            {{%scripts%}}
            {{%renderer%}}
        </footer>
    </body>
</html>"""


def cid(key: str, name: str) -> str:
    return f"{key}-{name}"


def nav(lang: str, here: str | None, server_lang: str) -> html.Nav:
    w = words(lang)
    tail = "" if lang == server_lang else f"?lang={lang}"
    links = [dcc.Link(w["home"], href="/" + tail, className="here" if here is None else "")]
    links += [dcc.Link(w["pages"][key], href=path + tail, className="here" if key == here else "")
              for path, key in NAV]
    other = "ja" if lang == "en" else "en"
    links.append(html.A("日本語" if other == "ja" else "English", href=f"?lang={other}", id="lab-lang-switch"))
    return html.Nav(links, className="lab-nav")


def control(key: str, f, value, lang: str):
    """One field: its label, its control set to ``value``, a hint where there is one, and its message line."""
    w = words(lang)
    i = cid(key, f.name)
    if f.control == "slider":
        span = (f.hi - f.lo)
        step = f.step or 1
        mark_step = next(s for s in (1, 2, 5, 10, 20, 50) if span / s <= 12) if f.kind == "int" else \
            next(s for s in (0.5, 1, 2, 5) if span / s <= 12)
        marks = {(int(m) if float(m).is_integer() else m): str(int(m) if float(m).is_integer() else m)
                 for m in _range(f.lo, f.hi, mark_step)}
        widget = dcc.Slider(id=i, min=f.lo, max=f.hi, step=step, value=value, marks=marks,
                            tooltip={"placement": "bottom", "always_visible": False})
    elif f.control == "dropdown":
        widget = dcc.Dropdown(id=i, options=[{"label": w["choices"].get(c, c), "value": c} for c in f.choices],
                              value=value, clearable=False, searchable=False)
    elif f.control == "textarea":
        widget = dcc.Textarea(id=i, value=value or "", spellCheck=False)
    else:
        widget = dcc.Input(id=i, type="text", value="" if value is None else str(value), debounce=True)
    hint = w["hints"].get(f"{key}.{f.name}", w["hints"].get(f.name))
    wide = f.control in ("textarea", "slider") and key != "overfitting" or f.name == "target"
    return html.Div([html.Label(w["fields"][f.name], htmlFor=i), widget,
                     *([html.Div(hint, className="hint")] if hint else []),
                     html.Div(id=f"{i}-msg", className="msg")], className="control wide" if wide else "control")


def _range(lo, hi, step):
    v = lo
    while v <= hi + 1e-9:
        yield round(v, 6)
        v += step


def page(module, values: dict, notes: list, lang: str, server_lang: str, extra=()) -> html.Div:
    """A page of the lab: the report's title and words, the controls, what the page computes (with its
    downloads: :mod:`.downloads`), its command."""
    from .downloads import buttons

    key = module.KEY
    w = words(lang)
    section = {"ridge": "regularization"}.get(key, key)
    notes_div = [html.Div(w["link_ignored"].format(label=w["fields"][name], message=msg), className="general")
                 for name, msg in notes]
    controls = [control(key, f, values[f.name], lang) for f in module.FIELDS if f.control != "hidden"]
    return html.Div([
        nav(lang, key, server_lang),
        html.H1(title(lang, section)),
        *[html.P(t, className="note") for t in module.layout_text(lang)],
        *notes_div,
        html.Div(controls, className="controls"),
        *extra,
        html.Div(id=cid(key, "general"), className="general"),
        dcc.Loading(html.Div([dcc.Graph(id=cid(key, f"graph-{g}"), config={"displaylogo": False})
                              for g in module.GRAPHS], className="graphs"), type="circle", delay_show=300),
        *buttons(key, lang),
        html.H3(w["numbers"]),
        html.Table(id=cid(key, "numbers"), className="numbers"),
        html.Div(html.Table(id=cid(key, "table"), className="grid"), style={"overflowX": "auto"}),
        html.H3(w["command"]),
        html.Pre(id=cid(key, "command"), className="command"),
        html.P(w["command_note"], className="note"),
        dcc.Store(id=cid(key, "raw")), dcc.Store(id=cid(key, "lang"), data=lang),
        dcc.Location(id=cid(key, "url"), refresh=False),
    ], className="lab")


def number_rows(rows) -> list:
    return [html.Tr([html.Th(label), html.Td(value)]) for label, value in rows]


def table_rows(table: dict | None) -> list:
    if not table:
        return []
    return [html.Thead(html.Tr([html.Th(c) for c in table["columns"]])),
            html.Tbody([html.Tr([html.Td(c) for c in row]) for row in table["rows"]])]


def progress_area(key: str, lang: str) -> list:
    """The progress line and cancel button of a page whose long computations run as jobs (hidden until one does)."""
    return [html.Div([html.Progress(id=cid(key, "progress-bar"), value="0", max="1"),
                      html.Span(id=cid(key, "progress-text"), style={"marginLeft": "10px"}),
                      html.Button(words(lang)["cancel"], id=cid(key, "cancel"), n_clicks=0,
                                  style={"marginLeft": "10px"})],
                     id=cid(key, "progress"), style={"display": "none", "margin": "8px 0"}),
            dcc.Store(id=cid(key, "job")), dcc.Interval(id=cid(key, "poll"), interval=300, disabled=True)]


def scaling_extra(lang: str, limit: str) -> list:
    w = words(lang)
    return [html.Div([
        dcc.Upload(html.Div(w["upload"].format(limit=limit)), id="scaling-upload", className="upload", multiple=False),
        html.Div(id="scaling-upload-msg", className="msg"),
        html.Button(w["fit"], id="scaling-fit", n_clicks=0, style={"marginTop": "8px"}),
        html.Button(w["download"], id="scaling-download-button", n_clicks=0, style={"marginLeft": "10px"}),
        dcc.Download(id="scaling-download"), dcc.Store(id="scaling-uploaded", data=0),
    ], style={"margin": "8px 0"})]


def home(lang: str, server_lang: str) -> html.Div:
    w = words(lang)
    tail = "" if lang == server_lang else f"?lang={lang}"
    items = [html.Li(dcc.Link(title(lang, {"ridge": "regularization"}.get(key, key)), href=path + tail))
             for path, key in NAV]
    return html.Div([nav(lang, None, server_lang), html.H1(w["title"]), html.P(w["tagline"]), html.Ul(items)],
                    className="lab")
