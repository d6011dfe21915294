"""`genlab article`: every section of the article, measured, as one report."""

from __future__ import annotations

from pathlib import Path

from . import __version__
from .report.i18n import load_text
from .report.model import Report
from .report.write import write_report


def build(*, seed: int | None = None, quick: bool = False, lang: str = "en", jobs: int = 1) -> Report:
    """Run every section's experiments and return the report's content."""
    from .experiments import biasvar, overfitting

    t = load_text(lang)["report"]
    sections = [overfitting.section(seed=seed, quick=quick, lang=lang),
                biasvar.section(quick=quick, lang=lang, jobs=jobs)]
    return Report(t["title"], t["subtitle"], sections,
                  meta={"genlab": __version__, "quick": quick, "seed": "closest to the article" if seed is None else seed,
                        "lang": lang})


def write(out, *, seed: int | None = None, quick: bool = False, lang: str = "en", jobs: int = 1) -> Path:
    """Build the report and write it under ``out``; returns the path of ``index.html``."""
    return write_report(build(seed=seed, quick=quick, lang=lang, jobs=jobs), Path(out))
