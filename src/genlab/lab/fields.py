"""A page's controls as data: what each field accepts, how a raw value from the browser is checked, and
the page's state as a URL query string.

Every value a callback receives is treated as hostile: it may be any JSON value (a number, a string,
``null``, a list, an object), huge, NaN or the text of a program. :func:`parse` turns it into the field's
type or raises :class:`FieldError` with one line, in the page's language, that the page shows under the
field. Nothing here imports dash.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from ..core.limits import LIMITS
from .words import words

#: Longest raw number text looked at (a number has no reason to be longer).
NUMBER_CHARS = 40
#: Longest value of one query-string parameter (the expressions' limit, with room for quoting).
QUERY_CHARS = 2 * int(LIMITS["expression"].cap)
_INTEGER = re.compile(r"[+-]?\d{1,30}")


class FieldError(ValueError):
    """A raw value a field does not accept; ``message`` is the line shown under the field.

    ``over_lab`` is the value when its only fault is to exceed the lab's own limit (the CLI would run
    it): the page then adds the shell command that runs it.
    """

    def __init__(self, message: str, over_lab=None):
        super().__init__(message)
        self.message = message
        self.over_lab = over_lab


@dataclass(frozen=True)
class Field:
    """One control of a page.

    Attributes
    ----------
    name : str
        Its query-string key, and the suffix of its component id.
    kind : {"int", "float", "text", "choice"}
    default : object
    lo, hi : float, optional
        Smallest and largest accepted value; ``hi`` is the lab's limit (a request stays within seconds).
    cap : str, optional
        The key of the CLI's limit in :data:`genlab.core.limits.LIMITS`; ``hi`` never exceeds it.
    choices : tuple of str
    control : {"input", "slider", "dropdown", "radio", "textarea"}
    step : float, optional
        A slider's step.
    url : bool
        Whether the value is part of the page's link.
    max_chars : int
        Longest accepted text.
    live : bool
        Whether a change recomputes at once (else the value is read when something else changes).
    """

    name: str
    kind: str
    default: object
    lo: float | None = None
    hi: float | None = None
    cap: str | None = None
    choices: tuple = ()
    control: str = "input"
    step: float | None = None
    url: bool = True
    max_chars: int = int(LIMITS["expression"].cap)
    live: bool = True


def _shown(raw) -> str:
    """A raw value as a message quotes it: short, printable."""
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10**30:
        return f"a {len(str(abs(raw))) if abs(raw) < 10**4000 else 'more than 4,000'}-digit number"
    try:
        text = repr(raw)[:200] if not isinstance(raw, str) else "'" + raw[:200] + "'"
    except ValueError:  # a container holding an integer past Python's 4,300 digits
        text = f"a {type(raw).__name__}"
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= 40 else text[:37] + "..."


def _fmt(v) -> str:
    if isinstance(v, int) and abs(v) >= 10**30:
        return _shown(v)
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e15):
        return f"{int(v):,}"
    return f"{v:g}"


def _number(field: Field, raw, w: dict):
    """``raw`` as an int or a float, or a FieldError (not a number, NaN, infinite, not integral)."""
    label = w["fields"][field.name]
    bad = FieldError(w["need_integer" if field.kind == "int" else "need_number"].format(label=label,
                                                                                         value=_shown(raw)))
    if isinstance(raw, bool) or raw is None or isinstance(raw, (list, dict)):
        raise bad
    if isinstance(raw, str):
        text = raw.strip().replace(",", "") if len(raw) <= NUMBER_CHARS else None
        if not text:
            raise bad
        if field.kind == "int" and _INTEGER.fullmatch(text):
            return int(text)
        try:
            raw = float(text)
        except ValueError:
            raise bad from None
    if isinstance(raw, int):
        if field.kind == "int":
            return raw
        if abs(raw) > 1e300:  # past a float: no field of the lab goes near
            raise FieldError(w["need_finite"].format(label=label, value=_shown(raw)))
        return float(raw)
    if not isinstance(raw, float):
        raise bad
    if not math.isfinite(raw):
        raise FieldError(w["need_finite"].format(label=label, value=_shown(raw)))
    if field.kind == "int":
        if not raw.is_integer():
            raise bad
        return int(raw) if abs(raw) < 2**63 else raw  # a huge one fails the limits below, as a float
    return raw


def parse(field: Field, raw, lang: str = "en"):
    """The checked value of ``field`` from the browser's ``raw`` value, or :class:`FieldError`."""
    w = words(lang)
    label = w["fields"][field.name]
    if field.kind == "choice":
        if not isinstance(raw, str) or raw not in field.choices:
            raise FieldError(w["choose"].format(label=label, choices=", ".join(field.choices), value=_shown(raw)))
        return raw
    if field.kind == "text":
        raw = "" if raw is None else raw
        if not isinstance(raw, str):
            raise FieldError(w["need_text"].format(label=label, value=_shown(raw)))
        if len(raw) > field.max_chars:
            raise FieldError(w["too_long"].format(label=label, length=len(raw), limit=field.max_chars))
        return raw
    value = _number(field, raw, w)
    if field.lo is not None and value < field.lo:
        raise FieldError(w["below"].format(label=label, lo=_fmt(field.lo), value=_fmt(value)))
    if field.cap is not None and value > LIMITS[field.cap].cap:
        lim = LIMITS[field.cap]
        raise FieldError(w["above_cli"].format(label=label, value=_fmt(value), cap=_fmt(lim.cap), why=lim.why))
    if field.hi is not None and value > field.hi:
        if field.cap is None:
            raise FieldError(w["above"].format(label=label, hi=_fmt(field.hi), value=_fmt(value)))
        raise FieldError(w["above_lab"].format(label=label, hi=_fmt(field.hi), value=_fmt(value), command="{command}"),
                         over_lab=value)
    return value


