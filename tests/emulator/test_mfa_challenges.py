"""MFA through the user pools API: TOTP, SMS and email codes, the choice, and enrolment."""

from __future__ import annotations

import json
import time

import pyotp
import pytest

from emulator import codes, seed
from emulator.server import Emulator

from .api_flows import (
    USERS,
    error_of,
    inbox,
    initiate_password,
    initiate_srp,
    last_code,
    respond,
    secret_hash,
)
from .flows import wrong_code

CODE_MISMATCH = {
    "Code": "CodeMismatchException",
    "Message": "Invalid code or auth state for the user.",
}


def totp(username: str, *, steps_ahead: int = 0) -> str:
    secret = USERS[username].totp_secret
    assert secret
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


# TOTP.


def test_totp_challenge_accepts_the_users_own_code(idp) -> None:
    """moto gap: moto checks every user's code against one fixed secret, and only behind a flag."""
    step = initiate_password(idp, "alice")

    result = respond(
        idp, step, "SOFTWARE_TOKEN_MFA", "alice", SOFTWARE_TOKEN_MFA_CODE=totp("alice")
    )

    assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert result["AuthenticationResult"]["AccessToken"]


def test_totp_challenge_refuses_another_users_code(idp) -> None:
    step = initiate_password(idp, "alice")

    error = error_of(
        respond, idp, step, "SOFTWARE_TOKEN_MFA", "alice", SOFTWARE_TOKEN_MFA_CODE=totp("carol")
    )

    assert error == CODE_MISMATCH


def test_a_wrong_totp_code_may_be_retried_with_the_same_session(idp) -> None:
    step = initiate_password(idp, "alice")
    wrong = wrong_code(totp("alice"))

    error = error_of(
        respond, idp, step, "SOFTWARE_TOKEN_MFA", "alice", SOFTWARE_TOKEN_MFA_CODE=wrong
    )
    result = respond(
        idp, step, "SOFTWARE_TOKEN_MFA", "alice", SOFTWARE_TOKEN_MFA_CODE=totp("alice")
    )

    assert error == CODE_MISMATCH
    assert result["AuthenticationResult"]["IdToken"]


def test_a_totp_code_is_accepted_once(idp) -> None:
    """moto gap: moto has no replay protection for TOTP codes."""
    code = totp("carol")
    first = initiate_password(idp, "carol")
    respond(idp, first, "SOFTWARE_TOKEN_MFA", "carol", SOFTWARE_TOKEN_MFA_CODE=code)
    second = initiate_password(idp, "carol")

    error = error_of(
        respond, idp, second, "SOFTWARE_TOKEN_MFA", "carol", SOFTWARE_TOKEN_MFA_CODE=code
    )
    result = respond(
        idp,
        second,
        "SOFTWARE_TOKEN_MFA",
        "carol",
        SOFTWARE_TOKEN_MFA_CODE=totp("carol", steps_ahead=1),
    )

    assert error == CODE_MISMATCH
    assert result["AuthenticationResult"]["AccessToken"]


def test_a_session_is_single_use_and_bound_to_its_challenge(idp) -> None:
    step = initiate_password(idp, "alice")
    respond(idp, step, "SOFTWARE_TOKEN_MFA", "alice", SOFTWARE_TOKEN_MFA_CODE=totp("alice"))

    error = error_of(
        respond,
        idp,
        step,
        "SOFTWARE_TOKEN_MFA",
        "alice",
        SOFTWARE_TOKEN_MFA_CODE=totp("alice", steps_ahead=1),
    )

    assert error == {
        "Code": "NotAuthorizedException",
        "Message": "Invalid session for the user, session is expired.",
    }


