"""Static HTML rendering of a :class:`~genlab.report.model.Report`.

One page, no external requests: figures are inlined as SVG, with links to the
PNG, SVG and CSV files written beside it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .model import Number, Report

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
"""


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


def render(report: Report, root: Path) -> str:
    """The page for ``report``, whose figure files lie under ``root``."""
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
             f"<title>{html.escape(report.title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(report.title)}</h1>"]
    if report.subtitle:
        parts.append(f"<p class='subtitle'>{html.escape(report.subtitle)}</p>")
    parts.append("<nav><ul>" + "".join(f"<li><a href='#{s.key}'>{html.escape(s.title)}</a></li>"
                                         for s in report.sections) + "</ul></nav>")
    for s in report.sections:
        parts.append(f"<section id='{s.key}'><h2>{html.escape(s.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        if s.numbers:
            parts.append("<table><tr><th>measured</th><th>this run</th><th>spread</th>"
                         "<th>article</th><th></th></tr>" + "".join(_number_row(n) for n in s.numbers)
                         + "</table>")
        for f in s.figures:
            svg = _inline_svg(root / f.files["svg"]) if "svg" in f.files else ""
            svg = re.sub(r"<\?xml[^>]*>", "", svg)
            links = " · ".join(f"<a href='{html.escape(p)}'>{fmt.upper()}</a>" for fmt, p in f.files.items())
            parts.append(f"<figure id='{f.key}'>{svg}<figcaption><b>{html.escape(f.title)}.</b> "
                         f"{html.escape(f.caption)} <span class='files'>[{links}]</span></figcaption></figure>")
        parts.append("</section>")
    meta = ", ".join(f"{k}: {html.escape(str(v))}" for k, v in report.meta.items())
    parts.append(f"<p class='meta'>{meta}</p></body></html>\n")
    return "\n".join(parts)
