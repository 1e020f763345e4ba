"""Self-service through the user pools API: sign-up, passwords, attributes, refresh, sign-out."""

from __future__ import annotations

import time

import pytest

from emulator import codes, seed
from emulator.server import Emulator

from .api_flows import (
    error_of,
    inbox,
    initiate_password,
    last_code,
    legacy_existence_errors,
    respond,
    secret_hash,
)
from .flows import token_request, wrong_code

NEW_USER = "nina"
NEW_EMAIL = "nina@example.com"
NEW_PASSWORD = "Nina-Passw0rd!"
CODE_MISMATCH = {
    "Code": "CodeMismatchException",
    "Message": "Invalid verification code provided, please try again.",
}
CODE_EXPIRED = {
    "Code": "ExpiredCodeException",
    "Message": "Invalid code provided, please request a code again.",
}


def sign_up(idp, username: str = NEW_USER, password: str = NEW_PASSWORD) -> dict:
    return idp.sign_up(
        ClientId=seed.CLIENT_ID,
        SecretHash=secret_hash(username),
        Username=username,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": NEW_EMAIL}],
    )


def confirm(idp, code: str, username: str = NEW_USER) -> dict:
    return idp.confirm_sign_up(
        ClientId=seed.CLIENT_ID,
        SecretHash=secret_hash(username),
        Username=username,
        ConfirmationCode=code,
    )


# Sign-up.


def test_sign_up_sends_a_code_that_confirms_the_user(emulator: Emulator, idp) -> None:
    """moto gap: moto's ConfirmSignUp accepts any code, and SignUp sends none."""
    signed_up = sign_up(idp)
    code = last_code(emulator, NEW_EMAIL)

    mismatch = error_of(confirm, idp, wrong_code(code))
    unconfirmed = error_of(initiate_password, idp, NEW_USER, NEW_PASSWORD)
    confirm(idp, code)
    tokens = initiate_password(idp, NEW_USER, NEW_PASSWORD)["AuthenticationResult"]
    user = idp.get_user(AccessToken=tokens["AccessToken"])

    assert signed_up["UserConfirmed"] is False
    assert signed_up["CodeDeliveryDetails"] == {
        "Destination": "n***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    assert mismatch == CODE_MISMATCH
    assert unconfirmed == {"Code": "UserNotConfirmedException", "Message": "User is not confirmed."}
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]


def test_resend_confirmation_code_replaces_the_old_code(emulator: Emulator, idp) -> None:
    """moto gap: moto has no ResendConfirmationCode."""
    sign_up(idp)
    first = last_code(emulator, NEW_EMAIL)

    resent = idp.resend_confirmation_code(
        ClientId=seed.CLIENT_ID, SecretHash=secret_hash(NEW_USER), Username=NEW_USER
    )
    second = last_code(emulator, NEW_EMAIL)
    if first == second:
        pytest.skip("two random codes happened to be equal")
    stale = error_of(confirm, idp, first)
    confirm(idp, second)

    assert resent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert len(inbox(emulator, NEW_EMAIL)) == 2
    assert stale == CODE_MISMATCH