def test_an_expired_session_restarts_the_sign_in(idp, monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator import challenges

    monkeypatch.setattr(challenges, "AUTH_SESSION_SECONDS", 0.5)
    step = initiate_password(idp, "alice")
    time.sleep(0.6)

    error = error_of(
        respond, idp, step, "SOFTWARE_TOKEN_MFA", "alice", SOFTWARE_TOKEN_MFA_CODE=totp("alice")
    )

    assert error["Message"] == "Invalid session for the user, session is expired."


# SMS and email codes.


def test_sms_mfa_sends_a_code_to_the_phone_and_checks_it(emulator: Emulator, idp) -> None:
    """moto gap: moto sends no SMS and accepts any SMS_MFA_CODE."""
    step = initiate_password(idp, "dave")
    code = last_code(emulator, "+15555550104")

    result = respond(idp, step, "SMS_MFA", "dave", SMS_MFA_CODE=code)

    assert step["ChallengeName"] == "SMS_MFA"
    assert step["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    assert step["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "+*******0104"
    assert result["AuthenticationResult"]["AccessToken"]


def test_sms_mfa_refuses_a_wrong_code(emulator: Emulator, idp) -> None:
    step = initiate_password(idp, "dave")
    code = last_code(emulator, "+15555550104")
    wrong = wrong_code(code)

    assert error_of(respond, idp, step, "SMS_MFA", "dave", SMS_MFA_CODE=wrong) == CODE_MISMATCH


def test_each_sms_challenge_has_its_own_code(emulator: Emulator, idp) -> None:
    first = initiate_password(idp, "dave")
    first_code = last_code(emulator, "+15555550104")
    second = initiate_password(idp, "dave")
    second_code = last_code(emulator, "+15555550104")
    if first_code == second_code:
        pytest.skip("two random codes happened to be equal")

    error = error_of(respond, idp, second, "SMS_MFA", "dave", SMS_MFA_CODE=first_code)
    result = respond(idp, first, "SMS_MFA", "dave", SMS_MFA_CODE=first_code)

    assert error == CODE_MISMATCH
    assert result["AuthenticationResult"]["AccessToken"]


def test_an_expired_sms_code_is_refused(
    emulator: Emulator, idp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(codes.LIFETIMES, "mfa", 0.5)
    step = initiate_password(idp, "dave")
    code = last_code(emulator, "+15555550104")
    time.sleep(0.6)

    error = error_of(respond, idp, step, "SMS_MFA", "dave", SMS_MFA_CODE=code)

    assert error == {
        "Code": "ExpiredCodeException",
        "Message": "Invalid code provided, please request a code again.",
    }


def test_email_otp_sends_a_code_to_the_email_and_checks_it(emulator: Emulator, idp) -> None:
    """moto gap: moto has no EMAIL_OTP challenge."""
    step = initiate_srp(idp, "erin")
    code = last_code(emulator, "erin@example.com")
    wrong = wrong_code(code)

    error = error_of(respond, idp, step, "EMAIL_OTP", "erin", EMAIL_OTP_CODE=wrong)
    result = respond(idp, step, "EMAIL_OTP", "erin", EMAIL_OTP_CODE=code)

    assert step["ChallengeName"] == "EMAIL_OTP"
    assert step["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    assert step["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "e***@e***"
    assert error == CODE_MISMATCH
    assert result["AuthenticationResult"]["AccessToken"]
    assert inbox(emulator, "erin@example.com")[-1]["kind"] == "mfa"


def test_select_mfa_type_when_two_factors_and_no_preference(emulator: Emulator, idp) -> None:
    """moto gap: moto knows no email MFA, so it never offers a choice that includes it."""
    idp.admin_set_user_mfa_preference(
        UserPoolId=seed.USER_POOL_ID,
        Username="dave",
        SMSMfaSettings={"Enabled": True, "PreferredMfa": False},
        EmailMfaSettings={"Enabled": True, "PreferredMfa": False},
    )
    step = initiate_password(idp, "dave")

    refused = error_of(respond, idp, step, "SELECT_MFA_TYPE", "dave", ANSWER="SOFTWARE_TOKEN_MFA")
    step = initiate_password(idp, "dave")
    chosen = respond(idp, step, "SELECT_MFA_TYPE", "dave", ANSWER="EMAIL_OTP")
    result = respond(
        idp, chosen, "EMAIL_OTP", "dave", EMAIL_OTP_CODE=last_code(emulator, "dave@example.com")
    )

    assert step["ChallengeName"] == "SELECT_MFA_TYPE"
    assert json.loads(step["ChallengeParameters"]["MFAS_CAN_CHOOSE"]) == ["SMS_MFA", "EMAIL_OTP"]
    assert refused["Code"] == "InvalidParameterException"
    assert chosen["ChallengeName"] == "EMAIL_OTP"
    assert result["AuthenticationResult"]["AccessToken"]


# Enrolment.


def _require_mfa(idp) -> None:
    idp.set_user_pool_mfa_config(
        UserPoolId=seed.USER_POOL_ID,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )


def test_mfa_setup_continues_with_the_session(idp) -> None:
    """moto gap: moto answers MFA_SETUP without any verification and gives every user the same
    secret."""
    _require_mfa(idp)
    step = initiate_password(idp, "bob")
    associated = idp.associate_software_token(Session=step["Session"])
    secret = associated["SecretCode"]
    verified = idp.verify_software_token(
        Session=associated["Session"], UserCode=pyotp.TOTP(secret).now()
    )
    result = respond(idp, verified, "MFA_SETUP", "bob")
    next_sign_in = initiate_password(idp, "bob")

    assert step["ChallengeName"] == "MFA_SETUP"
    assert json.loads(step["ChallengeParameters"]["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
    assert secret not in {user.totp_secret for user in seed.DEMO_USERS}
    assert verified["Status"] == "SUCCESS"
    assert result["AuthenticationResult"]["AccessToken"]
    assert next_sign_in["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    late = respond(
        idp,
        next_sign_in,
        "SOFTWARE_TOKEN_MFA",
        "bob",
        SOFTWARE_TOKEN_MFA_CODE=pyotp.TOTP(secret).at(time.time() + 30),
    )
    assert late["AuthenticationResult"]["AccessToken"]


def test_mfa_setup_refuses_a_wrong_code_and_an_unverified_answer(idp) -> None:
    _require_mfa(idp)
    step = initiate_password(idp, "bob")
    associated = idp.associate_software_token(Session=step["Session"])
    wrong = wrong_code(pyotp.TOTP(associated["SecretCode"]).now())

    mismatch = error_of(idp.verify_software_token, Session=associated["Session"], UserCode=wrong)
    unverified = error_of(respond, idp, associated, "MFA_SETUP", "bob")

    assert mismatch == {
        "Code": "EnableSoftwareTokenMFAException",
        "Message": "Code mismatch and fail enable Software Token MFA",
    }
    assert unverified["Code"] == "NotAuthorizedException"


def test_associate_software_token_by_access_token_gives_a_secret_of_ones_own(idp) -> None:
    """moto gap: moto's AssociateSoftwareToken returns the same fixed secret for everyone."""
    bob = initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]

    first = idp.associate_software_token(AccessToken=bob)["SecretCode"]
    second = idp.associate_software_token(AccessToken=bob)["SecretCode"]
    wrong = wrong_code(pyotp.TOTP(second).now())
    refused = error_of(idp.verify_software_token, AccessToken=bob, UserCode=wrong)
    stale = error_of(idp.verify_software_token, AccessToken=bob, UserCode=pyotp.TOTP(first).now())
    verified = idp.verify_software_token(AccessToken=bob, UserCode=pyotp.TOTP(second).now())
    idp.set_user_mfa_preference(
        AccessToken=bob, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    step = initiate_password(idp, "bob")
    result = respond(
        idp,
        step,
        "SOFTWARE_TOKEN_MFA",
        "bob",
        SOFTWARE_TOKEN_MFA_CODE=pyotp.TOTP(second).at(time.time() + 30),
    )

    assert first != second
    assert refused["Code"] == stale["Code"] == "EnableSoftwareTokenMFAException"
    assert verified["Status"] == "SUCCESS"
    assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert result["AuthenticationResult"]["AccessToken"]


def test_set_user_mfa_preference_refuses_totp_before_verification(idp) -> None:
    bob = initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]

    error = error_of(
        idp.set_user_mfa_preference,
        AccessToken=bob,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )

    assert error["Code"] == "InvalidParameterException"


def test_admin_initiate_auth_asks_for_the_same_challenges(emulator: Emulator, idp) -> None:
    step = idp.admin_initiate_auth(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": "dave",
            "PASSWORD": USERS["dave"].password,
            "SECRET_HASH": secret_hash("dave"),
        },
    )
    result = idp.admin_respond_to_auth_challenge(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        ChallengeName="SMS_MFA",
        Session=step["Session"],
        ChallengeResponses={
            "USERNAME": "dave",
            "SMS_MFA_CODE": last_code(emulator, "+15555550104"),
            "SECRET_HASH": secret_hash("dave"),
        },
    )

    assert step["ChallengeName"] == "SMS_MFA"
    assert result["AuthenticationResult"]["RefreshToken"]
