"""Model families with a size knob, scikit-learn compatible."""

from .polynomial import PolynomialRegression

__all__ = ["PolynomialRegression"]
