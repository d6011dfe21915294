"""What every page of the lab shares: the outcome of one interaction, the synthetic source checked field by
field, the equivalent shell command, the request's time budget, a small cache of results, and the
report's paragraphs.

A page is a pure function ``update(raw: dict, lang) -> Outcome`` (see :mod:`genlab.lab.pages`): the Dash
callbacks only translate between it and the components, so the pages are tested without a browser or a
server, with any value a request could carry.
"""

from __future__ import annotations

import shlex
import string
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

from ..core.errors import GenlabError
from .fields import Field, check
from .words import words

#: A request computes at most this many seconds (by the library's own estimates, genlab.core.limits).
REQUEST_SECONDS = 20.0
#: The CLI's defaults of the synthetic source, left out of the shell commands.
SOURCE_DEFAULTS = {"target": "2*x**2 + 1", "noise": 0.1, "x": "uniform(0, 1)"}
#: The synthetic source's fields, as every page that draws from it has them (:func:`checked` builds the source).
SOURCE_FIELDS = (Field("target", "text", SOURCE_DEFAULTS["target"]),
                 Field("noise", "float", SOURCE_DEFAULTS["noise"], lo=0.0),
                 Field("x", "text", SOURCE_DEFAULTS["x"], max_chars=200))


@dataclass
class Outcome:
    """What one interaction changes on a page.

    ``errors`` (field -> message) and ``general`` are shown under the fields and above the figures;
    when either is set, ``figures``, ``numbers``, ``table``, ``raw``, ``command`` and ``query`` are None:
    nothing else on the page changes. ``job`` is a long computation to run in the background with its
    progress shown: ``(run(progress) -> Outcome, total steps, what, key)``, ``key`` the configuration it
    computes.
    """

    errors: dict = field(default_factory=dict)
    general: str | None = None
    figures: list | None = None
    numbers: list | None = None
    table: dict | None = None
    raw: dict | None = None
    command: str | None = None
    query: str | None = None
    job: tuple | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.general is None


class Refused(Exception):
    """A request the lab does not compute (too slow, say): its message goes above the figures."""


def lang_of(value, server_lang: str) -> str:
    """The tab's language: ``value`` where it is one the lab speaks, else the server's."""
    from .words import LANGS

    return value if isinstance(value, str) and value in LANGS else server_lang


def shell(*parts) -> str:
    """``genlab ...`` with every part quoted for a POSIX shell."""
    return " ".join(["genlab", *(shlex.quote(_arg(p)) for p in parts)])


def _arg(v) -> str:
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else str(int(v)) if abs(v) < 1e15 else repr(v)
    return str(v)


def source_args(values: dict) -> list:
    """The CLI options of the synthetic source that differ from the CLI's defaults."""
    out = []
    for name, flag in (("target", "--target"), ("noise", "--noise"), ("x", "--x")):
        if values[name] != SOURCE_DEFAULTS[name]:
            out += [flag, values[name]]
    return out


def checked(fields, raw: dict, lang: str) -> tuple[dict, dict, dict]:
    """:func:`genlab.lab.fields.check`, and where the synthetic source's fields passed, the source built from
    them with each of its errors put under its own field (``values["source"]``)."""
    values, errors, over = check(fields, raw, lang)
    names = {f.name for f in fields}
    if {"target", "noise", "x"} <= names:
        source = make_source(values, errors)
        if source is not None:
            values["source"] = source
    return values, errors, over


def make_source(values: dict, errors: dict):
    """The :class:`~genlab.data.sources.SyntheticSource` of the page's target, noise and x distribution, or
    None with its error under the field it comes from."""
    from ..core.expr import parse_expression
    from ..data.sources import SyntheticSource, XDistribution, check_noise

    for name, check_one in (("target", lambda v: parse_expression(v, what="target expression")),
                            ("x", XDistribution.parse), ("noise", check_noise)):
        if name not in errors:
            try:
                check_one(values[name])
            except GenlabError as exc:
                errors[name] = str(exc)
    if errors.keys() & {"target", "x", "noise"}:
        return None
    try:
        return SyntheticSource(values["target"], values["noise"], values["x"])
    except GenlabError as exc:  # the target is not finite, or too large, over the inputs
        errors["target"] = str(exc)
        return None


def refused(errors: dict, over: dict, command: str | None) -> Outcome:
    """The outcome of fields that were refused: each message under its field, with the shell command where a
    field's only fault is the lab's limit."""
    text = {k: v.replace("{command}", command or "genlab …") if k in over else v for k, v in errors.items()}
    return Outcome(errors=text)


