"""The result of a lottery sweep: accuracy against the fraction of weights kept, and the thresholds."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...core.errors import GenlabError
from ...core.results import Result
from ...core.stats import summarize

VARIANTS = ("ticket", "reinit", "random")
LABELS = {"ticket": "winning ticket (IMP, rewound)", "reinit": "same mask, random re-init",
          "random": "random mask, same init"}
COLORS = {"ticket": "tab:blue", "reinit": "tab:orange", "random": "tab:green"}


@dataclass
class LotteryResult(Result):
    """Accuracy of pruned networks against the fraction of weights they keep, over repeats.

    ``fraction`` and ``nonzero`` have one entry per round (0 = the dense
    network, then each pruning round): the share and the number of weights
    kept, exact from the masks (the same in every repeat). ``test_acc``,
    ``val_acc``, ``train_acc`` and ``stop_step`` map a variant to an array
    of shape (n_repeats, n_rounds + 1); column 0 is the dense network, the
    same for every variant. Biases (``n_params - dense_count``) are never pruned.
    ``margin`` is the smallest mean drop from the dense accuracy that counts as
    falling below it, ``alpha`` the familywise level of the tests over a
    variant's rounds (:meth:`below_dense`, :attr:`thresholds`).
    """

    fraction: np.ndarray
    nonzero: np.ndarray
    dense_count: int
    n_params: int
    test_acc: dict
    val_acc: dict
    train_acc: dict
    stop_step: dict
    n_test: int
    config: dict = field(default_factory=dict)
    elapsed_s: float = float("nan")
    n_ran: int = 0
    n_cached: int = 0
    margin: float = 0.01     # a drop smaller than this (1 percentage point) does not count as falling below
    alpha: float = 0.05      # familywise level of the one-sided tests over a variant's rounds (Holm)

    @property
    def variants(self) -> list[str]:
        return list(self.test_acc)

    @property
    def dense(self) -> np.ndarray:
        """Test accuracy of the dense network, one per repeat."""
        return next(iter(self.test_acc.values()))[:, 0]

    def _diff(self, v: str):
        """Paired difference from dense over repeats: mean and s.e. per round (s.e. from the binomial
        spread of two test accuracies when there is one repeat)."""
        d = self.test_acc[v] - self.dense[:, None]
        mean = d.mean(axis=0)
        if d.shape[0] > 1:
            se = d.std(axis=0, ddof=1) / math.sqrt(d.shape[0])
        else:
            a, b = self.test_acc[v][0], self.dense[0]
            se = np.sqrt((a * (1 - a) + b * (1 - b)) / self.n_test)
        return mean, se

    def below_test(self, v: str) -> dict:
        """Per round, the test of "variant ``v`` is below the dense network" (see :meth:`below_dense`).

        Returns arrays over the rounds (entry 0, the dense network itself, is
        not tested: NaN / False): ``mean`` and ``se`` of the paired difference
        from dense, ``t = mean / se``, ``df`` (repeats − 1), the one-sided
        p-value ``p = P(T_df <= t)``, Holm's adjusted p-value ``p_holm`` over the
        rounds 1..R, and ``below``. With one repeat the s.e. is the binomial
        one of the two test accuracies and the normal distribution stands in
        for T (``df`` = inf). scipy.special's t distribution (the kernels of
        ``scipy.stats.t``) is imported here, not at start-up.
        """
        from scipy.special import ndtr, stdtr

        mean, se = self._diff(v)
        n = self.dense.shape[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se > 0, mean / np.where(se > 0, se, 1.0), np.sign(mean) * np.inf)   # se = 0: the sign
        t = np.where(np.isnan(t), 0.0, t)                                               # 0 / 0: no evidence
        p = stdtr(n - 1, t) if n > 1 else ndtr(t)
        p[0] = np.nan
        p_holm = np.full_like(p, np.nan)
        p_holm[1:] = holm(p[1:])
        below = np.zeros(len(p), dtype=bool)
        below[1:] = (p_holm[1:] <= self.alpha) & (mean[1:] < -self.margin)
        return {"mean": mean, "se": se, "t": t, "df": float(n - 1) if n > 1 else math.inf, "p": p, "p_holm": p_holm,
                "below": below}

    def below_dense(self, v: str) -> np.ndarray:
        """Per round, whether variant ``v`` is below the dense network. Round 0: False.

        A round is below dense when the drop is both *clear of the noise*
        and *large enough to matter*: a one-sided paired t-test of the
        difference from dense (same repeat: same data, same dense network)
        over the n repeats, with n − 1 degrees of freedom, rejects "no drop"
        after Holm's correction over the R rounds tested (a family per
        variant, familywise level ``alpha``, default 5%), and the mean drop
        exceeds ``margin`` (default 1 percentage point). Equivalently: sort
        the rounds by p-value; the k-th (k = 1..R) is below when
        ``t < -t_{n-1}(1 - alpha / (R - k + 1))`` (the t quantile for n − 1
        degrees of freedom) and every round before it in that order is below
        too, and when its mean drop exceeds ``margin``. So for a variant that
        is in truth as good as dense in every round, the chance that any of its
        rounds is called below is at most ``alpha``, whatever the number of
        rounds. A round not below is *not* shown to match dense: with few
        repeats a drop of a point or two can go undetected.
        """
        return self.below_test(v)["below"]

    @property
    def thresholds(self) -> dict:
        """Down to what fraction of its weights each variant matches the dense network.

        ``falls_below_at`` is the fraction of weights remaining from which on
        the variant is below dense (:meth:`below_dense`) in every later round
        — the first round of the final run of rounds below dense; None if the
        last round is not below. ``holds_down_to`` is the fraction of the round
        before it (the last round, if it never falls): the sparsity down to
        which the variant keeps the dense accuracy. A round below dense
        followed by one that is not is counted as noise, not as the fall.
        ``compression`` is ``1 / holds_down_to``; ``isolated_dips`` lists the
        rounds before the fall that were below dense.
        """
        out = {}
        n = len(self.fraction)
        for v in self.variants:
            below = self.below_dense(v)
            r = n
            while r > 1 and below[r - 1]:
                r -= 1                                     # r: first round of the final run below dense
            fall = r if r < n else None
            h = (fall if fall is not None else n) - 1      # the last round that holds
            out[v] = {"falls_below_at": None if fall is None else float(self.fraction[fall]),
                      "falls_below_round": fall, "holds_down_to": float(self.fraction[h]), "holds_round": h,
                      "nonzero_at_hold": int(self.nonzero[h]), "compression": float(1.0 / self.fraction[h]),
                      "isolated_dips": [int(i) for i in np.flatnonzero(below[:h + 1])], "margin": self.margin,
                      "alpha": self.alpha}
        return out

    def summary(self):
        """One row for the dense network (round 0), then one per variant and round: fraction and number of
        weights remaining, test / validation / training accuracy (mean, s.e.; test also median), the early-stop
        iteration (mean, s.e.), the paired difference from dense (mean, s.e., its t statistic, one-sided
        p-value and Holm-adjusted p-value) and whether it is below (see :meth:`below_dense`)."""
        import pandas as pd

        rows = []
        for v in ["dense"] + self.variants:
            src = self.variants[0] if v == "dense" else v
            test = self.below_test(src)
            below = test["below"] if v != "dense" else np.zeros(len(self.fraction), dtype=bool)
            st = {k: summarize(getattr(self, k)[src]) for k in ("test_acc", "val_acc", "train_acc", "stop_step")}
            for r in ([0] if v == "dense" else range(1, len(self.fraction))):
                row = {"variant": v, "round": r, "fraction_remaining": float(self.fraction[r]),
                       "nonzero_weights": int(self.nonzero[r]), "dense_weights": self.dense_count}
                for k in ("test_acc", "val_acc", "train_acc", "stop_step"):
                    row[f"{k}_mean"], row[f"{k}_se"] = float(st[k]["mean"][r]), float(st[k]["se"][r])
                row["test_acc_median"] = float(st["test_acc"]["median"][r])
                row["diff_vs_dense_mean"], row["diff_vs_dense_se"] = float(test["mean"][r]), float(test["se"][r])
                if v != "dense":
                    row["diff_vs_dense_t"], row["diff_vs_dense_p"] = float(test["t"][r]), float(test["p"][r])
                    row["diff_vs_dense_p_holm"] = float(test["p_holm"][r])
                row["below_dense"] = bool(below[r])
                rows.append(row)
        frame = pd.DataFrame(rows)
        for col in ("diff_vs_dense_t", "diff_vs_dense_p", "diff_vs_dense_p_holm"):   # the dense row: not tested
            if col in frame:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame

    def rule(self) -> dict:
        """How "below dense" is decided (:meth:`below_dense`), as a record: the test, its degrees of freedom,
        the correction over the rounds tested, the familywise level and the margin."""
        n = int(self.dense.shape[0])
        return {"test": "one-sided paired t-test of the difference from dense" if n > 1
                else "one-sided z-test, binomial s.e. (one repeat)",
                "df": n - 1 if n > 1 else None, "correction": "holm", "rounds_tested": len(self.fraction) - 1,
                "alpha": self.alpha, "margin": self.margin}

    def size_table(self):
        """Apparent vs effective size (§4.2): per round, the weights the network has (dense count) and those
        that are non-zero, all parameters with the (never pruned) biases, the compression factor, and the
        ticket's test accuracy (mean, s.e.) when it was run."""
        import pandas as pd

        biases = self.n_params - self.dense_count
        t = {"round": np.arange(len(self.fraction)), "fraction_remaining": self.fraction,
             "dense_weights": np.full(len(self.fraction), self.dense_count), "nonzero_weights": self.nonzero,
             "biases": np.full(len(self.fraction), biases), "apparent_params": np.full(len(self.fraction),
                                                                                      self.n_params),
             "effective_params": self.nonzero + biases, "compression": self.dense_count / self.nonzero}
        if "ticket" in self.test_acc:
            s = summarize(self.test_acc["ticket"])
            t["ticket_test_acc_mean"], t["ticket_test_acc_se"] = s["mean"], s["se"]
        return pd.DataFrame(t)

    def headline(self) -> str:
        """One line for a person: the dense accuracy, and down to what fraction of the weights each variant
        keeps up with it (``genlab lottery`` prints it first)."""
        d = self.to_dict()
        parts = [f"dense {d['dense_test_acc_mean']:.3f} ± {d['dense_test_acc_se']:.3f} ({self.dense_count:,} "
                 f"weights; next rounds prune the {self.config.get('prune_from', 'final')} weights)"]
        for v, t in d["thresholds"].items():
            fall = ("never below dense" if t["falls_below_at"] is None
                    else f"below dense from {100 * t['falls_below_at']:.3g}%")
            parts.append(f"{v}: matches dense down to {100 * t['holds_down_to']:.3g}% of the weights, {fall}")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        s = summarize(self.dense[:, None])
        return {"n_repeats": int(self.dense.shape[0]), "n_test": self.n_test, "dense_count": self.dense_count,
                "n_params": self.n_params, "dense_test_acc_mean": float(s["mean"][0]),
                "dense_test_acc_se": float(s["se"][0]), "below_dense_rule": self.rule(), "thresholds": self.thresholds,
                "config": self.config,
                "by_round": self.summary().to_dict(orient="records"),
                "sizes": self.size_table().to_dict(orient="records")}

    def plot(self, ax=None, *, what: str = "test_acc", title=None):
        """Mean test accuracy (or ``what="stop_step"``: the early-stop iteration) against the percentage of
        weights remaining, on a log axis that decreases to the right; bands are ± 1 s.e. over repeats; the
        dense network is the grey line and band; a dotted line marks where a variant falls below dense."""
        from matplotlib.ticker import NullFormatter

        from ...plots.helpers import axes

        if what not in ("test_acc", "val_acc", "stop_step"):
            raise GenlabError(f"what must be test_acc, val_acc or stop_step, got {what!r}")
        ax = axes(ax, (6.4, 4.2))
        x = 100 * self.fraction
        arrays = getattr(self, what)
        d = summarize(next(iter(arrays.values()))[:, [0]])
        m0, se0 = float(d["mean"][0]), float(np.nan_to_num(d["se"][0]))
        ax.axhspan(m0 - se0, m0 + se0, color="0.5", alpha=0.2, lw=0)
        ax.axhline(m0, color="0.35", lw=1, label=f"dense ({self.dense_count:,} weights)")
        lows, highs = [m0 - se0], [m0 + se0]
        th = self.thresholds
        for v, arr in arrays.items():
            s = summarize(arr)
            se = np.nan_to_num(s["se"])
            ax.fill_between(x, s["mean"] - se, s["mean"] + se, color=COLORS[v], alpha=0.2, lw=0)
            ax.plot(x, s["mean"], color=COLORS[v], marker="o", ms=3, label=LABELS[v])   # from the dense point
            lows.append(float(np.min(s["mean"][1:] - se[1:])))
            highs.append(float(np.max(s["mean"][1:] + se[1:])))
            if what == "test_acc" and th[v]["falls_below_at"] is not None:
                ax.axvline(100 * th[v]["falls_below_at"], color=COLORS[v], ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlim(100 * 1.15, 100 * self.fraction[-1] / 1.15)   # decreasing: pruning goes right
        ticks = [t for t in (100, 50, 20, 10, 5, 2, 1, 0.5) if 100 * self.fraction[-1] / 1.15 <= t <= 115]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("weights remaining (%)")
        if what == "stop_step":
            ax.set_ylabel("early-stop iteration (optimizer steps)")
        else:
            ax.set_ylabel(f"{'test' if what == 'test_acc' else 'validation'} accuracy")
            ax.set_ylim(max(0.0, min(lows) - 0.02), min(1.0, max(highs) + 0.01))
        ax.legend(fontsize="small", loc="lower left")
        ax.set_title(title or f"Lottery tickets: {self.config.get('data', 'digits')}, "
                              f"{self.config.get('depth', '?')}×{self.config.get('width', '?')} MLP, "
                              f"{self.dense.shape[0]} repeats")
        return ax


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values of ``p`` (one family): the k-th smallest is
    ``max_{j <= k} min(1, (m - j + 1) p_(j))``; a hypothesis is rejected at familywise level α when its
    adjusted p-value is <= α. NaN p-values are not allowed."""
    p = np.asarray(p, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out
