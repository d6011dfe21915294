"""`genlab article`: every section of the article, measured, as one report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..core.version import __version__
from ..core.errors import GenlabError
from .report.i18n import load_text
from .report.model import Report
from .report.write import write_report
from ..runs.sweep import PlanResults, run_plan, serving


SECTIONS = ("overfitting", "biasvar", "double_descent", "regularization", "scaling", "lottery")
#: Sections measured in this process (no sweep): built first, while the workers start the plan.
IN_PROCESS = ("overfitting", "biasvar")
#: The order in which the sections with sweeps are planned (each a rank of the plan) and built: §4.3, with
#: the most work after its sweeps, first; §5's few long jobs next; §4.1-4.2's many short ones fill the end.
BUILD_ORDER = ("overfitting", "biasvar", "scaling", "lottery", "double_descent", "regularization")


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
          only=None, progress=None, planned: bool = True) -> Report:
    """Run the sections' experiments and return the report's content.

    Sweeps go through ``store`` (the report folder's ``runs.sqlite`` from the
    CLI), so a rerun after a crash reuses the jobs that finished. With a store
    and ``planned`` (the default), every section's sweeps run as one plan while
    the sections are built (see docs/architecture.md); ``planned=False`` builds
    the sections one after another, each running its own sweeps (the same
    numbers; ``bench/article.py`` times both).
    """
    import threading

    import matplotlib.pyplot as plt

    from .sections import biasvar, double_descent, lottery, overfitting, scaling

    plt.rcParams["figure.max_open_warning"] = 0  # figures stay open until the report is written
    t = load_text(lang)["report"]  # an unknown language fails here, before any work
    names = check_sections(only)
    kw = dict(quick=quick, lang=lang, jobs=jobs)
    makers = {
        "overfitting": lambda: overfitting.section(seed=seed, quick=quick, lang=lang),
        "biasvar": lambda: biasvar.section(**kw),
        "double_descent": lambda: double_descent.double_descent_section(store=store, **kw),
        "regularization": lambda: double_descent.regularization_section(store=store, **kw),
        "scaling": lambda: scaling.section(store=store, **kw),
        "lottery": lambda: lottery.section(store=store, **kw),
    }
    built: dict = {}

    def make(name):
        section = makers[name]()
        for f in section.figures:  # drawn now, while the workers still run others' jobs
            f.render()
        built[name] = section
        if progress:
            progress(1)

    # The workers run every section's sweeps as one plan, the longest jobs first, while this process
    # measures the sections that need no worker and then builds each of the others as soon as the
    # plan has its sweeps (in the plan's order, BUILD_ORDER), so that both sides stay busy to the end.
    sweeps = plan(names, quick=quick, jobs=jobs, store=store) if store is not None and planned else []
    order = sorted(names, key=lambda name: (name not in IN_PROCESS, BUILD_ORDER.index(name)))
    if sweeps:
        results, failed = PlanResults(), []

        def build_all():
            try:
                with serving(results):
                    for name in order:
                        make(name)
            except BaseException as exc:  # noqa: BLE001  re-raised in the caller's thread
                failed.append(exc)

        thread = threading.Thread(target=build_all, name="genlab-article-builder", daemon=True)
        thread.start()
        run_plan(sweeps, store=store, jobs=jobs, progress=False, records=False, deliver=results)
        thread.join()
        if failed:
            raise failed[0]
    else:
        for name in order:
            make(name)
    return Report(t["title"], t["subtitle"], [built[name] for name in names],
                  meta={"genlab": __version__, "quick": quick, "seed": "closest to the article" if seed is None else seed,
                        "lang": lang}, lang=lang)


def plan(names, *, quick: bool = False, jobs: int = 1, store=None) -> list:
    """Every job the sections ``names`` will run through ``store``, as :class:`~genlab.runs.sweep.PlannedSweep`s.

    Each section names its sweeps (its module's ``sweeps()``), and
    :func:`~genlab.runs.sweep.planned_sweeps` asks each what it would run; the
    jobs are the very ones the section runs later, so :func:`run_plan` on them
    leaves nothing for the section to run but its own bookkeeping.
    """
    from ..runs.sweep import planned_sweeps
    from .sections import double_descent, lottery, scaling

    kw = dict(quick=quick, seed=0, jobs=jobs, store=store)  # the seed of every section with sweeps (see build)
    out = []
    for name in names:
        if name in ("double_descent", "regularization"):
            made = double_descent.sweeps(**kw)
            thunks = [made[key] for key in double_descent.SECTION_SWEEPS[name]]
        elif name == "scaling":
            thunks = list(scaling.sweeps(**kw).values())
        elif name == "lottery":
            thunks = list(lottery.sweeps(**kw).values())
        else:
            thunks = []
        for thunk in thunks:
            out += [replace(sw, rank=BUILD_ORDER.index(name)) for sw in planned_sweeps(thunk)]
    return out


def write(out, *, seed: int | None = None, quick: bool = False, lang: str = "en", jobs: int = 1, only=None,
          progress=None, planned: bool = True) -> Path:
    """Build the report and write it under ``out``; returns the path of ``index.html``."""
    from ..runs.store import default_store_path

    out = Path(out)
    report = build(seed=seed, quick=quick, lang=lang, jobs=jobs, store=default_store_path(out), only=only,
                   progress=progress, planned=planned)
    return write_report(report, out)