def budget(seconds: float, command: str, lang: str) -> None:
    """Refuse (:class:`Refused`) a computation estimated to take longer than :data:`REQUEST_SECONDS`."""
    if seconds > REQUEST_SECONDS:
        raise Refused(words(lang)["too_slow"].format(seconds=seconds, limit=REQUEST_SECONDS, command=command))


def guarded(fn: Callable[[], Outcome], lang: str) -> Outcome:
    """``fn()``, with the library's one-line errors (and the ones it cannot foresee: memory, overflow) as the
    page's general message instead of an exception."""
    try:
        return fn()
    except (GenlabError, Refused) as exc:
        return Outcome(general=str(exc))
    except MemoryError:
        return Outcome(general="out of memory; give smaller sizes")
    except (OverflowError, RecursionError) as exc:
        return Outcome(general=f"{type(exc).__name__}: {exc}; give smaller or simpler values")


# -- files a user gives the lab ------------------------------------------------------------------------------------

def size_text(n: int) -> str:
    """A size in bytes as a person reads it."""
    return f"{n / 2**20:.3g} MiB" if n >= 2**20 else f"{n / 1024:.3g} KiB" if n >= 1024 else f"{n} bytes"


def read_upload(contents, filename, lang: str, limit: int) -> tuple[str | None, str]:
    """The text of an uploaded file (a ``data:...;base64,...`` URL, at most ``limit`` bytes) and a message:
    ``(None, why)`` for one that is too large, not base64 or not UTF-8 text."""
    import base64
    import binascii

    w = words(lang)
    name = filename if isinstance(filename, str) and len(filename) <= 200 else "(upload)"
    if not isinstance(contents, str) or "," not in contents[:300]:
        return None, w["upload_bad"].format(name=name, why="not a file")
    payload = contents.split(",", 1)[1]
    size = len(payload) * 3 // 4
    if size > limit:
        return None, w["upload_bad"].format(name=name, why=w["upload_big"].format(size=size_text(size),
                                                                                  limit=size_text(limit)))
    try:
        text = base64.b64decode(payload, validate=True).decode("utf-8-sig")
    except (binascii.Error, ValueError):
        text = None
    if text is None or "\x00" in text:
        return None, w["upload_bad"].format(name=name, why="not UTF-8 text (a CSV file is text)")
    return text, w["upload_ok"].format(name=name, rows=max(text.count("\n") - 1, 0) + (not text.endswith("\n")))


# -- numbers as the page shows them ---------------------------------------------------------------------------

def fmt(v, digits: int = 4) -> str:
    """A number as the page shows it (``—`` for NaN or None)."""
    if v is None:
        return "—"
    v = float(v)
    if v != v:
        return "—"
    return f"{v:.{digits}g}"


def pm(value, se, valid: bool = True, w: dict | None = None) -> str:
    """``value ± se`` where the standard error is valid, else the value and why it has none."""
    if not valid or se is None or se != se:
        return f"{fmt(value)} ({w['n']['no_se']})" if w else fmt(value)
    return f"{fmt(value)} ± {fmt(se, 2)}"


# -- a small cache of results, shared by the tabs ---------------------------------------------------------------

class Cache:
    """A bounded least-recently-used map from a configuration (a tuple of plain values) to its result.

    A result depends on its configuration only (seeds included), so tabs may share it: it is never
    changed after it is stored. Thread-safe; a result computed twice at once is stored once.
    """

    def __init__(self, size: int = 16):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def memo(self, key, fn):
        """The stored result of ``key``, or ``fn()`` stored under it."""
        hit = self.get(key)
        return hit if hit is not None else self.put(key, fn())


# -- the article's words beside the figures ---------------------------------------------------------------------

def paragraphs(lang: str, section: str, keys=("intro",), **values) -> list[str]:
    """The report's paragraphs ``keys`` of ``section`` (a list, or one text each) that ``values`` can fill:
    a paragraph that needs a number only the article's own run has is left out."""
    from ..article.report.i18n import load_text

    t = load_text(lang)[section]
    out = []
    for key in keys:
        texts = t.get(key, [])
        for text in [texts] if isinstance(texts, str) else texts:
            needed = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            if needed <= values.keys():
                out.append(text.format(**values))
    return out


def title(lang: str, section: str) -> str:
    from ..article.report.i18n import load_text

    return load_text(lang)[section]["title"]
