"""Federated sign-in in a real browser: the site's IdP button, the local IdP's sign-in and TOTP
step, the user pool brokering it, and back on the site signed in."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import Page, expect

from emulator.idps import IDENTITY_PROVIDERS, IdpUser
from emulator.server import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def idp_user(provider: str, username: str) -> IdpUser:
    spec = next(spec for spec in IDENTITY_PROVIDERS if spec.name == provider)
    user = spec.user(username)
    assert user is not None
    return user


def sign_in_at_idp(page: Page, emulator: Emulator, provider: str, user: IdpUser) -> None:
    page.wait_for_url(f"{emulator.idps[provider]}/**")
    page.get_by_test_id("username").fill(user.username)
    page.get_by_test_id("password").fill(user.password)
    page.get_by_test_id("submit").click()
    assert user.totp_secret
    page.get_by_test_id("mfa-code").fill(pyotp.TOTP(user.totp_secret).now())
    page.get_by_test_id("submit").click()


@pytest.mark.parametrize(
    ("provider", "username"),
    [("ExampleOIDC", "olivia@oidc.example.com"), ("ExampleSAML", "sofia@saml.example.com")],
)
def test_sign_in_through_the_idp_with_its_mfa_step(
    page: Page, site: str, emulator: Emulator, provider: str, username: str
) -> None:
    user = idp_user(provider, username)
    page.goto(f"{site}/federation/")

    page.get_by_test_id(f"idp-{provider}").click()
    sign_in_at_idp(page, emulator, provider, user)

    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("current-user")).to_have_text(f"{provider}_{user.subject}")
    expect(page.get_by_test_id("signed-in-with")).to_have_text(provider)


def test_the_home_page_buttons_and_a_cancel_at_the_idp(
    page: Page, site: str, emulator: Emulator
) -> None:
    page.goto(f"{site}/")

    page.get_by_test_id("idp-Google").click()
    page.wait_for_url(f"{emulator.idps['Google']}/**")
    page.get_by_test_id("idp-cancel").click()

    # Off the callback's URL, which holds the state: the failure is shown at a clean one.
    page.wait_for_url(f"{site}/accounts/login/failed/")
    expect(page.get_by_test_id("error")).to_contain_text("did not sign you in")
    page.get_by_test_id("choose-another-way").click()
    expect(page.get_by_test_id("idp-ExampleSAML")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_work_email_goes_to_the_organisations_idp(
    page: Page, site: str, emulator: Emulator
) -> None:
    user = idp_user("ExampleSAML", "sofia@saml.example.com")
    page.goto(f"{site}/federation/")

    page.get_by_test_id("work-email").fill(user.email)
    page.get_by_test_id("work-email-submit").click()
    sign_in_at_idp(page, emulator, "ExampleSAML", user)

    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("signed-in-with")).to_have_text("ExampleSAML")
