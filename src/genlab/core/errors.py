"""The one error class for a user's mistakes, and genlab's warnings."""


class GenlabError(ValueError):
    """A mistake in what the user asked for; the message says what to change.

    It subclasses :class:`ValueError` so that scikit-learn's conventions for
    invalid parameters hold; the CLI prints it on one line and exits with 2.
    """


class IllConditionedWarning(UserWarning):
    """The design matrix is close to singular: coefficients are not trustworthy."""


class ConvergenceWarning(UserWarning):
    """A Monte-Carlo mean or an iterative fit did not converge."""