def test_an_expired_sign_up_code_is_refused(
    emulator: Emulator, idp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(codes.LIFETIMES, "signup", 0.5)
    sign_up(idp)
    code = last_code(emulator, NEW_EMAIL)
    time.sleep(0.6)

    assert error_of(confirm, idp, code) == CODE_EXPIRED


def test_a_confirmed_user_cannot_be_confirmed_again(emulator: Emulator, idp) -> None:
    sign_up(idp)
    confirm(idp, last_code(emulator, NEW_EMAIL))

    error = error_of(confirm, idp, "123456")

    assert error == {
        "Code": "NotAuthorizedException",
        "Message": "User cannot be confirmed. Current status is CONFIRMED",
    }


def test_sign_up_refuses_a_taken_username_and_a_weak_password(idp) -> None:
    taken = error_of(sign_up, idp, "bob")
    weak = error_of(sign_up, idp, NEW_USER, "NinaPassw0rd")
    short = error_of(sign_up, idp, NEW_USER, "N-1a")

    assert taken == {"Code": "UsernameExistsException", "Message": "User already exists"}
    assert weak == {
        "Code": "InvalidPasswordException",
        "Message": "Password did not conform with policy: Password must have symbol characters",
    }
    assert short["Message"] == "Password did not conform with policy: Password not long enough"


def test_sign_up_needs_the_secret_hash(idp) -> None:
    error = error_of(
        idp.sign_up,
        ClientId=seed.CLIENT_ID,
        SecretHash=secret_hash("someone-else"),
        Username=NEW_USER,
        Password=NEW_PASSWORD,
    )

    assert error == {
        "Code": "NotAuthorizedException",
        "Message": f"Unable to verify secret hash for client {seed.CLIENT_ID}",
    }


def test_resend_for_an_unknown_user_hides_or_reveals_by_client_setting(
    emulator: Emulator, idp
) -> None:
    def resend() -> dict:
        return idp.resend_confirmation_code(
            ClientId=seed.CLIENT_ID, SecretHash=secret_hash("nobody"), Username="nobody"
        )

    hidden = resend()
    legacy_existence_errors(idp)
    revealed = error_of(resend)

    assert hidden["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert inbox(emulator) == []
    assert revealed["Code"] == "UserNotFoundException"


# Password reset and change.


def forgot(idp, username: str = "bob") -> dict:
    return idp.forgot_password(
        ClientId=seed.CLIENT_ID, SecretHash=secret_hash(username), Username=username
    )


def confirm_forgot(idp, code: str, password: str, username: str = "bob") -> dict:
    return idp.confirm_forgot_password(
        ClientId=seed.CLIENT_ID,
        SecretHash=secret_hash(username),
        Username=username,
        ConfirmationCode=code,
        Password=password,
    )


def test_forgot_password_code_from_the_inbox_sets_a_new_password(emulator: Emulator, idp) -> None:
    """moto gap: moto's ConfirmForgotPassword accepts any code and sends none."""
    sent = forgot(idp)
    code = last_code(emulator, "bob@example.com")

    mismatch = error_of(confirm_forgot, idp, wrong_code(code), "Bob-N3w-Passw0rd!")
    weak = error_of(confirm_forgot, idp, code, "bob-new-password")
    confirm_forgot(idp, code, "Bob-N3w-Passw0rd!")

    assert sent["CodeDeliveryDetails"] == {
        "Destination": "b***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    assert mismatch == CODE_MISMATCH
    assert weak["Code"] == "InvalidPasswordException"
    assert initiate_password(idp, "bob", "Bob-N3w-Passw0rd!")["AuthenticationResult"]
    assert error_of(initiate_password, idp, "bob")["Code"] == "NotAuthorizedException"
    assert error_of(confirm_forgot, idp, code, "Bob-Oth3r-Passw0rd!") == CODE_EXPIRED


def test_confirm_forgot_password_without_a_requested_code_is_expired(idp) -> None:
    assert error_of(confirm_forgot, idp, "123456", "Bob-N3w-Passw0rd!") == CODE_EXPIRED


def test_forgot_password_for_an_unknown_user_is_simulated(emulator: Emulator, idp) -> None:
    """moto gap: moto ignores PreventUserExistenceErrors."""
    hidden = forgot(idp, "nobody")
    mismatch = error_of(confirm_forgot, idp, "123456", "Any-Passw0rd!", "nobody")
    legacy_existence_errors(idp)
    revealed = error_of(forgot, idp, "nobody")

    assert hidden["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert inbox(emulator) == []
    assert mismatch["Code"] == "CodeMismatchException"
    assert revealed == {
        "Code": "UserNotFoundException",
        "Message": "Username/client id combination not found.",
    }


def test_change_password_needs_the_previous_one(idp) -> None:
    access_token = initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]

    wrong = error_of(
        idp.change_password,
        AccessToken=access_token,
        PreviousPassword="Wrong-Passw0rd!",
        ProposedPassword="Bob-N3w-Passw0rd!",
    )
    weak = error_of(
        idp.change_password,
        AccessToken=access_token,
        PreviousPassword="Bob-Passw0rd!",
        ProposedPassword="short",
    )
    idp.change_password(
        AccessToken=access_token,
        PreviousPassword="Bob-Passw0rd!",
        ProposedPassword="Bob-N3w-Passw0rd!",
    )

    assert wrong == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}
    assert weak["Code"] == "InvalidPasswordException"
    assert initiate_password(idp, "bob", "Bob-N3w-Passw0rd!")["AuthenticationResult"]


# Attributes.


def attributes_of(idp, access_token: str) -> dict[str, str]:
    user = idp.get_user(AccessToken=access_token)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def test_a_new_email_counts_only_once_verified(emulator: Emulator, idp) -> None:
    """moto gap: moto's UpdateUserAttributes changes the email at once and sends no code."""
    access_token = initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]

    updated = idp.update_user_attributes(
        AccessToken=access_token,
        UserAttributes=[
            {"Name": "email", "Value": "robert@example.com"},
            {"Name": "given_name", "Value": "Robert"},
        ],
    )
    before = attributes_of(idp, access_token)
    code = last_code(emulator, "robert@example.com")
    mismatch = error_of(
        idp.verify_user_attribute,
        AccessToken=access_token,
        AttributeName="email",
        Code=wrong_code(code),
    )
    idp.verify_user_attribute(AccessToken=access_token, AttributeName="email", Code=code)
    after = attributes_of(idp, access_token)

    assert updated["CodeDeliveryDetailsList"][0]["Destination"] == "r***@e***"
    assert before["email"] == "bob@example.com" and before["email_verified"] == "true"
    assert before["given_name"] == "Robert"
    assert mismatch == CODE_MISMATCH
    assert after["email"] == "robert@example.com" and after["email_verified"] == "true"


def test_without_keep_original_the_email_changes_unverified(emulator: Emulator, idp) -> None:
    emulator.state.pool.extended_config.pop("UserAttributeUpdateSettings", None)
    access_token = initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]

    idp.update_user_attributes(
        AccessToken=access_token, UserAttributes=[{"Name": "email", "Value": "rob@example.com"}]
    )
    before = attributes_of(idp, access_token)
    idp.verify_user_attribute(
        AccessToken=access_token,
        AttributeName="email",
        Code=last_code(emulator, "rob@example.com"),
    )

    assert before["email"] == "rob@example.com" and before["email_verified"] == "false"
    assert attributes_of(idp, access_token)["email_verified"] == "true"


