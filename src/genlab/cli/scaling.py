"""`genlab scaling fit|plan|predict|train`: fit a scaling law to runs, plan compute, predict loss,
train small transformers to measure one.

Registered by ``cli.py`` as ``app.add_typer(scaling_app, name="scaling")``. Heavy
modules (scipy, matplotlib, pandas) are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import (AllowLargeOption, JsonOption, SweepArgs, check_out_folder, emit, option_group,
                      output_stem, refuse_ignored, say)
from ..core.errors import GenlabError
from ..core.limits import check_cap
from ..core.seeding import check_seed

scaling_app = typer.Typer(no_args_is_help=True,
                          help="Neural scaling laws: fit runs, plan compute-optimal N and D, predict loss.")

def _floats(text: str, what: str, example: str = "1e19,1e21") -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GenlabError(f"{what} {text!r} must be numbers separated by commas, e.g. {example}") from None
    if not values or any(not (v > 0 and v < float("inf")) for v in values):
        raise GenlabError(f"{what} {text!r} must be numbers > 0")
    return values


@scaling_app.command("fit")
def fit_cmd(
    csv: Path = typer.Argument(..., help="CSV with one run per row (columns N, D, loss; optional seed)."),
    form: str = typer.Option("chinchilla", help="chinchilla, kaplan, power (L(N)), power_D, power_C or saturating."),
    params: str = typer.Option("non-embedding", "--params", help="Which parameters N counts: non-embedding "
                               "(Kaplan's N; column N of 'scaling train' runs.csv) or total (Chinchilla's N, "
                               "embeddings included; column N_total)."),
    n_col: Optional[str] = typer.Option(None, help="Column of parameters N (default: N, or N_total with "
                                        "--params total)."),
    d_col: str = typer.Option("D", help="Column of tokens D."),
    c_col: str = typer.Option("C", help="Column of compute C (power_C)."),
    loss_col: str = typer.Option("loss", help="Column of the final loss."),
    bootstrap: int = typer.Option(200, help="Bootstrap replicates over runs (0: none)."),
    budget: Optional[float] = typer.Option(None, help="FLOPs at which to report the compute optimum "
                                           "(default: the largest 6ND among the runs; a warning says when its "
                                           "N, D or C lies beyond the runs)."),
    seed: int = typer.Option(0, help="Seed of the bootstrap (same seed, same intervals)."),
    allow_large: AllowLargeOption = False,
    as_json: JsonOption = False,
    out: Path = typer.Option(Path("genlab-out"), help="Folder for figures (PNG, SVG) and results (JSON, CSV).",
                             callback=check_out_folder),
):
    """Fit a scaling law (Huber on log-loss, L-BFGS-B from a grid) with bootstrap intervals.

    A parameter the runs do not identify (at a bound of the search, or with a 95% interval over a factor of 10) is printed as 'not identified', with why and which runs would identify it.
    """
    from ..analysis.scaling import check_n_kind, fit_csv, get_form
    from ..analysis.scaling.forms import N_LABELS

    f = get_form(form)
    n_kind = check_n_kind(params)
    if bootstrap < 0:
        raise GenlabError(f"--bootstrap must be an integer >= 0, got {bootstrap}")
    refuse_ignored(f.variables != ("N", "D"), f"the {f.name} form has no compute optimum (it needs N and D: "
                   f"--form chinchilla or kaplan)", ("--budget", budget, None))
    if budget is not None and not (0 < budget < float("inf")):
        raise GenlabError(f"--budget must be a number of FLOPs > 0, e.g. 1e21, got {budget}")
    check_cap(bootstrap, "bootstrap", allow_large=allow_large)
    check_seed(seed)
    res = fit_csv(csv, form, n_kind=n_kind, n_col=n_col, d_col=d_col, c_col=c_col, loss_col=loss_col,
                  bootstrap=bootstrap, seed=seed, budget=budget)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    res.plot(ax)
    record = {"command": "scaling fit", "csv": str(csv), **res.to_dict()}
    stem = output_stem("scaling fit", res.form.name, ignore=("form",))  # --params total, the CSV... in the name
    files = emit(out, stem, fig, res.summary(), record, as_json)
    if not as_json:
        if "N" in res.form.variables:
            typer.echo(f"N = {N_LABELS[res.n_kind]}")
        b = len(res.boot_params)
        typer.echo((f"95% bootstrap intervals in brackets ({b} replicate{'s' * (b != 1)}): " if b else "")
                   + "; ".join(res.describe()))
        for line in identification_lines(res.identification):
            typer.echo(line)
        if res.holdout:
            typer.echo(f"hold-out: predicting N = {res.holdout['held_out']:.3g} from smaller models, "
                       f"mean |relative error| {res.holdout['mean_abs_rel_error']:.3%}")
    warn(res.warnings)
    say(f"wrote {', '.join(str(p) for p in files)}", as_json)


def bootstrap_label(replicates: int, noun: str = "intervals") -> str:
    """How the console names its intervals, `` (95% bootstrap intervals, B replicates)``, or "" without a
    bootstrap."""
    if not replicates:
        return ""
    return f" (95% bootstrap {noun}, {replicates} replicate{'s' * (replicates != 1)})"


def warn(warnings) -> None:
    """Each warning as one line ``warning: ...`` on stderr (with or without --json)."""
    for w in warnings:
        typer.echo(f"warning: {w}", err=True)


@scaling_app.command("plan")
def plan_cmd(
    flops: str = typer.Option("1e21", help="Compute budget(s) in FLOPs (C ≈ 6ND), e.g. 1e21 or 1e19,1e21."),
    law: str = typer.Option("chinchilla", help="chinchilla, kaplan, or the JSON file written by 'scaling fit'."),
    as_json: JsonOption = False,
    out: Path = typer.Option(Path("genlab-out"), help="Folder for figures (PNG, SVG) and results (JSON, CSV).",
                             callback=check_out_folder),
):
    """Compute-optimal model size N*, tokens D* and predicted loss for a budget, with 95% bootstrap intervals
    when the law is a fit's JSON; a warning for each of N, D and C beyond the runs the law was fitted on."""
    from ..analysis.scaling import plan

    res = plan(_floats(flops, "--flops"), law=law)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    res.plot(ax)
    record = {"command": "scaling plan", **res.to_dict()}
    files = emit(out, output_stem("scaling plan", _law_name(law), ignore=("law",)), fig, res.summary(), record, as_json)
    if not as_json:
        label = bootstrap_label(len(res.boot_laws))
        for row in res.summary().to_dict(orient="records"):
            typer.echo(f"C = {row['flops']:.3g} FLOPs: N = {row['N']:.3g}{_iv(row, 'N', '.3g')}, "
                       f"D = {row['D']:.3g}{_iv(row, 'D', '.3g')} ({row['tokens_per_param']:.3g} tokens/param), "
                       f"loss = {row['loss']:.4g}{_iv(row, 'loss', '.4g')}{label}")
    warn(res.warnings)
    say(f"wrote {', '.join(str(p) for p in files)}", as_json)


