"""POST /oauth2/token: the code exchange, refresh, client authentication and token contents."""

from __future__ import annotations

import base64
import hashlib
import time

import jwt
import pytest
import requests

from emulator import seed
from emulator.server import Emulator

from .flows import (
    REDIRECT_URI,
    Browser,
    Pkce,
    exchange,
    signed_in_tokens,
    token_request,
    userinfo,
    verify,
)


@pytest.fixture
def browser(emulator: Emulator) -> Browser:
    return Browser(emulator)


def test_code_exchange_returns_tokens_as_cognito_does(emulator: Emulator, browser: Browser) -> None:
    """moto gap: moto has no token endpoint to exchange an authorization code at."""
    response = exchange(emulator, browser.sign_in("bob"))
    body = response.json()

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body) == {"access_token", "id_token", "refresh_token", "token_type", "expires_in"}
    assert body["refresh_token"].count(".") == 0


def test_id_token_carries_the_nonce_and_cognito_claims(emulator: Emulator) -> None:
    """moto gap: moto's ID tokens have no nonce, no at_hash and moto's own issuer."""
    tokens = signed_in_tokens(emulator, "alice")
    claims = verify(emulator, tokens["id_token"], token_use="id")

    assert claims["nonce"] == "nonce-456"
    assert claims["aud"] == seed.CLIENT_ID
    assert claims["cognito:username"] == "alice"
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["iss"] == emulator.issuer
    digest = hashlib.sha256(tokens["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert {"sub", "auth_time", "iat", "exp", "jti", "origin_jti"} <= set(claims)


def test_access_token_has_client_id_not_aud_and_the_granted_scopes(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator, "bob", scope="openid email aws.cognito.signin.user.admin")
    claims = verify(emulator, tokens["access_token"], token_use="access")
    id_claims = verify(emulator, tokens["id_token"], token_use="id")

    assert "aud" not in claims
    assert claims["client_id"] == seed.CLIENT_ID
    assert claims["username"] == "bob"
    assert claims["scope"] == "openid email aws.cognito.signin.user.admin"
    assert claims["version"] == 2
    assert claims["sub"] == id_claims["sub"]
    assert claims["origin_jti"] == id_claims["origin_jti"]
    assert claims["jti"] != id_claims["jti"]


def test_id_and_access_tokens_are_signed_with_different_keys(emulator: Emulator) -> None:
    """moto gap: moto signs every token with one key whose kid is `dummy`."""
    tokens = signed_in_tokens(emulator)

    id_kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    access_kid = jwt.get_unverified_header(tokens["access_token"])["kid"]

    assert id_kid != access_kid
    assert "dummy" not in (id_kid, access_kid)
    assert jwt.get_unverified_header(tokens["id_token"]) == {"alg": "RS256", "kid": id_kid}


def test_without_openid_there_is_no_id_token(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator, scope="aws.cognito.signin.user.admin")

    assert "id_token" not in tokens
    assert verify(emulator, tokens["access_token"], token_use="access")["scope"] == (
        "aws.cognito.signin.user.admin"
    )


def test_client_secret_post_works_like_basic(emulator: Emulator, browser: Browser) -> None:
    assert exchange(emulator, browser.sign_in("bob"), basic=False).status_code == 200


@pytest.mark.parametrize("basic", [True, False])
def test_a_wrong_client_secret_is_invalid_client(
    emulator: Emulator, browser: Browser, basic: bool
) -> None:
    data = {"grant_type": "authorization_code", "code": browser.sign_in("bob")}
    response = token_request(
        emulator, {**data, "redirect_uri": REDIRECT_URI}, basic=basic, secret="wrong"
    )

    assert response.json() == {"error": "invalid_client"}
    # Basic failures are 401 with a challenge (RFC 6749 5.2); body failures 400 as Cognito's doc.
    assert response.status_code == (401 if basic else 400)
    assert ("WWW-Authenticate" in response.headers) is basic


def test_a_confidential_client_cannot_pass_as_public(emulator: Emulator, browser: Browser) -> None:
    response = requests.post(
        f"{emulator.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": seed.CLIENT_ID,
            "code": browser.sign_in("bob"),
            "redirect_uri": REDIRECT_URI,
        },
        timeout=5,
    )

    assert response.json() == {"error": "invalid_client"}


def test_a_code_is_single_use(emulator: Emulator, browser: Browser) -> None:
    code = browser.sign_in("bob")

    fresh = exchange(emulator, code)
    reused = exchange(emulator, code)

    assert fresh.status_code == 200
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant"}


def test_an_unknown_code_is_invalid_grant(emulator: Emulator) -> None:
    assert exchange(emulator, "made-up").json() == {"error": "invalid_grant"}


def test_a_code_expires_after_five_minutes(emulator: Emulator, browser: Browser) -> None:
    code = browser.sign_in("bob")
    issued = emulator.state.codes[code]
    emulator.state.codes[code] = type(issued)(**{**issued.__dict__, "expires_at": time.time() - 1})

    assert exchange(emulator, code).json() == {"error": "invalid_grant"}
    assert issued.expires_at - time.time() == pytest.approx(300, abs=5)


def test_redirect_uri_must_equal_the_authorize_one(emulator: Emulator, browser: Browser) -> None:
    other = exchange(emulator, browser.sign_in("bob"), redirect_uri=REDIRECT_URI + "other")
    same = exchange(emulator, browser.sign_in("bob"), redirect_uri=REDIRECT_URI)

    assert other.json() == {"error": "invalid_grant"}
    assert same.status_code == 200


def test_pkce_verifier_must_match_the_challenge(emulator: Emulator, browser: Browser) -> None:
    pkce = Pkce.new()
    pkce_params = {"code_challenge": pkce.challenge, "code_challenge_method": "S256"}

    wrong = exchange(emulator, browser.sign_in("bob", **pkce_params), verifier=Pkce.new().verifier)
    missing = exchange(emulator, browser.sign_in("bob", **pkce_params))
    right = exchange(emulator, browser.sign_in("bob", **pkce_params), verifier=pkce.verifier)

    assert wrong.json() == missing.json() == {"error": "invalid_grant"}
    assert right.status_code == 200


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, "unauthorized_client"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
    ],
)
def test_malformed_token_requests(emulator: Emulator, data: dict[str, str], error: str) -> None:
    response = token_request(emulator, data)

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_token_endpoint_wants_a_form(emulator: Emulator) -> None:
    response = requests.post(
        f"{emulator.url}/oauth2/token",
        json={"grant_type": "authorization_code"},
        auth=(seed.CLIENT_ID, seed.CLIENT_SECRET),
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}


