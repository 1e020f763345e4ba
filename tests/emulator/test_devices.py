"""Remembered devices through the user pools API, with pycognito's device SRP as the client."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from pycognito.aws_srp import AWSSRP, generate_hash_device
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from emulator import seed

from .api_flows import USERS, error_of, initiate_password, secret_hash


def srp(idp: Any, username: str, **device: str) -> AWSSRP:
    """pycognito on the public client (no secret): USER_SRP_AUTH, and device SRP when given."""
    return AWSSRP(
        username=username,
        password=USERS[username].password,
        pool_id=seed.USER_POOL_ID,
        client_id=seed.PUBLIC_CLIENT_ID,
        client=idp,
        **device,
    )


def alice_with_mfa(idp: Any) -> dict:
    """alice's SRP sign-in on the public client, through her TOTP step: the tokens."""
    with pytest.raises(SoftwareTokenMFAChallengeException) as raised:
        srp(idp, "alice").authenticate_user()
    step = raised.value.get_tokens()
    return idp.respond_to_auth_challenge(
        ClientId=seed.PUBLIC_CLIENT_ID,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=step["Session"],
        ChallengeResponses={
            "USERNAME": "alice",
            "SOFTWARE_TOKEN_MFA_CODE": pyotp.TOTP(USERS["alice"].totp_secret).now(),
        },
    )


def confirm(idp: Any, tokens: dict, *, remember: bool) -> dict[str, str]:
    """ConfirmDevice with a new device secret (as pycognito makes it); the device's values."""
    metadata = tokens["AuthenticationResult"]["NewDeviceMetadata"]
    access_token = tokens["AuthenticationResult"]["AccessToken"]
    password, verifier = generate_hash_device(metadata["DeviceGroupKey"], metadata["DeviceKey"])
    answer = idp.confirm_device(
        AccessToken=access_token,
        DeviceKey=metadata["DeviceKey"],
        DeviceSecretVerifierConfig=verifier,
        DeviceName="Test browser",
    )
    assert answer["UserConfirmationNecessary"] is True
    if remember:
        idp.update_device_status(
            AccessToken=access_token,
            DeviceKey=metadata["DeviceKey"],
            DeviceRememberedStatus="remembered",
        )
    return {
        "device_key": metadata["DeviceKey"],
        "device_group_key": metadata["DeviceGroupKey"],
        "device_password": password,
    }


def remembered_status(device: dict) -> str:
    attributes = {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}
    return attributes["dev:device_remembered_status"]


def refresh(idp: Any, tokens: dict, **device: str) -> dict:
    return idp.initiate_auth(
        ClientId=seed.PUBLIC_CLIENT_ID,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["AuthenticationResult"]["RefreshToken"], **device},
    )


# NewDeviceMetadata and the device operations.


def test_a_sign_in_gives_new_device_metadata(idp) -> None:
    metadata = initiate_password(idp, "bob")["AuthenticationResult"]["NewDeviceMetadata"]

    assert metadata["DeviceKey"].startswith(f"{seed.REGION}_")
    assert metadata["DeviceGroupKey"]


def test_a_pool_without_device_tracking_gives_none(idp) -> None:
    idp.update_user_pool(UserPoolId=seed.USER_POOL_ID, MfaConfiguration="OPTIONAL")

    result = initiate_password(idp, "bob")["AuthenticationResult"]

    assert "NewDeviceMetadata" not in result
    assert result["AccessToken"]


def test_a_confirmed_device_is_remembered_on_the_users_word(idp) -> None:
    tokens = initiate_password(idp, "bob")
    access_token = tokens["AuthenticationResult"]["AccessToken"]
    device = confirm(idp, tokens, remember=False)
    key = device["device_key"]

    before = idp.list_devices(AccessToken=access_token)["Devices"]
    idp.update_device_status(
        AccessToken=access_token, DeviceKey=key, DeviceRememberedStatus="remembered"
    )
    after = idp.get_device(AccessToken=access_token, DeviceKey=key)["Device"]
    admin = idp.admin_list_devices(UserPoolId=seed.USER_POOL_ID, Username="bob")["Devices"]

    assert [d["DeviceKey"] for d in before] == [key]
    assert remembered_status(before[0]) == "not_remembered"
    assert remembered_status(after) == "remembered"
    assert {"Name": "device_name", "Value": "Test browser"} in after["DeviceAttributes"]
    assert [d["DeviceKey"] for d in admin] == [key]


