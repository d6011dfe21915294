"""Per-view downloads of `genlab lab` (issue 18): every page's CSV and JSON, its file names, hostile States, and
in a real browser the PNG, SVG and JSON of the §4.2 page.

The server callbacks are called as Dash calls them, with the page's outputs as the browser sends them back (JSON):
the JSON file holds the page's exact numbers, query and command, the CSV its table as shown (or, without one, its
numbers flattened). Forged States (wrong types, malformed tables, huge or deeply nested values) are refused with a
message, quickly, and nothing raises. In Chromium the PNG and SVG buttons download one image per figure, drawn by
the plotly.js the lab serves, and no request leaves the server.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from urllib.parse import parse_qsl, urlparse

import plotly
import pytest

from genlab.lab.app import PAGES
from genlab.lab.downloads import MAX_BYTES, STEM_RE, flatten, stem
from labkit import call, lab_browser, lab_server, numbers, unchanged  # noqa: F401 - fixtures

MODULES = {m.KEY: m for m in PAGES.values()}
#: Small settings per page, so that every page computes in the request and fast.
SMALL = {"ridge": dict(datasets=300, compare_datasets=20), "biasvar": dict(datasets=500, max_degree=8),
         "overfitting": dict(repeats=40)}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from genlab.lab.app import make_app

    app = make_app("en", store=tmp_path_factory.mktemp("lab-store") / "runs.sqlite")
    yield app
    app.genlab["jobs"].shutdown()


def sent(value):
    """A value as the browser sends it back to the server: the JSON of Dash's components and numbers."""
    return json.loads(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder))



def page_outputs(app, key: str) -> dict:
    module = MODULES[key]
    small = {k: v for k, v in SMALL.get(key, {}).items() if k in {f.name for f in module.FIELDS}}
    if key == "scaling":
        small["csv"] = module.sample()
    out = call(app, module, **small)
    if unchanged(out[f"{key}-raw.data"]):
        app.genlab["jobs"].cancel(out.get(f"{key}-job.data"))
        pytest.skip(f"{key}: the page's default view computes as a job")
    return out


def states(out: dict, key: str) -> dict:
    return {name: sent(out[f"{key}-{cid}"]) for name, cid in (
        ("raw", "raw.data"), ("table", "table.children"), ("search", "url.search"), ("command", "command.children"))}


def download(app, key: str, fmt: str, s: dict, lang="en", n=1):
    fn = app.genlab["callbacks"][f"{key}-download-{fmt}"]
    if fmt == "csv":
        return fn(n, s["raw"], s["table"], s["search"], lang)
    return fn(n, s["raw"], s["search"], s["command"], lang)


def shown_table(out: dict, key: str) -> list[list[str]]:
    """The page's table as shown: the texts of its header and body rows."""
    rows = []
    for part in out[f"{key}-table.children"]:
        for tr in part.children if isinstance(part.children, list) else [part.children]:
            rows.append([str(cell.children) for cell in tr.children])
    return rows


