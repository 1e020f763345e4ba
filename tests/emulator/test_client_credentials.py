"""The machine client, the public client and the notes resource server of the seed, over HTTP."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import requests
from pycognito.aws_srp import AWSSRP

from emulator import seed
from emulator.server import Emulator

from .api_flows import error_of
from .flows import Browser, jwks_client, query_of, signed_in_tokens, userinfo, verify

MACHINE = (seed.MACHINE_CLIENT_ID, seed.MACHINE_CLIENT_SECRET)


def machine_token(
    emulator: Emulator,
    *,
    scope: str | None = None,
    auth: tuple[str, str] = MACHINE,
    basic: bool = True,
) -> requests.Response:
    """grant_type=client_credentials with Basic client authentication or the secret in the body."""
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    url = f"{emulator.url}/oauth2/token"
    if basic:
        return requests.post(url, data=data, auth=auth, timeout=5)
    client_id, secret = auth
    return requests.post(
        url, data={**data, "client_id": client_id, "client_secret": secret}, timeout=5
    )


def machine_claims(emulator: Emulator, token: str) -> dict[str, Any]:
    """Verify a machine token against the JWKS and the issuer, as a resource server does."""
    key = jwks_client(emulator).get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        issuer=emulator.issuer,
        options={"verify_aud": False, "require": ["exp", "iat", "iss"]},
    )


@pytest.mark.parametrize("basic", [True, False], ids=["client_secret_basic", "client_secret_post"])
def test_machine_client_gets_an_access_token_of_its_own(emulator: Emulator, basic: bool) -> None:
    response = machine_token(emulator, basic=basic)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}  # no ID or refresh token
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    claims = machine_claims(emulator, body["access_token"])
    assert claims["sub"] == claims["client_id"] == seed.MACHINE_CLIENT_ID
    assert claims["token_use"] == "access"
    assert claims["scope"] == "notes/read"  # every custom scope the client may have
    assert claims["version"] == 2
    assert "username" not in claims and "origin_jti" not in claims


def test_a_scope_the_machine_may_have_is_granted(emulator: Emulator) -> None:
    response = machine_token(emulator, scope="notes/read")

    assert response.status_code == 200, response.text
    assert machine_claims(emulator, response.json()["access_token"])["scope"] == "notes/read"


@pytest.mark.parametrize(
    "scope",
    ["openid", "notes/read openid", "notes/write", "notes/delete", "aws.cognito.signin.user.admin"],
)
def test_other_scopes_are_refused_with_invalid_scope(emulator: Emulator, scope: str) -> None:
    response = machine_token(emulator, scope=scope)

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_scope"}


def test_a_wrong_secret_is_refused(emulator: Emulator) -> None:
    response = machine_token(emulator, auth=(seed.MACHINE_CLIENT_ID, "not-the-secret"))

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}


@pytest.mark.parametrize(
    "auth",
    [(seed.CLIENT_ID, seed.CLIENT_SECRET), (seed.PUBLIC_CLIENT_ID, "")],
    ids=["web client", "public client"],
)
def test_clients_without_the_grant_are_unauthorized(
    emulator: Emulator, auth: tuple[str, str]
) -> None:
    """The web client has the code grant only; the public client has no secret and no grant."""
    if auth[1]:
        response = machine_token(emulator, auth=auth)
    else:
        response = requests.post(
            f"{emulator.url}/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": auth[0]},
            timeout=5,
        )

    assert response.status_code == 400
    assert response.json() == {"error": "unauthorized_client"}


def test_a_machine_token_is_no_user_token(emulator: Emulator, idp: Any) -> None:
    token = machine_token(emulator).json()["access_token"]

    assert userinfo(emulator, token).status_code == 401
    assert error_of(idp.get_user, AccessToken=token)["Code"] == "NotAuthorizedException"


def test_managed_login_grants_the_notes_scopes_the_web_client_asks_for(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator, "bob", scope="openid notes/read notes/write")

    claims = verify(emulator, tokens["access_token"], token_use="access")
    assert claims["scope"] == "openid notes/read notes/write"


def test_managed_login_refuses_a_scope_the_resource_server_lacks(emulator: Emulator) -> None:
    response = Browser(emulator).authorize(scope="openid notes/delete")

    assert response.status_code == 302
    assert query_of(response)["error"] == "invalid_scope"


def test_the_public_client_signs_in_with_srp_and_no_secret(emulator: Emulator, idp: Any) -> None:
    srp = AWSSRP(
        username="bob",
        password="Bob-Passw0rd!",
        pool_id=seed.USER_POOL_ID,
        client_id=seed.PUBLIC_CLIENT_ID,
        client=idp,
    )
    tokens = srp.authenticate_user()["AuthenticationResult"]

    claims = machine_claims(emulator, tokens["AccessToken"])
    assert claims["client_id"] == seed.PUBLIC_CLIENT_ID
    refreshed = idp.initiate_auth(
        ClientId=seed.PUBLIC_CLIENT_ID,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )
    assert "AccessToken" in refreshed["AuthenticationResult"]


def test_the_public_client_refuses_password_sign_in(emulator: Emulator, idp: Any) -> None:
    error = error_of(
        idp.initiate_auth,
        ClientId=seed.PUBLIC_CLIENT_ID,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "bob", "PASSWORD": "Bob-Passw0rd!"},
    )

    assert error["Code"] == "InvalidParameterException"


def test_the_manifest_lists_the_machine_and_the_public_client(emulator: Emulator) -> None:
    manifest = emulator.manifest("http://127.0.0.1:8000")

    assert manifest["public_client_id"] == seed.PUBLIC_CLIENT_ID
    assert manifest["machine_client"] == {
        "client_id": seed.MACHINE_CLIENT_ID,
        "client_secret": seed.MACHINE_CLIENT_SECRET,
        "scopes": ["notes/read"],
    }
    machine = manifest["machine_client"]
    assert machine_token(emulator, auth=(machine["client_id"], machine["client_secret"])).ok
