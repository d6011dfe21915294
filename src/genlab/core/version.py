"""genlab's version, in the bottom layer so that every layer (the store's provenance, the report's
metadata, ``genlab --version``) can read it without importing the root package."""

__version__ = "0.1.0"
