"""The lab in a real browser: Back/Forward restore a page's state, and the §3 page's link round trip.
(The pages' own browser tests are in test_lab_*.py; the fixtures in labkit.py.)"""

from __future__ import annotations

from labkit import lab_browser, lab_server, numbers  # noqa: F401 - fixtures


def test_back_and_forward_restore_the_controls_and_the_numbers(lab_browser):
    page = lab_browser("/ridge?log_alpha=-1")
    first = numbers(page, "ridge")
    page.fill("#ridge-seed", "3")
    page.press("#ridge-seed", "Enter")
    page.wait_for_function("location.search.includes('seed=3')", timeout=60_000)
    page.wait_for_function("document.querySelector('#ridge-numbers').innerText.length > 0", timeout=60_000)
    page.wait_for_timeout(500)
    third = numbers(page, "ridge")
    assert third != first
    page.go_back()
    page.wait_for_function("!location.search.includes('seed=3')", timeout=30_000)
    page.wait_for_function("document.getElementById('ridge-seed').value === '0'", timeout=30_000)
    page.wait_for_function(f"document.querySelector('#ridge-numbers').innerText.includes({list(first.values())[3]!r})",
                           timeout=60_000)
    assert numbers(page, "ridge") == first
    page.go_forward()
    page.wait_for_function("document.getElementById('ridge-seed').value === '3'", timeout=30_000)
    page.wait_for_function(f"document.querySelector('#ridge-numbers').innerText.includes({list(third.values())[3]!r})",
                           timeout=60_000)
    assert numbers(page, "ridge") == third
    assert not page.outside and not page.errors, (page.outside, page.errors)