# -- every page: CSV and JSON hold the numbers shown -----------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(MODULES))
def test_json_and_csv_of_every_page(app, key):
    out = page_outputs(app, key)
    s = states(out, key)
    data, msg = download(app, key, "json", s)
    assert msg == "" and data["type"] == "application/json"
    assert STEM_RE.match(data["filename"][:-5]) and data["filename"] == stem(MODULES[key], s["search"]) + ".json"
    doc = json.loads(data["content"])
    assert doc["page"] == key and doc["path"] in PAGES and PAGES[doc["path"]] is MODULES[key]
    assert doc["numbers"] == s["raw"]  # the page's exact numbers
    assert doc["query"] == s["search"] and doc["command"] == out[f"{key}-command.children"]
    data, msg = download(app, key, "csv", s)
    assert msg == "" and data["filename"].endswith(".csv") and data["type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(data["content"])))
    if out[f"{key}-table.children"]:
        assert rows == shown_table(out, key)
    else:
        assert rows[0] == ["name", "value"]
        flat = dict(rows[1:])
        assert flat == dict(flatten(s["raw"]))
        for name, value in s["raw"].items():  # the numbers, exactly
            if isinstance(value, float):
                assert float(flat[name]) == value, name


def test_the_ridge_csv_is_its_side_by_side(app):
    out = page_outputs(app, "ridge")
    rows = list(csv.reader(io.StringIO(download(app, "ridge", "csv", states(out, "ridge"))[0]["content"])))
    lasso = out["ridge-raw.data"]["side_by_side"]["methods"][2]
    assert rows[3][0] == "lasso (L1)" and rows[3][2] == f"{lasso['bias2']:.4g}" and rows[3][5] == lasso["command"]


def test_file_names_are_short_and_safe():
    ridge = MODULES["ridge"]
    assert stem(ridge, "?log_alpha=-3.0&degree=30&n=3e1") == "ridge"  # the defaults, however written
    assert stem(ridge, "?log_alpha=-2.5&n=40") == "ridge_n-40_log_alpha--2.5"
    assert stem(ridge, "?log_alpha=-2.5&lang=ja") == "ridge_log_alpha--2.5_ja"
    odd = stem(ridge, "?target=" + "sin(x)/../../" * 100 + "&x=%00%0A<script>")
    assert STEM_RE.match(odd) and len(odd) <= 80 and "/" not in odd and re.search(r"_[0-9a-f]{8}$", odd)
    assert odd != stem(ridge, "?target=" + "sin(x)/../../" * 99)  # two views, two names
    for search in (None, 5, ["?n=4"], "", "?" + "n=5&" * 100_000, "?n=" + "9" * 10**6, "%%%"):
        name = stem(ridge, search)
        assert STEM_RE.match(name) and len(name) <= 80


# -- hostile States ---------------------------------------------------------------------------------------------------

def _deep(depth: int):
    value = 1.0
    for _ in range(depth):
        value = {"a": [value]}
    return value


HOSTILE = {
    "raw-int": dict(raw=5), "raw-text": dict(raw="numbers"), "raw-list": dict(raw=[1, 2]), "raw-empty": dict(raw={}),
    "raw-huge-int": dict(raw={"a": 10**5000}), "raw-deep": dict(raw=_deep(5_000)),
    "raw-big-text": dict(raw={"a": "x" * (MAX_BYTES + 10)}), "raw-many": dict(raw={"a": [0.5] * 600_000}),
    "raw-key": dict(raw={1: 2}), "raw-object": dict(raw={"a": object()}),
    "table-text": dict(table="<table>"), "table-number": dict(table=7),
    "table-script": dict(table=[{"type": "Script", "props": {"children": "alert(1)"}}]),
    "table-no-props": dict(table=[{"type": "Thead"}]),
    "table-bad-cell": dict(table={"type": "Tr", "props": {"children": [{"type": "Td", "props": {"children": {}}}]}}),
    "table-deep": dict(table=[{"type": "Tbody", "props": {"children": _deep(3_000)}}]),
    "table-many": dict(table=[{"type": "Tbody", "props": {"children": [
        {"type": "Tr", "props": {"children": [{"type": "Td", "props": {"children": "1"}}] * 100}}] * 6_000}}]),
    "search-number": dict(search=10**9), "search-huge": dict(search="?n=" + "9" * 10**7),
    "command-object": dict(command={"x": 1}), "command-huge": dict(command="genlab " * 10**6),
    "lang-list": dict(lang=["ja"]),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_states_never_crash(app, name):
    key = "ridge"
    s = states(page_outputs(app, key), key)
    bad = dict(HOSTILE[name])
    lang = bad.pop("lang", "en")
    s.update(bad)
    for fmt in ("csv", "json"):
        start = time.perf_counter()
        data, msg = download(app, key, fmt, s, lang=lang)
        assert time.perf_counter() - start < 5
        if unchanged(data):
            assert isinstance(msg, str) and msg.startswith("Nothing to download"), msg
        else:  # a value the file does not use, or one it may: the file is still a good one
            assert msg == "" and len(data["content"]) <= MAX_BYTES and STEM_RE.match(data["filename"].rsplit(".")[0])
            if fmt == "json":
                assert json.loads(data["content"])["page"] == key


def test_a_large_integral_float_comes_back_as_the_float(app):
    """The browser writes 1.2e19 as 12000000000000000000-ish digits: the file has the float it held again."""
    s = states(page_outputs(app, "ridge"), "ridge")
    s["raw"] = {"big": 11989570710846525000, "small": 3, "flag": True, "none": None, "nan": float("nan")}
    doc = json.loads(download(app, "ridge", "json", s)[0]["content"])
    assert doc["numbers"] == {"big": 1.1989570710846525e19, "small": 3, "flag": True, "none": None, "nan": None}
    assert isinstance(doc["numbers"]["big"], float)


def test_every_page_has_the_buttons_and_their_callbacks(app):
    from genlab.lab.downloads import FORMATS

    route = app.genlab["callbacks"]["route"]
    text = json.dumps([route(path, "", None)[0].to_plotly_json() for path in PAGES],
                      default=lambda o: o.to_plotly_json())
    outputs = " ".join(app.callback_map)
    for key, module in MODULES.items():
        for fmt in FORMATS:
            assert f'"{key}-dl-{fmt}"' in text, (key, fmt)
        for cid in ("dl-csv-file", "dl-json-file", "dl-name", "dl-msg"):
            assert f'"{key}-{cid}"' in text, (key, cid)
        assert f"{key}-dl-images.data" in outputs  # the client-side PNG/SVG callback
        for name in ("csv", "json", "name"):
            assert f"{key}-download-{name}" in app.genlab["callbacks"]


def test_a_click_count_that_is_not_a_click_downloads_nothing(app):
    s = states(page_outputs(app, "ridge"), "ridge")
    for n in (0, None):
        assert all(unchanged(v) for v in download(app, "ridge", "json", s, n=n))
    name = app.genlab["callbacks"]["ridge-download-name"]
    for search in (None, {"a": 1}, "?degree=40"):
        assert STEM_RE.match(name(search))


# -- in a real browser ------------------------------------------------------------------------------------------------

def test_png_svg_and_json_downloads_in_the_browser(lab_browser):
    from genlab.lab.fields import from_query
    from genlab.lab.pages import ridge

    page = lab_browser("/ridge?datasets=300&compare_datasets=20&log_alpha=-2")
    shown = numbers(page, "ridge")
    page.wait_for_function("document.querySelectorAll('#ridge-graph-regularizers .js-plotly-plot .bars').length > 0",
                           timeout=60_000)
    got = []
    page.on("download", lambda d: got.append(d))
    for fmt, count in (("png", 3), ("svg", 3)):
        got.clear()
        page.click(f"#ridge-dl-{fmt}")
        deadline = time.monotonic() + 30
        while len(got) < count and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        names = sorted(d.suggested_filename for d in got)
        stem_ = "ridge_log_alpha--2_datasets-300_compare_datasets-20"
        assert names == sorted(f"{stem_}-{g}.{fmt}" for g in ridge.GRAPHS), names
        for d in got:
            content = open(d.path(), "rb").read()
            if fmt == "png":
                assert content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 5_000
            else:
                assert content.lstrip().startswith(b"<svg") and b"</svg>" in content[-200:]
    with page.expect_download(timeout=30_000) as info:
        page.click("#ridge-dl-json")
    doc = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert info.value.suggested_filename == f"{stem_}.json"
    assert doc["query"] == "?" + urlparse(page.url).query
    raw, _ = from_query(ridge.FIELDS, doc["query"])
    assert doc["numbers"] == sent(ridge.update(raw, "en").raw)  # the page's numbers, exactly
    assert shown["training RMSE"] == f"{doc['numbers']['train_rmse']:.4g}"
    assert dict(parse_qsl(doc["query"][1:]))["compare_datasets"] == "20"
    assert not page.outside and not page.errors, (page.outside, page.errors)
