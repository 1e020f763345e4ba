"""NEW_PASSWORD_REQUIRED for users with a temporary password, and CUSTOM_AUTH with triggers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pycognito.exceptions import ForceChangePasswordException

from emulator import seed
from emulator.server import Emulator

from .api_flows import (
    USERS,
    error_of,
    initiate_password,
    last_code,
    respond,
    secret_hash,
    srp_client,
)
from .flows import wrong_code

INCORRECT = {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}


# NEW_PASSWORD_REQUIRED.


def test_frank_sets_a_new_password_at_first_sign_in(idp) -> None:
    """moto gap: moto's policy errors carry no Cognito message, so an app cannot show the rule."""
    step = initiate_password(idp, "frank")

    weak = error_of(respond, idp, step, "NEW_PASSWORD_REQUIRED", "frank", NEW_PASSWORD="frank")
    result = respond(
        idp, step, "NEW_PASSWORD_REQUIRED", "frank", NEW_PASSWORD="Frank-N3w-Passw0rd!"
    )

    assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    attributes = json.loads(step["ChallengeParameters"]["userAttributes"])
    assert attributes["email"] == "frank@example.com"
    assert json.loads(step["ChallengeParameters"]["requiredAttributes"]) == []
    assert weak == {
        "Code": "InvalidPasswordException",
        "Message": "Password did not conform with policy: Password not long enough",
    }
    assert result["AuthenticationResult"]["AccessToken"]
    assert initiate_password(idp, "frank", "Frank-N3w-Passw0rd!")["AuthenticationResult"]
    assert error_of(initiate_password, idp, "frank") == INCORRECT


def test_frank_meets_the_same_challenge_after_srp(idp) -> None:
    with pytest.raises(ForceChangePasswordException):
        srp_client(idp, "frank").authenticate_user()


def test_admin_created_users_must_change_their_temporary_password(idp) -> None:
    idp.admin_create_user(
        UserPoolId=seed.USER_POOL_ID,
        Username="gina",
        TemporaryPassword="Gina-Temp0rary!",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "gina@example.com"}],
    )
    step = initiate_password(idp, "gina", "Gina-Temp0rary!")

    no_symbol = error_of(
        respond, idp, step, "NEW_PASSWORD_REQUIRED", "gina", NEW_PASSWORD="GinaPassw0rd"
    )
    result = respond(
        idp,
        step,
        "NEW_PASSWORD_REQUIRED",
        "gina",
        NEW_PASSWORD="Gina-Passw0rd!",
        **{"userAttributes.given_name": "Gina"},
    )

    assert no_symbol["Message"].endswith("Password must have symbol characters")
    user = idp.get_user(AccessToken=result["AuthenticationResult"]["AccessToken"])
    assert {"Name": "given_name", "Value": "Gina"} in user["UserAttributes"]


# CUSTOM_AUTH with the seed's triggers: a code emailed to the inbox, three tries.


def custom_auth(idp, username: str = "bob", **extra: str) -> dict:
    return idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={"USERNAME": username, "SECRET_HASH": secret_hash(username), **extra},
    )


