"""Checks of user-given values, each failing with a one-line GenlabError that says what to change."""

from __future__ import annotations

import math

import numpy as np

from .errors import GenlabError


def check_int(value, what: str = "n", lo: int = 1) -> int:
    """``value`` as an int, or an error unless it is an integer >= ``lo``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise GenlabError(f"{what} must be an integer >= {lo}, got {value!r}")
    return int(value)


def _number(value, what: str, rule: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise GenlabError(f"{what} must be {rule}, got {value!r}") from None
    if isinstance(value, bool) or math.isnan(v):
        raise GenlabError(f"{what} must be {rule}, got {value!r}")
    return v


def check_fraction(value, what: str) -> float:
    """A number in [0, 1]."""
    v = _number(value, what, "a fraction in [0, 1]")
    if not 0.0 <= v <= 1.0:
        raise GenlabError(f"{what} must be a fraction in [0, 1], got {value!r}")
    return v


def check_positive(value, what: str) -> float:
    """A finite number > 0."""
    v = _number(value, what, "a number > 0")
    if not (v > 0 and math.isfinite(v)):
        raise GenlabError(f"{what} must be a number > 0, got {value!r}")
    return v


def check_nonnegative(value, what: str) -> float:
    """A finite number >= 0."""
    v = _number(value, what, "a number >= 0")
    if not (v >= 0 and math.isfinite(v)):
        raise GenlabError(f"{what} must be a number >= 0, got {value!r}")
    return v
