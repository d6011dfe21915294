"""One module per article section of the lab. Each has ``KEY`` (its component ids' prefix), ``FIELDS`` (its
controls, :class:`~genlab.lab.fields.Field`), ``GRAPHS`` (its figures), ``update(raw, lang) -> Outcome`` (the
page after an interaction, from the values the browser sent, however hostile), ``commands(values)`` (the same
from the shell) and ``layout_text(lang)`` (the report's words beside the figures)."""
