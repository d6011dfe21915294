"""Progress, as genlab shows it: one bar for a sweep's jobs and for a command's datasets or sections.

:class:`Progress` draws a rich bar on stderr; :class:`Callback` hands the same
counts to a caller's own function instead. Both take ``advance(n, failed)``
and ``stop()``, which is all :func:`genlab.runs.sweep.run_sweep` asks of them.
"""

from __future__ import annotations


class Progress:
    """A rich progress bar on stderr: label, bar, done/total and the time left.

    Two looks, from ``failed``: a sweep's bar counts failures and shows the
    elapsed time and the ETA too (``demo_job ━━━ 3/4 1 failed 0:00:02 ETA
    0:00:01``); a command's bar (``failed=None``) is the bare count and the
    time left (``datasets ━━━ 3/10 0:00:05``).

    Parameters
    ----------
    label : str
        What is counted, shown before the bar (a job function's name, "datasets").
    total : int
        How many there are.
    done : int, default 0
        How many were finished before the bar started (jobs already in a store).
    failed : int, optional
        How many of those failed; None for a bar without a failure count.
    transient : bool, default False
        Remove the bar from the screen when it stops.
    enabled : bool, default True
        False: a bar that shows nothing, so that callers need no branch.

    Examples
    --------
    >>> with Progress("sections", 6, enabled=False) as bar:  # doctest: +SKIP
    ...     for section in sections:
    ...         build(section)
    ...         bar()
    """

    def __init__(self, label: str, total: int, *, done: int = 0, failed: int | None = None,
                 transient: bool = False, enabled: bool = True):
        self.label, self.total, self.enabled = label, total, enabled
        self._done, self._failed, self._transient = done, failed, transient
        self._bar = self._task = None

    def start(self) -> "Progress":
        """Show the bar (nothing when disabled or already shown); return it."""
        if not self.enabled or self._bar is not None:
            return self
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        if self._failed is None:
            columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                       TimeRemainingColumn())
            fields = {}
        else:
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(),
                       TextColumn("ETA"), TimeRemainingColumn())
            fields = {"failed": self._failed}
        self._bar = RichProgress(*columns, console=Console(stderr=True), transient=self._transient)
        self._task = self._bar.add_task(self.label, total=self.total, completed=self._done, **fields)
        self._bar.start()
        return self

    def advance(self, n: int = 1, failed: int = 0) -> None:
        """``n`` more finished, ``failed`` of them failed."""
        if self._failed is not None:
            self._failed += failed
        if self._bar is not None:
            fields = {} if self._failed is None else {"failed": self._failed}
            self._bar.update(self._task, advance=n, **fields)

    def __call__(self, n: int = 1) -> None:
        """``n`` more finished: the bar as a ``progress(n)`` callable."""
        self.advance(n)

    def stop(self) -> None:
        """Stop drawing (a transient bar leaves the screen)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Callback:
    """Progress reported to a caller's callable: ``fn(n)`` each time ``n`` more have finished.

    Parameters
    ----------
    fn : callable
        Called with the number of jobs finished since its last call.
    done : int
        Jobs finished before the sweep started; ``fn(done)`` is called at once if any.
    """

    def __init__(self, fn, done: int):
        self._fn = fn
        if done:
            fn(done)

    def advance(self, n: int, failed: int = 0) -> None:
        self._fn(n)

    def stop(self) -> None:
        pass
