"""`genlab scaling fit|plan|predict`: fit a scaling law to runs, plan compute, predict loss.

Registered by ``cli.py`` as ``app.add_typer(scaling_app, name="scaling")``. Heavy
modules (scipy, matplotlib, pandas) are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .errors import GenlabError

scaling_app = typer.Typer(no_args_is_help=True,
                          help="Neural scaling laws: fit runs, plan compute-optimal N and D, predict loss.")

FORMS = ("chinchilla", "kaplan", "power", "power_N", "power_D", "power_C", "saturating")


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GenlabError(f"{what} {text!r} must be numbers separated by commas, e.g. 1e19,1e21") from None
    if not values or any(not (v > 0 and v < float("inf")) for v in values):
        raise GenlabError(f"{what} {text!r} must be numbers > 0")
    return values


@scaling_app.command("fit")
def fit_cmd(
    csv: Path = typer.Argument(..., help="CSV with one run per row (columns N, D, loss; optional seed)."),
    form: str = typer.Option("chinchilla", help="chinchilla, kaplan, power (L(N)), power_D, power_C or saturating."),
    n_col: str = typer.Option("N", help="Column of parameters N."),
    d_col: str = typer.Option("D", help="Column of tokens D."),
    c_col: str = typer.Option("C", help="Column of compute C (power_C)."),
    loss_col: str = typer.Option("loss", help="Column of the final loss."),
    bootstrap: int = typer.Option(200, help="Bootstrap replicates over runs (0: none)."),
    budget: Optional[float] = typer.Option(None, help="FLOPs at which to report the compute optimum "
                                           "(default: the largest 6ND among the runs)."),
    seed: int = typer.Option(0, help="Seed of the bootstrap (same seed, same intervals)."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable results (JSON) on stdout."),
    out: Path = typer.Option(Path("genlab-out"), help="Folder for figures (PNG, SVG) and results (JSON, CSV)."),
):
    """Fit a scaling law (Huber on log-loss, L-BFGS-B from a grid) with bootstrap intervals."""
    from .scaling import fit_csv, get_form

    get_form(form)
    if bootstrap < 0:
        raise GenlabError(f"--bootstrap must be an integer >= 0, got {bootstrap}")
    res = fit_csv(csv, form, n_col=n_col, d_col=d_col, c_col=c_col, loss_col=loss_col, bootstrap=bootstrap,
                  seed=seed, budget=budget)
    import matplotlib.pyplot as plt

    from .cli import _emit, _say

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    res.plot(ax)
    record = {"command": "scaling fit", "csv": str(csv), **res.to_dict()}
    files = _emit(out, f"scaling_fit_{res.form.name}", fig, res.summary(), record, as_json)
    if not as_json:
        iv = res.intervals
        typer.echo("; ".join(f"{k} = {v:.4g}" + (f" [{iv[k][0]:.4g}, {iv[k][1]:.4g}]" if k in iv else "")
                             for k, v in {**res.params, **res.derived}.items()))
        if res.holdout:
            typer.echo(f"hold-out: predicting N = {res.holdout['held_out']:.3g} from smaller models, "
                       f"mean |relative error| {res.holdout['mean_abs_rel_error']:.3%}")
        for w in res.warnings:
            typer.echo(f"warning: {w}")
    _say(f"wrote {', '.join(str(p) for p in files)}", as_json)


@scaling_app.command("plan")
def plan_cmd(
    flops: str = typer.Option("1e21", help="Compute budget(s) in FLOPs (C ≈ 6ND), e.g. 1e21 or 1e19,1e21."),
    law: str = typer.Option("chinchilla", help="chinchilla, kaplan, or the JSON file written by 'scaling fit'."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable results (JSON) on stdout."),
    out: Path = typer.Option(Path("genlab-out"), help="Folder for figures (PNG, SVG) and results (JSON, CSV)."),
):
    """Compute-optimal model size N*, tokens D* and predicted loss for a budget."""
    from .scaling import plan

    res = plan(_floats(flops, "--flops"), law=law)
    import matplotlib.pyplot as plt

    from .cli import _emit, _say

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    res.plot(ax)
    record = {"command": "scaling plan", **res.to_dict()}
    files = _emit(out, "scaling_plan", fig, res.summary(), record, as_json)
    if not as_json:
        for row in res.summary().to_dict(orient="records"):
            typer.echo(f"C = {row['flops']:.3g} FLOPs: N = {row['N']:.3g}, D = {row['D']:.3g} "
                       f"({row['tokens_per_param']:.3g} tokens/param), loss = {row['loss']:.4g}")
        for w in res.warnings:
            typer.echo(f"warning: {w}")
    _say(f"wrote {', '.join(str(p) for p in files)}", as_json)


@scaling_app.command("predict")
def predict_cmd(
    n: Optional[float] = typer.Option(None, "--n", help="Parameters N."),
    d: Optional[float] = typer.Option(None, "--d", help="Tokens D."),
    c: Optional[float] = typer.Option(None, "--c", help="Compute C (FLOPs; PF-days for kaplan_C)."),
    law: str = typer.Option("chinchilla", help="chinchilla, kaplan, kaplan_N, kaplan_D, kaplan_C, or the "
                            "JSON file written by 'scaling fit'."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable results (JSON) on stdout."),
):
    """The loss a law predicts at N (and D, or C = 6ND)."""
    import sys

    import numpy as np

    from .io import to_json
    from .scaling import load_law

    for name, v in (("--n", n), ("--d", d), ("--c", c)):
        if v is not None and not (v > 0 and v < float("inf")):
            raise GenlabError(f"{name} must be a number > 0, got {v}")
    lw, boots, runs = load_law(law)
    where = {k: v for k, v in (("N", n), ("D", d), ("C", c)) if v is not None}
    loss = lw.predict(**where)
    record = {"command": "scaling predict", "law": lw.to_dict(), "at": where, "loss": loss, "warnings": []}
    if boots:
        preds = np.array([b.predict(**where) for b in boots])
        record["interval"] = [float(np.percentile(preds, 2.5)), float(np.percentile(preds, 97.5))]
    if runs:
        for k, v in where.items():
            seen = runs.get(k)
            if seen and v > max(seen):
                record["warnings"].append(f"extrapolates {k} by {v / max(seen):.3g}x beyond the largest fitted")
    if as_json:
        sys.stdout.write(to_json(record))
    else:
        iv = f" [{record['interval'][0]:.4g}, {record['interval'][1]:.4g}]" if "interval" in record else ""
        typer.echo(f"{lw.name}: L({', '.join(f'{k}={v:.3g}' for k, v in where.items())}) = {loss:.4g}{iv}")
        for w in record["warnings"]:
            typer.echo(f"warning: {w}")