def _iv(row: dict, key: str, fmt: str) -> str:
    """`` [lo, hi]`` of ``key`` in a plan's row, or "" without an interval."""
    if f"{key}_lo" not in row:
        return ""
    return f" [{format(row[key + '_lo'], fmt)}, {format(row[key + '_hi'], fmt)}]"


@scaling_app.command("predict")
def predict_cmd(
    n: Optional[float] = typer.Option(None, "--n", help="Parameters N."),
    d: Optional[float] = typer.Option(None, "--d", help="Tokens D."),
    c: Optional[float] = typer.Option(None, "--c", help="Compute C (FLOPs; PF-days for kaplan_C)."),
    law: str = typer.Option("chinchilla", help="chinchilla, kaplan, kaplan_N, kaplan_D, kaplan_C, or the "
                            "JSON file written by 'scaling fit'."),
    as_json: JsonOption = False,
    out: Path = typer.Option(Path("genlab-out"), help="Folder for figures (PNG, SVG) and results (JSON, CSV).",
                             callback=check_out_folder),
):
    """The loss a law predicts at N (and D, or C = 6ND), with its 95% bootstrap interval when the law is a
    fit's JSON; a warning for each of N, D and C beyond the runs the law was fitted on."""
    from ..analysis.scaling.allocation import predict

    for name, v in (("--n", n), ("--d", d), ("--c", c)):
        if v is not None and not (v > 0 and v < float("inf")):
            raise GenlabError(f"{name} must be a number > 0, got {v}")
    res = predict(law, N=n, D=d, C=c)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    res.plot(ax)
    record = {"command": "scaling predict", **res.to_dict()}
    files = emit(out, output_stem("scaling predict", _law_name(law), ignore=("law",)), fig, res.summary(), record, as_json)
    if not as_json:
        iv = f" [{res.interval[0]:.4g}, {res.interval[1]:.4g}]" if res.interval else ""
        typer.echo(f"{res.law.name}: L({', '.join(f'{k}={v:.3g}' for k, v in res.at.items())}) = {res.loss:.4g}{iv}"
                   + bootstrap_label(len(res.boot_laws), noun="interval"))
    warn(res.warnings)
    say(f"wrote {', '.join(str(p) for p in files)}", as_json)


