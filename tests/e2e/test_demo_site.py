"""The demo as other teams' browser suites meet it: `manage.py demo`, its manifest, a browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.demo_process import start_demo, stop, wait_ready

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A running demo's manifest: everything a foreign suite knows about the site."""
    demo = start_demo(Path(tmp_path_factory.mktemp("demo-site")))
    yield wait_ready(demo)
    stop(demo)


def test_a_demo_user_signs_in_with_the_manifest_alone(page: Page, manifest: dict) -> None:
    alice = next(user for user in manifest["users"] if user["mfa"] == "totp")
    page.goto(f"{manifest['app_url']}/")

    page.get_by_test_id("managed-login").click()
    page.wait_for_url(f"{manifest['managed_login_url']}/**")
    page.get_by_test_id("username").fill(alice["username"])
    page.get_by_test_id("password").fill(alice["password"])
    page.get_by_test_id("submit").click()
    page.get_by_test_id("mfa-code").fill(pyotp.TOTP(alice["totp_secret"]).now())
    page.get_by_test_id("submit").click()

    page.wait_for_url(f"{manifest['app_url']}/**")
    expect(page.get_by_test_id("current-user")).to_have_text(alice["username"])

    page.get_by_test_id("sign-out").click()
    page.wait_for_url(f"{manifest['app_url']}/**")
    expect(page.get_by_test_id("current-user")).to_have_count(0)
