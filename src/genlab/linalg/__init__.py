"""genlab.linalg."""
