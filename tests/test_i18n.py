"""Every language says the same things: the same keys, and the same {placeholders} per key, as English."""

import string
import tomllib
from importlib import resources

import pytest

from genlab.core.errors import GenlabError
from genlab.article.report.i18n import LANGUAGES, load_text


def _flatten(table, prefix=""):
    out = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, list):
            out.update({f"{key}[{i}]": item for i, item in enumerate(v)})
        else:
            out[key] = v
    return out


def _fields(text: str) -> list[str]:
    """The placeholders of a str.format template, with their format specs: ['n_datasets:,', 'seed']."""
    return sorted(f"{name}:{spec}" if spec else name
                  for _, name, spec, _ in string.Formatter().parse(text) if name is not None)


def test_english_and_japanese_are_shipped():
    assert {"en", "ja"} <= set(LANGUAGES)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_same_keys_and_placeholders_as_english(lang):
    en, other = _flatten(load_text("en")), _flatten(load_text(lang))
    assert sorted(set(en) - set(other)) == [], f"missing in {lang}"
    assert sorted(set(other) - set(en)) == [], f"only in {lang}"
    for key, text in en.items():
        assert type(other[key]) is type(text), key
        if isinstance(text, str):
            assert _fields(other[key]) == _fields(text), key


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_the_same_files(lang):
    folder = resources.files("genlab.article.report").joinpath("text")
    names = lambda la: sorted(f.name for f in folder.joinpath(la).iterdir() if f.name.endswith(".toml"))
    assert names(lang) == names("en")
    for f in folder.joinpath(lang).iterdir():
        if f.name.endswith(".toml"):
            tomllib.loads(f.read_text("utf-8"))


def test_japanese_is_japanese():
    ja = _flatten(load_text("ja"))
    for key in ("report.title", "overfitting.title", "biasvar.fig7_hint", "report.plot.training"):
        assert any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in ja[key]), key


def test_unknown_language():
    with pytest.raises(GenlabError, match="unknown language"):
        load_text("xx")


def test_library_verdicts_are_written_in_the_report_language():
    # the §4.1 captions compose their verdicts from numbers, not from the library's English sentences
    from types import SimpleNamespace

    from genlab.article.sections.double_descent import _ablation_verdict, _poly_verdict

    curve = SimpleNamespace(minimum={"ratio": 0.7, "after_peak": {"value": 0.41, "at": 56},
                                     "classical": {"value": 0.58, "at": 1}})
    d = {"near": 1.5, "baseline_near": 22.2, "ratio": 0.066, "n": 10.0, "at_n": 1.4}
    for lang in LANGUAGES:
        t = load_text(lang)["double_descent"]
        poly, abl = _poly_verdict("legendre", curve, t), _ablation_verdict("no_small_singular_values", d, t)
        assert "0.41" in poly and "56" in poly and "0.066" in abl and "22.2" in abl
        japanese = any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in poly + abl)
        assert japanese == (lang == "ja")
        assert t["poly_below"] in poly
