"""What the lab's §4.1 page shows of a result: a curve's numbers as ``genlab double-descent`` prints them,
its series for the figures, and each experiment's figures, numbers and table."""

from __future__ import annotations

import numpy as np

from ..common import fmt

def _g(x) -> str:
    return f"{x:g}"


def curve_raw(c) -> dict:
    """A :class:`~genlab.analysis.double_descent.DoubleDescentCurve`'s numbers as the CLI's record has them."""
    from ...core.stats import summarize

    out = {"knob": c.knob, "label": c.label, "values": np.asarray(c.values).tolist(), "threshold": c.threshold,
           "n_seeds": c.n_seeds, "peak": c.find_peak(), "minimum": c.minimum}
    for name in ("test_mse", "train_mse") + (("test_error",) if c.test_error is not None else ()):
        s = summarize(c.metric(name))
        for k in ("median", "q25", "q75", "mean"):
            out[f"{name}_{k}"] = np.asarray(s[k], dtype=float).tolist()
    for name in ("coef_norm", "sigma_min"):
        out[f"{name}_median"] = np.asarray(c.median(name), dtype=float).tolist()
    return out


def _at(w: dict, value, knob: str, at) -> str:
    return w["n"]["at"].format(value=f"{value:.4g}", knob=knob, at=_g(at))


def curve_numbers(c, w: dict, knob: str, prefix: str = "") -> list:
    """The peak and minima as ``genlab double-descent`` prints them."""
    pk, mn = c.find_peak(), c.minimum
    n = w["n"]
    rows = [(prefix + n["peak"], _at(w, pk["value"], knob, pk["at"]))]
    for key in ("classical", "after_peak"):
        rows.append((prefix + n[key], _at(w, mn[key]["value"], knob, mn[key]["at"]) if mn[key] else n["none"]))
    rows.append((prefix + n["ratio"], f"{mn['ratio']:.3g}" if mn["ratio"] is not None else "—"))
    if c.threshold is not None and not prefix:
        rows.append((n["threshold"], f"{knob} {c.threshold:g}"))
    return rows


def _curve_series(c, label: str = "") -> dict:
    from ...core.stats import summarize

    s = summarize(c.test_mse)
    return {"label": label or c.label, "x": c.values, "median": s["median"], "q25": s["q25"], "q75": s["q75"],
            "mean": s["mean"], "train": c.median("train_mse")}


def _render_curve(c, w: dict):
    from .double_descent_figures import curves_figure, why_figure

    p = w["plot"]
    knob = p["knob"].get(c.knob, c.knob)
    raw = curve_raw(c)
    numbers = curve_numbers(c, w, knob)
    last = len(c.values) - 1
    if c.test_error is not None:
        numbers.append((w["n"]["test01_end"].format(knob=c.knob), fmt(raw["test_error_median"][last])))
    numbers.append((w["n"]["train_end"].format(knob=c.knob), fmt(raw["train_mse_median"][last])))
    numbers.append((w["n"]["seeds"], str(c.n_seeds)))
    inv = 1.0 / np.maximum(np.asarray(raw["sigma_min_median"], dtype=float), 1e-150) ** 2
    figures = [curves_figure([_curve_series(c)], knob, c.threshold, p),
               why_figure(c.values, [(p["coef_norm"], raw["coef_norm_median"], "#2ca02c", None),
                                     (p["inv_sigma2"], inv, "#9467bd", "dash")], knob, c.threshold, "", p,
                          title=p["why"])]
    t = w["table"]
    cols = [knob, t["test"], t["train"]] + ([t["test01"]] if c.test_error is not None else [])
    rows = []
    for i, x in enumerate(c.values):
        row = [_g(x), f"{fmt(raw['test_mse_median'][i])} [{fmt(raw['test_mse_q25'][i])}, "
                      f"{fmt(raw['test_mse_q75'][i])}]", fmt(raw["train_mse_median"][i])]
        if c.test_error is not None:
            row.append(fmt(raw["test_error_median"][i], 3))
        rows.append(row)
    return figures, numbers, {"columns": cols, "rows": rows}, raw


def _render_family(fam, w: dict):
    from .double_descent_figures import curves_figure, why_figure

    p = w["plot"]
    curves = list(fam.curves.items())
    first = curves[0][1]
    knob = p["knob"].get(first.knob, first.knob)
    raw = {"title": fam.title, "threshold": first.threshold, "curves": {k: curve_raw(c) for k, c in curves}}
    numbers = [(w["n"]["threshold"], f"{knob} {first.threshold:g}")]
    for k, c in curves:
        numbers += curve_numbers(c, w, knob, prefix=f"{k}: ")
    numbers.append((w["n"]["seeds"], str(first.n_seeds)))
    figures = [curves_figure([_curve_series(c, k) for k, c in curves], knob, first.threshold, p),
               why_figure(first.values, [(f"{p['coef_norm']} — {k}", c.median("coef_norm"), None, None)
                                         for k, c in curves], knob, first.threshold, "", p, title=p["why"])]
    cols = [knob] + [f"{k}: {w['table']['test'].split(':')[0]}" for k, _ in curves]
    rows = [[_g(x)] + [fmt(raw["curves"][k]["test_mse_median"][i]) for k, _ in curves]
            for i, x in enumerate(first.values)]
    return figures, numbers, {"columns": cols, "rows": rows}, raw


