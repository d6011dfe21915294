"""genlab: a generalization laboratory.

Fits, train/validation curves, bias-variance decomposition, double descent and
scaling laws, measured with their uncertainty. Heavy optional backends (torch,
dask, plotly) are imported where they are used, not here.
"""

from .core.errors import ConvergenceWarning, GenlabError, IllConditionedWarning
from .core.version import __version__


def __getattr__(name):  # scikit-learn loads only when a model is asked for (fast worker start-up)
    if name in ("PolynomialRegression", "RandomFeaturesRegressor"):
        from . import models

        return getattr(models, name)
    raise AttributeError(f"module 'genlab' has no attribute {name!r}")

__all__ = ["ConvergenceWarning", "GenlabError", "IllConditionedWarning", "PolynomialRegression", "__version__"]
