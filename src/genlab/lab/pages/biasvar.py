"""§3 in the lab: bias², variance, noise and the measured test error against degree, with standard errors,
the tail verdicts and the first fits beside h̄, for any target, noise, n, x distribution, number of
datasets (up to 100,000), test grid, basis, solver and α.

The numbers are :func:`genlab.analysis.biasvar.decompose_polynomial`'s, as ``genlab biasvar`` computes them.
Up to :data:`INLINE_DATASETS` datasets (and :data:`INLINE_SECONDS` by the library's estimate) run in the
request; more run as a job of the server with a progress bar and a cancel button. What the page shows of a
result (:class:`View`) is cached, so moving the degree whose fits are shown does not recompute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..common import (SOURCE_FIELDS, Cache, Outcome, checked, fmt, guarded, paragraphs, pm, refused, shell,
                      source_args)
from ..fields import Field, to_query
from ..words import words

KEY = "biasvar"
SOLVERS = ("exact", "lstsq", "minnorm", "ridge", "lasso")
FIELDS = (
    *SOURCE_FIELDS,
    Field("n", "int", 30, lo=1, hi=1_000, cap="n"),
    Field("max_degree", "int", 29, lo=0, hi=50, cap="degree"),
    Field("datasets", "int", 10_000, lo=2, hi=100_000, cap="datasets"),
    Field("n_test", "int", 200, lo=1, hi=2_000, cap="n_test"),
    Field("basis", "choice", "legendre", choices=("legendre", "chebyshev", "monomial"), control="dropdown"),
    Field("solver", "choice", "exact", choices=SOLVERS, control="dropdown"),
    Field("alpha", "float", 0.0, lo=0.0),
    Field("show", "int", 2, lo=0, hi=50, control="slider", step=1),
    Field("seed", "int", 0, lo=0, cap="seed"),
)
GRAPHS = ("terms", "tails", "fits")
#: Long decompositions run as jobs of the server, with a progress bar and a cancel button.
JOBS = True
#: Decompositions run in the request up to this many datasets and estimated seconds; larger ones run as jobs.
INLINE_DATASETS = 20_000
INLINE_SECONDS = 2.0
#: The longest job the lab starts (estimated seconds, by genlab.core.limits.biasvar_seconds).
JOB_SECONDS = 120.0
N_FITS = 20
CACHE = Cache(12)


def commands(v: dict) -> str:
    solver = [] if v["solver"] == "exact" else ["--solver", v["solver"], *(["--alpha", v["alpha"]] if v["alpha"]
                                                                           else [])]
    basis = [] if v["basis"] == "legendre" else ["--basis", v["basis"]]
    return shell("biasvar", "--degrees", f"0-{v['max_degree']}", "--datasets", v["datasets"], "--n", v["n"],
                 "--n-test", v["n_test"], *basis, *solver, *source_args(v), "--seed", v["seed"])


def _cross_checks(v: dict, errors: dict, lang: str) -> None:
    w = words(lang)
    if not errors.keys() & {"solver", "alpha"}:
        if v["solver"] in ("exact", "lstsq", "minnorm") and v["alpha"] != 0:
            errors["alpha"] = w["alpha_unused"]
        elif v["solver"] == "lasso" and v["alpha"] == 0:
            errors["alpha"] = w["lasso_alpha"]
    if not errors.keys() & {"solver", "max_degree", "n"} and v["solver"] == "exact" and v["max_degree"] > v["n"] - 1:
        errors["max_degree"] = w["exact_degree"].format(top=v["n"] - 1)


def config(v: dict) -> tuple:
    return (v["target"], v["noise"], v["x"], v["n"], v["max_degree"], v["datasets"], v["n_test"], v["basis"],
            v["solver"], v["alpha"], v["seed"])


def seconds(v: dict) -> float:
    """The library's estimate of the decomposition's time (``genlab.core.limits.biasvar_seconds``, per solver)."""
    from ...core.limits import biasvar_seconds

    P = v["max_degree"] + 1
    engine = "nested" if v["solver"] == "exact" else "solver"
    return biasvar_seconds(n_datasets=v["datasets"], n=v["n"], n_params=P, n_models=P, engine=engine,
                           solver=v["solver"])


def update(raw: dict, lang: str = "en") -> Outcome:
    """The page after an interaction; a long decomposition comes back as a job to start (``Outcome.job``)."""
    v, errors, over = checked(FIELDS, raw, lang)
    _cross_checks(v, errors, lang)
    if errors:
        return refused(errors, over, commands(v) if not errors.keys() - over.keys() else None)
    view = CACHE.get(config(v))
    if view is not None:
        return guarded(lambda: render(view, v, lang), lang)
    s = seconds(v)
    if s > JOB_SECONDS:
        return Outcome(general=words(lang)["too_slow"].format(seconds=s, limit=JOB_SECONDS, command=commands(v)))
    if v["datasets"] <= INLINE_DATASETS and s <= INLINE_SECONDS:
        return guarded(lambda: render(compute(v), v, lang), lang)
    from ...analysis.biasvar.blocks import blocks_of

    def run(progress) -> Outcome:
        view = compute(v, progress)
        return render(view, v, lang)

    return Outcome(job=(run, len(blocks_of(v["datasets"])[1]), f"{v['datasets']:,} datasets", config(v)),
                   command=commands(v))


@dataclass(frozen=True)
class View:
    """What the page shows of a :class:`~genlab.analysis.biasvar.BiasVariance` (arrays per degree; per-x curves
    sorted by x; the first :data:`N_FITS` fits), small enough to cache."""

    degrees: np.ndarray
    terms: dict            # bias2, bias2_se, variance, variance_se, noise, noise_se, error, error_se, error_median
    se_valid: np.ndarray
    bias2_resolved: np.ndarray
    verdict: tuple
    tail: dict             # index, lo, hi
    k: int
    theory: dict | None    # index, local_lo, local_hi, verdict
    identity_z: np.ndarray
    x: np.ndarray
    ybar: np.ndarray
    hbar: np.ndarray       # (M, m)
    sd: np.ndarray         # (M, m)
    first: np.ndarray      # (F, M, m)
    n_datasets: int
    n: int


def compute(v: dict, progress=None) -> View:
    """The decomposition of the view's configuration, reduced to a :class:`View` and cached."""
    from ...analysis.biasvar import decompose_polynomial

    r = decompose_polynomial(v["source"], range(0, v["max_degree"] + 1), n=v["n"], n_datasets=v["datasets"],
                             n_test=v["n_test"], basis=v["basis"],
                             solver=None if v["solver"] == "exact" else v["solver"], alpha=v["alpha"],
                             seed=v["seed"], jobs=1, progress=progress)
    return CACHE.put(config(v), view_of(r))


