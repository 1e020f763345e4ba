"""Passkeys in Chromium with its virtual authenticator (the DevTools WebAuthn domain): add one on
the account page, sign out, sign in with it on the site's form, remove it; and managed login's
passkey pages (the offer after a password sign-in, /passkeys/add, "Sign in with a passkey").

Browsers refuse an IP address as a relying party, so the site is opened as http://localhost:<port>
(the pool's relying party ID is `localhost`); the live server listens on 127.0.0.1, which
Chromium reaches for `localhost` too.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import LazySettings
from playwright.sync_api import Page, expect

from emulator import seed
from emulator.server import Emulator
from tests.accounts.conftest import USERS
from tests.emulator.api_flows import last_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site_on_localhost(site: str, emulator: Emulator) -> str:
    """The site's URL with `localhost` for its host: a name a relying party ID can match."""
    url = f"http://localhost:{urlsplit(site).port}"
    emulator.add_app_url(url)
    return url


def virtual_authenticator(page: Page) -> None:
    """A platform authenticator that keeps passkeys and verifies the user without asking."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_add_a_passkey_sign_in_with_it_and_remove_it(page: Page, site_on_localhost: str) -> None:
    site = site_on_localhost
    virtual_authenticator(page)
    page.goto(f"{site}/accounts/signin/")
    page.fill('[data-testid="username"]', "bob")
    page.fill('[data-testid="password"]', USERS["bob"].password)
    page.click('[data-testid="submit"]')
    expect(page.get_by_test_id("current-user")).to_have_text("bob")

    page.goto(f"{site}/accounts/passkeys/")
    expect(page.get_by_test_id("passkey-host-hint")).to_have_count(0)
    page.click('[data-testid="passkey-add"]')
    page.click('[data-testid="passkey-create"]')
    expect(page.get_by_test_id("messages")).to_contain_text("Your passkey is added.")
    expect(page.get_by_test_id("passkey")).to_have_count(1)

    page.click('[data-testid="sign-out"]')
    page.goto(f"{site}/accounts/signin/")
    page.fill('[data-testid="code-username"]', "bob")
    page.click('[data-testid="passkey-start"]')
    page.click('[data-testid="passkey-use"]')
    expect(page.get_by_test_id("current-user")).to_have_text("bob")

    page.goto(f"{site}/accounts/passkeys/")
    page.click('[data-testid="passkey-remove"]')
    expect(page.get_by_test_id("messages")).to_contain_text("The passkey is removed.")
    expect(page.get_by_test_id("passkey-none")).to_be_visible()


def test_a_passkey_page_on_the_ip_address_points_to_localhost(page: Page, site: str) -> None:
    page.goto(f"{site}/accounts/signin/")
    page.fill('[data-testid="username"]', "bob")
    page.fill('[data-testid="password"]', USERS["bob"].password)
    page.click('[data-testid="submit"]')

    page.goto(f"{site}/accounts/passkeys/")

    expect(page.get_by_test_id("passkey-host-hint")).to_contain_text(
        f"http://localhost:{urlsplit(site).port}/accounts/passkeys/"
    )
    # No button that could only fail here (its twin on localhost adds one, above).
    expect(page.get_by_test_id("passkey-add")).to_have_count(0)


# Managed login (version 2): the passkey offer, /passkeys/add, and "Sign in with a passkey".


@pytest.fixture
def app_on_localhost(site_on_localhost: str, settings: LazySettings) -> str:
    """The site on `localhost` that also sends managed login back to `localhost`."""
    settings.APP_URL = site_on_localhost
    return site_on_localhost


def managed_login_with_password(page: Page, site: str, emulator: Emulator) -> None:
    """bob (no MFA) signs in on managed login's page, once its script has asked the browser."""
    page.goto(f"{site}/")
    page.get_by_test_id("managed-login").click()
    page.wait_for_url(f"{emulator.url}/login?**")
    page.get_by_test_id("username").fill("bob")
    page.get_by_test_id("password").fill(USERS["bob"].password)
    # The script's answer ("1": a platform authenticator, "0": none) is in before the form goes.
    expect(page.locator('input[name="passkey_ready"]')).not_to_have_value("")
    page.get_by_test_id("submit").click()


