"""Remembered devices in Chromium: "Remember this device" on the site's second-factor step skips
that step on the next sign-in from this browser; the account's devices page lists the device as
this browser and forgets it; the sign-in after that asks for the second factor again."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from config import aws
from emulator.server import Emulator
from tests.accounts.conftest import USERS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, site: str) -> None:
    """alice's name and password on the site's own form."""
    page.goto(f"{site}/accounts/signin/")
    page.get_by_test_id("username").fill("alice")
    page.get_by_test_id("password").fill(USERS["alice"].password)
    page.get_by_test_id("submit").click()


def totp(*, window: int) -> str:
    """alice's authenticator code for the 30-second window `window` steps from now (a code is
    taken once, so a second sign-in in the same half-minute uses the next window's)."""
    return pyotp.TOTP(USERS["alice"].totp_secret).at(time.time() + 30 * window)


def sign_out(page: Page) -> None:
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_remember_this_browser_skip_the_second_factor_then_forget_it(
    page: Page, site: str, emulator: Emulator
) -> None:
    sign_in(page, site)
    page.wait_for_url(f"{site}/accounts/signin/mfa/")
    page.get_by_test_id("mfa-code").fill(totp(window=0))
    page.get_by_test_id("remember-device").check()
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("current-user")).to_have_text("alice")
    sign_out(page)

    sign_in(page, site)  # the remembered device answers instead of the authenticator

    page.wait_for_url(f"{site}/")
    expect(page.get_by_test_id("current-user")).to_have_text("alice")

    page.goto(f"{site}/accounts/devices/")
    expect(page.get_by_test_id("device")).to_have_count(1)
    expect(page.get_by_test_id("device-this-browser")).to_have_count(1)
    page.get_by_test_id("device-forget").click()
    page.wait_for_url(f"{site}/accounts/signin/")
    expect(page.get_by_test_id("messages")).to_contain_text("you are signed out here")

    sign_in(page, site)

    page.wait_for_url(f"{site}/accounts/signin/mfa/")
    expect(page.get_by_test_id("remember-device")).not_to_be_checked()
    page.get_by_test_id("mfa-code").fill(totp(window=1))
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("current-user")).to_have_text("alice")


def test_a_device_forgotten_by_the_administrator_asks_again_and_says_why(
    page: Page, site: str, emulator: Emulator
) -> None:
    sign_in(page, site)
    page.get_by_test_id("mfa-code").fill(totp(window=0))
    page.get_by_test_id("remember-device").check()
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("current-user")).to_have_text("alice")
    sign_out(page)
    # The administrator forgets alice's devices (AdminListDevices, AdminForgetDevice).
    idp, pool = aws.client("cognito-idp"), emulator.state.pool.id
    for device in idp.admin_list_devices(UserPoolId=pool, Username="alice")["Devices"]:
        idp.admin_forget_device(UserPoolId=pool, Username="alice", DeviceKey=device["DeviceKey"])

    sign_in(page, site)

    page.wait_for_url(f"{site}/accounts/signin/mfa/")
    expect(page.get_by_test_id("device-not-remembered")).to_contain_text("it was forgotten")
