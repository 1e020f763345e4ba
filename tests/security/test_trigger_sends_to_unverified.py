"""A sign-in code mailed to an address nobody verified: the seed's CreateAuthChallenge trigger
sends codes only where `email_verified` is true, and the caller cannot tell the difference."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import seed
from emulator.server import Emulator
from tests.emulator.api_flows import error_of, idp_client, last_code, respond, secret_hash

INCORRECT = {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}
THIRD_PARTY = "someone-else@example.org"


@pytest.fixture
def idp(emulator: Emulator) -> Any:
    return idp_client(emulator)


def custom_auth(idp: Any, username: str = "bob") -> dict:
    return idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={"USERNAME": username, "SECRET_HASH": secret_hash(username)},
    )


def set_email(idp: Any, email: str, *, verified: bool) -> None:
    idp.admin_update_user_attributes(
        UserPoolId=seed.USER_POOL_ID,
        Username="bob",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true" if verified else "false"},
        ],
    )


def test_no_code_goes_to_an_unverified_address(emulator: Emulator, idp: Any) -> None:
    set_email(idp, THIRD_PARTY, verified=False)

    step = custom_auth(idp)
    second = respond(idp, step, "CUSTOM_CHALLENGE", "bob", ANSWER="")
    third = respond(idp, second, "CUSTOM_CHALLENGE", "bob", ANSWER="000000")
    error = error_of(respond, idp, third, "CUSTOM_CHALLENGE", "bob", ANSWER="123456")

    assert emulator.inbox.messages(to=THIRD_PARTY) == []
    assert emulator.inbox.messages() == []
    # The same challenge as for a verified address: nothing tells the caller no code was sent.
    assert step["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert step["ChallengeParameters"]["challenge"] == "EMAIL_CODE"
    assert step["ChallengeParameters"]["email"] == "s***@e***"
    assert error == INCORRECT


def test_a_verified_address_gets_the_code_and_signs_in(emulator: Emulator, idp: Any) -> None:
    set_email(idp, THIRD_PARTY, verified=True)

    step = custom_auth(idp)
    code = last_code(emulator, THIRD_PARTY)
    result = respond(idp, step, "CUSTOM_CHALLENGE", "bob", ANSWER=code)

    assert step["ChallengeParameters"]["email"] == "s***@e***"
    assert result["AuthenticationResult"]["AccessToken"]
