"""Lockout after five wrong passwords, PreventUserExistenceErrors, and other sign-in refusals."""

from __future__ import annotations

import time

import pytest

from emulator import seed

from .api_flows import (
    error_of,
    initiate_password,
    legacy_existence_errors,
    secret_hash,
    srp_client,
)

INCORRECT = {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}
EXCEEDED = {"Code": "NotAuthorizedException", "Message": "Password attempts exceeded"}


def fail(idp, times: int, username: str = "bob") -> None:
    for _ in range(times):
        assert error_of(initiate_password, idp, username, "Wrong-Passw0rd!") == INCORRECT


def test_five_wrong_passwords_lock_the_user_out(idp) -> None:
    """moto gap: moto has no lockout."""
    fail(idp, 5)

    assert error_of(initiate_password, idp, "bob") == EXCEEDED


def test_four_wrong_passwords_do_not(idp) -> None:
    fail(idp, 4)

    assert initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]


def test_the_lock_lifts_after_a_while_and_then_doubles(idp) -> None:
    fail(idp, 5)
    time.sleep(1.1)

    fail(idp, 1)  # the sixth failure locks for 2 s
    time.sleep(1.1)
    still_locked = error_of(initiate_password, idp, "bob")
    time.sleep(1.0)

    assert still_locked == EXCEEDED
    assert initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]


def test_the_lock_applies_to_srp(idp) -> None:
    fail(idp, 5)

    assert error_of(srp_client(idp, "bob").authenticate_user) == EXCEEDED


def test_wrong_srp_proofs_count_towards_the_lock(idp) -> None:
    for _ in range(5):
        assert error_of(srp_client(idp, "bob", "Wrong-Passw0rd!").authenticate_user) == INCORRECT

    assert error_of(initiate_password, idp, "bob") == EXCEEDED


def test_a_lock_is_per_user(idp) -> None:
    fail(idp, 5)

    assert initiate_password(idp, "alice")["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_unknown_users_get_the_wrong_password_answer(idp) -> None:
    """moto gap: moto answers UserNotFoundException whatever PreventUserExistenceErrors says."""
    error = error_of(initiate_password, idp, "nobody", "Any-Passw0rd!")

    assert error == INCORRECT


def test_legacy_clients_say_the_user_does_not_exist(idp) -> None:
    legacy_existence_errors(idp)

    error = error_of(initiate_password, idp, "nobody", "Any-Passw0rd!")

    assert error == {"Code": "UserNotFoundException", "Message": "User does not exist."}


def test_a_flow_the_client_does_not_allow_is_refused(idp) -> None:
    idp.update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )

    error = error_of(initiate_password, idp, "bob")

    assert error == {
        "Code": "InvalidParameterException",
        "Message": "USER_PASSWORD_AUTH flow not enabled for this client",
    }
    assert srp_client(idp, "bob").authenticate_user()["AuthenticationResult"]


def test_secret_hash_missing_or_wrong(idp) -> None:
    def attempt(**secret: str) -> dict:
        return idp.initiate_auth(
            ClientId=seed.CLIENT_ID,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "bob", "PASSWORD": "Bob-Passw0rd!", **secret},
        )

    missing = error_of(attempt)
    wrong = error_of(attempt, SECRET_HASH=secret_hash("alice"))

    assert missing["Message"] == (
        f"Client {seed.CLIENT_ID} is configured for secret but secret was not received"
    )
    assert wrong["Message"] == f"Unable to verify secret hash for client {seed.CLIENT_ID}"
    assert attempt(SECRET_HASH=secret_hash("bob"))["AuthenticationResult"]


def test_a_disabled_user_is_refused(idp) -> None:
    idp.admin_disable_user(UserPoolId=seed.USER_POOL_ID, Username="bob")

    assert error_of(initiate_password, idp, "bob") == {
        "Code": "NotAuthorizedException",
        "Message": "User is disabled.",
    }


def test_a_user_whose_password_was_reset_by_an_admin_must_reset_it(idp) -> None:
    """moto gap: moto says PasswordResetRequiredException whatever PreventUserExistenceErrors is."""
    idp.admin_reset_user_password(UserPoolId=seed.USER_POOL_ID, Username="bob")

    hidden = error_of(initiate_password, idp, "bob")
    legacy_existence_errors(idp)
    revealed = error_of(initiate_password, idp, "bob")

    assert hidden == INCORRECT
    assert revealed["Code"] == "PasswordResetRequiredException"


@pytest.mark.parametrize(
    ("operation", "flow"),
    [("initiate_auth", "ADMIN_USER_PASSWORD_AUTH"), ("admin_initiate_auth", "USER_PASSWORD_AUTH")],
)
def test_each_flow_belongs_to_its_operation(idp, operation: str, flow: str) -> None:
    extra = {"UserPoolId": seed.USER_POOL_ID} if operation == "admin_initiate_auth" else {}

    error = error_of(
        getattr(idp, operation),
        ClientId=seed.CLIENT_ID,
        AuthFlow=flow,
        AuthParameters={
            "USERNAME": "bob",
            "PASSWORD": "Bob-Passw0rd!",
            "SECRET_HASH": secret_hash("bob"),
        },
        **extra,
    )

    assert error == {
        "Code": "InvalidParameterException",
        "Message": "Initiate Auth method not supported",
    }


def test_admin_user_password_auth_signs_in(idp) -> None:
    result = idp.admin_initiate_auth(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": "bob",
            "PASSWORD": "Bob-Passw0rd!",
            "SECRET_HASH": secret_hash("bob"),
        },
    )

    assert result["AuthenticationResult"]["AccessToken"]
