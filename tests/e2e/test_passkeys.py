"""Passkeys in Chromium with its virtual authenticator (the DevTools WebAuthn domain): add one on
the account page, sign out, sign in with it on the site's form, remove it.

Browsers refuse an IP address as a relying party, so the site is opened as http://localhost:<port>
(the pool's relying party ID is `localhost`); the live server listens on 127.0.0.1, which
Chromium reaches for `localhost` too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from emulator.server import Emulator
from tests.accounts.conftest import USERS

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