@scaling_app.command("train")
@option_group("sweep", seed="Seed of the sweep and of the bootstrap.",
              out="Folder for figures, runs.csv, the fit (JSON) and the runs store.")
def train_cmd(
    sizes: Optional[str] = typer.Option(None, help="Model sizes: target non-embedding parameters, e.g. "
                                        "1e3,4e3,1.6e4,6.4e4,2.5e5,1e6 (the default; --quick: up to 2.5e5)."),
    tokens: Optional[str] = typer.Option(None, help="Token budgets D of each size, e.g. 3e4,1e5,3e5,1e6 (the "
                                         "default; --quick: 1e4,3e4,1e5,3e5)."),
    corpus: str = typer.Option("python", help="python (Python's bundled docs), markov (a Markov chain whose "
                               "entropy rate is known), or the path of a UTF-8 text file."),
    quick: bool = typer.Option(False, help="The small sweep (about a minute on 2 cores)."),
    batch_size: int = typer.Option(8, help="Sequences per step."),
    block_size: int = typer.Option(64, help="Context length (tokens per sequence)."),
    lr: Optional[float] = typer.Option(None, help="Peak learning rate (default: a function of N, see "
                                       "genlab.analysis.scaling.lm.default_lr)."),
    repeats: int = typer.Option(1, help="Seeds per (size, budget)."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
    bootstrap: int = typer.Option(200, help="Bootstrap replicates of the fits (0: none)."),
    sweep: SweepArgs = SweepArgs(),
):
    """Train small transformers (sizes x token budgets) and fit their scaling laws.

    Writes OUT/runs.csv (one run per row: N, N_total, D, C, loss, ...; 'genlab scaling fit OUT/runs.csv' refits it, '--params total' in total parameters), OUT/scaling_train.json (fitted exponents with bootstrap intervals; the Chinchilla form in non-embedding and in total N, parameters the runs do not identify marked so), and figures: Kaplan's L(N) (Fig. 15), the measured L(N) with its fit, loss curves, iso-FLOP curves and the compute-optimal frontier. Every run is a job of the results store (OUT/runs.sqlite or --store): the same command again resumes.
    """
    import matplotlib.pyplot as plt
    from ..analysis.scaling.sweep import plan_sweep, scaling_sweep
    from ..core.io import OutputSet, to_json, write_stdout

    if bootstrap < 0:
        raise GenlabError(f"--bootstrap must be an integer >= 0, got {bootstrap}")
    check_cap(bootstrap, "bootstrap", allow_large=sweep.allow_large)
    check_cap(repeats, "lm_repeats", allow_large=sweep.allow_large)
    size_list = _floats(sizes, "--sizes", "1e3,1e4,1e5") if sizes else None
    token_list = _floats(tokens, "--tokens", "1e5,3e5,1e6") if tokens else None
    for t in token_list or ():
        check_cap(t, "tokens", allow_large=sweep.allow_large)
    if batch_size >= 1 and block_size >= 1:
        check_cap(batch_size * block_size, "step_tokens", allow_large=sweep.allow_large)
    kw = sweep.sweep_kwargs()
    corpus_ = _corpus(corpus)
    _announce(plan_sweep(size_list, token_list, corpus=corpus_, quick=quick, batch_size=batch_size,
                         block_size=block_size, lr=lr, repeats=repeats, device=device, seed=sweep.seed), kw["jobs"])
    res = scaling_sweep(size_list, token_list, corpus=corpus_, quick=quick,
                        batch_size=batch_size, block_size=block_size, lr=lr, repeats=repeats, device=device, **kw)
    record = {"command": "scaling train", **train_record(res, bootstrap=bootstrap, seed=sweep.seed)}
    frame = res.to_frame()
    fits = record.pop("_fits")
    figs = {"scaling_kaplan_fig15": lambda ax: _fig15(ax, res), "scaling_curves": res.plot_curves,
            "scaling_isoflop": res.plot_isoflop}
    if fits.get("power_N") is not None:
        figs["scaling_size"] = lambda ax: res.plot_size(ax, fits["power_N"])
    if fits.get("chinchilla") is not None:
        figs["scaling_frontier"] = lambda ax: res.plot_frontier(ax, fits["chinchilla"], fits.get("chinchilla_total"))
    with OutputSet(sweep.out) as files:  # all or nothing, the JSON record last
        files.add_csv("runs.csv", frame)
        for stem, draw in figs.items():
            fig, ax = plt.subplots(figsize=(6.4, 4.2))
            try:
                draw(ax)
                files.add_figure(fig, stem)
            finally:
                plt.close(fig)
        files.add_json("scaling_train.json", record)
    files = files.paths
    if sweep.as_json:
        write_stdout(to_json(record))
    else:
        for line in summary_lines(record):
            typer.echo(line)
    say(f"{len(frame)} runs ({res.n_ran} trained now, {res.n_cached} from the store) in {res.elapsed_s:.1f} s; "
         f"wrote {', '.join(str(p) for p in files)}", sweep.as_json)


def _announce(configs: list, jobs) -> None:
    """Say how long the training runs take on CPU, when that is long."""
    import os

    from ..core.limits import announce, lm_seconds
    from ..models.transformer import non_embedding_params

    if not configs or configs[0]["device"] != "cpu":
        return
    runs = [(non_embedding_params(c["model"]["n_layer"], c["model"]["n_embd"]), c["tokens"]) for c in configs]
    workers = min(jobs or os.cpu_count() or 1, len(runs))
    announce(lm_seconds(runs) / workers, f"{len(runs):,} training run{'s' * (len(runs) != 1)} of up to "
                                            f"{max(d for _, d in runs):.3g} tokens")


def _corpus(text: str):
    from ..data.corpora import NAMES

    if text in NAMES:
        return text
    p = Path(text)
    if not p.exists():
        raise GenlabError(f"unknown corpus {text!r}; choose python, markov, or the path of a UTF-8 text file")
    return p


def _fig15(ax, res):
    from ..analysis.scaling.sweep import plot_kaplan

    return plot_kaplan(ax, measured=res.size_curve())


CHINCHILLA_SHOWN = ("alpha", "beta", "E", "A", "B", "a", "b")


def train_record(res, *, bootstrap: int = 200, seed: int = 0) -> dict:
    """The fits of a :class:`genlab.analysis.scaling.sweep.ScalingSweep` as a JSON-able record: L(N) (power_N at the
    largest budget), the Chinchilla fit of every run (α, β, E, a = β/(α+β)) with N non-embedding
    (``chinchilla``) and total (``chinchilla_total``), and the corpus's entropy rate when known.
    ``_fits`` holds the fit objects (popped before writing)."""
    fits, failed = res.fit_laws("power_N", bootstrap=bootstrap, seed=seed, n_kinds=("non_embedding", "total"))
    out = {}
    for key, shown in (("power_N", ("alpha", "N_c")), ("chinchilla", CHINCHILLA_SHOWN),
                       ("chinchilla_total", CHINCHILLA_SHOWN)):
        out["L_of_N" if key == "power_N" else key] = (_fit_record(fits[key], shown) if key in fits
                                                      else {"error": failed[key]})
    out["entropy_rate"] = res.entropy_rate
    out["corpus"] = res.corpus
    out["config"] = res.config
    out["elapsed_s"] = res.elapsed_s
    out["runs"] = res.to_frame().to_dict(orient="records")
    out["_fits"] = {name: fits.get(name) for name in ("power_N", "chinchilla", "chinchilla_total")}
    return out


def _fit_record(fit, keys) -> dict:
    values = {**fit.params, **fit.derived}
    iv = fit.intervals
    ident = fit.identification
    return {"form": fit.form.name, "formula": fit.form.formula, "n_kind": fit.n_kind,
            "values": {k: values[k] for k in keys if k in values},
            "intervals": {k: list(iv[k]) for k in keys if k in iv},
            "identification": {k: ident[k] for k in keys if k in ident},
            "holdout": fit.holdout, "warnings": list(fit.warnings), "fit": fit.to_dict()}


def identification_lines(identification: dict) -> list[str]:
    """What a fit's ``identification`` (:attr:`ScalingFit.identification`, or its JSON) says is not
    identified: one line per parameter (why, and which runs would identify it), then one for the
    derived quantities that follow from them."""
    params = {k: v for k, v in identification.items() if not v["identified"] and v["rule"] != "depends_on"}
    derived = [k for k, v in identification.items() if not v["identified"] and v["rule"] == "depends_on"]
    lines = [f"not identified by these runs: {k}: {v['reason']}; {v['suggestion']}" for k, v in params.items()]
    if derived:
        inputs = dict.fromkeys(p for k in derived for p in identification[k]["depends_on"])
        lines.append(f"not identified by these runs: {', '.join(derived)} (computed from {', '.join(inputs)})")
    return lines


def summary_lines(record: dict) -> list[str]:
    from ..analysis.scaling.identify import describe

    lines = []
    ln = record["L_of_N"]
    if "values" in ln:
        iv = ln["intervals"].get("alpha")
        lines.append(f"L(N) at the largest budget: alpha_N = {ln['values']['alpha']:.4g}"
                     + (f" [{iv[0]:.4g}, {iv[1]:.4g}] (95% bootstrap interval)" if iv else "") + " (Kaplan: 0.076)")
    else:
        lines.append(f"L(N) fit skipped: {ln['error']}")
    for key, which in (("chinchilla", "non-embedding N"), ("chinchilla_total", "total N")):
        ch = record.get(key)
        if ch is None:
            continue
        if "values" not in ch:
            lines.append(f"Chinchilla fit ({which}) skipped: {ch['error']}")
            continue
        ident = ch.get("identification", {})
        shown = ("alpha", "beta", "E", "a")
        parts = [describe(k, ch["values"][k], ch["intervals"].get(k), ident.get(k)) for k in shown]
        label = ", 95% bootstrap intervals in brackets" if any(ch["intervals"].get(k) for k in shown) else ""
        lines.append(f"Chinchilla fit L = E + A/N^alpha + B/D^beta, {which}{label}: " + "; ".join(parts)
                     + " (Hoffmann et al., total N: alpha 0.34, beta 0.28, E 1.69, a 0.46)")
        lines += ["  " + line for line in identification_lines({k: v for k, v in ident.items() if k in shown})]
    if record.get("entropy_rate") is not None:
        lines.append(f"entropy rate of the corpus (the irreducible loss): {record['entropy_rate']:.4f} nats/token")
    return lines


def _law_name(law: str) -> str:
    """A law in a file name: a preset's name, or a fit's JSON by its file name (not its whole path)."""
    return Path(law).name if law.endswith(".json") or "/" in law else law
