"""The seed's demo users: one per kind of sign-in, as the manifest announces them."""

from __future__ import annotations

import pytest

from emulator import seed
from emulator.server import Emulator

from .api_flows import error_of, idp_client, initiate_password, initiate_srp


@pytest.fixture
def idp(emulator: Emulator):
    return idp_client(emulator)


def test_the_manifest_lists_every_kind_of_sign_in(emulator: Emulator) -> None:
    users = {user["username"]: user for user in emulator.manifest("http://127.0.0.1:8000")["users"]}

    assert {user["mfa"] for user in users.values()} == {"none", "totp", "sms", "email"}
    assert users["alice"]["mfa"] == users["carol"]["mfa"] == "totp"
    assert users["bob"]["mfa"] == "none" and "must_change_password" not in users["bob"]
    assert users["dave"]["mfa"] == "sms" and users["dave"]["phone_number"] == "+15555550104"
    assert users["erin"]["mfa"] == "email" and "totp_secret" not in users["erin"]
    assert users["frank"]["mfa"] == "none" and users["frank"]["must_change_password"] is True
    assert users["grace"]["password"] is None and users["grace"]["first_factors"] == [
        "EMAIL_OTP",
        "SMS_OTP",
    ]
    assert (
        users["heidi"]["passkey"]["credential_id"]
        and "WEB_AUTHN" in users["heidi"]["first_factors"]
    )


@pytest.mark.parametrize(
    ("username", "challenge"),
    [
        ("alice", "SOFTWARE_TOKEN_MFA"),
        ("carol", "SOFTWARE_TOKEN_MFA"),
        ("dave", "SMS_MFA"),
        ("erin", "EMAIL_OTP"),
        ("frank", "NEW_PASSWORD_REQUIRED"),
    ],
)
def test_each_demo_user_meets_their_challenge(idp, username: str, challenge: str) -> None:
    assert initiate_password(idp, username)["ChallengeName"] == challenge
    assert initiate_srp(idp, username)["ChallengeName"] == challenge


def test_bob_signs_in_without_a_challenge(idp) -> None:
    assert initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]
    assert initiate_srp(idp, "bob")["AuthenticationResult"]["AccessToken"]


def test_demo_users_statuses(idp) -> None:
    def status(username: str) -> str:
        user = idp.admin_get_user(UserPoolId=seed.USER_POOL_ID, Username=username)
        return user["UserStatus"]

    assert status("frank") == "FORCE_CHANGE_PASSWORD"
    assert {status(name) for name in ("alice", "bob", "carol", "dave", "erin")} == {"CONFIRMED"}
    assert error_of(initiate_password, idp, "frank", "Wrong-Passw0rd!")["Code"] == (
        "NotAuthorizedException"
    )
