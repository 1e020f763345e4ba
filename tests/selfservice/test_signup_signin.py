"""Signed in straight after confirming a sign-up (SignUp's Session, then USER_AUTH), or not."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.session import TOKENS
from config import aws
from emulator import seed, userauth
from selfservice.views import SIGNUP_SESSION
from signin.session import SIGNIN_ATTEMPT
from tests.accounts.conftest import api_signin, inbox_code

pytestmark = pytest.mark.django_db

NEW_USER = {
    "username": "newcomer",
    "email": "newcomer@example.com",
    "given_name": "New",
    "family_name": "Comer",
    "password": "Newcomer-Passw0rd!",
}
CONFIRMED_SIGN_IN = "/accounts/signin/?username=newcomer"
FLOW_STEP = re.compile(r'data-testid="flow-step" data-step="(\d+)"')


def sign_up(client: Client) -> Any:
    response = client.post("/accounts/signup/", NEW_USER)
    assert response["Location"] == "/accounts/signup/confirm/"
    return response


def confirm(emulator: Any, client: Client) -> Any:
    code = inbox_code(emulator, "newcomer@example.com", "signup")
    return client.post("/accounts/signup/confirm/", {"code": code})


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_confirming_in_the_browser_that_signed_up_signs_the_user_in(
    emulator: Any, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    sign_up(client)

    confirmed = confirm(emulator, client)
    home = client.get(confirmed["Location"])

    assert confirmed["Location"] == "/"
    assert client.session[TOKENS]["username"] == "newcomer"
    assert home.context["user"].username == "newcomer"
    assert "Your account is confirmed." in messages_of(home)
    assert SIGNUP_SESSION not in client.session
    assert "event=signin flow=api" in caplog.text
    # The trace is an API sign-in's: start, InitiateAuth, tokens, their check, done.
    assert FLOW_STEP.findall(client.get("/flows/").content.decode()) == ["3", "4", "10", "11", "12"]


def test_confirming_in_another_browser_confirms_and_asks_to_sign_in(
    emulator: Any, client: Client
) -> None:
    sign_up(client)
    other = Client()
    # The other browser's sign-in finds the account unconfirmed and goes to the confirm page.
    assert api_signin(other, "newcomer", NEW_USER["password"])["Location"] == (
        "/accounts/signup/confirm/"
    )

    confirmed = confirm(emulator, other)
    page = other.get(confirmed["Location"])

    assert confirmed["Location"] == CONFIRMED_SIGN_IN
    assert TOKENS not in other.session
    assert "Your account is confirmed. Please sign in." in messages_of(page)
    assert api_signin(other, "newcomer", NEW_USER["password"])["Location"] == "/"


def test_a_lapsed_session_confirms_and_asks_to_sign_in(
    emulator: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(userauth, "MINUTE", 0)  # ConfirmSignUp's Session lapses at once
    sign_up(client)

    confirmed = confirm(emulator, client)
    page = client.get(confirmed["Location"])

    assert confirmed["Location"] == CONFIRMED_SIGN_IN
    assert TOKENS not in client.session
    assert "Your account is confirmed. Please sign in." in messages_of(page)
    assert page.status_code == 200


def test_a_sign_up_session_of_another_username_is_not_used(emulator: Any, client: Client) -> None:
    sign_up(client)
    session = client.session
    session[SIGNUP_SESSION] = {**session[SIGNUP_SESSION], "username": "someone-else"}
    session.save()

    confirmed = confirm(emulator, client)

    assert confirmed["Location"] == CONFIRMED_SIGN_IN
    assert TOKENS not in client.session


def test_a_pool_with_mfa_on_hands_over_to_the_sign_ins_setup_step(
    emulator: Any, client: Client
) -> None:
    aws.client("cognito-idp").set_user_pool_mfa_config(
        UserPoolId=seed.USER_POOL_ID,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )
    sign_up(client)

    confirmed = confirm(emulator, client)
    step = client.get(confirmed["Location"])

    assert confirmed["Location"] == "/accounts/signin/mfa/setup/"
    assert step.status_code == 200
    assert client.session[SIGNIN_ATTEMPT]["challenge"]["name"] == "MFA_SETUP"
    assert TOKENS not in client.session


def test_no_session_string_reaches_a_page_a_cookie_or_a_log(
    emulator: Any, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    aws.client("cognito-idp").set_user_pool_mfa_config(
        UserPoolId=seed.USER_POOL_ID,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )
    pages = [sign_up(client), client.get("/accounts/signup/confirm/")]
    signup_session = client.session[SIGNUP_SESSION]["session"]
    pages.append(confirm(emulator, client))
    challenge_session = client.session[SIGNIN_ATTEMPT]["challenge"]["session"]
    pages += [client.get("/accounts/signin/mfa/setup/"), client.get("/flows/")]

    assert signup_session and challenge_session
    for secret in (signup_session, challenge_session):
        assert secret not in caplog.text
        assert all(secret not in page.content.decode() for page in pages)
        assert all(secret not in page.get("Location", "") for page in pages)
        assert all(secret not in cookie.value for cookie in client.cookies.values())
    assert client.cookies[settings.SESSION_COOKIE_NAME].value
