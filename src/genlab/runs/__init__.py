"""genlab.runs."""
