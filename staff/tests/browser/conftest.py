"""Real-browser tests: Playwright for Python driving Debian's Chromium against ``live_server``.

Skipped when /usr/bin/chromium is missing, except in CI (``CI`` set), where a missing browser is
a failure: CI installs it (.ci/run). Playwright's browser downloads are never used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would otherwise refuse
# the test's own setup queries as "called from an async context".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("STAFF_BROWSER", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("STAFF_SCREENSHOTS", "/tmp"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium package.")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server, settings):
    # live_server speaks plain HTTP on localhost: Chromium keeps Secure cookies there anyway,
    # but say so explicitly rather than depend on that browser rule.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = chromium.new_context(
        base_url=live_server.url,
        accept_downloads=True,
        locale="en-GB",
        timezone_id="Africa/Nairobi",
        viewport={"width": 1360, "height": 900},
    )
    page = context.new_page()
    page.csp_errors = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_errors.append(message.text)
        ),
    )
    yield page
    context.close()


def shoot(page, name: str) -> Path:
    path = SCREENSHOTS / f"staff-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
