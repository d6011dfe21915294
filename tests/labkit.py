"""What the lab's tests share: calling a page's callbacks as Dash does, and a real ``genlab lab`` server with a
headless Chromium on it (Debian's /usr/bin/chromium, as the report's browser tests use).

``lab_server`` (a fixture, one server per test module, its store in a temporary folder) gives
``LabServer(base, store, proc)``; ``lab_browser`` a function that opens a new page on it, with every request
that leaves the server refused and recorded (``page.outside``) and the page's JavaScript errors recorded
(``page.errors``). Under CI a missing browser fails the tests; elsewhere it skips them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GENLAB_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"


def call(app, module, lang: str = "en", **raw) -> dict:
    """The page's callback called as Dash calls it (every control's value, the tab's language), with ``raw``
    in place of the defaults; returns ``{component.property: value}``."""
    fn = app.genlab["callbacks"][module.KEY]
    defaults = {f.name: f.default for f in module.FIELDS}
    special = {"_lang": lang, "_job": None}
    args = [raw[n] if n in raw else special[n] if n in special else defaults.get(n) for n in fn.arg_names]
    return dict(zip(fn.output_ids, fn(*args)))


def unchanged(value) -> bool:
    """Whether a callback left this output as it was (Dash's ``no_update``)."""
    return type(value).__name__ == "NoUpdate"


def assert_refused(out: dict, key: str, field: str, *words: str) -> str:
    """One message under ``field`` (holding each of ``words``), none above the figures, and the figures,
    numbers, command and URL unchanged, and no job started where the page has jobs; returns the message."""
    msg = out[f"{key}-{field}-msg.children"]
    assert msg, f"no message under {field}: { {k: v for k, v in out.items() if k.endswith('msg.children') and v} }"
    for word in words:
        assert word in msg, msg
    assert out[f"{key}-general.children"] == ""
    for k, v in out.items():
        if k.endswith((".figure", "-numbers.children", "-raw.data", "-command.children", "-url.search")):
            assert unchanged(v), k
    if f"{key}-job.data" in out:
        assert out[f"{key}-job.data"] is None and out[f"{key}-poll.disabled"] is True  # no job started
    return msg


def store_app(tmp_path_factory, name: str, lang: str = "en"):
    """The lab's app with its results store in a fresh temporary folder (``app.store``)."""
    from genlab.lab.app import make_app

    store = tmp_path_factory.mktemp(name) / "store" / "runs.sqlite"
    app = make_app(lang, store=store)
    app.store = store
    return app


def no_browser(why: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {why}", pytrace=False)
    pytest.skip(why)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    base: str
    store: Path
    proc: subprocess.Popen


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """``genlab lab`` on a free port of 127.0.0.1, its store in a temporary folder; stopped with Ctrl-C."""
    folder = tmp_path_factory.mktemp("lab")
    port = free_port()
    env = dict(os.environ, GENLAB_LAB_WARM_UP="0", MPLBACKEND="Agg")
    store = folder / "store" / "runs.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "genlab.cli.app", "lab", "--port", str(port), "--store",
                             str(store)], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    if not line.startswith("genlab lab:"):
        proc.kill()
        raise AssertionError(f"the lab did not start: {line!r} {proc.stderr.read()[-2000:]}")
    try:
        yield LabServer(f"http://127.0.0.1:{port}", store, proc)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


@pytest.fixture(scope="module")
def lab_browser(lab_server):
    """``open(path) -> page``: a new Chromium page at ``lab_server.base + path``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_browser("the playwright package is not installed (pip install -e '.[test]')")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        no_browser(f"no Chromium at {CHROMIUM} (run scripts/install-chromium.sh as root)")
    base = lab_server.base
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])

        def open_page(path: str, width: int = 1200, height: int = 1000):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.outside, page.errors = [], []
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else
                       (page.outside.append(r.request.url), r.abort()))
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.goto(base + path)
            return page

        yield open_page
        browser.close()


def numbers(page, key: str, timeout: float = 60_000) -> dict:
    """The page's numbers table as {label: text}, once it has rows (``timeout`` in ms; on a timeout the
    failure says what the page shows under its fields and in its progress area)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    sel = f"#{key}-numbers tr"
    try:
        page.wait_for_function(f"document.querySelectorAll('{sel}').length > 0", timeout=timeout)
    except PlaywrightTimeout:
        shown = page.evaluate(f"""[...document.querySelectorAll('[id^="{key}-general"], [id^="{key}-progress"]')]
                                  .map(e => e.id + ': ' + e.innerText + ' ' + (e.style.display || ''))""")
        raise AssertionError(f"no numbers on {page.url} within {timeout / 1000:.0f} s; the page shows {shown}")
    rows = page.locator(sel)
    return {rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").inner_text()
            for i in range(rows.count())}
