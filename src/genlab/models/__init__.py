"""Model families with a size knob, scikit-learn compatible.

The torch estimators (:class:`TorchMLPClassifier`, :class:`TorchMLPRegressor`,
:class:`TorchRegressor`) load on first use, so that importing this package does
not import torch.
"""

import importlib

from .polynomial import PolynomialRegression
from .random_features import RandomFeaturesRegressor

#: torch estimators -> the module that defines them (imported on first use)
_TORCH = {"TorchMLPClassifier": "genlab.models.mlp", "TorchMLPRegressor": "genlab.models.mlp",
          "TorchRegressor": "genlab.models.torch_estimators"}

__all__ = ["PolynomialRegression", "RandomFeaturesRegressor", *_TORCH]


def __getattr__(name):
    module = _TORCH.get(name)
    if module is None:
        raise AttributeError(f"module 'genlab.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_TORCH))
