"""genlab.cli."""