def test_a_device_is_confirmed_once(idp) -> None:
    tokens = initiate_password(idp, "bob")
    confirm(idp, tokens, remember=False)
    metadata = tokens["AuthenticationResult"]["NewDeviceMetadata"]
    _, verifier = generate_hash_device(metadata["DeviceGroupKey"], metadata["DeviceKey"])

    error = error_of(
        idp.confirm_device,
        AccessToken=tokens["AuthenticationResult"]["AccessToken"],
        DeviceKey=metadata["DeviceKey"],
        DeviceSecretVerifierConfig=verifier,
    )

    assert error["Code"] == "DeviceKeyExistsException"


def test_another_users_device_is_not_found(idp) -> None:
    bobs = initiate_password(idp, "bob")["AuthenticationResult"]["NewDeviceMetadata"]
    heidi = idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": "heidi",
            "PASSWORD": seed.PASSKEY_USER.password,
            "SECRET_HASH": secret_hash("heidi"),
        },
    )["AuthenticationResult"]["AccessToken"]

    error = error_of(idp.get_device, AccessToken=heidi, DeviceKey=bobs["DeviceKey"])

    assert error == {"Code": "ResourceNotFoundException", "Message": "Device does not exist."}


# Device SRP: a remembered device skips MFA.


def test_a_remembered_device_signs_in_without_mfa(idp) -> None:
    device = confirm(idp, alice_with_mfa(idp), remember=True)

    tokens = srp(idp, "alice", **device).authenticate_user()

    assert tokens["AuthenticationResult"]["AccessToken"]
    assert "NewDeviceMetadata" not in tokens["AuthenticationResult"]


def test_a_device_not_remembered_still_needs_mfa(idp) -> None:
    device = confirm(idp, alice_with_mfa(idp), remember=False)

    with pytest.raises(SoftwareTokenMFAChallengeException):
        srp(idp, "alice", **device).authenticate_user()


def test_a_wrong_device_secret_is_refused(idp) -> None:
    device = confirm(idp, alice_with_mfa(idp), remember=True)
    device["device_password"] = "not-the-device-password"

    error = error_of(srp(idp, "alice", **device).authenticate_user)

    assert error == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}


def password_verifier(idp: Any, username: str, **device: str) -> tuple[str, dict[str, str]]:
    """USER_SRP_AUTH up to PASSWORD_VERIFIER, as Amplify sends it: its Session and answers
    (DEVICE_KEY among them when a device is given)."""
    client = srp(idp, username, **device)
    started = idp.initiate_auth(
        ClientId=seed.PUBLIC_CLIENT_ID,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters={"USERNAME": username, "SRP_A": client.get_auth_params()["SRP_A"]},
    )
    answers = client.process_challenge(started["ChallengeParameters"], client.get_auth_params())
    return started["Session"], answers


def verify_password(idp: Any, session: str, answers: dict[str, str]) -> dict:
    return idp.respond_to_auth_challenge(
        ClientId=seed.PUBLIC_CLIENT_ID,
        ChallengeName="PASSWORD_VERIFIER",
        Session=session,
        ChallengeResponses=answers,
    )


