"""HTML rendering of a :class:`~genlab.article.report.model.Report`: one self-contained page.

No request leaves the page: plotly.js is embedded once (only when a figure is
interactive), each interactive figure is a ``<div>`` plus its JSON, drawn by one
script at the end; the other figures are inlined as SVG. Every figure links the
PNG, SVG and CSV files written beside the page; an interactive one also shows
its static SVG when JavaScript is off.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .i18n import load_text
from .model import Figure, Number, Report

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:58rem;margin:2rem auto;
padding:0 1rem;line-height:1.55;color:#1d1d1f}
h1{margin-bottom:.2rem}.subtitle{color:#555;margin-top:0}
section{border-top:1px solid #ddd;margin-top:2.5rem}
figure{margin:1.5rem 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:.92rem;color:#333}.files{font-size:.85rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.92rem}
td,th{border-bottom:1px solid #e3e3e3;padding:.25rem .7rem;text-align:right}
td:first-child,th:first-child{text-align:left}
.meta{font-size:.8rem;color:#666}
.genlab-plot{width:100%;min-height:470px}.hint{font-size:.9rem;color:#444;background:#f4f6fa;border-left:3px solid #1f77b4;
padding:.35rem .7rem;margin:.4rem 0}.static{max-width:100%}
"""

# draws every interactive figure; a figure that fails says so (and logs the error) and leaves the others drawn
SCRIPT = """(function(){
document.querySelectorAll('div.genlab-plot').forEach(function(div){
  try {
    var fig = JSON.parse(document.getElementById(div.id + '-json').textContent);
    Plotly.newPlot(div, fig.data, fig.layout, {responsive: true, displaylogo: false});
  } catch (err) {
    console.error('figure ' + div.id + ': ' + err);
    div.textContent = div.getAttribute('data-error');
  }
});
})();"""


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def _number_row(n: Number) -> str:
    value = _fmt(n.value) + (f" ± {_fmt(n.se)}" if n.se is not None else "")
    interval = (f"{_fmt(n.interval[0])} – {_fmt(n.interval[1])}"
                + (f" <small>({html.escape(n.interval_label)})</small>" if n.interval_label else "")
                if n.interval else "")
    return (f"<tr><td>{html.escape(n.label)}</td><td>{value}</td><td>{interval}</td>"
            f"<td>{_fmt(n.article)}</td><td>{html.escape(n.note)}</td></tr>")


def _inline_svg(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else ""


def _figure(f: Figure, root: Path, t: dict) -> str:
    links = " · ".join(f"<a href='{html.escape(p)}'>{fmt.upper()}</a>" for fmt, p in f.files.items())
    caption = (f"<figcaption><b>{html.escape(f.title)}.</b> {html.escape(f.caption)} "
               f"<span class='files'>[{links}]</span></figcaption>")
    if f.plotly is not None:
        from .interactive import to_json

        pid = f"plot-{f.key}"
        hint = f"<p class='hint'>{html.escape(f.hint)}</p>" if f.hint else ""
        static = (f"<noscript><img class='static' src='{html.escape(f.files['svg'])}' alt='{html.escape(f.title)}'>"
                  f"</noscript>" if "svg" in f.files else "")
        return (f"<figure id='{f.key}' class='interactive'>{hint}"
                f"<div class='genlab-plot' id='{pid}' data-error='{html.escape(t['figure_error'])}'></div>{static}"
                f"<script type='application/json' id='{pid}-json'>{to_json(f.plotly)}</script>{caption}</figure>")
    svg = _inline_svg(root / f.files["svg"]) if "svg" in f.files else ""
    svg = re.sub(r"<\?xml[^>]*>", "", svg)
    return f"<figure id='{f.key}'>{svg}{caption}</figure>"


def render(report: Report, root: Path) -> str:
    """The page for ``report``, whose figure files lie under ``root``."""
    t = load_text(report.lang)["report"]
    interactive = any(f.plotly is not None for s in report.sections for f in s.figures)
    head = ""
    if interactive:
        from .interactive import plotly_js

        head = f"<script>{plotly_js()}</script>"  # once per page
    parts = [f"<!DOCTYPE html><html lang='{html.escape(report.lang)}'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
             f"<title>{html.escape(report.title)}</title><style>{CSS}</style>{head}</head><body>",
             f"<h1>{html.escape(report.title)}</h1>"]
    if report.subtitle:
        parts.append(f"<p class='subtitle'>{html.escape(report.subtitle)}</p>")
    if interactive:
        parts.append(f"<p class='hint'>{html.escape(t['interactive'])}</p>")
    parts.append(f"<nav aria-label='{html.escape(t['contents'])}'><ul>"
                 + "".join(f"<li><a href='#{s.key}'>{html.escape(s.title)}</a></li>" for s in report.sections)
                 + "</ul></nav>")
    for s in report.sections:
        parts.append(f"<section id='{s.key}'><h2>{html.escape(s.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        if s.numbers:
            parts.append(f"<table><tr><th>{html.escape(t['col_measured'])}</th><th>{html.escape(t['col_value'])}</th>"
                         f"<th>{html.escape(t['col_spread'])}</th><th>{html.escape(t['col_article'])}</th><th></th></tr>"
                         + "".join(_number_row(n) for n in s.numbers) + "</table>")
        parts += [_figure(f, root, t) for f in s.figures]
        parts.append("</section>")
    meta = ", ".join(f"{k}: {html.escape(str(v))}" for k, v in report.meta.items())
    parts.append(f"<p class='meta'>{meta}</p>")
    if interactive:
        parts.append(f"<script>{SCRIPT}</script>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
