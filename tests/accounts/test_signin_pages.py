"""The sign-in pages as a visitor reads them: the time a step allows, the factor picker's label,
and the form once signed in (issue 12)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.accounts.conftest import api_signin
from tests.signin.test_api_signin import _give_dave_totp_too

pytestmark = pytest.mark.django_db


def test_each_step_page_says_how_long_it_may_take(
    emulator: Any, client: Client, settings: Any
) -> None:
    api_signin(client, "alice")  # TOTP: the code step
    default = client.get("/accounts/signin/mfa/").content.decode()
    settings.COGNITO_AUTH_SESSION_SECONDS = 300
    longer = client.get("/accounts/signin/mfa/").content.decode()

    assert "You have 3 minutes to finish this step" in default
    assert "You have 5 minutes to finish this step" in longer


def test_the_factor_picker_names_what_it_asks_for(emulator: Any, client: Client) -> None:
    _give_dave_totp_too(emulator)
    api_signin(client, "dave")

    page = client.get("/accounts/signin/mfa/select/").content.decode()

    assert "<legend>Your second factor for this sign-in</legend>" in page
    assert ">Choice<" not in page
    assert "You have 3 minutes to finish this step" in page


def test_the_sign_in_page_says_who_is_signed_in_instead_of_an_empty_form(
    emulator: Any, client: Client, api_signed_in: Callable[..., Client]
) -> None:
    signed_out = client.get("/accounts/signin/").content.decode()
    api_signed_in("bob")

    page = client.get("/accounts/signin/").content.decode()

    assert 'name="password"' in signed_out
    assert "You are signed in as <strong>bob</strong>" in page
    assert 'name="password"' not in page and 'href="/"' in page
