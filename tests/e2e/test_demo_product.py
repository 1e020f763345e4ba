"""The demo as a product in a real browser: the header on every page, the demo panel, the site's
own error pages and favicon; under SCREENSHOTS=1 (`make screenshots`), the main pages as PNGs."""

from __future__ import annotations

import os
from pathlib import Path

import pyotp
import pytest
from django.conf import LazySettings
from playwright.sync_api import Page, expect

from emulator.idps import IDENTITY_PROVIDERS
from emulator.seed import DEMO_USERS, DemoUser
from emulator.server import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HEADER_BACKGROUND = "rgb(35, 47, 62)"  # --brand in static/site.css


def demo_user(username: str) -> DemoUser:
    return next(user for user in DEMO_USERS if user.username == username)


def sign_in_on_the_site(page: Page, site: str, username: str, password: str) -> None:
    page.goto(f"{site}/accounts/signin/")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("submit").first.click()


def sign_in_as_bob(page: Page, site: str) -> None:
    bob = demo_user("bob")
    sign_in_on_the_site(page, site, bob.username, bob.password)
    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("current-user")).to_have_text("bob")


def sign_in_as_alice(page: Page, site: str) -> None:
    alice = demo_user("alice")
    sign_in_on_the_site(page, site, alice.username, alice.password)
    page.wait_for_url(f"{site}/accounts/signin/mfa/")
    assert alice.totp_secret
    page.get_by_test_id("mfa-code").fill(pyotp.TOTP(alice.totp_secret).now())
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{site}/")


# --- the header --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/identity/", "/federation/", "/flows/", "/accounts/signin/", "/demo/", "/nope/"]
)
def test_every_page_has_the_header_with_a_sign_in_link_when_signed_out(
    page: Page, site: str, emulator: Emulator, path: str
) -> None:
    page.goto(f"{site}{path}")

    header = page.get_by_test_id("site-header")
    for testid in ("nav-home", "nav-identity", "nav-files", "nav-flows", "nav-sign-in"):
        expect(header.get_by_test_id(testid)).to_be_visible()
    expect(header.get_by_test_id("nav-account")).to_have_count(0)
    expect(header.get_by_test_id("guest-badge")).to_have_count(0)
    expect(header).to_have_css("background-color", HEADER_BACKGROUND)


def test_a_signed_in_user_gets_their_account_in_the_header_and_whats_next_on_home(
    page: Page, site: str, emulator: Emulator
) -> None:
    sign_in_as_bob(page, site)

    expect(page.get_by_test_id("nav-account")).to_be_visible()
    expect(page.get_by_test_id("nav-sign-in")).to_have_count(0)
    expect(page.get_by_test_id("who-you-are")).to_contain_text("your user pool account")
    expect(page.get_by_test_id("managed-login")).to_have_count(0)
    page.get_by_test_id("nav-identity").click()
    expect(page.get_by_test_id("current-user")).to_have_text("bob")
    expect(page.get_by_test_id("nav-identity")).to_have_attribute("aria-current", "page")


def test_a_guest_is_shown_as_a_guest(page: Page, site: str, emulator: Emulator) -> None:
    page.goto(f"{site}/")
    page.get_by_test_id("guest-link").click()
    page.get_by_test_id("continue-as-guest").click()

    page.goto(f"{site}/")
    expect(page.get_by_test_id("guest-badge")).to_have_text("Guest")
    expect(page.get_by_test_id("nav-sign-in")).to_be_visible()


def test_a_federated_user_is_shown_by_name_and_their_idp_by_its_display_name(
    page: Page, site: str, emulator: Emulator, settings: LazySettings
) -> None:
    spec = next(spec for spec in IDENTITY_PROVIDERS if spec.name == "ExampleOIDC")
    # The pool keeps no display names (Cognito has none): the README's setting gives them.
    settings.COGNITO_IDENTITY_PROVIDERS = [f"{spec.name}={spec.display_name}"]
    olivia = spec.user("olivia@oidc.example.com")
    assert olivia is not None and olivia.totp_secret
    page.goto(f"{site}/federation/")
    page.get_by_test_id("idp-ExampleOIDC").click()
    page.wait_for_url(f"{emulator.idps['ExampleOIDC']}/**")
    # The local IdP's page is styled by the site's sheet too, which its own server serves.
    expect(page.get_by_test_id("username")).to_have_css("border-radius", "6px")
    page.get_by_test_id("username").fill(olivia.username)
    page.get_by_test_id("password").fill(olivia.password)
    page.get_by_test_id("submit").click()
    page.get_by_test_id("mfa-code").fill(pyotp.TOTP(olivia.totp_secret).now())
    page.get_by_test_id("submit").click()

    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("display-name")).to_have_text("Olivia Oidc")
    expect(page.get_by_test_id("current-user")).to_have_text(f"ExampleOIDC_{olivia.subject}")
    expect(page.get_by_test_id("who-you-are")).to_contain_text(spec.display_name)
    expect(page.get_by_test_id("signed-in-with")).to_have_text("ExampleOIDC")


# --- the demo panel ----------------------------------------------------------------------------


