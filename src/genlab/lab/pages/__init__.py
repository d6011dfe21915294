"""One module per article section of the lab, registered in :data:`genlab.lab.app.PAGES`.

Each has ``KEY`` (its component ids' prefix), ``FIELDS`` (its controls, :class:`~genlab.lab.fields.Field`),
``GRAPHS`` (its figures), ``update(raw, lang) -> Outcome`` (the page after an interaction, from the values the
browser sent, however hostile), ``commands(values)`` (the same from the shell) and ``layout_text(lang)`` (the
report's words beside the figures). Optional, for what only some pages have (``genlab.lab.app`` wires them):

``JOBS = True``
    The page's long computations run as jobs of the server (:mod:`genlab.lab.jobs`): ``update`` returns
    ``Outcome(job=(run, total, what, key[, store]))`` and the page gets a progress bar, a cancel button and
    the ids ``{KEY}-job``, ``{KEY}-poll``, ``{KEY}-progress``, ``{KEY}-progress-text``, ``{KEY}-cancel``. With
    ``store`` true, ``run(store_path) -> Outcome`` runs sweeps through the lab's results store (their
    progress, cancel and resume come from :func:`genlab.runs.sweep.watching`); else ``run(progress)``.
``INPUTS``
    ``((component_id, property, name), ...)``: components beyond the fields whose changes recompute the page;
    ``update`` finds their values under ``name`` in ``raw``.
``extra(values, notes, lang) -> list``
    Components placed under the controls (dash imported inside); may set ``values`` a link cannot carry and
    add ``(field, message)`` notes.
``register(app, server_lang)``
    The page's own further callbacks (an upload, a download), each also put in ``app.genlab["callbacks"]``
    so that tests call it without a browser.
"""