def test_refresh_returns_new_tokens_and_keeps_auth_time(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator, "bob")
    first = verify(emulator, tokens["id_token"], token_use="id")
    time.sleep(1.1)

    response = token_request(
        emulator, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    refreshed = response.json()
    claims = verify(emulator, refreshed["id_token"], token_use="id")

    assert response.status_code == 200
    assert "refresh_token" not in refreshed
    assert claims["auth_time"] == first["auth_time"]
    assert claims["iat"] > first["iat"]
    assert claims["origin_jti"] == first["origin_jti"]
    access = verify(emulator, refreshed["access_token"], token_use="access")
    assert access["scope"] == "openid email profile"


def test_refresh_token_of_another_client_is_invalid_grant(emulator: Emulator, idp) -> None:
    other = idp.create_user_pool_client(
        UserPoolId=seed.USER_POOL_ID, ClientName="other", GenerateSecret=False
    )["UserPoolClient"]
    tokens = signed_in_tokens(emulator)

    response = requests.post(
        f"{emulator.url}/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": other["ClientId"],
            "refresh_token": tokens["refresh_token"],
        },
        timeout=5,
    )

    assert response.json() == {"error": "invalid_grant"}


def test_rotation_returns_a_new_refresh_token_and_ends_the_old(emulator: Emulator) -> None:
    emulator.state.client(seed.CLIENT_ID).extended_config["RefreshTokenRotation"] = {
        "Feature": "ENABLED",
        "RetryGracePeriodSeconds": 0,
    }
    tokens = signed_in_tokens(emulator)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

    rotated = token_request(emulator, data).json()
    reused = token_request(emulator, data)
    with_new = token_request(
        emulator, {"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]}
    )

    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert reused.json() == {"error": "invalid_grant"}
    assert with_new.status_code == 200


def test_the_token_endpoint_honours_the_retry_grace_period(emulator: Emulator) -> None:
    emulator.state.client(seed.CLIENT_ID).extended_config["RefreshTokenRotation"] = {
        "Feature": "ENABLED",
        "RetryGracePeriodSeconds": 1,
    }
    tokens = signed_in_tokens(emulator)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

    rotated = token_request(emulator, data)
    retried = token_request(emulator, data)
    time.sleep(1.1)
    too_late = token_request(emulator, data)

    assert rotated.status_code == retried.status_code == 200
    assert rotated.json()["refresh_token"] != retried.json()["refresh_token"]
    assert too_late.json() == {"error": "invalid_grant"}


def test_short_lived_tokens_through_the_clients_validity_settings(emulator: Emulator, idp) -> None:
    """moto gap: moto always issues 3600 s tokens; here the client's validity settings count."""
    idp.update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        AccessTokenValidity=1,
        IdTokenValidity=2,
        TokenValidityUnits={"AccessToken": "seconds", "IdToken": "seconds"},
    )
    tokens = signed_in_tokens(emulator)
    claims = verify(emulator, tokens["access_token"], token_use="access")

    assert tokens["expires_in"] == 1
    assert claims["exp"] - claims["iat"] == 1
    time.sleep(2.1)
    assert userinfo(emulator, tokens["access_token"]).status_code == 401
    emulator.reset()
    assert signed_in_tokens(emulator)["expires_in"] == 3600