def test_the_demo_panels_live_totp_code_signs_alice_in(
    page: Page, site: str, emulator: Emulator
) -> None:
    alice = demo_user("alice")
    page.goto(f"{site}/")
    page.get_by_test_id("nav-demo").click()
    row = page.locator('[data-testid="demo-user"][data-username="alice"]')
    expect(row.get_by_test_id("demo-password")).to_have_text(alice.password)
    code = row.get_by_test_id("totp-code").inner_text()

    sign_in_on_the_site(page, site, alice.username, alice.password)
    page.wait_for_url(f"{site}/accounts/signin/mfa/")
    page.get_by_test_id("mfa-code").fill(code)
    page.get_by_test_id("submit").click()

    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("current-user")).to_have_text("alice")


def test_the_demo_panel_is_not_there_without_the_emulator(
    page: Page, site: str, emulator: Emulator, settings: LazySettings
) -> None:
    settings.DEMO_PANEL_URL = ""

    response = page.goto(f"{site}/demo/")

    assert response is not None and response.status == 404
    expect(page.get_by_test_id("nav-demo")).to_have_count(0)


def test_the_inbox_is_linked_both_ways_and_reset_empties_it(
    page: Page, site: str, emulator: Emulator
) -> None:
    page.goto(f"{site}/accounts/password/forgot/")
    page.get_by_test_id("username").fill("erin")
    page.get_by_test_id("submit").click()
    sign_in_as_bob(page, site)
    page.goto(f"{site}/demo/")
    expect(page.get_by_test_id("inbox-code")).to_have_count(1)

    page.get_by_test_id("inbox-link").click()
    expect(page.get_by_test_id("inbox-to")).to_have_count(1)
    page.locator(f'[data-testid="inbox-back"][href="{site}/"]').click()
    page.wait_for_url(f"{site}/")
    page.get_by_test_id("nav-demo").click()
    page.get_by_test_id("demo-reset").click()

    expect(page.get_by_test_id("messages")).to_contain_text("back to its start")
    expect(page.get_by_test_id("inbox-empty")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)


# --- error pages and the favicon ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/no-such-page/", "/accounts/no-such-page/"])
def test_an_unknown_url_gets_the_sites_own_404_page(
    page: Page, site: str, emulator: Emulator, path: str
) -> None:
    response = page.goto(f"{site}{path}")

    assert response is not None and response.status == 404
    expect(page).to_have_title("Page not found · Cognito reference app")
    expect(page.get_by_test_id("error-page")).to_have_text("Page not found")
    expect(page.get_by_test_id("site-header")).to_have_css("background-color", HEADER_BACKGROUND)
    expect(page.get_by_text("URLconf")).to_have_count(0)


def test_the_favicon_is_linked_and_answers(page: Page, site: str, emulator: Emulator) -> None:
    page.goto(f"{site}/")
    icon = page.locator('link[rel="icon"]').get_attribute("href")

    linked = page.request.get(f"{site}{icon}")
    asked = page.request.get(f"{site}/favicon.ico")

    assert linked.status == 200 and linked.headers["content-type"].startswith("image/svg")
    assert asked.status == 200 and asked.body() == linked.body()


def test_the_emulators_pages_use_the_sites_stylesheet(
    page: Page, site: str, emulator: Emulator
) -> None:
    page.goto(f"{emulator.url}/inbox")
    expect(page.locator("body")).to_have_css("background-color", "rgb(242, 243, 243)")

    page.goto(f"{site}/")
    page.get_by_test_id("managed-login").click()
    page.wait_for_url(f"{emulator.url}/**")

    # The client's branding sets the colours; the site's sheet still shapes the form.
    expect(page.get_by_test_id("username")).to_have_css("border-radius", "6px")
    expect(page.locator("label").first).to_have_css("font-weight", "600")


# --- screenshots (`make screenshots`) ----------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="set SCREENSHOTS=1 to write them")
@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots_of_the_main_pages(
    page: Page, site: str, emulator: Emulator, width: int
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})

    def shot(name: str, url: str | None = None) -> None:
        if url:
            page.goto(url)
        page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
        # Usable at this width: nothing makes the page scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name

    shot("home-signed-out", f"{site}/")
    shot("demo-panel", f"{site}/demo/")
    shot("signin", f"{site}/accounts/signin/")
    sign_in_on_the_site(page, site, "alice", "wrong-Passw0rd!")
    shot("signin-error")
    shot("not-found", f"{site}/no-such-page/")
    page.goto(f"{site}/")
    page.get_by_test_id("managed-login").click()
    page.wait_for_url(f"{emulator.url}/**")
    shot("managed-login")
    sign_in_as_alice(page, site)
    shot("home-signed-in")
    shot("account", f"{site}/accounts/profile/")
    shot("mfa-settings", f"{site}/accounts/mfa/")
    shot("passkeys", f"{site}/accounts/passkeys/")
    shot("devices", f"{site}/accounts/devices/")
    shot("identity", f"{site}/identity/")
    shot("files", f"{site}/protected/")
    shot("flows", f"{site}/flows/")
    shot("inbox", f"{emulator.url}/inbox")
