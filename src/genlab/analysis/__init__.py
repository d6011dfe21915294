"""genlab.analysis."""
