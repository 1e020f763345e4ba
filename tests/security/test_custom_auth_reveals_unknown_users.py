"""Probing CUSTOM_AUTH for which users exist. With PreventUserExistenceErrors on, Cognito still
runs the custom auth triggers for an unknown name, with `userNotFound` true in the event; the
seed's triggers then answer as for a real user, send nothing, and no trigger can sign the name
in. With it off (LEGACY), the unknown user is named, as Cognito does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator import seed
from emulator.server import Emulator
from tests.emulator.api_flows import (
    error_of,
    idp_client,
    legacy_existence_errors,
    respond,
    secret_hash,
)

INCORRECT = {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}
EVENTS: list[dict[str, Any]] = []


@pytest.fixture
def idp(emulator: Emulator) -> Any:
    return idp_client(emulator)


def custom_auth(idp: Any, username: str) -> dict:
    return idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={"USERNAME": username, "SECRET_HASH": secret_hash(username)},
    )


def recording(name: str) -> str:
    """A trigger path that records the event, then runs the seed's trigger of that name."""
    return f"{__name__}.{name}"


def _record_then(path: str, event: dict[str, Any], context: Any) -> dict[str, Any]:
    from emulator import triggers

    EVENTS.append(json.loads(json.dumps(event)))
    return getattr(triggers, path)(event, context)


def define(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _record_then("define_email_code", event, context)


def create(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _record_then("create_email_code", event, context)


def verify(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _record_then("verify_email_code", event, context)


def careless_define(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A trigger that ignores `userNotFound` and lets any answer through."""
    session = event["request"]["session"]
    if session:
        event["response"].update(issueTokens=True, failAuthentication=False)
    else:
        event["response"].update(challengeName="CUSTOM_CHALLENGE", issueTokens=False)
    return event


def use_triggers(emulator: Emulator, **overrides: str) -> None:
    emulator.state.flows.triggers[seed.USER_POOL_ID] = {
        "DefineAuthChallenge": recording("define"),
        "CreateAuthChallenge": recording("create"),
        "VerifyAuthChallengeResponse": recording("verify"),
        **overrides,
    }
    EVENTS.clear()


def test_an_unknown_name_meets_the_same_challenge_and_no_mail(emulator: Emulator, idp) -> None:
    use_triggers(emulator)

    step = custom_auth(idp, "nobody")
    second = respond(idp, step, "CUSTOM_CHALLENGE", "nobody", ANSWER="123456")
    third = respond(idp, second, "CUSTOM_CHALLENGE", "nobody", ANSWER="654321")
    error = error_of(respond, idp, third, "CUSTOM_CHALLENGE", "nobody", ANSWER="000000")

    assert step["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert step["ChallengeParameters"] == {
        "challenge": "EMAIL_CODE",
        "email": "n***@e***",
        "USERNAME": "nobody",
    }
    assert error == INCORRECT
    assert emulator.inbox.messages() == []
    assert EVENTS and all(event["request"]["userNotFound"] is True for event in EVENTS)
    assert EVENTS[0]["userName"] == "nobody"


def test_an_existing_user_is_not_flagged(emulator: Emulator, idp) -> None:
    use_triggers(emulator)

    step = custom_auth(idp, "bob")

    assert step["ChallengeParameters"]["email"] == "b***@e***"
    assert [message.to for message in emulator.inbox.messages()] == ["bob@example.com"]
    assert EVENTS and all(event["request"]["userNotFound"] is False for event in EVENTS)


def test_no_trigger_can_sign_in_a_name_no_user_has(emulator: Emulator, idp) -> None:
    use_triggers(emulator, DefineAuthChallenge=f"{__name__}.careless_define")

    step = custom_auth(idp, "nobody")
    error = error_of(respond, idp, step, "CUSTOM_CHALLENGE", "nobody", ANSWER="anything")

    assert error == INCORRECT


def test_with_existence_errors_on_the_unknown_user_is_named(emulator: Emulator, idp) -> None:
    legacy_existence_errors(idp)
    use_triggers(emulator)

    error = error_of(custom_auth, idp, "nobody")

    assert error == {"Code": "UserNotFoundException", "Message": "User does not exist."}
    assert EVENTS == []
