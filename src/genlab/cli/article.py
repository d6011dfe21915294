"""`genlab article`: every section of the article, measured, written as one report."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from ._common import check_out_folder


def article(
    out: Path = typer.Option(Path("report"), help="Folder for index.html, results.json, figures and data.",
                             callback=check_out_folder),
    seed: Optional[int] = typer.Option(None, help="Dataset seed for §2 (default: the draw closest to the article)."),
    quick: bool = typer.Option(False, help="Smaller sweeps, for a fast look."),
    lang: str = typer.Option("en", help="Language of the report: en or ja (日本語)."),
    jobs: int = typer.Option(os.cpu_count() or 1, help="Worker processes (results do not depend on it)."),
    only: Optional[str] = typer.Option(None, help="Build only these sections, comma-separated: overfitting, "
                                       "biasvar, double_descent, regularization, scaling, lottery."),
):
    """Write the whole article as a report: every figure, with the numbers measured in this run."""
    from ..article import build as article_mod
    from ..core.seeding import check_seed
    from ..article.report.i18n import load_text

    if seed is not None:
        check_seed(seed)
    load_text(lang)
    from ..runs.executors import check_jobs
    from ..runs.progress import Progress

    check_jobs(jobs)
    names = article_mod.check_sections(only)
    with Progress("sections", len(names), transient=True, enabled=sys.stderr.isatty()) as bar:
        index = article_mod.write(out, seed=seed, quick=quick, lang=lang, jobs=jobs, only=only, progress=bar)
    typer.echo(f"report written: {index}")
