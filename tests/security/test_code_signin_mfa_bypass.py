"""Attack: sign in to an account that has MFA with an emailed one-time code alone.

A code is a first factor; it never replaces the second factor an account has. Cognito draws the
same line for its own passwordless sign-in, and leaves custom auth to the DefineAuthChallenge
trigger: the sample trigger refuses MFA accounts, and the app refuses tokens a code alone won
for one even when a pool's trigger lets them through. Real HTTP to the emulator throughout.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.test import Client

from accounts.session import TOKENS
from emulator import seed, triggers
from signin import services as userpool
from signin.session import SIGNIN_ATTEMPT
from tests.accounts.conftest import USERS, attempt_id, inbox_code, signed_in_as

pytestmark = pytest.mark.django_db

MFA_USERS = [user.username for user in seed.DEMO_USERS if user.mfa != "none"]


def code_sent(emulator: Any, username: str) -> bool:
    email = USERS[username].email
    return any(m.kind == "custom_challenge" for m in emulator.inbox.messages(to=email))


def code_signin(client: Client, emulator: Any, username: str) -> Any:
    """Ask for a code, then answer with the one the inbox got."""
    asked = client.post("/accounts/signin/code/", {"code-username": username})
    assert asked["Location"] == "/accounts/signin/challenge/", asked
    code = inbox_code(emulator, USERS[username].email, "custom_challenge")
    return client.post(
        "/accounts/signin/challenge/", {"attempt": attempt_id(client), "answer_text": code}
    )


@pytest.mark.parametrize("username", MFA_USERS)
def test_no_code_is_sent_to_an_account_with_mfa(
    emulator: Any, client: Client, username: str
) -> None:
    asked = client.post("/accounts/signin/code/", {"code-username": username})
    for guess in ("000000", "123456", "999999"):
        answered = client.post(
            "/accounts/signin/challenge/", {"attempt": attempt_id(client), "answer_text": guess}
        )

    assert asked["Location"] == "/accounts/signin/challenge/"  # as for anyone: nothing revealed
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


# A pool whose DefineAuthChallenge forgets MFA: the app must hold the line by itself.


def define_code_for_anyone(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A careless DefineAuthChallenge: tokens for any right code, MFA or not."""
    session = event["request"]["session"]
    if session and session[-1]["challengeResult"]:
        event["response"].update(issueTokens=True, failAuthentication=False)
    elif len(session) >= 3:
        event["response"].update(issueTokens=False, failAuthentication=True)
    else:
        event["response"].update(
            challengeName="CUSTOM_CHALLENGE", issueTokens=False, failAuthentication=False
        )
    return event


def create_code_for_anyone(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A careless CreateAuthChallenge: a code to every verified address, MFA or not."""
    return triggers.create_email_code(event, replace(context, mfa_factors=()))


@pytest.fixture
def careless_trigger(emulator: Any) -> None:
    emulator.state.flows.triggers[seed.USER_POOL_ID] = {
        **seed.CUSTOM_AUTH_TRIGGERS,
        "DefineAuthChallenge": f"{__name__}.define_code_for_anyone",
        "CreateAuthChallenge": f"{__name__}.create_code_for_anyone",
    }


def test_a_careless_trigger_still_cannot_sign_an_mfa_account_in_with_a_code(
    emulator: Any, client: Client, careless_trigger: None
) -> None:
    response = code_signin(client, emulator, "alice")

    assert response["Location"] == "/accounts/signin/"
    assert TOKENS not in client.session and SIGNIN_ATTEMPT not in client.session
    assert signed_in_as(client) is None
    page = client.get("/accounts/signin/").content.decode()
    assert "two-step sign-in" in page


def test_a_careless_trigger_still_signs_an_account_without_mfa_in(
    emulator: Any, client: Client, careless_trigger: None
) -> None:
    response = code_signin(client, emulator, "bob")

    assert response["Location"] == "/"
    assert signed_in_as(client) == "bob"
