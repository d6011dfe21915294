"""genlab.core."""