def test_custom_auth_alone_signs_in_with_the_emailed_code(emulator: Emulator, idp) -> None:
    """moto gap: moto has no CUSTOM_AUTH triggers to call."""
    step = custom_auth(idp)
    code = last_code(emulator, "bob@example.com")

    result = respond(idp, step, "CUSTOM_CHALLENGE", "bob", ANSWER=code)

    assert step["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert step["ChallengeParameters"]["challenge"] == "EMAIL_CODE"
    assert step["ChallengeParameters"]["email"] == "b***@e***"
    assert result["AuthenticationResult"]["AccessToken"]


def test_custom_auth_allows_three_tries(emulator: Emulator, idp) -> None:
    step = custom_auth(idp)
    code = last_code(emulator, "bob@example.com")
    wrong = wrong_code(code)

    second = respond(idp, step, "CUSTOM_CHALLENGE", "bob", ANSWER=wrong)
    third = respond(idp, second, "CUSTOM_CHALLENGE", "bob", ANSWER=wrong)
    error = error_of(respond, idp, third, "CUSTOM_CHALLENGE", "bob", ANSWER=wrong)

    assert second["ChallengeName"] == third["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert len([m for m in emulator.inbox.messages(to="bob@example.com")]) == 1
    assert error == INCORRECT


def test_custom_auth_retry_with_the_right_code(emulator: Emulator, idp) -> None:
    step = custom_auth(idp)
    code = last_code(emulator, "bob@example.com")
    wrong = wrong_code(code)

    second = respond(idp, step, "CUSTOM_CHALLENGE", "bob", ANSWER=wrong)
    result = respond(idp, second, "CUSTOM_CHALLENGE", "bob", ANSWER=code)

    assert result["AuthenticationResult"]["IdToken"]


def _custom_srp(idp, password: str) -> tuple[dict, Any]:
    aws = srp_client(idp, "bob", password)
    params = {**aws.get_auth_params(), "CHALLENGE_NAME": "SRP_A"}
    first = idp.initiate_auth(
        ClientId=seed.CLIENT_ID, AuthFlow="CUSTOM_AUTH", AuthParameters=params
    )
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    answer = aws.process_challenge(first["ChallengeParameters"], params)
    return first, answer


def test_custom_auth_after_srp(emulator: Emulator, idp) -> None:
    first, answer = _custom_srp(idp, USERS["bob"].password)

    step = idp.respond_to_auth_challenge(
        ClientId=seed.CLIENT_ID,
        ChallengeName="PASSWORD_VERIFIER",
        Session=first["Session"],
        ChallengeResponses=answer,
    )
    result = respond(
        idp, step, "CUSTOM_CHALLENGE", "bob", ANSWER=last_code(emulator, "bob@example.com")
    )

    assert step["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert result["AuthenticationResult"]["AccessToken"]


def test_custom_auth_after_srp_with_a_wrong_password_fails(emulator: Emulator, idp) -> None:
    first, answer = _custom_srp(idp, "Wrong-Passw0rd!")

    error = error_of(
        idp.respond_to_auth_challenge,
        ClientId=seed.CLIENT_ID,
        ChallengeName="PASSWORD_VERIFIER",
        Session=first["Session"],
        ChallengeResponses=answer,
    )

    assert error == INCORRECT
    assert emulator.inbox.messages(to="bob@example.com") == []


def test_custom_auth_without_triggers_is_refused(emulator: Emulator, idp) -> None:
    emulator.state.flows.triggers.clear()

    error = error_of(custom_auth, idp)

    assert error == {
        "Code": "InvalidParameterException",
        "Message": "Custom auth lambda trigger is not configured for the user pool.",
    }


EVENTS: list[dict[str, Any]] = []


def record_define(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(json.loads(json.dumps(event)))
    session = event["request"]["session"]
    if session and session[-1]["challengeResult"]:
        event["response"].update(issueTokens=True, failAuthentication=False)
    else:
        event["response"].update(challengeName="CUSTOM_CHALLENGE", issueTokens=False)
    return event


def record_create(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(json.loads(json.dumps(event)))
    event["response"].update(
        publicChallengeParameters={"question": "2+2"},
        privateChallengeParameters={"answer": "4"},
        challengeMetadata="ARITHMETIC",
    )
    return event


def record_verify(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(json.loads(json.dumps(event)))
    answer = event["request"]["challengeAnswer"]
    event["response"]["answerCorrect"] = (
        answer == event["request"]["privateChallengeParameters"]["answer"]
    )
    return event


def test_triggers_are_called_with_cognitos_event_shapes(emulator: Emulator, idp) -> None:
    here = __name__
    emulator.state.flows.triggers[seed.USER_POOL_ID] = {
        "DefineAuthChallenge": f"{here}.record_define",
        "CreateAuthChallenge": f"{here}.record_create",
        "VerifyAuthChallengeResponse": f"{here}.record_verify",
    }
    EVENTS.clear()

    step = custom_auth(idp)
    result = respond(idp, step, "CUSTOM_CHALLENGE", "bob", ANSWER="4")

    assert step["ChallengeParameters"]["question"] == "2+2"
    assert result["AuthenticationResult"]["AccessToken"]
    sources = [event["triggerSource"] for event in EVENTS]
    assert sources == [
        "DefineAuthChallenge_Authentication",
        "CreateAuthChallenge_Authentication",
        "VerifyAuthChallengeResponse_Authentication",
        "DefineAuthChallenge_Authentication",
    ]
    define, create, verify, last = EVENTS
    assert define["userName"] == "bob" and define["userPoolId"] == seed.USER_POOL_ID
    assert define["callerContext"]["clientId"] == seed.CLIENT_ID
    assert define["request"]["session"] == []
    assert define["request"]["userAttributes"]["email"] == "bob@example.com"
    assert create["request"]["challengeName"] == "CUSTOM_CHALLENGE"
    assert verify["request"]["privateChallengeParameters"] == {"answer": "4"}
    assert verify["request"]["challengeAnswer"] == "4"
    assert last["request"]["session"] == [
        {
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": True,
            "challengeMetadata": "ARITHMETIC",
        }
    ]
