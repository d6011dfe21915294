"""The article report: a content model (what to say) kept apart from its rendering (how)."""

from .model import Figure, Number, Report, Section

__all__ = ["Figure", "Number", "Report", "Section"]
