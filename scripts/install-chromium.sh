#!/bin/sh
# Chromium and a Japanese font for the browser tests (tests/test_browser.py), from Debian's own
# packages: Playwright drives /usr/bin/chromium, so `playwright install` (which downloads browsers)
# is never needed. Installs only what is missing, and only as root on a Debian-like system (CI);
# anywhere else it says what to install and leaves the machine alone (the tests then skip,
# except under CI, where they fail).
set -eu

need=""
[ -x /usr/bin/chromium ] || need="chromium"
if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=ja 2>/dev/null)" ]; then :; else
    need="$need fonts-noto-cjk"   # without a CJK font the Japanese report renders as boxes
fi
[ -n "$need" ] || exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing:$need" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need
else
    echo "browser tests need:$need (apt-get install -y --no-install-recommends$need, as root); skipping" >&2
fi
