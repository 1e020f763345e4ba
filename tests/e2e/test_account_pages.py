"""The account page in a real browser, after managed login and after a federated sign-in: the
403 a visitor met first (issue 12) is gone, and a federated user is shown what their IdP keeps."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.core.cache import cache
from playwright.sync_api import Page, expect

from emulator.demo import identity_provider_names
from emulator.server import Emulator
from tests.e2e.test_federation import idp_user, sign_in_at_idp
from tests.e2e.test_managed_login import demo_user, sign_in_at_hosted_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bob_opens_his_account_after_managed_login(
    page: Page, site: str, emulator: Emulator
) -> None:
    page.goto(f"{site}/")
    page.get_by_test_id("managed-login").click()
    sign_in_at_hosted_page(page, emulator, demo_user("bob"))
    page.wait_for_url(f"{site}/")

    page.get_by_test_id("account").click()

    page.wait_for_url(f"{site}/accounts/profile/")
    expect(page.get_by_test_id("email")).to_have_value("bob@example.com")
    expect(page.get_by_test_id("change-password")).to_be_visible()


def test_a_federated_user_opens_an_account_page_of_what_their_idp_keeps(
    page: Page, site: str, emulator: Emulator, settings: LazySettings
) -> None:
    settings.COGNITO_IDENTITY_PROVIDER_NAMES = identity_provider_names().split(",")
    cache.clear()  # the IdP list, read before with the pool's names
    user = idp_user("ExampleOIDC", "olivia@oidc.example.com")
    page.goto(f"{site}/")
    expect(page.get_by_test_id("idp-ExampleOIDC")).to_have_text("Continue with Example Corp (OIDC)")
    page.get_by_test_id("idp-ExampleOIDC").click()
    sign_in_at_idp(page, emulator, "ExampleOIDC", user)
    page.wait_for_url(f"{site}/")

    page.get_by_test_id("account").click()

    page.wait_for_url(f"{site}/accounts/profile/")
    expect(page.get_by_text("You sign in with Example Corp (OIDC).")).to_be_visible()
    expect(page.get_by_test_id("email")).to_be_disabled()
    expect(page.get_by_test_id("change-password")).to_have_count(0)
    expect(page.get_by_test_id("mfa-settings")).to_have_count(0)
