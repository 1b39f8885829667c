"""What the browser tests share: when they run (``BROWSER``, their module marks), a page of
the headless Chromium, logging in, screenshots, reloading until the worker has written.

The ``browser`` and ``page`` fixtures are in tests/frontend/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.factories import PASSWORD

CHROMIUM = shutil.which("chromium")
# CI sets MOLA_BROWSER_TESTS=required: there a missing Chromium fails the run instead of
# skipping every browser test (and leaving the run green).
REQUIRED = os.environ.get("MOLA_BROWSER_TESTS") == "required"
# A browser test module's marks: ``pytestmark = [*BROWSER]``.
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None and not REQUIRED,
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def new_page(browser, timeout_ms: int = 15_000):
    """A page in a context of its own (close it with ``page.context.close()``); the script
    errors it raises collect in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def reload_until(page, url: str, selector: str, timeout: float = 30) -> None:
    """Open ``url`` and reload it until ``selector`` shows (the worker writes in between)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if page.locator(selector).count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} did not appear on {url} within {timeout} s")
        page.wait_for_timeout(500)
