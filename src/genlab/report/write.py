"""Write a report folder: figures (PNG, SVG), their data (CSV), results.json, index.html."""

from __future__ import annotations

from pathlib import Path

from ..io import atomic_write_text, save_figure, write_csv, write_json
from .html import render
from .model import Report


def write_report(report: Report, out) -> Path:
    """Write ``report`` under ``out``; ``index.html`` is written last, each file atomically."""
    import matplotlib.pyplot as plt

    out = Path(out)
    for section in report.sections:
        for f in section.figures:
            if f.fig is not None:
                for p in save_figure(f.fig, out / "figures", f.key):
                    f.files[p.suffix[1:]] = str(p.relative_to(out))
                plt.close(f.fig)
                f.fig = None
            if f.data is not None:
                p = write_csv(out / "data" / f"{f.key}.csv", f.data)
                f.files["csv"] = str(p.relative_to(out))
    write_json(out / "results.json", report.to_dict())
    return atomic_write_text(out / "index.html", render(report, out))