def _render_isotropic(res, w: dict):
    from ...core.stats import summarize
    from .double_descent_figures import curves_figure, why_figure

    p = w["plot"]
    s = summarize(res.test)
    theory = res.theory()
    i = int(np.argmax(np.median(res.test, axis=0)))
    knob = p["knob"]["n"]
    raw = {"knob": "n", "values": res.ns.tolist(), "threshold": float(res.d), "peak_n": res.peak_n,
           "test_mse_median": np.asarray(s["median"], dtype=float).tolist(),
           "test_mse_q25": np.asarray(s["q25"], dtype=float).tolist(),
           "test_mse_q75": np.asarray(s["q75"], dtype=float).tolist(), "theory": theory.tolist()}
    numbers = [(w["n"]["peak_n"], _at(w, raw["test_mse_median"][i], "n", res.peak_n)),
               (w["n"]["theory_at_peak"], fmt(theory[i])), (w["n"]["threshold"], f"n = d = {res.d}"),
               (w["n"]["seeds"], str(res.test.shape[0]))]
    series = {"label": "", "x": res.ns, "median": s["median"], "q25": s["q25"], "q75": s["q75"], "mean": s["mean"],
              "theory": theory}
    figures = [curves_figure([series], knob, float(res.d), p),
               why_figure(res.ns, [(p["theory"], theory, "#000000", "dashdot"),
                                   (p["mean"], s["mean"], "#d62728", None)], knob, float(res.d), "", p)]
    rows = [[str(int(n)), f"{fmt(raw['test_mse_median'][j])} [{fmt(raw['test_mse_q25'][j])}, "
                          f"{fmt(raw['test_mse_q75'][j])}]", fmt(theory[j])] for j, n in enumerate(res.ns)]
    return figures, numbers, {"columns": [knob, w["table"]["test"], p["theory"]], "rows": rows}, raw


def _render_crossed(res, w: dict):
    from ...core.stats import find_peak
    from .double_descent_figures import crossed_figure, crossed_parts_figure

    p, n, t = w["plot"], w["n"], w["table"]
    values = [int(x) if float(x).is_integer() else float(x) for x in np.asarray(res.values).tolist()]
    err = np.asarray(res.error, dtype=float)
    total = np.asarray(res.total, dtype=float)
    at = int(np.nanargmax(total))
    ens = np.asarray(res.ensemble, dtype=float)
    parts = (("v_data", res.v_data), ("v_init", res.v_init), ("v_interaction", res.v_interaction))
    raw = {"knob": "width", "values": values, "threshold": res.threshold, "peak": values[at], "R": res.R,
           "S": res.S, "error": err.tolist(), "error_se": np.asarray(res.error_se, dtype=float).tolist(),
           "train_error": None if res.train_error is None else np.asarray(res.train_error, dtype=float).tolist(),
           "bias2": np.asarray(res.bias2, dtype=float).tolist(), "total": total.tolist(),
           **{k: np.asarray(val, dtype=float).tolist() for k, val in parts},
           "ensemble_all": ens[:, -1].tolist()}
    low = int(np.nanargmin(err))
    bump = find_peak(err)
    shares = ", ".join(f"{t[k]} {np.asarray(val, dtype=float)[at] / total[at]:.0%}" for k, val in parts)
    numbers = [(n["mlp_threshold"], "—" if res.threshold is None else f"{res.threshold:.1f}"),
               (n["mlp_peak"], str(values[at])), (n["mlp_shares"], shares),
               (n["mlp_error_peak"], fmt(err[at])), (n["mlp_ensemble"].format(k=res.S), fmt(ens[at, -1])),
               (n["mlp_lowest"], f"{fmt(err[low])} (width {values[low]})"),
               (n["mlp_bump"], f"{fmt(err[bump['peak']])} (width {values[bump['peak']]})"
                if bump["peak"] >= 0 and bump["prominence"] > 0 else n["no_bump"])]
    if res.train_error is not None:
        numbers.append((n["mlp_train_end"], fmt(res.train_error[-1])))
    figures = [crossed_figure(res, p), crossed_parts_figure(res, p, title=p["why"])]
    cols = [p["knob"]["width"], t["bias2"], t["v_data"], t["v_init"], t["v_interaction"], t["error"], t["train_mlp"]]
    rows = [[str(x), fmt(raw["bias2"][i]), fmt(raw["v_data"][i]), fmt(raw["v_init"][i]), fmt(raw["v_interaction"][i]),
             f"{fmt(err[i])} ± {fmt(raw['error_se'][i], 2)}",
             fmt(raw["train_error"][i]) if raw["train_error"] is not None else "—"] for i, x in enumerate(values)]
    return figures, numbers, {"columns": cols, "rows": rows}, raw
