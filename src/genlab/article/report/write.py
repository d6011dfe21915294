"""Write a report folder: figures (PNG, SVG), their data (CSV), results.json, index.html."""

from __future__ import annotations

from pathlib import Path

from ...core.io import OutputSet
from .html import render
from .model import Report


def write_report(report: Report, out) -> Path:
    """Write ``report`` under ``out`` as one set, all or nothing (:class:`genlab.core.io.OutputSet`):
    figures and data first, then ``results.json``, and ``index.html`` last as the completion mark."""
    out = Path(out)
    with OutputSet(out) as files:
        for section in report.sections:
            for f in section.figures:
                f.render()  # unless drawn already, as the article's builder does while workers run
                for fmt, data in f.rendered.items():
                    p = files.add(f"figures/{f.key}.{fmt}", data)
                    f.files[fmt] = str(p.relative_to(out))
                if f.data is not None:
                    p = files.add_csv(f"data/{f.key}.csv", f.data)
                    f.files["csv"] = str(p.relative_to(out))
        files.add_json("results.json", report.to_dict())
        index = files.add_text("index.html", render(report, files.staging))  # reads the staged SVGs
    return index
