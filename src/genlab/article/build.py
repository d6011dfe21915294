"""`genlab article`: every section of the article, measured, as one report."""

from __future__ import annotations

from pathlib import Path

from ..core.version import __version__
from ..core.errors import GenlabError
from .report.i18n import load_text
from .report.model import Report
from .report.write import write_report


SECTIONS = ("overfitting", "biasvar", "double_descent", "regularization", "scaling", "lottery")


def check_sections(only) -> tuple[str, ...]:
    """The sections to build: all, or those named in ``only`` (a list or a comma-separated string)."""
    if only is None:
        return SECTIONS
    names = [s.strip() for s in (only.split(",") if isinstance(only, str) else only) if s.strip()]
    bad = [s for s in names if s not in SECTIONS]
    if bad or not names:
        raise GenlabError(f"unknown section {bad[0] if bad else ''!r}; choose from {', '.join(SECTIONS)}")
    return tuple(s for s in SECTIONS if s in names)


def build(*, seed: int | None = None, quick: bool = False, lang: str = "en", jobs: int = 1, store=None,
          only=None, progress=None) -> Report:
    """Run the sections' experiments and return the report's content.

    Sweeps go through ``store`` (the report folder's ``runs.sqlite`` from the
    CLI), so a rerun after a crash reuses the jobs that finished.
    """
    import matplotlib.pyplot as plt

    from .sections import biasvar, double_descent, lottery, overfitting, scaling

    plt.rcParams["figure.max_open_warning"] = 0  # figures stay open until the report is written
    t = load_text(lang)["report"]  # an unknown language fails here, before any work
    kw = dict(quick=quick, lang=lang, jobs=jobs)
    makers = {
        "overfitting": lambda: overfitting.section(seed=seed, quick=quick, lang=lang),
        "biasvar": lambda: biasvar.section(**kw),
        "double_descent": lambda: double_descent.double_descent_section(store=store, **kw),
        "regularization": lambda: double_descent.regularization_section(store=store, **kw),
        "scaling": lambda: scaling.section(store=store, **kw),
        "lottery": lambda: lottery.section(store=store, **kw),
    }
    sections = []
    for name in check_sections(only):
        sections.append(makers[name]())
        if progress:
            progress(1)
    return Report(t["title"], t["subtitle"], sections,
                  meta={"genlab": __version__, "quick": quick, "seed": "closest to the article" if seed is None else seed,
                        "lang": lang}, lang=lang)


def write(out, *, seed: int | None = None, quick: bool = False, lang: str = "en", jobs: int = 1, only=None,
          progress=None) -> Path:
    """Build the report and write it under ``out``; returns the path of ``index.html``."""
    from ..runs.store import default_store_path

    out = Path(out)
    report = build(seed=seed, quick=quick, lang=lang, jobs=jobs, store=default_store_path(out), only=only,
                   progress=progress)
    return write_report(report, out)