def test_attribute_verification_code_for_the_phone(emulator: Emulator, idp) -> None:
    """moto gap: moto's GetUserAttributeVerificationCode sends nothing and any code verifies."""
    step = initiate_password(idp, "dave")
    code = last_code(emulator, "+15555550104")
    tokens = respond(idp, step, "SMS_MFA", "dave", SMS_MFA_CODE=code)["AuthenticationResult"]

    sent = idp.get_user_attribute_verification_code(
        AccessToken=tokens["AccessToken"], AttributeName="phone_number"
    )
    code = last_code(emulator, "+15555550104")
    mismatch = error_of(
        idp.verify_user_attribute,
        AccessToken=tokens["AccessToken"],
        AttributeName="phone_number",
        Code=wrong_code(code),
    )
    idp.verify_user_attribute(
        AccessToken=tokens["AccessToken"], AttributeName="phone_number", Code=code
    )

    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "SMS"
    assert mismatch == CODE_MISMATCH


def test_users_cannot_write_verified_flags(idp) -> None:
    access_token = initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]

    error = error_of(
        idp.update_user_attributes,
        AccessToken=access_token,
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
    )

    assert error["Code"] == "NotAuthorizedException"


# Refresh and sign-out.


def refresh(idp, refresh_token: str, secret: str = seed.CLIENT_SECRET) -> dict:
    return idp.get_tokens_from_refresh_token(
        RefreshToken=refresh_token, ClientId=seed.CLIENT_ID, ClientSecret=secret
    )["AuthenticationResult"]


def test_get_tokens_from_refresh_token(idp) -> None:
    """moto gap: moto has no GetTokensFromRefreshToken."""
    refresh_token = initiate_password(idp, "bob")["AuthenticationResult"]["RefreshToken"]

    result = refresh(idp, refresh_token)
    wrong_secret = error_of(refresh, idp, refresh_token, "wrong-secret-0123456789abcdef")
    unknown = error_of(refresh, idp, "not-a-refresh-token")

    assert result["AccessToken"] and result["IdToken"]
    assert "RefreshToken" not in result
    assert idp.get_user(AccessToken=result["AccessToken"])["Username"] == "bob"
    assert wrong_secret["Code"] == "NotAuthorizedException"
    assert unknown == {"Code": "NotAuthorizedException", "Message": "Invalid Refresh Token."}


def rotate(idp, grace: int = 0) -> None:
    idp.update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": grace},
    )


def test_refresh_token_rotation_gives_a_new_token_and_ends_the_old(idp) -> None:
    """moto gap: moto knows no refresh-token rotation."""
    rotate(idp)
    first = initiate_password(idp, "bob")["AuthenticationResult"]["RefreshToken"]

    second = refresh(idp, first)["RefreshToken"]
    reused = error_of(refresh, idp, first)
    third = refresh(idp, second)["RefreshToken"]

    assert len({first, second, third}) == 3
    assert reused["Code"] == "RefreshTokenReuseException"


