"""The app's own sign-in and self-service pages in a real browser, codes read from the inbox."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from emulator.seed import DEMO_USERS, DemoUser
from emulator.server import Emulator
from tests.e2e.conftest import fresh_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def demo_user(username: str) -> DemoUser:
    return next(user for user in DEMO_USERS if user.username == username)


def code_from_inbox(page: Page, emulator: Emulator, to: str) -> str:
    """Open the emulator's inbox page in another tab and read the newest code sent to `to`."""
    inbox = page.context.new_page()
    inbox.goto(f"{emulator.url}/inbox")
    row = inbox.locator("tr", has=inbox.get_by_test_id("inbox-to").filter(has_text=to)).first
    code = row.get_by_test_id("inbox-code").inner_text().strip()
    inbox.close()
    assert code.isdigit(), code
    return code


def sign_in_on_the_site(page: Page, username: str, password: str) -> None:
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("submit").click()


def test_alice_signs_in_on_the_site_with_her_authenticator(
    page: Page, site: str, emulator: Emulator
) -> None:
    alice = demo_user("alice")
    page.goto(f"{site}/")

    page.get_by_test_id("api-signin").click()
    sign_in_on_the_site(page, alice.username, alice.password)
    page.wait_for_url(f"{site}/accounts/signin/mfa/")
    page.get_by_test_id("mfa-code").fill(pyotp.TOTP(alice.totp_secret).now())
    page.get_by_test_id("submit").click()

    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("current-user")).to_have_text("alice")


def test_a_wrong_password_on_the_site_shows_the_error(
    page: Page, site: str, emulator: Emulator
) -> None:
    page.goto(f"{site}/accounts/signin/")

    sign_in_on_the_site(page, "alice", "Not-Her-Passw0rd!")

    expect(page.get_by_test_id("error").first).to_have_text("Incorrect username or password.")
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_sign_up_then_the_inbox_code_signs_in(page: Page, site: str, emulator: Emulator) -> None:
    """The confirmation in the browser that signed up signs in at once (SignUp's Session)."""
    page.goto(f"{site}/")
    page.get_by_test_id("sign-up").click()
    page.get_by_test_id("username").fill("ivy")
    page.get_by_test_id("email").fill("ivy@example.com")
    page.get_by_test_id("given-name").fill("Ivy")
    page.get_by_test_id("password").fill("Ivy-Passw0rd!1")
    page.get_by_test_id("submit").click()

    page.wait_for_url(f"{site}/accounts/signup/confirm/")
    page.get_by_test_id("confirmation-code").fill(
        code_from_inbox(page, emulator, "ivy@example.com")
    )
    page.get_by_test_id("submit").click()

    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("current-user")).to_have_text("ivy")


def test_a_confirmation_in_another_browser_asks_to_sign_in(
    page: Page, browser: Browser, site: str, emulator: Emulator
) -> None:
    """No sign-up Session there: the account is confirmed, and the password signs in."""
    page.goto(f"{site}/accounts/signup/")
    page.get_by_test_id("username").fill("ivy")
    page.get_by_test_id("email").fill("ivy@example.com")
    page.get_by_test_id("password").fill("Ivy-Passw0rd!1")
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{site}/accounts/signup/confirm/")

    with fresh_page(browser) as other:
        other.goto(f"{site}/accounts/signin/")
        sign_in_on_the_site(other, "ivy", "Ivy-Passw0rd!1")
        other.wait_for_url(f"{site}/accounts/signup/confirm/")
        other.get_by_test_id("confirmation-code").fill(
            code_from_inbox(page, emulator, "ivy@example.com")
        )
        other.get_by_test_id("submit").click()

        other.wait_for_url(f"{site}/accounts/signin/?username=ivy")
        expect(other.get_by_text("Your account is confirmed. Please sign in.")).to_be_visible()
        expect(other.get_by_test_id("current-user")).to_have_count(0)
        other.get_by_test_id("password").fill("Ivy-Passw0rd!1")
        other.get_by_test_id("submit").click()
        other.wait_for_url(f"{site}/")
        expect(other.get_by_test_id("current-user")).to_have_text("ivy")


def test_forgot_password_then_sign_in_with_the_new_one(
    page: Page, site: str, emulator: Emulator
) -> None:
    bob = demo_user("bob")
    page.goto(f"{site}/accounts/signin/")

    page.get_by_test_id("forgot-password").click()
    page.get_by_test_id("username").fill(bob.username)
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{site}/accounts/password/reset/")
    page.get_by_test_id("confirmation-code").fill(code_from_inbox(page, emulator, bob.email))
    page.get_by_test_id("new-password").fill("Bob-Brand-New-Passw0rd!")
    page.get_by_test_id("submit").click()

    page.wait_for_url(f"{site}/accounts/signin/?username=bob")
    page.get_by_test_id("password").fill("Bob-Brand-New-Passw0rd!")
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("current-user")).to_have_text("bob")
