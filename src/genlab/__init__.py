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

#: public name -> the module that defines it
_LAZY = {
    # core
    "Result": "genlab.core.results",
    "parse_estimator": "genlab.core.estimators",
    # data
    "ARTICLE_SOURCE": "genlab.data.sources", "ClassificationSource": "genlab.data.sources",
    "Dataset": "genlab.data.sources", "SyntheticSource": "genlab.data.sources",
    "load_csv": "genlab.data.sources", "load_dataset": "genlab.data.sources",
    # models
    "PolynomialRegression": "genlab.models.polynomial", "RandomFeaturesRegressor": "genlab.models.random_features",
    "TorchMLPClassifier": "genlab.models.mlp",
    # runs
    "Store": "genlab.runs.store", "SweepResult": "genlab.runs.sweep", "run_sweep": "genlab.runs.sweep",
    # analysis
    "FitResult": "genlab.analysis.fitting", "fit_polynomial": "genlab.analysis.fitting",
    "CapacityCurve": "genlab.analysis.curves", "capacity_curve": "genlab.analysis.curves",
    "BiasVariance": "genlab.analysis.biasvar", "decompose": "genlab.analysis.biasvar",
    "decompose_data": "genlab.analysis.biasvar", "decompose_polynomial": "genlab.analysis.biasvar",
    "DoubleDescentCurve": "genlab.analysis.double_descent", "CurveFamily": "genlab.analysis.double_descent",
    "random_features_sweep": "genlab.analysis.double_descent",
    "label_noise_sweep": "genlab.analysis.double_descent",
    "polynomial_model_wise": "genlab.analysis.double_descent",
    "random_features_variance_split": "genlab.analysis.double_descent",
    "linear_sample_wise": "genlab.analysis.double_descent", "mlp_width_sweep": "genlab.analysis.double_descent",
    "epoch_wise": "genlab.analysis.double_descent", "schaeffer_ablations": "genlab.analysis.double_descent",
    "ridge_cv": "genlab.analysis.regularize", "implicit_regularization": "genlab.analysis.regularize",
    "sample_wise_linear": "genlab.analysis.regularize", "regularizers_side_by_side": "genlab.analysis.regularize",
    "ScalingLaw": "genlab.analysis.scaling", "ScalingFit": "genlab.analysis.scaling",
    "ComputePlan": "genlab.analysis.scaling", "scaling_sweep": "genlab.analysis.scaling",
    "preset": "genlab.analysis.scaling", "load_law": "genlab.analysis.scaling",
    "LotteryResult": "genlab.analysis.lottery", "lottery_sweep": "genlab.analysis.lottery",
}

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