def view_of(r) -> View:
    order = np.argsort(r.x_test)
    names = ("bias2", "bias2_se", "variance", "variance_se", "noise", "noise_se", "error", "error_se",
             "error_median")
    th = r.tail_theory
    theory = None if th is None else {k: np.asarray(th[k]) for k in ("index", "local_lo", "local_hi")} | {
        "verdict": tuple(th["verdict"])}
    t = r.tail
    return View(np.asarray(r.values), {k: np.asarray(getattr(r, k), dtype=float) for k in names},
                np.asarray(r.se_valid), np.asarray(r.bias2_resolved), tuple(t["verdict"]),
                {k: np.asarray(t[k], dtype=float) for k in ("index", "lo", "hi")}, int(t["k"]), theory,
                np.asarray(r.identity_z), r.x_test[order], r.ybar[order], r.hbar[:, order],
                np.sqrt(np.maximum(r.var_x[:, order], 0.0)), r.first_fits[:N_FITS][:, :, order], r.n_datasets, r.n)


def render(view: View, v: dict, lang: str) -> Outcome:
    from .biasvar_figures import fits_figure, tails_figure, terms_figure

    w = words(lang)
    t = view.terms
    raw = {"degrees": view.degrees.tolist(), "n_datasets": view.n_datasets, "verdict": list(view.verdict),
           "se_valid": view.se_valid.tolist(), **{k: t[k].tolist() for k in t}}
    numbers = [(w["n"]["best"], _best(view))]
    finite_mean = _finite_mean(view)
    z = view.identity_z[finite_mean & np.isfinite(view.identity_z)]
    numbers.append((w["n"]["identity_z"], fmt(np.max(np.abs(z)), 2) if z.size else "—"))
    if v["show"] in view.degrees:
        i = int(np.flatnonzero(view.degrees == v["show"])[0])
        ok = bool(view.se_valid[i])
        numbers = [(f"{w['fields']['degree']} {v['show']}: {w['n'][k]}", pm(t[k][i], t[f"{k}_se"][i], ok, w))
                   for k in ("bias2", "variance", "noise", "error")] + [
            (w["n"]["error_median"], fmt(t["error_median"][i])),
            (w["n"]["verdict"], verdict_text(view.verdict[i], lang)),
            (w["n"]["tail_index"], f"{fmt(view.tail['index'][i], 3)} [{fmt(view.tail['lo'][i], 3)}, "
                                   f"{fmt(view.tail['hi'][i], 3)}]")] + (
            [(w["n"]["theory_verdict"], verdict_text(view.theory["verdict"][i], lang))] if view.theory else []
        ) + numbers
    else:
        numbers.insert(0, (w["fields"]["show"], w["not_shown"].format(degree=v["show"])))
    figures = [terms_figure(view, lang), tails_figure(view, lang), fits_figure(view, v["show"], lang)]
    return Outcome(figures=figures, numbers=numbers, table=_table(view, lang), raw=raw, command=commands(v),
                   query=to_query(FIELDS, v))


def _finite_mean(view: View) -> np.ndarray:
    from ...core.stats import VERDICTS

    return np.array([s in VERDICTS[:3] for s in view.verdict])


def verdict_text(verdict: str, lang: str) -> str:
    """A tail verdict in the page's language (the report's words)."""
    from ...article.report.i18n import load_text
    from ...core.stats import VERDICTS

    return load_text(lang)["biasvar"]["verdicts"][VERDICTS.index(verdict)] if verdict in VERDICTS else verdict


def _best(view: View) -> str:
    ok = _finite_mean(view)
    if not ok.any():
        return "—"
    err = np.where(ok, view.terms["error"], np.inf)
    return str(int(view.degrees[int(np.argmin(err))]))


def _table(view: View, lang: str) -> dict:
    t, c = view.terms, words(lang)["table"]
    rows = [[str(int(d)), fmt(t["bias2"][i]), fmt(t["variance"][i]),
             pm(t["error"][i], t["error_se"][i], bool(view.se_valid[i])) + ("" if view.se_valid[i] else " †"),
             verdict_text(view.verdict[i], lang)] for i, d in enumerate(view.degrees)]
    return {"columns": [c["degree"], c["bias2"], c["variance"], c["error"], c["verdict"]], "rows": rows}


def layout_text(lang: str) -> list[str]:
    return paragraphs(lang, "biasvar", ("intro", "tails_title"))
