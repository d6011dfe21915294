"""genlab.analysis.double_descent."""