def test_a_forgotten_device_is_refused_and_the_same_answer_without_it_asks_for_mfa(idp) -> None:
    tokens = alice_with_mfa(idp)
    device = confirm(idp, tokens, remember=True)
    access_token = tokens["AuthenticationResult"]["AccessToken"]
    idp.forget_device(AccessToken=access_token, DeviceKey=device["device_key"])
    session, answers = password_verifier(idp, "alice", **device)

    refused = error_of(verify_password, idp, session, answers)
    # Amplify drops its device on exactly this error and sends the answer again without it.
    again = verify_password(idp, session, {k: v for k, v in answers.items() if k != "DEVICE_KEY"})

    assert refused == {"Code": "ResourceNotFoundException", "Message": "Device does not exist."}
    assert again["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    error = error_of(idp.get_device, AccessToken=access_token, DeviceKey=device["device_key"])
    assert error["Code"] == "ResourceNotFoundException"


def test_a_remembered_devices_key_at_password_verifier_asks_for_device_srp(idp) -> None:
    device = confirm(idp, alice_with_mfa(idp), remember=True)
    session, answers = password_verifier(idp, "alice", **device)

    assert verify_password(idp, session, answers)["ChallengeName"] == "DEVICE_SRP_AUTH"


def test_another_users_device_key_is_refused_at_sign_in(idp) -> None:
    bobs = confirm(idp, srp(idp, "bob").authenticate_user(), remember=True)
    alices = confirm(idp, alice_with_mfa(idp), remember=True)
    session, answers = password_verifier(idp, "alice", **bobs)
    own_session, own_answers = password_verifier(idp, "alice", **alices)

    refused = error_of(verify_password, idp, session, answers)

    assert refused == {"Code": "ResourceNotFoundException", "Message": "Device does not exist."}
    assert verify_password(idp, own_session, own_answers)["ChallengeName"] == "DEVICE_SRP_AUTH"


def test_admin_forgotten_device_needs_mfa_again(idp) -> None:
    device = confirm(idp, alice_with_mfa(idp), remember=True)
    idp.admin_forget_device(
        UserPoolId=seed.USER_POOL_ID, Username="alice", DeviceKey=device["device_key"]
    )

    error = error_of(srp(idp, "alice", **device).authenticate_user)

    assert error == {"Code": "ResourceNotFoundException", "Message": "Device does not exist."}
    with pytest.raises(SoftwareTokenMFAChallengeException):
        srp(idp, "alice").authenticate_user()


def test_a_device_set_not_remembered_needs_mfa_until_remembered_again(idp) -> None:
    device = confirm(idp, alice_with_mfa(idp), remember=True)
    key = device["device_key"]
    idp.admin_update_device_status(
        UserPoolId=seed.USER_POOL_ID,
        Username="alice",
        DeviceKey=key,
        DeviceRememberedStatus="not_remembered",
    )

    with pytest.raises(SoftwareTokenMFAChallengeException):
        srp(idp, "alice", **device).authenticate_user()
    idp.admin_update_device_status(
        UserPoolId=seed.USER_POOL_ID,
        Username="alice",
        DeviceKey=key,
        DeviceRememberedStatus="remembered",
    )
    assert srp(idp, "alice", **device).authenticate_user()["AuthenticationResult"]["AccessToken"]


def test_without_challenge_required_on_new_device_a_remembered_device_still_needs_mfa(
    emulator, idp
) -> None:
    device = confirm(idp, alice_with_mfa(idp), remember=True)
    with emulator.state.lock:
        emulator.state.pool.extended_config["DeviceConfiguration"] = {
            **seed.DEVICE_CONFIGURATION,
            "ChallengeRequiredOnNewDevice": False,
        }

    # The device proves itself (device SRP; pycognito hands back what follows), then MFA.
    after_device = srp(idp, "alice", **device).authenticate_user()

    assert after_device["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert "AuthenticationResult" not in after_device


def test_admin_forget_device(idp) -> None:
    tokens = initiate_password(idp, "bob")
    device = confirm(idp, tokens, remember=True)

    idp.admin_forget_device(
        UserPoolId=seed.USER_POOL_ID, Username="bob", DeviceKey=device["device_key"]
    )

    assert idp.admin_list_devices(UserPoolId=seed.USER_POOL_ID, Username="bob")["Devices"] == []


# Refresh tokens of a confirmed device.


def test_a_devices_refresh_token_needs_its_device_key(idp) -> None:
    tokens = srp(idp, "bob").authenticate_user()
    device = confirm(idp, tokens, remember=True)

    refused = error_of(refresh, idp, tokens)
    refreshed = refresh(idp, tokens, DEVICE_KEY=device["device_key"])

    assert refused == {"Code": "NotAuthorizedException", "Message": "Invalid Refresh Token."}
    assert refreshed["AuthenticationResult"]["AccessToken"]


def test_a_forgotten_devices_refresh_token_is_refused(idp) -> None:
    tokens = srp(idp, "bob").authenticate_user()
    device = confirm(idp, tokens, remember=True)
    idp.forget_device(
        AccessToken=tokens["AuthenticationResult"]["AccessToken"], DeviceKey=device["device_key"]
    )

    error = error_of(refresh, idp, tokens, DEVICE_KEY=device["device_key"])

    assert error["Code"] == "NotAuthorizedException"


def test_an_unconfirmed_devices_refresh_token_refreshes_as_before(idp) -> None:
    tokens = srp(idp, "bob").authenticate_user()

    refreshed = refresh(idp, tokens)

    assert refreshed["AuthenticationResult"]["IdToken"]


def get_tokens(idp: Any, tokens: dict, **device: str) -> dict:
    return idp.get_tokens_from_refresh_token(
        ClientId=seed.PUBLIC_CLIENT_ID,
        RefreshToken=tokens["AuthenticationResult"]["RefreshToken"],
        **device,
    )["AuthenticationResult"]


def test_get_tokens_from_refresh_token_needs_the_devices_key(idp) -> None:
    tokens = srp(idp, "bob").authenticate_user()
    device = confirm(idp, tokens, remember=True)
    other = confirm(idp, srp(idp, "bob").authenticate_user(), remember=True)

    missing = error_of(get_tokens, idp, tokens)
    wrong = error_of(get_tokens, idp, tokens, DeviceKey=other["device_key"])
    refreshed = get_tokens(idp, tokens, DeviceKey=device["device_key"])

    assert missing == {"Code": "NotAuthorizedException", "Message": "Invalid Refresh Token."}
    assert wrong == missing
    assert refreshed["AccessToken"]


def test_get_tokens_from_a_forgotten_devices_refresh_token_is_refused(idp) -> None:
    tokens = srp(idp, "bob").authenticate_user()
    device = confirm(idp, tokens, remember=True)
    kept = srp(idp, "bob").authenticate_user()
    kept_device = confirm(idp, kept, remember=True)
    idp.admin_forget_device(
        UserPoolId=seed.USER_POOL_ID, Username="bob", DeviceKey=device["device_key"]
    )

    error = error_of(get_tokens, idp, tokens, DeviceKey=device["device_key"])

    assert error == {"Code": "NotAuthorizedException", "Message": "Invalid Refresh Token."}
    assert get_tokens(idp, kept, DeviceKey=kept_device["device_key"])["AccessToken"]


def test_a_rotated_refresh_token_stays_tied_to_its_device(idp) -> None:
    idp.update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.PUBLIC_CLIENT_ID,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
    )
    tokens = srp(idp, "bob").authenticate_user()
    device = confirm(idp, tokens, remember=True)
    rotated = {"AuthenticationResult": get_tokens(idp, tokens, DeviceKey=device["device_key"])}

    refused = error_of(get_tokens, idp, rotated)
    refreshed = get_tokens(idp, rotated, DeviceKey=device["device_key"])

    assert (
        rotated["AuthenticationResult"]["RefreshToken"]
        != tokens["AuthenticationResult"]["RefreshToken"]
    )
    assert refused == {"Code": "NotAuthorizedException", "Message": "Invalid Refresh Token."}
    assert refreshed["AccessToken"]
