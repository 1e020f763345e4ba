"""OIDC discovery and JWKS under the local issuer."""

from __future__ import annotations

import base64

import requests

from emulator import seed
from emulator.server import Emulator


def test_discovery_lists_every_managed_login_endpoint(emulator: Emulator) -> None:
    """moto gap: moto's document has no authorization, token, userInfo, revoke or logout endpoint
    and names the AWS issuer, which its tokens' `iss` and the local URLs do not match."""
    response = requests.get(f"{emulator.issuer}/.well-known/openid-configuration", timeout=5)
    document = response.json()

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert document["issuer"] == emulator.issuer
    assert document["jwks_uri"] == f"{emulator.issuer}/.well-known/jwks.json"
    assert document["authorization_endpoint"] == f"{emulator.domain}/oauth2/authorize"
    assert document["token_endpoint"] == f"{emulator.domain}/oauth2/token"
    assert document["userinfo_endpoint"] == f"{emulator.domain}/oauth2/userInfo"
    assert document["revocation_endpoint"] == f"{emulator.domain}/oauth2/revoke"
    assert document["end_session_endpoint"] == f"{emulator.domain}/logout"
    assert document["response_types_supported"] == ["code", "token"]
    assert document["scopes_supported"] == ["openid", "email", "phone", "profile"]
    assert document["subject_types_supported"] == ["public"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]


def test_jwks_has_two_rsa_signing_keys_with_cognito_like_kids(emulator: Emulator) -> None:
    """moto gap: moto serves one fixed key, `kid: dummy`, for both token types."""
    keys = requests.get(f"{emulator.issuer}/.well-known/jwks.json", timeout=5).json()["keys"]

    assert len(keys) == 2
    assert len({key["kid"] for key in keys}) == 2
    for key in keys:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
        assert key["e"] == "AQAB" and key["n"]
        assert key["kid"].endswith("=") and len(base64.b64decode(key["kid"])) == 32


def test_unknown_pool_has_no_discovery(emulator: Emulator) -> None:
    response = requests.get(
        f"{emulator.url}/{seed.REGION}_nosuchpool/.well-known/openid-configuration", timeout=5
    )

    assert response.status_code == 400
    assert response.json()["__type"] == "ResourceNotFoundException"
