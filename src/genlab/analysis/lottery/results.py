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
    ``margin`` is the smallest drop from the dense accuracy that counts as
    falling below it (:meth:`below_dense`, :attr:`thresholds`).
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

    def below_dense(self, v: str) -> np.ndarray:
        """Per round, whether variant ``v`` is below the dense network: its mean paired difference from the
        dense accuracy (same repeat: same data, same dense network) is below ``-max(2 se, margin)`` —
        a drop that is both clear of the repeat-to-repeat noise (two standard errors of the
        difference) and large enough to matter (``margin``, default 1 percentage point). Round 0: False."""
        mean, se = self._diff(v)
        out = mean < -np.maximum(2 * se, self.margin)
        out[0] = False
        return out

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
                      "isolated_dips": [int(i) for i in np.flatnonzero(below[:h + 1])], "margin": self.margin}
        return out

    def summary(self):
        """One row for the dense network (round 0), then one per variant and round: fraction and number of
        weights remaining, test / validation / training accuracy (mean, s.e.; test also median), the early-stop
        iteration (mean, s.e.), the paired difference from dense (mean, s.e.) and whether it is below
        (see :attr:`thresholds`)."""
        import pandas as pd

        rows = []
        for v in ["dense"] + self.variants:
            src = self.variants[0] if v == "dense" else v
            mean_d, se_d = self._diff(src)
            below = self.below_dense(src) if v != "dense" else np.zeros(len(self.fraction), dtype=bool)
            st = {k: summarize(getattr(self, k)[src]) for k in ("test_acc", "val_acc", "train_acc", "stop_step")}
            for r in ([0] if v == "dense" else range(1, len(self.fraction))):
                row = {"variant": v, "round": r, "fraction_remaining": float(self.fraction[r]),
                       "nonzero_weights": int(self.nonzero[r]), "dense_weights": self.dense_count}
                for k in ("test_acc", "val_acc", "train_acc", "stop_step"):
                    row[f"{k}_mean"], row[f"{k}_se"] = float(st[k]["mean"][r]), float(st[k]["se"][r])
                row["test_acc_median"] = float(st["test_acc"]["median"][r])
                row["diff_vs_dense_mean"], row["diff_vs_dense_se"] = float(mean_d[r]), float(se_d[r])
                row["below_dense"] = bool(below[r])
                rows.append(row)
        return pd.DataFrame(rows)

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

    def to_dict(self) -> dict:
        s = summarize(self.dense[:, None])
        return {"n_repeats": int(self.dense.shape[0]), "n_test": self.n_test, "dense_count": self.dense_count,
                "n_params": self.n_params, "dense_test_acc_mean": float(s["mean"][0]),
                "dense_test_acc_se": float(s["se"][0]), "thresholds": self.thresholds, "config": self.config,
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
