"""The report's words: one folder per language in ``report/text/``, one TOML file per section.

Every file of a language's folder is merged into one table, so each section
owns its own file (``text/en/scaling.toml``, ``text/ja/scaling.toml``) and the
languages can be checked key by key against each other.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

from ...core.errors import GenlabError

LANGUAGES = ("en", "ja")


@lru_cache(maxsize=None)
def load_text(lang: str = "en") -> dict:
    if lang not in LANGUAGES:
        raise GenlabError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    folder = resources.files("genlab.article.report").joinpath("text", lang)
    merged: dict = {}
    for f in sorted(folder.iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".toml"):
            continue
        table = tomllib.loads(f.read_text("utf-8"))
        clash = set(table) & set(merged)
        if clash:
            raise RuntimeError(f"text/{lang}/{f.name} redefines {sorted(clash)}")
        merged.update(table)
    return merged