def check(fields, raw: dict, lang: str = "en") -> tuple[dict, dict, dict]:
    """Every field of a page checked: ``(values, errors, over_lab)``.

    ``values`` holds the accepted values (and, for a field over the lab's limit only, that value, so the
    shell command can be shown); ``errors`` maps a field to its message; ``over_lab`` lists the fields
    whose only fault is the lab's limit. A field missing from ``raw`` takes its default.
    """
    values, errors, over = {}, {}, {}
    for f in fields:
        try:
            values[f.name] = parse(f, raw.get(f.name, f.default), lang)
        except FieldError as exc:
            errors[f.name] = exc.message
            if exc.over_lab is not None:
                values[f.name] = exc.over_lab
                over[f.name] = exc.over_lab
    return values, errors, over


# -- the page's state in its URL ---------------------------------------------------------------------------

def to_query(fields, values: dict, lang: str | None = None) -> str:
    """``?name=value&...`` of the fields in the link (every one, so a link keeps its meaning when a default
    changes), and ``lang`` when given."""
    items = [(f.name, _query_text(values[f.name])) for f in fields if f.url and f.name in values]
    if lang:
        items.append(("lang", lang))
    return "?" + urlencode(items)


def _query_text(v) -> str:
    if isinstance(v, float):
        return repr(v) if not v.is_integer() or abs(v) >= 1e16 else str(int(v)) if abs(v) < 1e15 else repr(v)
    return str(v)


def from_query(fields, search) -> tuple[dict, str | None]:
    """The raw values a link gives (``{name: text}`` of known fields only, each at most :data:`QUERY_CHARS`
    characters) and its ``lang`` (None when absent)."""
    if not isinstance(search, str):
        return {}, None
    known = {f.name: f for f in fields if f.url}
    raw, lang = {}, None
    for key, value in parse_qsl(search.lstrip("?")[: 50 * QUERY_CHARS], keep_blank_values=True):
        if key == "lang":
            lang = value
        elif key in known and key not in raw:
            raw[key] = value[:QUERY_CHARS]
    return raw, lang


def initial(fields, raw: dict, lang: str = "en") -> tuple[dict, list]:
    """A page's first values from a link: each field's checked value from ``raw``, its default where the link
    has none, and where the link's value is refused, the default with a note ``(field, message)``."""
    values, notes = {}, []
    for f in fields:
        if f.name not in raw:
            values[f.name] = f.default
            continue
        try:
            values[f.name] = parse(f, raw[f.name], lang)
        except FieldError as exc:
            values[f.name] = f.default
            notes.append((f.name, exc.message.replace("{command}", "genlab …")))
    return values, notes
