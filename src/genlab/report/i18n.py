"""The report's words, one TOML file per language in ``report/text/``."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

from ..errors import GenlabError

LANGUAGES = ("en",)


@lru_cache(maxsize=None)
def load_text(lang: str = "en") -> dict:
    if lang not in LANGUAGES:
        raise GenlabError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return tomllib.loads(resources.files("genlab.report").joinpath("text", f"{lang}.toml").read_text("utf-8"))
