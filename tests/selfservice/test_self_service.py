"""Self-service against the emulator over real HTTP: sign-up, confirmation and resend, forgotten and
changed passwords, profile and email verification, MFA settings, sign out everywhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from accounts.session import TOKENS
from config import aws
from emulator import seed
from tests.accounts.conftest import USERS, api_signin, attempt_id, inbox_code, totp_now

pytestmark = pytest.mark.django_db

NEW_USER = {
    "username": "newcomer",
    "email": "newcomer@example.com",
    "given_name": "New",
    "family_name": "Comer",
    "password": "Newcomer-Passw0rd!",
}
_SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')


def idp() -> Any:
    return aws.client("cognito-idp")


def pool_user(username: str) -> dict[str, str]:
    """The user's attributes as the pool keeps them."""
    response = idp().admin_get_user(UserPoolId=seed.USER_POOL_ID, Username=username)
    return {a["Name"]: a["Value"] for a in response["UserAttributes"]}


def failure(response: Any) -> str:
    return response.context["form"].failure_code


def signed_up(client: Client, **overrides: str) -> Any:
    return client.post("/accounts/signup/", {**NEW_USER, **overrides})


# --- sign-up, confirmation, resend --------------------------------------------------------------


def test_sign_up_confirm_with_the_inbox_code_signs_in(emulator: Any, client: Client) -> None:
    response = signed_up(client)
    assert response["Location"] == "/accounts/signup/confirm/"

    confirmed = client.post(
        "/accounts/signup/confirm/",
        {"code": inbox_code(emulator, "newcomer@example.com", "signup")},
    )
    # The sign-up's Session lets the confirmation sign in (tests/selfservice/test_signup_signin.py).
    assert confirmed["Location"] == "/"

    assert api_signin(Client(), "newcomer", NEW_USER["password"])["Location"] == "/"
    assert User.objects.get(username="newcomer").email == "newcomer@example.com"
    assert pool_user("newcomer")["given_name"] == "New"


def test_a_wrong_confirmation_code_leaves_the_account_unconfirmed(
    emulator: Any, client: Client
) -> None:
    signed_up(client)

    wrong = client.post("/accounts/signup/confirm/", {"code": "000000"})

    assert wrong.status_code == 400 and failure(wrong) == "code_mismatch"
    assert api_signin(Client(), "newcomer", NEW_USER["password"])["Location"] == (
        "/accounts/signup/confirm/"
    )


def test_resend_sends_a_new_code_that_confirms(emulator: Any, client: Client) -> None:
    signed_up(client)
    first = inbox_code(emulator, "newcomer@example.com", "signup")

    resent = client.post("/accounts/signup/resend/")
    second = inbox_code(emulator, "newcomer@example.com", "signup")

    assert resent["Location"] == "/accounts/signup/confirm/"
    assert len(emulator.inbox.messages(to="newcomer@example.com")) == 2
    confirmed = client.post("/accounts/signup/confirm/", {"code": second})
    assert confirmed.status_code == 302, first


def test_a_taken_username_is_refused(emulator: Any, client: Client) -> None:
    response = signed_up(client, username="bob")

    assert response.status_code == 400 and failure(response) == "username_exists"


def test_a_weak_password_is_refused_with_the_policy_shown(emulator: Any, client: Client) -> None:
    response = signed_up(client, password="weak")

    assert response.status_code == 400 and failure(response) == "invalid_password"
    body = response.content.decode()
    assert 'data-testid="password-policy"' in body
    # Every rule "weak" breaks, by name (Cognito's message names only the first), and no other.
    assert (
        "That password needs at least 8 characters, an upper-case letter, a number and a "
        "symbol: see the password rules under the fields." in body
    )


def test_a_password_that_breaks_one_rule_is_told_that_rule_only(
    emulator: Any, client: Client
) -> None:
    response = signed_up(client, password="Longenough-but-no-number")

    assert failure(response) == "invalid_password"
    assert "That password needs a number: see" in response.content.decode()


def test_only_allow_listed_attributes_reach_the_pool(emulator: Any, client: Client) -> None:
    signed_up(client, **{"custom:role": "admin", "phone_number": "+15555550199"})

    attributes = pool_user("newcomer")

    assert "custom:role" not in attributes and "phone_number" not in attributes
    assert attributes["email"] == "newcomer@example.com"


def test_confirm_without_a_sign_up_in_this_session_starts_over(
    emulator: Any, client: Client
) -> None:
    assert client.get("/accounts/signup/confirm/")["Location"] == "/accounts/signup/"


# --- forgotten password -------------------------------------------------------------------------


def test_forgot_password_then_reset_with_the_code_then_sign_in(
    emulator: Any, client: Client
) -> None:
    asked = client.post("/accounts/password/forgot/", {"username": "bob"})
    assert asked["Location"] == "/accounts/password/reset/"

    reset = client.post(
        "/accounts/password/reset/",
        {
            "code": inbox_code(emulator, "bob@example.com", "forgot_password"),
            "new_password": "Bob-New-Passw0rd!",
        },
    )

    assert reset["Location"] == "/accounts/signin/?username=bob"
    assert api_signin(Client(), "bob", "Bob-New-Passw0rd!")["Location"] == "/"
    assert api_signin(Client(), "bob").status_code == 400


