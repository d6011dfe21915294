"""genlab.plots."""
