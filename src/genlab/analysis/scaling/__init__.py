"""Neural scaling laws (§4.3): forms, fits with honest uncertainty, compute-optimal allocation,
and the language-model sweeps that measure one.

* :mod:`~genlab.analysis.scaling.forms`: :class:`Form`, the forms (:data:`FORMS`), :class:`ScalingLaw`,
  the published :data:`PRESETS`, the compute optimum of a law;
* :mod:`~genlab.analysis.scaling.fits`: :func:`fit` (Huber on log-loss, L-BFGS-B from a grid,
  a bootstrap over runs, a hold-out check, warnings) giving a :class:`ScalingFit`; :func:`fit_csv`,
  :func:`synthetic_runs`; N counts non-embedding or total parameters (:data:`N_KINDS`);
* :mod:`~genlab.analysis.scaling.identify`: which fitted parameters the runs identify (at a bound of the
  search, or an interval over a decade: "not identified by these runs", and what would identify them);
* :mod:`~genlab.analysis.scaling.allocation`: :func:`plan` giving a :class:`ComputePlan`, :func:`load_law`;
* :mod:`~genlab.analysis.scaling.lm` and :mod:`~genlab.analysis.scaling.sweep`: small transformers
  trained over sizes × token budgets (:func:`scaling_sweep` giving a :class:`ScalingSweep`).

Importing this package imports neither torch nor scipy.
"""

from .allocation import ComputePlan, Prediction, load_law, plan, predict
from .fits import HUBER_DELTA, ScalingFit, fit, fit_csv, synthetic_runs
from .forms import (FORM_NAMES, FORMS, N_KINDS, PRESETS, Form, ScalingLaw, check_n_kind, chinchilla_optimum,
                    get_form, preset)
from .lm import LMRun, eval_floor
from .sweep import ScalingSweep, plan_sweep, plot_kaplan, scaling_sweep

__all__ = [
    "FORMS", "FORM_NAMES", "HUBER_DELTA", "N_KINDS", "PRESETS",
    "ComputePlan", "Form", "LMRun", "Prediction", "ScalingFit", "ScalingLaw", "ScalingSweep",
    "check_n_kind", "chinchilla_optimum", "eval_floor", "fit", "fit_csv", "get_form", "load_law", "plan", "plan_sweep",
    "plot_kaplan", "predict", "preset", "scaling_sweep", "synthetic_runs",
]
