"""Model families with a size knob, scikit-learn compatible."""

from .polynomial import PolynomialRegression
from .random_features import RandomFeaturesRegressor

__all__ = ["PolynomialRegression", "RandomFeaturesRegressor"]