def test_managed_login_offers_a_passkey_that_then_signs_in(
    page: Page, app_on_localhost: str, emulator: Emulator
) -> None:
    site = app_on_localhost
    virtual_authenticator(page)
    managed_login_with_password(page, site, emulator)

    expect(page.get_by_test_id("passkey-offer")).to_be_visible()
    page.get_by_test_id("passkey-create").click()
    page.wait_for_url(f"{site}/**")
    expect(page.get_by_test_id("current-user")).to_have_text("bob")

    # Signing out of the site ends the managed-login session too.
    page.get_by_test_id("sign-out").click()
    page.wait_for_url(f"{site}/**")
    page.get_by_test_id("managed-login").click()
    page.get_by_test_id("passkey-signin-link").click()
    page.get_by_test_id("username").fill("bob")
    page.get_by_test_id("submit").click()
    page.get_by_test_id("passkey-submit").click()
    page.wait_for_url(f"{site}/**")
    expect(page.get_by_test_id("current-user")).to_have_text("bob")

    page.goto(f"{site}/accounts/passkeys/")
    expect(page.get_by_test_id("passkey")).to_have_count(1)
    page.click('[data-testid="passkey-remove"]')
    expect(page.get_by_test_id("messages")).to_contain_text("The passkey is removed.")
    expect(page.get_by_test_id("passkey-none")).to_be_visible()


def test_not_now_signs_in_without_adding_a_passkey(
    page: Page, app_on_localhost: str, emulator: Emulator
) -> None:
    site = app_on_localhost
    virtual_authenticator(page)
    managed_login_with_password(page, site, emulator)

    page.get_by_test_id("passkey-not-now").click()

    page.wait_for_url(f"{site}/**")
    expect(page.get_by_test_id("current-user")).to_have_text("bob")
    page.goto(f"{site}/accounts/passkeys/")
    expect(page.get_by_test_id("passkey-none")).to_be_visible()


def test_a_browser_without_an_authenticator_is_not_offered_a_passkey_and_adds_one_later(
    page: Page, app_on_localhost: str, emulator: Emulator
) -> None:
    site = app_on_localhost
    managed_login_with_password(page, site, emulator)
    page.wait_for_url(f"{site}/**")
    expect(page.get_by_test_id("current-user")).to_have_text("bob")

    # The app sends the signed-in user to managed login's /passkeys/add, back to its own page
    # (registered as a callback URL for this test, as an app that uses the endpoint would).
    back = f"{site}/accounts/passkeys/"
    client = emulator.state.client(seed.CLIENT_ID)
    client.extended_config["CallbackURLs"] = [*client.extended_config["CallbackURLs"], back]
    virtual_authenticator(page)
    query = urlencode({"client_id": seed.CLIENT_ID, "redirect_uri": back})
    page.goto(f"{emulator.url}/passkeys/add?{query}")
    page.get_by_test_id("passkey-create").click()

    page.wait_for_url(back)
    expect(page.get_by_test_id("passkey")).to_have_count(1)

    foreign = urlencode({"client_id": seed.CLIENT_ID, "redirect_uri": "https://evil.example/"})
    page.goto(f"{emulator.url}/passkeys/add?{foreign}")
    expect(page.get_by_test_id("error-code")).to_have_text("redirect_mismatch")
    assert page.url.startswith(f"{emulator.url}/error")


def test_after_an_emailed_code_managed_login_offers_a_passkey_too(
    page: Page, app_on_localhost: str, emulator: Emulator
) -> None:
    site = app_on_localhost
    virtual_authenticator(page)
    page.goto(f"{site}/")
    page.get_by_test_id("managed-login").click()
    page.get_by_test_id("code-signin-link").click()
    page.get_by_test_id("username").fill("bob")
    expect(page.locator('input[name="passkey_ready"]')).to_have_value("1")
    page.get_by_test_id("submit").click()
    page.get_by_test_id("mfa-code").fill(last_code(emulator, "bob@example.com"))
    page.get_by_test_id("submit").click()

    expect(page.get_by_test_id("passkey-offer")).to_be_visible()
    page.get_by_test_id("passkey-not-now").click()

    page.wait_for_url(f"{site}/**")
    expect(page.get_by_test_id("current-user")).to_have_text("bob")
