"""``genlab lab``: the article as a live laboratory in the browser.

Each page is one article section whose controls recompute with genlab's own engines — the fit and the
capacity curve (§2), the bias-variance decomposition up to 100,000 datasets (§3), ridge α (§4.2) and the
scaling-law fits of a user's runs (§4.3) — beside the report's words and plotly figures. The pieces:

* :mod:`.fields` — a page's controls as data, every browser value checked, the page's state as its URL;
* :mod:`.common` — what the pages share (an interaction's :class:`~.common.Outcome`, the synthetic source
  checked field by field, the shell command, the request's time budget, a cache of results);
* :mod:`.pages` — one module per section, each a pure ``update(raw, lang) -> Outcome``;
* :mod:`.jobs` — long computations on a server thread, with progress and cancel;
* :mod:`.layout`, :mod:`.app` — the Dash components and callbacks (dash is imported only there);
* :mod:`.server` — the options of ``genlab lab``, listening, and serving until Ctrl-C.

``import genlab.lab`` imports neither dash nor the engines.
"""
