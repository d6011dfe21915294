"""The one protocol every result object follows, so the CLI, the report, the lab and a notebook
use the same objects the same way.

A result

* ``summary()`` → a pandas DataFrame, one row per point (degree, width, run, ...);
* ``to_frame()`` → the same tidy frame (the name pandas users reach for);
* ``to_dict()`` → JSON-ready plain values (:func:`genlab.core.io.plain` makes them so);
* ``plot(ax=None, **kw)`` → draws into ``ax`` (a new figure when None) and returns the Axes,
  as scikit-learn's ``*Display.plot`` does;
* ``_repr_html_()`` → its table and its figure, so a notebook shows both.

Subclasses define ``summary``, ``to_dict`` and ``plot``; the rest comes from here.
"""

from __future__ import annotations

import io


class Result:
    """Base class of genlab's result objects (see the module docstring for the protocol)."""

    #: rows of the table shown by ``_repr_html_`` before it is cut
    html_rows = 40

    def summary(self):
        """One row per point, as a pandas DataFrame."""
        raise NotImplementedError

    def to_frame(self):
        """The tidy frame behind the result (by default the summary)."""
        return self.summary()

    def to_dict(self) -> dict:
        """JSON-ready values."""
        raise NotImplementedError

    def plot(self, ax=None, **kw):
        """Draw into ``ax`` (a new figure when None); return the Axes."""
        raise NotImplementedError

    def _repr_html_(self) -> str:
        frame = self.summary()
        table = frame.to_html(max_rows=self.html_rows, float_format=lambda v: f"{v:.4g}", border=0)
        try:
            figure = self._svg()
        except Exception as exc:  # noqa: BLE001  a notebook still gets the table
            figure = f"<p><em>no figure: {type(exc).__name__}: {exc}</em></p>"
        return f'<div class="genlab-result"><strong>{type(self).__name__}</strong>{figure}{table}</div>'

    def _svg(self) -> str:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5.6, 3.8))
        self.plot(fig.add_subplot())
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        text = buf.getvalue()
        return text[text.index("<svg"):]
