"""The native API through boto3: moto's answers, signed by the emulator's keys and local issuer."""

from __future__ import annotations

import time

import jwt
import pytest
from botocore.exceptions import ClientError

from emulator import seed
from emulator.server import Emulator

from .api_flows import initiate_password, secret_hash
from .flows import signed_in_tokens, token_request, userinfo, verify


def password_auth(idp, username: str = "bob") -> dict:
    return initiate_password(idp, username)["AuthenticationResult"]


def test_initiate_auth_tokens_verify_against_the_jwks_with_the_local_issuer(
    emulator: Emulator, idp
) -> None:
    """moto gap: moto signs with its fixed `kid: dummy` key and the AWS issuer, which no JWKS
    the emulator serves and no local discovery document would accept."""
    result = password_auth(idp)

    id_claims = verify(emulator, result["IdToken"], token_use="id")
    access_claims = verify(emulator, result["AccessToken"], token_use="access")

    assert id_claims["iss"] == access_claims["iss"] == emulator.issuer
    assert id_claims["cognito:username"] == "bob"
    assert id_claims["email_verified"] is True
    assert "nonce" not in id_claims
    assert access_claims["scope"] == "aws.cognito.signin.user.admin"
    assert access_claims["username"] == "bob"
    assert "aud" not in access_claims
    assert jwt.get_unverified_header(result["IdToken"])["kid"] != "dummy"
    assert result["ExpiresIn"] == 3600


def test_native_access_token_is_refused_by_userinfo(emulator: Emulator, idp) -> None:
    response = userinfo(emulator, password_auth(idp)["AccessToken"])

    assert response.status_code == 401


def test_refresh_token_auth_keeps_auth_time_and_the_local_issuer(emulator: Emulator, idp) -> None:
    first = password_auth(idp)
    time.sleep(1.1)

    refreshed = idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": first["RefreshToken"], "SECRET_HASH": secret_hash("bob")},
    )["AuthenticationResult"]

    before = verify(emulator, first["IdToken"], token_use="id")
    after = verify(emulator, refreshed["IdToken"], token_use="id")
    assert after["auth_time"] == before["auth_time"]
    assert after["iat"] > before["iat"]


def test_token_endpoint_refreshes_an_initiate_auth_refresh_token(emulator: Emulator, idp) -> None:
    first = password_auth(idp)

    response = token_request(
        emulator, {"grant_type": "refresh_token", "refresh_token": first["RefreshToken"]}
    )

    assert response.status_code == 200
    claims = verify(emulator, response.json()["access_token"], token_use="access")
    assert claims["scope"] == "aws.cognito.signin.user.admin"
    verify(emulator, response.json()["id_token"], token_use="id")


def test_initiate_auth_expires_in_follows_the_client(emulator: Emulator, idp) -> None:
    idp.update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        AccessTokenValidity=5,
        TokenValidityUnits={"AccessToken": "minutes"},
    )

    result = password_auth(idp)

    assert result["ExpiresIn"] == 300
    claims = verify(emulator, result["AccessToken"], token_use="access")
    assert claims["exp"] - claims["iat"] == 300


def test_managed_login_access_token_with_the_admin_scope_works_with_the_user_api(
    emulator: Emulator, idp
) -> None:
    tokens = signed_in_tokens(emulator, "bob", scope="openid aws.cognito.signin.user.admin")

    user = idp.get_user(AccessToken=tokens["access_token"])

    assert user["Username"] == "bob"


@pytest.mark.parametrize(
    "operation",
    [
        lambda idp, token: idp.get_user(AccessToken=token),
        lambda idp, token: idp.global_sign_out(AccessToken=token),
        lambda idp, token: idp.update_user_attributes(
            AccessToken=token, UserAttributes=[{"Name": "given_name", "Value": "Robert"}]
        ),
    ],
    ids=["GetUser", "GlobalSignOut", "UpdateUserAttributes"],
)
def test_managed_login_access_token_without_the_admin_scope_is_refused_by_the_user_api(
    emulator: Emulator, idp, operation
) -> None:
    """moto gap: moto takes any access token. Cognito wants aws.cognito.signin.user.admin."""
    tokens = signed_in_tokens(emulator, "bob", scope="openid email profile")

    with pytest.raises(ClientError) as refused:
        operation(idp, tokens["access_token"])

    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert (
        refused.value.response["Error"]["Message"] == "Access Token does not have required scopes"
    )


def test_revoke_token_operation_ends_the_refresh_token(emulator: Emulator, idp) -> None:
    """moto gap: moto does not implement RevokeToken."""
    revoked = password_auth(idp)
    live = password_auth(idp)

    idp.revoke_token(
        Token=revoked["RefreshToken"], ClientId=seed.CLIENT_ID, ClientSecret=seed.CLIENT_SECRET
    )

    def refresh(refresh_token: str) -> dict:
        return idp.initiate_auth(
            ClientId=seed.CLIENT_ID,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token, "SECRET_HASH": secret_hash("bob")},
        )

    with pytest.raises(ClientError) as error:
        refresh(revoked["RefreshToken"])
    assert error.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert refresh(live["RefreshToken"])["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as error:
        idp.get_user(AccessToken=revoked["AccessToken"])
    assert error.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_revoke_token_with_a_wrong_secret_is_unauthorized(idp) -> None:
    refresh_token = password_auth(idp)["RefreshToken"]

    with pytest.raises(ClientError) as error:
        idp.revoke_token(
            Token=refresh_token,
            ClientId=seed.CLIENT_ID,
            ClientSecret="wrong-secret-0123456789abcdef",
        )

    assert error.value.response["Error"]["Code"] == "UnauthorizedException"
