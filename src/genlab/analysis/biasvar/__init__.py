"""Bias-variance decomposition measured by Monte Carlo against a known source.

For squared loss and any model (the article's §3):

    E_{D,x,y}[(h_D(x) - y)^2] = E_x[(h̄(x) - ȳ(x))^2]      bias²
                               + E_{x,D}[(h_D(x) - h̄(x))^2]  variance
                               + E_{x,y}[(ȳ(x) - y)^2]       noise

genlab measures all four terms separately — the expected test error directly,
with fresh noisy labels at the test points — each with its Monte-Carlo standard
error, so the identity is a check, not an assumption. Bias is measured against
ȳ(x) = E[y | x], never against noisy y.

Datasets come in fixed *blocks* (each with its own random stream), statistics
are computed per block and merged in block order: the numbers depend on the
seed only, not on the number of workers or on how blocks are batched.

Two engines fill the same result:

* :func:`decompose_polynomial` — every degree of a polynomial family in one
  pass (one small QR per dataset, moments in coefficient space);
* :func:`decompose` — any scikit-learn estimator, cloned per dataset.
"""

from .general import LOG_EPS, decompose, decompose_block_job
from .blocks import LOSSES, N_FIRST, block_size
from .polynomial import decompose_polynomial
from .real import DATA_METHODS, decompose_data, decompose_round_job
from .results import BiasVariance

__all__ = ["DATA_METHODS", "LOG_EPS", "LOSSES", "N_FIRST", "BiasVariance", "block_size", "decompose",
           "decompose_block_job", "decompose_data", "decompose_polynomial", "decompose_round_job"]
