"""The CSP as Chromium enforces it: injected scripts and framing fail, the real flows pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from emulator.seed import DEMO_USERS
from emulator.server import Emulator
from tests.e2e.conftest import chromium_browser, fresh_page, registered_site
from tests.e2e.test_managed_login import sign_in_at_hosted_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, as tests/e2e drives it (its fixtures belong to that package)."""
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    with fresh_page(chromium) as page:
        yield page


@pytest.fixture
def site(live_server: Any, emulator: Emulator, settings: Any) -> str:
    """The site on pytest-django's live server, registered with the emulator."""
    return registered_site(live_server.url, emulator, settings)


BOB = next(user for user in DEMO_USERS if user.username == "bob")
INJECT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.injected = 'ran'";
  document.body.appendChild(script);
  return window.injected || null;
}"""


def test_an_injected_inline_script_does_not_run_on_a_site_page(page: Page, site: str) -> None:
    page.goto(f"{site}/")

    assert page.evaluate(INJECT) is None


def test_the_same_injection_runs_on_a_page_without_the_policy(page: Page) -> None:
    page.set_content("<main>no policy here</main>")

    assert page.evaluate(INJECT) == "ran"


def frame_text(page: Page, url: str) -> str:
    page.set_content(f'<iframe src="{url}" width="600" height="400"></iframe>')
    page.wait_for_timeout(1500)
    frame = page.frames[1]
    return frame.evaluate("() => document.body ? document.body.innerText : ''")


def test_another_site_cannot_frame_the_site(page: Page, site: str) -> None:
    assert "Cognito reference app" not in frame_text(page, f"{site}/")


def test_a_page_without_frame_ancestors_can_be_framed(page: Page, emulator: Emulator) -> None:
    """The twin: the emulator's inbox page sets no frame-ancestors, and shows inside a frame."""
    assert "nbox" in frame_text(page, f"{emulator.url}/inbox")


def test_signing_in_and_out_through_managed_login_breaks_no_rule(
    page: Page, site: str, emulator: Emulator
) -> None:
    """Sign-out posts to the site, which redirects to the pool's /logout: form-action allows it."""
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    page.goto(f"{site}/protected/")
    sign_in_at_hosted_page(page, emulator, BOB)
    page.wait_for_url(f"{site}/protected/**")
    expect(page.get_by_test_id("current-user")).to_have_text(BOB.username)

    page.get_by_test_id("sign-out").click()

    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    assert violations == []
