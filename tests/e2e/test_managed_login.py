"""Managed login in a real browser: the user pool's hosted pages, MFA, and signing out of both."""

from __future__ import annotations

from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Page, expect

from emulator.seed import DEMO_USERS, DemoUser
from emulator.server import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def demo_user(username: str) -> DemoUser:
    return next(user for user in DEMO_USERS if user.username == username)


def sign_in_at_hosted_page(page: Page, emulator: Emulator, user: DemoUser) -> None:
    page.wait_for_url(f"{emulator.url}/**")
    page.get_by_test_id("username").fill(user.username)
    page.get_by_test_id("password").fill(user.password)
    page.get_by_test_id("submit").click()


def test_site_and_emulator_are_two_sites(site: str, emulator: Emulator) -> None:
    assert urlsplit(site).hostname == "127.0.0.1"
    assert urlsplit(emulator.url).hostname == "localhost"


def test_alice_signs_in_with_totp_and_signs_out_of_both(
    page: Page, site: str, emulator: Emulator
) -> None:
    alice = demo_user("alice")
    page.goto(f"{site}/")

    page.get_by_test_id("managed-login").click()
    sign_in_at_hosted_page(page, emulator, alice)
    page.get_by_test_id("mfa-code").fill(pyotp.TOTP(alice.totp_secret).now())
    page.get_by_test_id("submit").click()

    page.wait_for_url(f"{site}/**")
    expect(page.get_by_test_id("current-user")).to_have_text("alice")

    page.get_by_test_id("sign-out").click()

    page.wait_for_url(f"{site}/**")
    expect(page.get_by_test_id("managed-login")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)

    # The hosted session ended too: managed login asks for the password again.
    page.get_by_test_id("managed-login").click()
    page.wait_for_url(f"{emulator.url}/**")
    expect(page.get_by_test_id("password")).to_be_visible()


def test_bob_without_mfa_signs_in_with_his_password_only(
    page: Page, site: str, emulator: Emulator
) -> None:
    bob = demo_user("bob")
    page.goto(f"{site}/")

    page.get_by_test_id("managed-login").click()
    sign_in_at_hosted_page(page, emulator, bob)

    page.wait_for_url(f"{site}/**")
    expect(page.get_by_test_id("current-user")).to_have_text("bob")
    expect(page.get_by_test_id("mfa-code")).to_have_count(0)


def test_wrong_password_shows_the_error_on_the_hosted_page(
    page: Page, site: str, emulator: Emulator
) -> None:
    bob = demo_user("bob")
    page.goto(f"{site}/")

    page.get_by_test_id("managed-login").click()
    sign_in_at_hosted_page(page, emulator, DemoUser(bob.username, "not-his-password", bob.email))

    expect(page.get_by_test_id("error")).to_be_visible()
    assert page.url.startswith(emulator.url)
