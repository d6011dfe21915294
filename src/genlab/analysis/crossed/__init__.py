"""Where the variance comes from: a crossed data × initialization decomposition for any randomized
estimator (Adlam & Pennington 2020's symmetric split), with label noise as an optional third factor and
the error of seed ensembles.

* :func:`crossed_decomposition` — from a table of predictions f_ij (data draw i, seed j) the caller made;
* :func:`crossed_sweep` — trains the table for every value of a knob through the store and the executor;
* :class:`CrossedDecomposition` — what both return (a :class:`~genlab.core.results.Result`).

The estimators and their standard errors are in :mod:`.anova`; the data of a sweep in :mod:`.data`.
"""

from .experiment import crossed_job, crossed_sweep, threshold
from .result import CrossedDecomposition
from .table import crossed_decomposition

__all__ = ["CrossedDecomposition", "crossed_decomposition", "crossed_job", "crossed_sweep", "threshold"]
