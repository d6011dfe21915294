"""genlab.analysis.scaling."""
