"""AdminCreateUser: the invitation with a temporary password, then NEW_PASSWORD_REQUIRED."""

from __future__ import annotations

from emulator import seed
from emulator.server import Emulator

from .api_flows import error_of, inbox, initiate_password, respond


def create(idp, **extra) -> dict:
    return idp.admin_create_user(
        UserPoolId=seed.USER_POOL_ID,
        Username="gina",
        UserAttributes=[
            {"Name": "email", "Value": "gina@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
        **extra,
    )


def test_the_invitation_brings_a_temporary_password_to_replace(emulator: Emulator, idp) -> None:
    """moto gap: moto sends no invitation."""
    created = create(idp, TemporaryPassword="Gina-Temp0rary!", DesiredDeliveryMediums=["EMAIL"])
    [invitation] = inbox(emulator, "gina@example.com")
    step = initiate_password(idp, "gina", invitation["code"])
    result = respond(idp, step, "NEW_PASSWORD_REQUIRED", "gina", NEW_PASSWORD="Gina-Passw0rd!")

    assert created["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert created["User"]["UserCreateDate"]
    assert invitation["kind"] == "invitation" and invitation["code"] == "Gina-Temp0rary!"
    assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert result["AuthenticationResult"]["AccessToken"]


def test_without_a_temporary_password_one_is_generated(emulator: Emulator, idp) -> None:
    """moto gap: moto leaves such a user without any password, unable to ever sign in."""
    create(idp, DesiredDeliveryMediums=["EMAIL"])
    temporary = inbox(emulator, "gina@example.com")[-1]["code"]

    assert initiate_password(idp, "gina", temporary)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_suppressed_invitations_are_not_sent(emulator: Emulator, idp) -> None:
    create(idp, TemporaryPassword="Gina-Temp0rary!", MessageAction="SUPPRESS")

    assert inbox(emulator) == []
    assert initiate_password(idp, "gina", "Gina-Temp0rary!")["ChallengeName"] == (
        "NEW_PASSWORD_REQUIRED"
    )


def test_resend_sends_a_new_temporary_password(emulator: Emulator, idp) -> None:
    create(idp, TemporaryPassword="Gina-Temp0rary!", DesiredDeliveryMediums=["EMAIL"])

    create(idp, MessageAction="RESEND", DesiredDeliveryMediums=["EMAIL"])
    resent = inbox(emulator, "gina@example.com")[-1]["code"]

    assert resent != "Gina-Temp0rary!"
    assert initiate_password(idp, "gina", resent)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert error_of(initiate_password, idp, "gina", "Gina-Temp0rary!")["Code"] == (
        "NotAuthorizedException"
    )


def test_a_temporary_password_must_meet_the_policy(idp) -> None:
    error = error_of(create, idp, TemporaryPassword="gina")

    assert error == {
        "Code": "InvalidPasswordException",
        "Message": "Password did not conform with policy: Password not long enough",
    }
