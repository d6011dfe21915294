"""Sweeps of language models over sizes and token budgets, and the scaling laws they give (§4.3).

:func:`lm_job` trains one model (:func:`genlab.analysis.scaling.lm.train`) as
a job of :func:`genlab.runs.sweep.sweep`, and :func:`scaling_sweep` runs
model sizes × token budgets through it (resumable with a store, parallel
with ``jobs`` or Dask) into a :class:`ScalingSweep`: one row per run with N
(non-embedding parameters), N_total (all of them), D (tokens), C = 6ND and the
final validation loss, ready for :func:`genlab.analysis.scaling.fits.fit`, and
the figures of the section: Kaplan's L(N) (the article's Fig. 15,
:func:`plot_kaplan`), our measured L(N) with its fitted law, the loss curves,
iso-FLOP curves and the compute-optimal frontier beside Chinchilla's and Kaplan's.

N_total is counted on the trained model (``GPT.n_params(non_embedding=False)``): with the
head tied to the token embedding it is N + (vocab_size + block_size)·n_embd (token and
position embeddings; an untied head would add vocab_size·n_embd more). At these sizes the
embeddings are much of the model (about 60 % of the smallest), so the two counts give
different laws: Kaplan et al. counted N without them, Hoffmann et al. (Chinchilla) with
them, and Pearce & Song (2024) trace much of the gap between their frontiers to this.
:meth:`ScalingSweep.fit` fits either (``n_kind``); the compute of a run is C = 6ND in the
same count.

Within a sweep, the runs of one model size share their initialization and
their stream of training windows (seeded by the sweep seed and the size): the
runs at different budgets differ only by the length of their schedule, so
the D-direction of the grid is paired.

torch is imported by the jobs; ``import genlab.analysis.scaling.sweep`` does not import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...core.checks import check_int, check_positive
from ...core.errors import GenlabError
from ...core.results import Result
from ...core.seeding import check_seed, torch_seed
from .lm import BATCH_SIZE, BLOCK_SIZE, EVAL_BATCHES, N_EVALS, _windows, check_budget, resolve_device, train

#: Non-embedding sizes of the default sweep (the ladder of :func:`genlab.models.transformer.size_ladder`).
SIZES = (1e3, 4e3, 1.6e4, 6.4e4, 2.5e5, 1e6)
#: Token budgets of the default sweep.
#: (Budgets span 30x so that, with sizes 4x apart, every compute level in the middle of the
#: grid is reached by at least three sizes: the iso-FLOP curves need them.)
TOKENS = (3e4, 1e5, 3e5, 1e6)
QUICK_SIZES = (1e3, 4e3, 1.6e4, 6.4e4)
QUICK_TOKENS = (1e4, 3e4, 1e5, 3e5)


# --------------------------------------------------------------------------- the job and the sweep

def lm_job(config: dict, seed: np.random.SeedSequence) -> dict:
    """Train one language model (a job of :func:`genlab.runs.sweep.sweep`).

    Parameters
    ----------
    config : dict
        ``corpus`` (a spec of :func:`genlab.data.corpora.load_corpus`), ``model`` (the
        fields of :class:`GPTConfig`), ``tokens``, ``batch_size``, ``lr`` (None:
        :func:`genlab.analysis.scaling.lm.default_lr`), ``eval_batches``, ``n_evals``, ``device``, ``seed`` and
        ``repeat`` (with the model's shape they seed the run; the job's own
        ``seed`` argument is not used, so that a size's runs at every budget
        share their initialization and data order).

    Returns
    -------
    dict
        ``metrics``: ``N``, ``N_total``, ``D``, ``C`` (6ND), ``loss`` (final
        validation loss), ``train_loss`` (mean of the last tenth of the batches),
        ``steps``, ``lr``, ``wall_s``, ``tokens_per_s``; ``series``:
        ``train_loss`` (per step), ``eval_steps``, ``eval_loss``.
    """
    import torch

    from ...models.transformer import GPTConfig

    torch.set_num_threads(1)
    c = config
    mc = GPTConfig(**c["model"])
    s = torch_seed(c["seed"], "lm", mc.n_layer, mc.n_embd, c.get("repeat", 0))   # shared by a size's budgets
    run = train(mc, c["corpus"], tokens=c["tokens"], batch_size=c["batch_size"], lr=c.get("lr"),
                eval_batches=c["eval_batches"], n_evals=c["n_evals"], seed=s, device=c.get("device", "cpu"))
    tail = run.train_loss[-max(1, run.steps // 10):]
    metrics = {"N": run.n_params, "N_total": run.n_params_total, "D": run.tokens, "C": run.flops,
               "loss": run.val_loss, "train_loss": float(tail.mean()), "steps": run.steps,
               "lr": run.settings["lr"], "wall_s": run.wall_s, "tokens_per_s": run.tokens_per_s}
    return {"metrics": metrics,
            "series": {"train_loss": run.train_loss, "eval_steps": run.eval_steps, "eval_loss": run.eval_loss}}


def _lm_cost(config: dict) -> float:
    """Rough seconds of :func:`lm_job` on one core (measured: about 6 µs a token plus 0.2 ns a token and
    parameter, embeddings included); only the order of a plan depends on it."""
    from ...models.transformer import non_embedding_params

    m = config["model"]
    n = non_embedding_params(m["n_layer"], m["n_embd"]) + (m["vocab_size"] + m["block_size"]) * m["n_embd"]
    return float(config["tokens"]) * (6e-6 + 2e-10 * n)


lm_job.cost = _lm_cost


def _check_list(values, what: str) -> list[float]:
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        values = [values]
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise GenlabError(f"{what} must be numbers > 0, got {values!r}") from None
    if not out or any(not (math.isfinite(v) and v > 0) for v in out):
        raise GenlabError(f"{what} must be numbers > 0, got {values!r}")
    if len(set(out)) != len(out):
        raise GenlabError(f"{what} repeat a value: {values!r}")
    return sorted(out)


def plan_sweep(sizes=None, token_budgets=None, *, corpus="python", quick: bool = False,
               batch_size: int = BATCH_SIZE, block_size: int = BLOCK_SIZE, lr: float | None = None,
               eval_batches: int = EVAL_BATCHES, n_evals: int = N_EVALS, repeats: int = 1,
               device: str = "auto", seed: int = 0) -> list[dict]:
    """The job configs of :func:`scaling_sweep` (checked; largest runs first, so that the
    longest jobs start first and the sweep's wall time is near the longest job's)."""
    from ...data.corpora import corpus_spec, load_corpus
    from ...models.transformer import size_ladder

    sizes = _check_list(sizes if sizes is not None else (QUICK_SIZES if quick else SIZES), "model sizes")
    budgets = _check_list(token_budgets if token_budgets is not None else (QUICK_TOKENS if quick else TOKENS),
                          "token budgets")
    batch_size = check_int(batch_size, "batch_size")
    block_size = check_int(block_size, "block_size", 2)
    for b in budgets:
        check_budget(b, batch_size=batch_size, block_size=block_size)
    if lr is not None:
        lr = check_positive(lr, "lr")
    repeats = check_int(repeats, "repeats")
    seed = check_seed(seed)
    spec = corpus_spec(corpus)
    c = load_corpus(spec)
    _windows(c.val.size, block_size, 1)
    dev = resolve_device(device)
    models = size_ladder(sizes, vocab_size=c.vocab_size, block_size=block_size)
    base = {"corpus": spec, "batch_size": batch_size, "lr": lr, "eval_batches": check_int(eval_batches, "eval_batches"),
            "n_evals": check_int(n_evals, "n_evals", 0), "device": dev, "seed": seed}
    configs = [dict(base, model=m.to_dict(), target=s, tokens=b, repeat=r)
               for r in range(repeats) for s, m in zip(sizes, models) for b in budgets]
    from ...models.transformer import non_embedding_params

    return sorted(configs, key=lambda k: -non_embedding_params(k["model"]["n_layer"], k["model"]["n_embd"])
                  * k["tokens"])


def scaling_sweep(sizes=None, token_budgets=None, *, corpus="python", quick: bool = False,
                  batch_size: int = BATCH_SIZE, block_size: int = BLOCK_SIZE, lr: float | None = None,
                  eval_batches: int = EVAL_BATCHES, n_evals: int = N_EVALS, repeats: int = 1,
                  device: str = "auto", store=None, seed: int = 0, jobs: int | None = None, dask=None,
                  progress: bool = False) -> "ScalingSweep":
    """Train every model size on every token budget; the runs of a scaling law.

    Parameters
    ----------
    sizes : sequence of float, optional
        Target non-embedding parameter counts; each becomes the nearest transformer
        of the ladder (:func:`genlab.models.transformer.config_for_size`). Default
        :data:`SIZES` (1e3 to 1e6), or :data:`QUICK_SIZES` with ``quick``.
    token_budgets : sequence of float, optional
        Training tokens D of each run. Default :data:`TOKENS`, or :data:`QUICK_TOKENS`.
    corpus : str, Path, dict or Corpus
        ``"python"`` (Python's bundled docs), ``"markov"`` (known entropy rate), a text file.
    quick : bool
        The small defaults (about a minute on 2 cores).
    batch_size, block_size, lr, eval_batches, n_evals
        As in :func:`genlab.analysis.scaling.lm.train` (``block_size`` is the models' context).
    repeats : int
        Seeds per (size, budget).
    device : {"auto", "cpu", "cuda"}
    store, seed, jobs, dask, progress
        As in :func:`genlab.runs.sweep.sweep`; with a store, a second call runs no new job.

    Returns
    -------
    ScalingSweep
    """
    from ...data.corpora import load_corpus
    from ...runs.sweep import sweep

    configs = plan_sweep(sizes, token_budgets, corpus=corpus, quick=quick, batch_size=batch_size,
                         block_size=block_size, lr=lr, eval_batches=eval_batches, n_evals=n_evals, repeats=repeats,
                         device=device, seed=seed)
    c = load_corpus(configs[0]["corpus"])  # cached: plan_sweep loaded it
    res = sweep(lm_job, configs, store=store, seed=seed, jobs=jobs, dask=dask, progress=progress,
                label=f"transformers on {c.name}")
    rows, curves = [], []
    for cfg, rec in zip(configs, res.records):
        m, s = rec["metrics"], rec["series"]
        rows.append({"target": cfg["target"], "N": m["N"], "N_total": m["N_total"], "D": m["D"], "C": m["C"],
                     "loss": m["loss"], "train_loss": m["train_loss"], "steps": m["steps"], "lr": m["lr"],
                     "n_layer": cfg["model"]["n_layer"], "n_embd": cfg["model"]["n_embd"],
                     "n_head": cfg["model"]["n_head"], "seed": cfg["seed"], "repeat": cfg["repeat"],
                     "wall_s": m["wall_s"], "tokens_per_s": m["tokens_per_s"], "job": rec["id"]})
        curves.append({k: np.asarray(s[k]) for k in ("train_loss", "eval_steps", "eval_loss")})
    import pandas as pd

    frame = pd.DataFrame(rows)
    order = np.lexsort((frame["repeat"].to_numpy(), frame["D"].to_numpy(), frame["N"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    curves = [curves[i] for i in order]
    config = {"sizes": sorted({float(k["target"]) for k in configs}),
              "token_budgets": sorted({float(k["tokens"]) for k in configs}),
              "batch_size": batch_size, "block_size": block_size, "lr": lr, "repeats": repeats, "seed": seed,
              "device": configs[0]["device"], "quick": quick, "corpus": configs[0]["corpus"]}
    return ScalingSweep(frame, curves, c.to_dict(), config, res.elapsed_s, res.n_ran, res.n_cached)


# --------------------------------------------------------------------------- the result

def plot_kaplan(ax=None, *, n_range=(1e3, 1e12), measured=None):
    """The article's Fig. 15: Kaplan et al.'s L(N) = (N_c/N)^α_N (α_N = 0.076, N_c = 8.8e13) on
    semi-log axes (log N), with GPT-2 (1.5e9) and, off the fit's range, GPT-3 (1.75e11) marked;
    ``measured``, a (N, loss) pair of arrays, adds points."""
    from ...plots.helpers import axes
    from .forms import preset

    law = preset("kaplan_N")
    ax = axes(ax, (6.4, 4.2))
    grid = np.geomspace(n_range[0], n_range[1], 200)
    p = law.params
    ax.plot(grid, law.predict(N=grid), color="tab:blue", lw=1.8,
            label=f"Kaplan et al. 2020: L = ({p['N_c']:.2g}/N)^{p['alpha']:g}")
    ax.axvspan(n_range[0], 1.5e9, color="0.92", lw=0, zorder=0, label="range they measured (≤ 1.5e9)")
    for n, name in ((1.5e9, "GPT-2"), (1.75e11, "GPT-3")):
        ax.plot([n], [law.predict(N=n)], "o", color="tab:red", ms=4)
        ax.annotate(name, (n, law.predict(N=n)), textcoords="offset points", xytext=(4, 4), fontsize="small")
    if measured is not None:
        ax.scatter(*measured, color="k", s=12, zorder=3, label="our runs")
    ax.set(xscale="log", xlabel="non-embedding parameters N (log scale)", ylabel="test loss L(N) (nats/token)")
    ax.set_title("Fig. 15 — L(N) = (N_c/N)^α_N", fontsize="small")
    ax.legend(fontsize="small")
    return ax


def _interp_isoflop(frame, C: float) -> tuple[np.ndarray, np.ndarray]:
    """(N, loss) at compute C for every size whose budgets bracket D = C / 6N, interpolated
    linearly in (log D, log loss) between the size's runs."""
    Ns, Ls = [], []
    for n, g in frame.groupby("N"):
        g = g.groupby("D")["loss"].mean()
        d = C / (6.0 * n)
        D = g.index.to_numpy(dtype=float)
        if len(D) < 2 or not (D.min() <= d * (1 + 1e-9) and d <= D.max() * (1 + 1e-9)):
            continue
        Ns.append(float(n))
        Ls.append(float(np.exp(np.interp(np.log(d), np.log(D), np.log(g.to_numpy(dtype=float))))))
    return np.asarray(Ns), np.asarray(Ls)


@dataclass
class ScalingSweep(Result):
    """Runs of model sizes × token budgets, and the scaling laws they give.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per run: ``N`` (non-embedding parameters), ``N_total``, ``D`` (tokens),
        ``C`` (6ND), ``loss`` (final validation loss, nats/token), ``train_loss``,
        ``n_layer``, ``n_embd``, ``n_head``, ``steps``, ``lr``, ``wall_s``, ``tokens_per_s``, …
    curves : list of dict
        Per row: ``train_loss`` (per step), ``eval_steps``, ``eval_loss``.
    corpus : dict
        The corpus (name, vocab size, sizes, entropy rate when known).
    """

    frame: object
    curves: list
    corpus: dict
    config: dict
    elapsed_s: float = math.nan
    n_ran: int = 0
    n_cached: int = 0

    def summary(self):
        """One row per run (a copy of :attr:`frame`)."""
        return self.frame.copy()

    @property
    def entropy_rate(self):
        return self.corpus.get("entropy_rate")

    def runs(self, n_kind: str = "non_embedding"):
        """The runs with N counting ``n_kind`` parameters (``non_embedding``: :attr:`frame`; ``total``: N is
        N_total and C = 6·N_total·D)."""
        from .forms import N_COLUMNS, check_n_kind

        n_kind = check_n_kind(n_kind)
        fr = self.frame
        if n_kind == "non_embedding":
            return fr
        col = N_COLUMNS[n_kind]
        if col not in fr.columns:
            raise GenlabError(f"these runs do not record {col} ({n_kind} parameters); fit them with "
                              f"non-embedding N, or rerun the sweep")
        return fr.assign(N=fr[col], C=6.0 * fr[col] * fr["D"])

    def fit(self, form: str = "chinchilla", *, bootstrap: int = 200, seed: int = 0, n_kind: str = "non_embedding",
            **kwargs):
        """:func:`genlab.analysis.scaling.fits.fit` on every run (``chinchilla``, ``kaplan``, ``power_D``, …),
        N counting ``n_kind`` parameters (:meth:`runs`)."""
        from .fits import fit
        from .forms import get_form

        f = get_form(form)
        if f.variables == ("N",):
            return self.fit_size(form, bootstrap=bootstrap, seed=seed, n_kind=n_kind, **kwargs)
        fr = self.runs(n_kind)
        return fit(fr["N"], fr["D"], fr["loss"], f.name, C=fr["C"], seeds=fr["repeat"], bootstrap=bootstrap,
                   seed=seed, n_kind=n_kind, **kwargs)

    def size_curve(self, budget=None, n_kind: str = "non_embedding"):
        """(N, loss) at one budget (default the largest), the loss averaged over repeats."""
        fr = self.runs(n_kind)
        budget = fr["D"].max() if budget is None else budget
        g = fr[np.isclose(fr["D"], budget)].groupby("N")["loss"].mean()
        if g.empty:
            raise GenlabError(f"no runs at budget {budget:g}; the budgets are {sorted(set(fr['D']))}")
        return g.index.to_numpy(dtype=float), g.to_numpy(dtype=float)

    def fit_size(self, form: str = "power_N", *, budget=None, bootstrap: int = 200, seed: int = 0,
                 n_kind: str = "non_embedding", **kwargs):
        """L(N) at the largest budget (or ``budget``), fitted with ``power_N`` (Kaplan's
        (N_c/N)^α) or ``saturating`` (E + A N^−α)."""
        from .fits import fit

        N, L = self.size_curve(budget, n_kind)
        return fit(N, None, L, form, bootstrap=bootstrap, seed=seed, n_kind=n_kind, **kwargs)

    def fit_laws(self, size_form: str = "power_N", *, bootstrap: int = 200, seed: int = 0,
                 n_kinds=("non_embedding",)) -> tuple[dict, dict]:
        """The sweep's scaling laws, as ``genlab scaling train`` and the article's §4.3 report them:
        L(N) at the largest budget (:meth:`fit_size` with ``size_form``, non-embedding N, as Kaplan's)
        and the Chinchilla form on every run (:meth:`fit`, numerical warnings of its optimizer
        silenced) once for each of ``n_kinds``.

        Returns
        -------
        fits : dict
            ``{size_form: ScalingFit, "chinchilla": ScalingFit, "chinchilla_total": ScalingFit}`` (the
            Chinchilla fit in non-embedding N, and in total N when ``"total"`` is among ``n_kinds``),
            the laws that could be fitted.
        failed : dict
            ``{name: reason}`` for those that could not (a one-line :class:`GenlabError` message:
            fewer runs than parameters, or parameters at their bounds beyond floating point).
        """
        import warnings

        from .forms import check_n_kind

        fits, failed = {}, {}
        try:
            fits[size_form] = self.fit_size(size_form, bootstrap=bootstrap, seed=seed)
        except GenlabError as exc:
            failed[size_form] = str(exc)
        for kind in map(check_n_kind, n_kinds):
            key = "chinchilla" if kind == "non_embedding" else f"chinchilla_{kind}"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fits[key] = self.fit("chinchilla", bootstrap=bootstrap, seed=seed, n_kind=kind)
            except GenlabError as exc:
                failed[key] = str(exc)
        return fits, failed

    def isoflops(self, n: int = 5, n_kind: str = "non_embedding"):
        """Iso-FLOP curves: ``{C: (N, loss)}`` at ``n`` compute levels spread (in log) over those
        the grid covers with at least 3 sizes, interpolated between each size's budgets (N and
        C = 6ND counting ``n_kind`` parameters)."""
        fr = self.runs(n_kind)
        lo = (6.0 * fr.groupby("N")["D"].min() * fr.groupby("N")["D"].min().index).to_numpy()
        hi = (6.0 * fr.groupby("N")["D"].max() * fr.groupby("N")["D"].max().index).to_numpy()
        cands = np.geomspace(lo.min(), hi.max(), 60)
        ok = [c for c in cands if len(_interp_isoflop(fr, c)[0]) >= 3]
        if not ok:
            return {}
        levels = np.geomspace(ok[0], ok[-1], n) if len(ok) > 1 else np.array(ok)
        return {float(c): _interp_isoflop(fr, c) for c in levels}

    def frontier(self, n_kind: str = "non_embedding"):
        """The measured compute-optimal frontier: ``(C, N*)`` from the minimum of each iso-FLOP
        curve (at ~30 compute levels; minima at an end of a curve are left out), in ``n_kind`` N."""
        out_c, out_n = [], []
        for C, (N, L) in self.isoflops(30, n_kind).items():
            if len(N) >= 3:
                i = int(np.argmin(L))
                if 0 < i < len(N) - 1:
                    out_c.append(C)
                    out_n.append(N[i])
        return np.asarray(out_c), np.asarray(out_n)

    def to_dict(self) -> dict:
        return {"corpus": self.corpus, "config": self.config, "elapsed_s": self.elapsed_s, "n_ran": self.n_ran,
                "n_cached": self.n_cached, "runs": self.frame.to_dict(orient="records")}

    # -- figures

    def plot_size(self, ax=None, fit=None, *, budget=None):
        """Measured L(N) at the largest budget with the fitted law (``fit``: a power_N or
        saturating fit; default fitted here) and its 95% bootstrap band, on log axes."""
        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        fit = fit if fit is not None else self.fit_size(budget=budget, bootstrap=100)
        N, L = self.size_curve(budget)
        grid = np.geomspace(N.min() / 1.5, N.max() * 1.5, 100)
        shown = self.frame["D"].max() if budget is None else budget
        ax.scatter(N, L, color="k", s=18, zorder=3, label=f"our runs, D = {shown:.3g}")
        p = fit.params
        al = p["alpha"]
        iv = fit.intervals.get("alpha")
        lab = f"fit: {fit.form.formula}, α = {al:.3f}" + (f" [{iv[0]:.3f}, {iv[1]:.3f}]" if iv else "")
        ax.plot(grid, fit.predict(N=grid), color="tab:red", lw=1.6, label=lab)
        if len(fit.boot_params):
            lo, hi = fit.band(N=grid)
            ax.fill_between(grid, lo, hi, color="tab:red", alpha=0.2, lw=0, label="95% bootstrap band")
        if self.entropy_rate:
            ax.axhline(self.entropy_rate, color="0.4", ls=":", label=f"entropy rate {self.entropy_rate:.3f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        from matplotlib.ticker import FuncFormatter

        plain = FuncFormatter(lambda v, _: f"{v:.3g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.set_xlabel("non-embedding parameters N")
        ax.set_ylabel("validation loss (nats/token, log scale)")
        ax.set_title(f"measured L(N), {self.corpus.get('name', '')} corpus", fontsize="small")
        ax.legend(fontsize="small")
        return ax

    def plot(self, ax=None, **kw):
        """The main figure, :meth:`plot_size` (measured L(N) and its fitted law); ``kw`` goes there.
        The others: :meth:`plot_curves`, :meth:`plot_isoflop`, :meth:`plot_frontier`, :func:`plot_kaplan`."""
        return self.plot_size(ax, **kw)

    def plot_curves(self, ax=None, *, budget=None):
        """Validation loss against tokens seen for each size, at the largest budget (or ``budget``)."""
        import matplotlib.pyplot as plt

        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        fr = self.frame
        budget = fr["D"].max() if budget is None else budget
        rows = [i for i in range(len(fr)) if np.isclose(fr["D"].iloc[i], budget) and fr["repeat"].iloc[i] == 0]
        cmap = plt.get_cmap("viridis")
        for k, i in enumerate(rows):
            r, cv = fr.iloc[i], self.curves[i]
            color = cmap(k / max(1, len(rows) - 1))
            per = r["D"] / r["steps"]
            tr = cv["train_loss"]
            w = max(1, len(tr) // 50)
            smooth = np.convolve(tr, np.ones(w) / w, mode="valid")
            ax.plot((np.arange(smooth.size) + w) * per, smooth, color=color, lw=0.8, alpha=0.45)
            ax.plot(np.maximum(cv["eval_steps"], 1) * per, cv["eval_loss"], "o-", color=color, ms=2.5, lw=1.3,
                    label=f"N = {int(r['N']):,}")
        if self.entropy_rate:
            ax.axhline(self.entropy_rate, color="0.4", ls=":", label="entropy rate")
        ax.set_xscale("log")
        ax.set_xlabel("tokens seen")
        ax.set_ylabel("loss (nats/token)")
        ax.set_title(f"loss curves at D = {budget:.3g} (validation: points; training batches: lines)",
                     fontsize="small")
        ax.legend(fontsize="small")
        return ax

    def plot_isoflop(self, ax=None, *, n: int = 5):
        """Loss against N at fixed compute C = 6ND (interpolated between each size's budgets)."""
        import matplotlib.pyplot as plt

        from ...plots.helpers import axes

        ax = axes(ax, (6.4, 4.2))
        curves = self.isoflops(n)
        cmap = plt.get_cmap("plasma")
        for k, (C, (N, L)) in enumerate(curves.items()):
            color = cmap(k / max(1, len(curves) - 1) * 0.85)
            ax.plot(N, L, "o-", color=color, ms=3, label=f"C = {C:.2g} FLOPs")
            i = int(np.argmin(L))
            ax.plot([N[i]], [L[i]], marker="*", color=color, ms=10, ls="none")
        ax.set_xscale("log")
        ax.set_xlabel("non-embedding parameters N")
        ax.set_ylabel("validation loss (nats/token)")
        ax.set_title("iso-FLOP curves (star: the best size at that compute)", fontsize="small")
        if curves:
            ax.legend(fontsize="small")
        return ax

    def plot_frontier(self, ax=None, fit=None, total=None):
        """N*(C): ours in both parameter counts (the Chinchilla fit of these runs with N non-embedding,
        ``fit``, and with N total, ``total``, each with its band and its iso-FLOP minima; fitted here
        when not given, the total one only when the runs record N_total) beside Chinchilla's published
        law (total parameters) and Kaplan's (non-embedding). Every curve's label says which N it counts;
        each is drawn against C = 6ND in its own count."""
        from ...plots.helpers import axes
        from .allocation import plan
        from .forms import N_LABELS, chinchilla_optimum, preset

        ax = axes(ax, (6.4, 4.2))
        fit = fit if fit is not None else self.fit("chinchilla", bootstrap=100)
        if total is None and "N_total" in self.frame.columns:
            total = self.fit("chinchilla", bootstrap=100, n_kind="total")
        ours = [f for f in (fit, total) if f is not None]
        C = np.concatenate([self.runs(f.n_kind)["C"].to_numpy() for f in ours])
        grid = np.geomspace(C.min() / 10, C.max() * 10, 60)
        styles = {"non_embedding": ("tab:red", "o", "k"), "total": ("tab:purple", "s", "indigo")}
        for f in ours:
            color, marker, dots = styles[f.n_kind]
            ident = f.identification.get("a", {"identified": True})
            a_text = f"a = {f.derived['a']:.2f}" + ("" if ident["identified"] else ", not identified")
            ax.plot(grid, chinchilla_optimum(f.law, grid)[0], color=color, lw=1.8,
                    label=f"ours, N = {N_LABELS[f.n_kind]} ({a_text})")
            if len(f.boot_params):
                bo = np.array([chinchilla_optimum(law, grid)[0] for law in f.boot_laws])
                ax.fill_between(grid, np.percentile(bo, 2.5, axis=0), np.percentile(bo, 97.5, axis=0),
                                color=color, alpha=0.15, lw=0)
            fc, fn = self.frontier(f.n_kind)
            if fc.size:
                ax.scatter(fc, fn, color=dots, marker=marker, s=14, zorder=3,
                           label=f"our iso-FLOP minima, {N_LABELS[f.n_kind]}")
            fr = self.runs(f.n_kind)
            ax.scatter(fr["C"], fr["N"], color=color, alpha=0.35, s=8, marker="x")
        ch = preset("chinchilla")
        a_ch = ch.params["beta"] / (ch.params["alpha"] + ch.params["beta"])
        ax.plot(grid, chinchilla_optimum(ch, grid)[0], color="tab:green", lw=1.4, ls="--",
                label=f"Chinchilla (Hoffmann 2022), N = {N_LABELS['total']}, a = {a_ch:.2f}")
        ax.plot(grid, plan(grid, law="kaplan").N, color="tab:blue", lw=1.4, ls="-.",
                label=f"Kaplan 2020 L(N, D), N = {N_LABELS['non_embedding']}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("compute C = 6ND (FLOPs; N as in each label; crosses: runs)")
        ax.set_ylabel("compute-optimal N*")
        ax.set_title("compute-optimal model size", fontsize="small")
        ax.legend(fontsize="x-small")
        return ax
