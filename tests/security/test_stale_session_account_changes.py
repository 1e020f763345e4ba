"""Attack: someone holding a signed-in session (a borrowed laptop, a stolen cookie) makes the
account theirs: turns MFA off, sets up their own authenticator, moves the email address.

Each of these needs a proof from the last REAUTHENTICATION_SECONDS (a sign-in, or the password
entered again and checked by the pool); nothing changes on a GET. Real HTTP to the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from accounts.session import PROVEN_AT, TOKENS
from config import aws
from emulator import seed
from selfservice.views import TOTP_ENROLMENT
from tests.accounts.conftest import USERS, api_signin, edit_session

pytestmark = pytest.mark.django_db

REAUTH = "/accounts/reauthenticate/"


def mfa_on(username: str) -> list[str]:
    user = aws.client("cognito-idp").admin_get_user(UserPoolId=seed.USER_POOL_ID, Username=username)
    return user.get("UserMFASettingList", [])


def asks_for_mfa(username: str) -> bool:
    """Whether a password sign-in of this user now stops at an MFA step."""
    return api_signin(Client(), username)["Location"] == "/accounts/signin/mfa/"


def pool_email(username: str) -> str:
    user = aws.client("cognito-idp").admin_get_user(UserPoolId=seed.USER_POOL_ID, Username=username)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}["email"]


def proof_ages(client: Client) -> None:
    """Make the session's last proof older than the setting allows, as time would."""

    def age(session: Any) -> None:
        session[PROVEN_AT] = time.time() - settings.REAUTHENTICATION_SECONDS - 1

    edit_session(client, age)


def asks_for_password(response: Any, back_to: str) -> bool:
    return (
        response.status_code == 302
        and response["Location"] == f"{REAUTH}?{urlencode({'next': back_to})}"
    )


# --- turning MFA off ---------------------------------------------------------------------------


def test_turning_mfa_off_with_a_stale_proof_asks_for_the_password_first(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("alice")
    proof_ages(client)

    refused = client.post("/accounts/mfa/", {"preferred": ""})

    assert asks_for_password(refused, "/accounts/mfa/")
    assert mfa_on("alice") == ["SOFTWARE_TOKEN_MFA"]


def test_turning_mfa_off_after_entering_the_password_again(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("alice")
    proof_ages(client)

    wrong = client.post(REAUTH + "?next=/accounts/mfa/", {"password": "Not-Her-Passw0rd!"})
    still_refused = client.post("/accounts/mfa/", {"preferred": ""})
    right = client.post(REAUTH, {"password": USERS["alice"].password, "next": "/accounts/mfa/"})
    done = client.post("/accounts/mfa/", {"preferred": ""})

    assert wrong.status_code == 400 and wrong.context["form"].failure_code == "not_authorized"
    assert asks_for_password(still_refused, "/accounts/mfa/")
    assert right["Location"] == "/accounts/mfa/"
    assert done["Location"] == "/accounts/mfa/" and mfa_on("alice") == []


def test_a_fresh_sign_in_is_proof_enough_to_turn_mfa_off(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("alice")

    response = client.post("/accounts/mfa/", {"preferred": ""})

    assert response["Location"] == "/accounts/mfa/" and mfa_on("alice") == []


def test_a_token_refresh_is_no_proof(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("alice")
    proof_ages(client)
    old_access_token = client.session[TOKENS]["access_token"]

    def expire(session: Any) -> None:
        session[TOKENS] = {**session[TOKENS], "expires_at": int(time.time()) - 1}

    edit_session(client, expire)
    client.get("/accounts/mfa/")  # refreshes the tokens
    refused = client.post("/accounts/mfa/", {"preferred": ""})

    assert client.session[TOKENS]["access_token"] != old_access_token
    assert asks_for_password(refused, "/accounts/mfa/")


def test_signing_in_again_is_a_fresh_proof(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")
    proof_ages(client)

    api_signed_in("bob")
    response = client.post("/accounts/profile/", {"email": "robert@example.com"})

    assert response["Location"] == "/accounts/profile/verify/"


def test_turning_a_factor_on_needs_no_new_proof(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")
    proof_ages(client)

    response = client.post("/accounts/mfa/", {"enabled": ["email"], "preferred": "email"})

    assert response["Location"] == "/accounts/mfa/" and asks_for_mfa("bob")


def test_the_password_asked_again_is_the_signed_in_users_own(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")
    proof_ages(client)

    someone_elses = client.post(REAUTH, {"password": USERS["alice"].password})
    on = client.post("/accounts/mfa/", {"enabled": ["email"], "preferred": ""})
    off = client.post("/accounts/mfa/", {"preferred": ""})

    assert someone_elses.status_code == 400
    assert on["Location"] == "/accounts/mfa/"  # turning a factor on needs no proof
    assert asks_for_password(off, "/accounts/mfa/") and asks_for_mfa("bob")


# --- the authenticator app -----------------------------------------------------------------------


def test_a_get_never_starts_an_authenticator_setup(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")

    response = client.get("/accounts/mfa/totp/")

    assert response["Location"] == "/accounts/mfa/"
    assert TOTP_ENROLMENT not in client.session


def test_a_post_with_a_fresh_proof_starts_the_setup(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")

    started = client.post("/accounts/mfa/totp/", {"start": "1"})

    assert started["Location"] == "/accounts/mfa/totp/"
    assert TOTP_ENROLMENT in client.session
    assert "<svg" in client.get("/accounts/mfa/totp/").content.decode()


def test_replacing_the_authenticator_with_a_stale_proof_asks_for_the_password_first(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("alice")
    proof_ages(client)

    refused = client.post("/accounts/mfa/totp/", {"start": "1"})

    assert asks_for_password(refused, "/accounts/mfa/totp/")
    assert TOTP_ENROLMENT not in client.session

    client.post(REAUTH, {"password": USERS["alice"].password})
    assert client.post("/accounts/mfa/totp/", {"start": "1"})["Location"] == "/accounts/mfa/totp/"
    assert TOTP_ENROLMENT in client.session


# --- the email address ------------------------------------------------------------------------


def test_changing_the_email_with_a_stale_proof_asks_for_the_password_first(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")
    proof_ages(client)

    refused = client.post("/accounts/profile/", {"email": "mallory@example.com"})

    assert asks_for_password(refused, "/accounts/profile/")
    assert pool_email("bob") == "bob@example.com"
    assert not emulator.inbox.messages(to="mallory@example.com")


def test_changing_the_email_after_the_password_again(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")
    proof_ages(client)

    client.post(REAUTH, {"password": USERS["bob"].password})
    changed = client.post("/accounts/profile/", {"email": "robert@example.com"})

    assert changed["Location"] == "/accounts/profile/verify/"


def test_other_details_change_without_a_new_proof(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")
    proof_ages(client)

    saved = client.post("/accounts/profile/", {"given_name": "Robert", "email": "bob@example.com"})

    assert saved["Location"] == "/accounts/profile/"


# --- the password page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/accounts/mfa/", "/accounts/mfa/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_the_password_page_returns_only_to_this_site(
    emulator: Any, client: Client, api_signed_in: Callable, next_url: str, lands_on: str
) -> None:
    api_signed_in("bob")

    response = client.post(REAUTH, {"password": USERS["bob"].password, "next": next_url})

    assert response["Location"] == lands_on


def test_the_password_page_needs_a_signed_in_user(emulator: Any, client: Client) -> None:
    response = client.post(REAUTH, {"password": USERS["bob"].password})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert PROVEN_AT not in client.session