def test_a_wrong_reset_code_changes_nothing(emulator: Any, client: Client) -> None:
    client.post("/accounts/password/forgot/", {"username": "bob"})

    wrong = client.post(
        "/accounts/password/reset/", {"code": "000000", "new_password": "Bob-New-Passw0rd!"}
    )

    assert wrong.status_code == 400 and failure(wrong) == "code_mismatch"
    assert api_signin(Client(), "bob")["Location"] == "/"


def test_forgot_password_does_not_reveal_whether_the_account_exists(
    emulator: Any, client: Client
) -> None:
    known = client.post("/accounts/password/forgot/", {"username": "bob"}, follow=True)
    unknown = Client().post("/accounts/password/forgot/", {"username": "nobody-here"}, follow=True)

    assert known.redirect_chain == [("/accounts/password/reset/", 302)]
    assert unknown.redirect_chain == [("/accounts/password/reset/", 302)]
    message = "If that account exists, we sent it a code"
    assert message in known.content.decode() and message in unknown.content.decode()


def test_a_reset_password_against_the_policy_is_refused(emulator: Any, client: Client) -> None:
    client.post("/accounts/password/forgot/", {"username": "bob"})

    response = client.post(
        "/accounts/password/reset/",
        {"code": inbox_code(emulator, "bob@example.com"), "new_password": "weak"},
    )

    assert response.status_code == 400 and failure(response) == "invalid_password"
    assert 'data-testid="password-policy"' in response.content.decode()
    assert "That password needs at least 8 characters" in response.content.decode()


