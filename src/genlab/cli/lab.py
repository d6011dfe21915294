"""`genlab lab`: the article as a live laboratory in the browser (a local Dash server; see
:mod:`genlab.lab`). Registered by ``cli/app.py``; dash is imported only when the command runs."""

from __future__ import annotations

from pathlib import Path

import typer


def lab(
    port: int = typer.Option(8050, help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on. The default serves this machine only; "
                             "another (0.0.0.0: every interface) lets anyone who reaches it use the lab."),
    lang: str = typer.Option("en", help="Language of the pages: en or ja (a page's ?lang= overrides it)."),
    store: Path = typer.Option(Path("genlab-lab") / "runs.sqlite", help="Results store of the lab's sweeps (`genlab "
                               "runs ls --store PATH` lists them); the server writes only in its folder."),
    open_browser: bool = typer.Option(False, "--open", help="Open the lab in the default browser."),
):
    """Start the live laboratory: every article section's controls recompute with genlab's engines.

    Prints the URL and serves until Ctrl-C. Fits, capacity curves, the bias-variance decomposition (up to 100,000 datasets, with a progress bar past 20,000), ridge (its optimum, and lasso beside it) and scaling-law fits run on request; the sweeps of networks and random features (§4.1 double descent and the MLP width sweep, §4.3 transformer training, §5 lottery tickets) run through the results store --store with a progress bar and a cancel button, and resume from it. Every view shows the equivalent genlab command and downloads as PNG, SVG, CSV and JSON.
    """
    from ..lab.server import serve

    serve(host=host, port=port, lang=lang, store=store, open_browser=open_browser)
