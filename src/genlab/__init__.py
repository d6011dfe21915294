"""genlab: a generalization laboratory.

Fits, train/validation curves, bias-variance decomposition, double descent and
scaling laws, measured with their uncertainty. Heavy optional backends (torch,
dask, plotly) are imported where they are used, not here.
"""

from .errors import ConvergenceWarning, GenlabError, IllConditionedWarning
from .models import PolynomialRegression

__version__ = "0.1.0"

__all__ = ["ConvergenceWarning", "GenlabError", "IllConditionedWarning", "PolynomialRegression", "__version__"]
