"""GET /oauth2/userInfo, POST /oauth2/revoke and GET /logout."""

from __future__ import annotations

import pytest
import requests

from emulator import seed
from emulator.server import Emulator
from emulator.world import user_sub

from .flows import LOGOUT_URI, REDIRECT_URI, Browser, signed_in_tokens, token_request, userinfo


def revoke(
    emulator: Emulator, token: str, *, secret: str = seed.CLIENT_SECRET
) -> requests.Response:
    return requests.post(
        f"{emulator.url}/oauth2/revoke",
        data={"token": token},
        auth=(seed.CLIENT_ID, secret),
        timeout=5,
    )


def test_userinfo_returns_the_attributes_the_scopes_allow(emulator: Emulator) -> None:
    """moto gap: moto has no userInfo endpoint."""
    tokens = signed_in_tokens(emulator, "bob", scope="openid email")

    response = userinfo(emulator, tokens["access_token"])

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.json() == {
        "sub": user_sub("bob"),
        "username": "bob",
        "email": "bob@example.com",
        "email_verified": "true",
    }


def test_userinfo_with_openid_only_gives_sub_and_username(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator, "bob", scope="openid")

    assert set(userinfo(emulator, tokens["access_token"]).json()) == {"sub", "username"}


def test_userinfo_with_profile_gives_the_profile_attributes(emulator: Emulator, idp) -> None:
    idp.admin_update_user_attributes(
        UserPoolId=seed.USER_POOL_ID,
        Username="bob",
        UserAttributes=[{"Name": "name", "Value": "Bob Builder"}],
    )
    tokens = signed_in_tokens(emulator, "bob", scope="openid profile")

    claims = userinfo(emulator, tokens["access_token"]).json()

    assert claims["name"] == "Bob Builder"
    assert "email" not in claims


def test_userinfo_refuses_a_token_without_openid(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator, "bob", scope="aws.cognito.signin.user.admin")

    response = userinfo(emulator, tokens["access_token"])

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "openid scope" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer "])
def test_userinfo_without_a_bearer_token_is_a_bad_request(
    emulator: Emulator, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}

    response = requests.get(f"{emulator.url}/oauth2/userInfo", headers=headers, timeout=5)

    assert response.status_code == 400
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_request", error_description=')
    assert "Bad OAuth2 request at UserInfo Endpoint" in challenge


def test_userinfo_refuses_a_tampered_or_id_token(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator)
    header, payload, signature = tokens["access_token"].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    for token in (tampered, tokens["id_token"], "not-a-jwt"):
        response = userinfo(emulator, token)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert userinfo(emulator, tokens["access_token"]).status_code == 200


def test_revoking_the_refresh_token_ends_it_and_its_access_tokens(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator, "bob")
    live = signed_in_tokens(emulator, "bob")

    response = revoke(emulator, tokens["refresh_token"])

    assert response.status_code == 200 and response.content == b""
    refreshed = token_request(
        emulator, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.json() == {"error": "invalid_grant"}
    assert userinfo(emulator, tokens["access_token"]).status_code == 401
    still_live = token_request(
        emulator, {"grant_type": "refresh_token", "refresh_token": live["refresh_token"]}
    )
    assert still_live.status_code == 200
    assert userinfo(emulator, live["access_token"]).status_code == 200


def test_revoking_an_unknown_token_is_still_200(emulator: Emulator) -> None:
    response = revoke(emulator, "no-such-token")

    assert response.status_code == 200 and response.content == b""


def test_revoke_errors(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator)

    bad_client = revoke(emulator, tokens["refresh_token"], secret="wrong")
    access_token = revoke(emulator, tokens["access_token"])
    missing = requests.post(
        f"{emulator.url}/oauth2/revoke", auth=(seed.CLIENT_ID, seed.CLIENT_SECRET), timeout=5
    )

    assert (bad_client.status_code, bad_client.json()) == (401, {"error": "invalid_client"})
    assert access_token.json() == {"error": "unsupported_token_type"}
    assert (missing.status_code, missing.json()) == (400, {"error": "invalid_request"})
    assert userinfo(emulator, tokens["access_token"]).status_code == 200


def test_logout_clears_the_session_and_goes_to_the_logout_uri(emulator: Emulator) -> None:
    browser = Browser(emulator)
    browser.sign_in("bob")

    response = browser.get(
        "/logout", params={"client_id": seed.CLIENT_ID, "logout_uri": LOGOUT_URI}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == LOGOUT_URI
    assert 'cognito-demo-session=""' in response.headers["Set-Cookie"] or (
        "Max-Age=0" in response.headers["Set-Cookie"]
    )
    assert emulator.state.hosted_sessions == {}


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": seed.CLIENT_ID, "logout_uri": "http://evil.example/"},
        {"client_id": seed.CLIENT_ID, "logout_uri": LOGOUT_URI + "x"},
        {"client_id": "unknown", "logout_uri": LOGOUT_URI},
        {"logout_uri": LOGOUT_URI},
        {"client_id": seed.CLIENT_ID},
        {"client_id": seed.CLIENT_ID, "post_logout_redirect_uri": LOGOUT_URI},
    ],
)
def test_a_bad_logout_request_gets_the_error_page_and_keeps_the_session(
    emulator: Emulator, params: dict[str, str]
) -> None:
    browser = Browser(emulator)
    browser.sign_in("bob")

    response = browser.get("/logout", params=params)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "An error was encountered with the requested page." in response.text
    assert browser.authorize().headers["Location"].startswith(REDIRECT_URI)


def test_logout_with_redirect_uri_shows_login_again(emulator: Emulator) -> None:
    browser = Browser(emulator)
    browser.sign_in("bob")

    response = browser.get(
        "/logout",
        params={"client_id": seed.CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code"},
    )

    assert response.headers["Location"].startswith("/login?")
    assert browser.authorize().headers["Location"].startswith("/login?")


def test_global_sign_out_ends_access_tokens_at_userinfo(emulator: Emulator, idp) -> None:
    tokens = signed_in_tokens(emulator, "bob", scope="openid aws.cognito.signin.user.admin")
    assert userinfo(emulator, tokens["access_token"]).status_code == 200

    idp.global_sign_out(AccessToken=tokens["access_token"])

    assert userinfo(emulator, tokens["access_token"]).status_code == 401


def test_error_page_escapes_the_error_code(emulator: Emulator) -> None:
    response = requests.get(f"{emulator.url}/error", params={"error": "<script>"}, timeout=5)

    assert response.status_code == 400
    assert "<script>" not in response.text and "&lt;script&gt;" in response.text
