"""The three ablations of Schaeffer et al. (2023), "Double Descent Demystified", each of which
removes the sample-wise peak of minimum-norm linear regression (:func:`schaeffer_ablations`)."""

from __future__ import annotations

import numpy as np

from ...core.seeding import check_seed
from .results import CurveFamily
from .samples import ABLATIONS, linear_run

__all__ = ["schaeffer_ablations"]


def _verdicts(curves, d) -> tuple[dict, dict]:
    """Each ablation's median error near n = d against the baseline's: the sentences and their numbers."""
    b = curves["baseline"]
    ib = int(np.argmin(np.abs(b.values - d)))
    near = np.abs(b.values - d) <= max(1, 0.1 * d)  # the threshold's neighbourhood
    peak_b = float(b.median()[near].max())
    verdicts = {"baseline": f"peak {b.find_peak()['value']:.3g} at n = {b.peak:g} (threshold d = {d})"}
    details = {"baseline": {"peak": float(b.find_peak()["value"]), "at": float(b.peak), "d": int(d)}}
    for v in ABLATIONS[1:]:
        c = curves[v]
        peak_v = float(c.median()[near].max())
        details[v] = {"near": peak_v, "baseline_near": peak_b, "ratio": peak_v / peak_b, "n": float(b.values[ib]),
                      "at_n": float(c.median()[ib])}
        verdicts[v] = (f"median test error near n = d: {peak_v:.3g} vs {peak_b:.3g} without the ablation "
                       f"({peak_v / peak_b:.2g}x); at n = {b.values[ib]:g}: {c.median()[ib]:.3g}")
    return verdicts, details


def schaeffer_ablations(data: str = "diabetes", *, ns=None, seeds: int = 50, n_test: int = 100,
                        cutoff: float = 0.1, top_k: int | None = None, store=None, jobs: int | None = 1,
                        dask=None, progress: bool = False, seed: int = 0) -> CurveFamily:
    """The three ablations of Schaeffer et al. (2023), "Double Descent Demystified", each
    of which removes the sample-wise peak of minimum-norm linear regression.

    With the training inputs' SVD ``X = U S Vᵀ`` the minimum-norm prediction
    error at a test input x is (for n < d)

        x (V Vᵀ − I) β*  +  Σ_r (x · v_r) (u_r · E) / s_r,

    where E is the residual the best linear model β* leaves on the training
    targets. The peak at n = d needs all three factors of the second term:

    * ``no_small_singular_values`` — drop singular values below ``cutoff`` ×
      the largest in the fit (1/s_r stays bounded);
    * ``test_projected_top_k`` — project the test inputs onto the ``top_k``
      leading right-singular directions of the training inputs (x · v_r = 0
      for the small modes);
    * ``no_residual`` — replace every target by X β*, fitted on the whole
      dataset (E = 0; the error is then measured against X β* too).

    Parameters
    ----------
    data : str, default="diabetes"
        A bundled dataset (diabetes: 442 points, d = 10).
    ns : sequence of int, optional
        Training sizes; default 1..3d and 8 log-spaced sizes up to the pool.
    seeds : int, default=50
        Shuffles (one job each); the curves share them.
    n_test : int, default=100
    cutoff : float in (0, 1), default=0.1
    top_k : int, optional
        Default: d // 2.

    Returns
    -------
    CurveFamily
        Curves ``baseline`` and the three ablations (knob ``"n"``, threshold
        d), verdicts giving each one's peak against the baseline's.
    """
    curves, base, d = linear_run(data, ns=ns, seeds=seeds, n_test=n_test, cutoff=cutoff, top_k=top_k,
                                 ablations=True, store=store, jobs=jobs, dask=dask, progress=progress, seed=seed)
    verdicts, details = _verdicts(curves, d)
    return CurveFamily(curves, verdicts, details=details, title=f"Schaeffer et al.'s ablations on {data}",
                       caption=f"Sample-wise double descent of minimum-norm linear regression on {data} (d = {d}) "
                               "and the three ablations of Schaeffer et al. (2023): dropping small singular values, "
                               "projecting test inputs onto the leading training directions, or removing the "
                               "residual each removes the peak at n = d.",
                       config={**base, "rank": d, "seeds": seeds, "seed": check_seed(seed)})
