"""Attack: sign in to an account that has MFA with an emailed one-time code alone.

A code is a first factor; it never replaces the second factor an account has. Cognito's
passwordless sign-in (USER_AUTH) is offered only to accounts without MFA, the sample custom-auth
trigger refuses MFA accounts too, and the app refuses tokens a code alone won for one even when
a pool lets them through. Real HTTP to the emulator throughout.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.session import TOKENS
from emulator import seed, userauth
from signin import services as userpool
from signin.session import SIGNIN_ATTEMPT
from tests.accounts.conftest import USERS, attempt_id, inbox_code, signed_in_as

pytestmark = pytest.mark.django_db

MFA_USERS = [user.username for user in seed.DEMO_USERS if user.mfa != "none"]


def code_sent(emulator: Any, username: str) -> bool:
    email = USERS[username].email
    return any(m.kind in ("mfa", "custom_challenge") for m in emulator.inbox.messages(to=email))


def code_signin(client: Client, emulator: Any, username: str) -> Any:
    """Ask for a code, then answer with the one the inbox got."""
    asked = client.post("/accounts/signin/code/", {"code-username": username})
    assert asked["Location"] == "/accounts/signin/code/email/", asked
    code = inbox_code(emulator, USERS[username].email)
    return client.post(
        "/accounts/signin/code/email/", {"attempt": attempt_id(client), "code": code}
    )


@pytest.mark.parametrize("username", MFA_USERS)
def test_no_code_is_sent_to_an_account_with_mfa(
    emulator: Any, client: Client, username: str
) -> None:
    asked = client.post("/accounts/signin/code/", {"code-username": username})
    for guess in ("000000", "123456", "999999"):
        answered = client.post(
            "/accounts/signin/code/email/", {"attempt": attempt_id(client), "code": guess}
        )

    assert asked["Location"] == "/accounts/signin/code/email/"  # as for anyone: nothing revealed
    assert not code_sent(emulator, username)
    assert answered["Location"] == "/accounts/signin/"  # three wrong answers end the attempt
    assert SIGNIN_ATTEMPT not in client.session and signed_in_as(client) is None


def test_an_account_without_mfa_signs_in_with_a_code(emulator: Any, client: Client) -> None:
    response = code_signin(client, emulator, "bob")

    assert response["Location"] == "/"
    assert signed_in_as(client) == "bob"


def test_the_answer_for_an_mfa_account_is_the_answer_for_an_unknown_one(emulator: Any) -> None:
    mfa, unknown = Client(), Client()
    asked_mfa = mfa.post("/accounts/signin/code/", {"code-username": "alice"})
    asked_unknown = unknown.post("/accounts/signin/code/", {"code-username": "nobody-here"})

    assert (asked_mfa.status_code, asked_mfa["Location"]) == (
        asked_unknown.status_code,
        asked_unknown["Location"],
    )
    assert mfa.get(asked_mfa["Location"]).status_code == 200
    assert unknown.get(asked_unknown["Location"]).status_code == 200


def test_the_sample_trigger_sends_no_code_to_an_mfa_account(emulator: Any) -> None:
    for username in ("alice", "bob"):
        started = userpool.custom_signin_start(username=username, address="192.0.2.1")
        assert isinstance(started, userpool.Challenge) and started.name == "CUSTOM_CHALLENGE"

    assert not code_sent(emulator, "alice")
    assert code_sent(emulator, "bob")


# A pool that forgets Cognito's rule and offers codes to MFA accounts: the app holds the line.


def offered_to_anyone(state: Any, user: Any) -> list[str]:
    """A careless pool: every first factor for every user, MFA or not."""
    return ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"]


@pytest.fixture
def careless_pool(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(userauth, "available_challenges", offered_to_anyone)


def test_a_careless_pool_still_cannot_sign_an_mfa_account_in_with_a_code(
    emulator: Any, client: Client, careless_pool: None
) -> None:
    response = code_signin(client, emulator, "alice")

    assert response["Location"] == "/accounts/signin/"
    assert TOKENS not in client.session and SIGNIN_ATTEMPT not in client.session
    assert signed_in_as(client) is None
    page = client.get("/accounts/signin/").content.decode()
    assert "two-step sign-in" in page


def test_a_careless_pool_still_signs_an_account_without_mfa_in(
    emulator: Any, client: Client, careless_pool: None
) -> None:
    response = code_signin(client, emulator, "bob")

    assert response["Location"] == "/"
    assert signed_in_as(client) == "bob"
