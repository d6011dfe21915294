"""genlab.article."""
