"""Double descent, measured: test error against model size, sample size or training time past
the interpolation threshold, with the quantities that explain the peak.

One module per experiment family, each running its seeds as jobs through
:func:`genlab.runs.sweep.sweep` (one job per seed or setting, the job
returning its whole curve as series), so the same call serves a notebook (a
temporary store) and the CLI (``store=``, resumable, ``jobs=``/``dask=``); the
numbers depend on ``seed`` only, not on the workers.

* :mod:`.random_features` — :func:`random_features_sweep` (random ReLU / Fourier
  features on a bundled dataset, minimum-norm least squares or ridge) and
  :func:`label_noise_sweep` (the same at several label-noise rates);
* :mod:`.polynomial` — :func:`polynomial_model_wise`: minimum-norm polynomials
  past the threshold in several bases (the basis decides whether the second
  descent beats the classical minimum);
* :mod:`.variance` — :func:`random_features_variance_split`: the variance across
  the curve split into the part due to the data and the part due to the features;
* :mod:`.samples` and :mod:`.ablations` — why the peak: :func:`linear_sample_wise`,
  :func:`singular_value_analysis` (the smallest non-zero singular value and the
  coefficient norm) and :func:`schaeffer_ablations` (Schaeffer et al. 2023);
* :mod:`.mlp` — :func:`mlp_width_sweep`: an MLP's width on digits with label noise
  (Nakkiran et al. 2019; torch, imported by the jobs only);
* :mod:`.mlp_data` — :func:`mlp_regression_width_sweep`: the same on a user's regression
  data (a CSV), one hidden layer, squared loss;
* :mod:`.epochs` — :func:`epoch_wise`: test error against gradient-descent steps
  (Heckel & Yilmaz 2020);
* :mod:`.results` — :class:`DoubleDescentCurve` and :class:`CurveFamily`, the
  results of the first four.

The models of every size are fitted by :func:`genlab.linalg.minnorm.nested_least_squares`
from one growing factorization. Errors are squared errors summed over the
outputs and averaged over the points; near the threshold they are heavy-tailed,
so every summary gives the median and quartiles beside the mean.
"""

from ._common import default_ps
from .ablations import schaeffer_ablations
from .epochs import EpochWiseCurve, epoch_wise, gd_iterates
from .mlp import WidthSweep, mlp_width_sweep
from .mlp_data import mlp_regression_width_sweep
from .polynomial import HARD_TARGET, polynomial_model_wise
from .random_features import label_noise_sweep, random_features_sweep
from .results import CurveFamily, DoubleDescentCurve
from .samples import ABLATIONS, SingularValueAnalysis, linear_sample_wise, singular_value_analysis
from .variance import VarianceSplit, random_features_variance_split

__all__ = ["ABLATIONS", "HARD_TARGET", "CurveFamily", "DoubleDescentCurve", "EpochWiseCurve", "SingularValueAnalysis",
           "VarianceSplit", "WidthSweep", "default_ps", "epoch_wise", "gd_iterates", "label_noise_sweep",
           "linear_sample_wise", "mlp_regression_width_sweep", "mlp_width_sweep", "polynomial_model_wise",
           "random_features_sweep", "random_features_variance_split", "schaeffer_ablations", "singular_value_analysis"]
