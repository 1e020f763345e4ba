"""Browser fixtures: Debian's Chromium driven by Playwright, the site on 127.0.0.1, the emulator
on localhost (two sites, so the browser keeps their cookies apart as it would in production).

Without a Chromium the browser tests are skipped, loudly; with REQUIRE_BROWSER=1 (CI) they fail.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import LazySettings
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from emulator.server import Emulator

# Chromium on a machine without network access hangs on its background services without these.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_REASON = "browser tests skipped"
_skipped: list[str] = []


def find_chromium() -> str | None:
    """CHROMIUM from the environment if set, else Debian's chromium on PATH or in /usr/bin."""
    if os.environ.get("CHROMIUM"):
        candidates = [os.environ["CHROMIUM"]]
    else:
        candidates = [
            shutil.which("chromium"),
            shutil.which("chromium-browser"),
            "/usr/bin/chromium",
        ]
    return next((path for path in candidates if path and os.access(path, os.X_OK)), None)


def no_browser(reason: str) -> None:
    """Fail under REQUIRE_BROWSER=1, otherwise skip and say so in the summary."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    _skipped.append(reason)
    warnings.warn(f"{SKIP_REASON.upper()}: {reason}", stacklevel=1)
    pytest.skip(f"{SKIP_REASON}: {reason}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if SKIP_REASON in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.section(SKIP_REASON.upper(), sep="!", red=True, bold=True)
        terminalreporter.line(
            f"{len(skipped)} browser test(s) did not run: {_skipped[0]}. Install Debian's "
            "chromium (`apt-get install chromium`) or set CHROMIUM=/path/to/chromium.",
            red=True,
            bold=True,
        )


@contextmanager
def chromium_browser() -> Iterator[Browser]:
    """One headless Chromium (skipped, or failed under REQUIRE_BROWSER=1, when there is none)."""
    executable = find_chromium()
    if executable is None:
        no_browser(
            f"no chromium executable found ({os.environ.get('CHROMIUM') or 'PATH, /usr/bin'})"
        )
    # Playwright's sync API keeps an event loop running in this thread, so Django would refuse
    # the test database's teardown here as "async"; the site itself runs in its own thread.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@contextmanager
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser profile (no cookies)."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def registered_site(url: str, emulator: Emulator, settings: LazySettings) -> str:
    """The site at `url`, registered with the emulator as a redirect and sign-out URL."""
    settings.APP_URL = url
    # Plain HTTP on loopback in the browser: Secure cookies would not come back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    emulator.add_app_url(url)
    return url


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the browser tests."""
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) for each test."""
    with fresh_page(browser) as page:
        yield page


@pytest.fixture(scope="package")
def live_server(django_db_setup: None) -> Iterator[LiveServer]:
    """The site on 127.0.0.1 (pytest-django's default, localhost, is the emulator's host)."""
    server = LiveServer("127.0.0.1:0")
    yield server
    server.stop()


@pytest.fixture
def site(live_server: LiveServer, emulator: Emulator, settings: LazySettings) -> str:
    """The site's URL, registered with the emulator as a redirect and sign-out URL."""
    return registered_site(live_server.url, emulator, settings)
