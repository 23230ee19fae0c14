"""Playwright driving the system Chromium (browser downloads are not possible here)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def live_server(request) -> Iterator:
    """pytest-django's live server, minus its static-files shortcut.

    The stock live server answers /static/ itself from the source folders, which
    knows no hashed names: with the manifest storage operators deploy, every
    stylesheet would 404 and pages would be tested unstyled. Here the portal's
    own WhiteNoise middleware serves the collected STATIC_ROOT, as in production.
    """
    from django.conf import settings
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    if not settings.WHITENOISE_USE_FINDERS:
        server.thread.static_handler = _no_static_shortcut
    server.start()
    yield server
    server.stop()


def _no_static_shortcut(handler):
    return handler


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: run `make test` (it installs it) "
            "or apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(browser) -> Iterator:
    context = browser.new_context(locale="de-DE")
    yield context
    context.close()


@pytest.fixture
def page(browser_context) -> Iterator:
    page = browser_context.new_page()
    page.set_default_timeout(15_000)
    yield page
