"""genlab.analysis.biasvar."""
