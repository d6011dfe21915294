"""genlab: a generalization laboratory.

Fits, train/validation curves, bias-variance decomposition, double descent and
scaling laws, measured with their uncertainty. The public names below are
re-exported lazily: ``import genlab`` loads nothing heavy (no numpy, no
scikit-learn, no torch), and ``genlab.decompose`` imports its module on first
use. The layers they come from are described in ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib

from .core.errors import ConvergenceWarning, GenlabError, IllConditionedWarning
from .core.version import __version__

#: each module of the public API -> the public names it defines
_PUBLIC = {
    "genlab.core.results": ["Result"],
    "genlab.core.estimators": ["parse_estimator"],
    "genlab.data.sources": ["ARTICLE_SOURCE", "ClassificationSource", "Dataset", "SyntheticSource", "load_csv",
                            "load_dataset"],
    "genlab.models.polynomial": ["PolynomialRegression"],
    "genlab.models.random_features": ["RandomFeaturesRegressor"],
    "genlab.models.mlp": ["TorchMLPClassifier", "TorchMLPRegressor"],
    "genlab.models.torch_estimators": ["TorchRegressor"],
    "genlab.runs.store": ["Store"],
    "genlab.runs.sweep": ["SweepResult", "run_sweep"],
    "genlab.analysis.fitting": ["FitResult", "fit_polynomial"],
    "genlab.analysis.curves": ["CapacityCurve", "capacity_curve"],
    "genlab.analysis.validation": ["validation_curve", "learning_curve"],
    "genlab.analysis.estimator_curve": ["EstimatorCurve"],
    "genlab.analysis.crossed": ["CrossedDecomposition", "crossed_decomposition", "crossed_sweep"],
    "genlab.analysis.biasvar": ["BiasVariance", "decompose", "decompose_data", "decompose_polynomial"],
    "genlab.analysis.double_descent": ["DoubleDescentCurve", "CurveFamily", "random_features_sweep",
                                       "label_noise_sweep", "polynomial_model_wise",
                                       "random_features_variance_split", "linear_sample_wise", "mlp_width_sweep",
                                       "epoch_wise", "schaeffer_ablations", "mlp_regression_width_sweep"],
    "genlab.analysis.regularize": ["ridge_cv", "implicit_regularization", "sample_wise_linear",
                                   "regularizers_side_by_side"],
    "genlab.analysis.scaling": ["ScalingLaw", "ScalingFit", "ComputePlan", "scaling_sweep", "preset", "load_law"],
    "genlab.analysis.lottery": ["LotteryResult", "lottery_sweep"],
}
#: public name -> the module that defines it
_LAZY = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = ["ConvergenceWarning", "GenlabError", "IllConditionedWarning", "__version__", *sorted(_LAZY)]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'genlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