def test_wrong_reset_codes_are_limited_and_just_under_the_limit_still_work(
    emulator: Any, client: Client, settings: Any
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 3
    client.post("/accounts/password/forgot/", {"username": "bob"})
    for _ in range(2):
        client.post("/accounts/password/reset/", {"code": "000000", "new_password": "Xx-1234567!"})
    code = inbox_code(emulator, "bob@example.com", "forgot_password")

    under = client.post(
        "/accounts/password/reset/", {"code": code, "new_password": "Bob-N3w-Pass!"}
    )

    assert under.status_code == 302
    client.post("/accounts/password/forgot/", {"username": "bob"})
    for _ in range(3):
        client.post("/accounts/password/reset/", {"code": "000000", "new_password": "Xx-1234567!"})
    code = inbox_code(emulator, "bob@example.com", "forgot_password")
    over = client.post(
        "/accounts/password/reset/", {"code": code, "new_password": "Bob-N3w-Pass2!"}
    )
    assert over.status_code == 429 and failure(over) == "rate_limited"


# --- signed in: change password, profile, email verification -----------------------------------


def test_the_account_pages_need_a_signed_in_user(emulator: Any, client: Client) -> None:
    for path in ("/accounts/profile/", "/accounts/mfa/", "/accounts/password/change/"):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_managed_login_without_the_account_scope_gets_a_page_that_says_why(
    emulator: Any, client: Client, sign_in: Callable, settings: Any
) -> None:
    settings.COGNITO_SCOPES = ["openid", "email", "profile"]  # an app client without the scope
    sign_in("bob")

    response = client.get("/accounts/profile/")
    sent_back = client.get("/accounts/mfa/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="profile-email">bob@example.com<' in body
    assert "aws.cognito.signin.user.admin" in body and 'href="/accounts/signin/?next=' in body
    assert 'data-testid="change-password"' not in body and "<form" not in body.split("<main")[-1]
    assert sent_back.status_code == 302 and sent_back["Location"] == "/accounts/profile/"


def test_a_managed_login_asks_for_the_account_scope_and_may_use_the_account_pages(
    emulator: Any, client: Client, sign_in: Callable
) -> None:
    sign_in("bob")

    response = client.get("/accounts/profile/")
    mfa = client.get("/accounts/mfa/")

    assert response.status_code == 200 and mfa.status_code == 200
    body = response.content.decode()
    assert 'value="bob@example.com"' in body and 'data-testid="change-password"' in body
    assert "did not get it" not in body


def test_change_password(emulator: Any, client: Client, api_signed_in: Callable) -> None:
    api_signed_in("bob")

    wrong = client.post(
        "/accounts/password/change/",
        {"old_password": "Not-It-Passw0rd!", "new_password": "Bob-Changed-Passw0rd!"},
    )
    right = client.post(
        "/accounts/password/change/",
        {"old_password": USERS["bob"].password, "new_password": "Bob-Changed-Passw0rd!"},
    )

    assert wrong.status_code == 400 and failure(wrong) == "not_authorized"
    assert right["Location"] == "/accounts/profile/"
    assert api_signin(Client(), "bob", "Bob-Changed-Passw0rd!")["Location"] == "/"


def test_profile_updates_allow_listed_attributes(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")
    page = client.get("/accounts/profile/")
    assert 'value="bob@example.com"' in page.content.decode()

    saved = client.post(
        "/accounts/profile/",
        {"given_name": "Robert", "family_name": "", "email": "bob@example.com", "custom:x": "1"},
    )

    assert saved["Location"] == "/accounts/profile/"
    attributes = pool_user("bob")
    assert attributes["given_name"] == "Robert" and "custom:x" not in attributes


def test_a_new_email_counts_only_once_verified(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")

    changed = client.post("/accounts/profile/", {"email": "robert@example.com"})
    assert changed["Location"] == "/accounts/profile/verify/"
    assert User.objects.get(username="bob").email == "bob@example.com"
    assert pool_user("bob")["email"] == "bob@example.com"  # the old one until verified

    wrong = client.post("/accounts/profile/verify/", {"code": "000000"})
    assert wrong.status_code == 400 and failure(wrong) == "code_mismatch"
    assert User.objects.get(username="bob").email == "bob@example.com"

    right = client.post(
        "/accounts/profile/verify/",
        {"code": inbox_code(emulator, "robert@example.com", "attribute_verification")},
    )
    assert right["Location"] == "/accounts/profile/"
    assert pool_user("bob")["email"] == "robert@example.com"
    assert User.objects.get(username="bob").email == "robert@example.com"


# --- MFA settings ------------------------------------------------------------------------------


def test_turning_email_mfa_on_then_off(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")

    page = client.get("/accounts/mfa/").content.decode()
    assert 'data-testid="mfa-status">none: you sign in with your password only</span>' in page
    assert ">Which one to ask for first<" in page
    on = client.post("/accounts/mfa/", {"enabled": ["email"], "preferred": "email"})
    assert on["Location"] == "/accounts/mfa/"
    assert api_signin(Client(), "bob")["Location"] == "/accounts/signin/mfa/"

    off = client.post("/accounts/mfa/", {"preferred": ""})
    assert off["Location"] == "/accounts/mfa/"
    assert api_signin(Client(), "bob")["Location"] == "/"


def test_the_preferred_factor_must_be_one_that_is_on(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")

    response = client.post("/accounts/mfa/", {"enabled": ["email"], "preferred": "totp"})

    assert response.status_code == 400 and failure(response) == "preferred_not_enabled"


def test_enrol_an_authenticator_app_then_sign_in_with_it(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")
    page = client.post("/accounts/mfa/totp/", {"start": "1"}, follow=True).content.decode()
    assert "<svg" in page
    secret = _SECRET.search(page).group(1).replace(" ", "")

    wrong = client.post("/accounts/mfa/totp/", {"code": "000000"})
    assert wrong.status_code == 400 and failure(wrong) == "code_mismatch"
    assert _SECRET.search(wrong.content.decode()).group(1).replace(" ", "") == secret

    enrolled = client.post("/accounts/mfa/totp/", {"code": totp_now(secret)}, follow=True)
    assert "Your authenticator app is set up. Turn it on below." in enrolled.content.decode()
    client.post("/accounts/mfa/", {"enabled": ["totp"], "preferred": "totp"})
    status = client.get("/accounts/mfa/").content.decode()
    assert 'data-testid="mfa-status">Authenticator app (preferred)</span>' in status

    other = Client()
    assert api_signin(other, "bob")["Location"] == "/accounts/signin/mfa/"
    answered = other.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(other), "code": totp_now(secret, steps_ahead=1)},
    )
    assert answered["Location"] == "/"


def test_re_enrolling_replaces_the_old_authenticator(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("alice")
    page = client.post("/accounts/mfa/totp/", {"start": "1"}, follow=True).content.decode()
    secret = _SECRET.search(page).group(1).replace(" ", "")
    assert secret != USERS["alice"].totp_secret

    enrolled = client.post("/accounts/mfa/totp/", {"code": totp_now(secret)}, follow=True)
    # alice's authenticator was on already: the new one is too, nothing left to turn on.
    assert "Your new authenticator app is set up and on." in enrolled.content.decode()
    assert "Turn it on" not in enrolled.content.decode()

    other = Client()
    api_signin(other, "alice")
    old = other.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(other), "code": totp_now(USERS["alice"].totp_secret, steps_ahead=1)},
    )
    assert old.status_code == 400
    new = other.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(other), "code": totp_now(secret, steps_ahead=1)},
    )
    assert new["Location"] == "/"


# --- sign out everywhere -------------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_and_refresh_token(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")
    elsewhere = Client()  # another browser (from a new network too, it would get an email code)
    api_signin(elsewhere, "bob")
    refresh_token = elsewhere.session[TOKENS]["refresh_token"]

    response = client.post("/accounts/signout/everywhere/")

    assert response["Location"].startswith(f"{settings.COGNITO_DOMAIN}/logout?")
    assert TOKENS not in client.session
    with pytest.raises(idp().exceptions.NotAuthorizedException):
        idp().get_tokens_from_refresh_token(
            RefreshToken=refresh_token, ClientId=seed.CLIENT_ID, ClientSecret=seed.CLIENT_SECRET
        )


def test_sign_out_everywhere_is_post_only(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    api_signed_in("bob")

    assert client.get("/accounts/signout/everywhere/").status_code == 405
    assert TOKENS in client.session