def test_a_rotated_out_refresh_token_may_be_retried_within_the_grace_period_only(idp) -> None:
    """RetryGracePeriodSeconds: the old token still refreshes for that long, then never again."""
    rotate(idp, grace=1)
    first = initiate_password(idp, "bob")["AuthenticationResult"]["RefreshToken"]

    second = refresh(idp, first)["RefreshToken"]
    retried = refresh(idp, first)["RefreshToken"]  # the answer was lost: the client retries
    time.sleep(1.1)
    too_late = error_of(refresh, idp, first)

    assert len({first, second, retried}) == 3
    assert too_late["Code"] == "RefreshTokenReuseException"
    assert refresh(idp, retried)["RefreshToken"] not in {first, second, retried}


def test_refresh_token_auth_is_refused_on_rotating_clients(idp) -> None:
    refresh_token = initiate_password(idp, "bob")["AuthenticationResult"]["RefreshToken"]

    def refresh_token_auth() -> dict:
        return idp.initiate_auth(
            ClientId=seed.CLIENT_ID,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token, "SECRET_HASH": secret_hash("bob")},
        )

    assert refresh_token_auth()["AuthenticationResult"]["AccessToken"]
    rotate(idp)
    assert error_of(refresh_token_auth)["Code"] == "NotAuthorizedException"


def test_global_sign_out_ends_refresh_and_access_tokens(idp) -> None:
    """moto gap: moto's messages name the token itself instead of Cognito's words."""
    bob = initiate_password(idp, "bob")["AuthenticationResult"]
    other_session = initiate_password(idp, "bob")["AuthenticationResult"]
    unaffected = initiate_password(idp, "frank", "Frank-Temp0rary!")

    idp.global_sign_out(AccessToken=bob["AccessToken"])

    assert error_of(refresh, idp, other_session["RefreshToken"]) == {
        "Code": "NotAuthorizedException",
        "Message": "Refresh Token has been revoked",
    }
    assert error_of(idp.get_user, AccessToken=other_session["AccessToken"]) == {
        "Code": "NotAuthorizedException",
        "Message": "Access Token has been revoked",
    }
    assert unaffected["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]


def test_admin_user_global_sign_out_spares_other_users(idp) -> None:
    idp.admin_create_user(UserPoolId=seed.USER_POOL_ID, Username="gina", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=seed.USER_POOL_ID, Username="gina", Password="Gina-Passw0rd!", Permanent=True
    )
    bob = initiate_password(idp, "bob")["AuthenticationResult"]
    gina = initiate_password(idp, "gina", "Gina-Passw0rd!")["AuthenticationResult"]

    idp.admin_user_global_sign_out(UserPoolId=seed.USER_POOL_ID, Username="bob")

    assert error_of(refresh, idp, bob["RefreshToken"])["Code"] == "NotAuthorizedException"
    assert refresh(idp, gina["RefreshToken"])["AccessToken"]


def test_revoke_token_ends_get_tokens_from_refresh_token(idp) -> None:
    revoked = initiate_password(idp, "bob")["AuthenticationResult"]["RefreshToken"]
    live = initiate_password(idp, "bob")["AuthenticationResult"]["RefreshToken"]

    idp.revoke_token(Token=revoked, ClientId=seed.CLIENT_ID, ClientSecret=seed.CLIENT_SECRET)

    assert error_of(refresh, idp, revoked)["Message"] == "Refresh Token has been revoked"
    assert refresh(idp, live)["AccessToken"]


def test_a_token_rotated_at_the_token_endpoint_is_a_reuse_at_the_api(
    emulator: Emulator, idp
) -> None:
    rotate(idp)
    first = initiate_password(idp, "bob")["AuthenticationResult"]["RefreshToken"]

    rotated = token_request(emulator, {"grant_type": "refresh_token", "refresh_token": first})
    reused = error_of(refresh, idp, first)

    assert rotated.status_code == 200 and rotated.json()["refresh_token"] != first
    assert reused["Code"] == "RefreshTokenReuseException"
    assert refresh(idp, rotated.json()["refresh_token"])["AccessToken"]


def test_an_expired_access_token_is_refused_with_cognitos_message(idp) -> None:
    idp.update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        AccessTokenValidity=1,
        TokenValidityUnits={"AccessToken": "seconds"},
    )
    access_token = initiate_password(idp, "bob")["AuthenticationResult"]["AccessToken"]

    assert idp.get_user(AccessToken=access_token)["Username"] == "bob"
    time.sleep(2.1)
    assert error_of(idp.get_user, AccessToken=access_token) == {
        "Code": "NotAuthorizedException",
        "Message": "Access Token has expired",
    }
