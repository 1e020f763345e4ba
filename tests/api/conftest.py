"""Tokens from the emulator over real HTTP (the grants an API's callers use) and a JSON client."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from django.test import Client

from api.bearer import verified_tokens
from emulator import seed
from emulator.server import Emulator
from tests.accounts.conftest import _plain_static_storage, api_signed_in
from tests.emulator.api_flows import idp_client, initiate_password, respond
from tests.emulator.flows import totp_code

__all__ = ["_plain_static_storage", "api_signed_in"]


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    """Each test verifies its tokens afresh (the cache is per process)."""
    verified_tokens.clear()
    yield
    verified_tokens.clear()


def machine_token(emulator: Emulator, scope: str | None = None) -> str:
    """client_credentials at the emulator's token endpoint, as a machine does it."""
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = requests.post(
        f"{emulator.url}/oauth2/token",
        data=data,
        auth=(seed.MACHINE_CLIENT_ID, seed.MACHINE_CLIENT_SECRET),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def api_sign_in_tokens(emulator: Emulator, username: str) -> dict[str, Any]:
    """InitiateAuth (and the TOTP step) of the web client: AuthenticationResult."""
    idp = idp_client(emulator)
    result = initiate_password(idp, username)
    if result.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
        code = totp_code(username)
        result = respond(idp, result, "SOFTWARE_TOKEN_MFA", username, SOFTWARE_TOKEN_MFA_CODE=code)
    return result["AuthenticationResult"]


def issuer_signed(emulator: Emulator, **changes: Any) -> str:
    """An access token signed with the issuer's own key, with some claims changed."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid4()),
        "iss": emulator.issuer,
        "client_id": seed.CLIENT_ID,
        "token_use": "access",
        "scope": "notes/read notes/write",
        "username": "mallory",
        "auth_time": now,
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
    }
    claims.update(changes)
    return emulator.state.tokens.sign(claims, token_use="access")


@pytest.fixture
def call(client: Client, db: None) -> Callable[..., Any]:
    """A request to the API with a bearer token (or none), as any HTTP client sends it."""

    def call(method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return client.generic(method, path, headers=headers, **kwargs)

    return call
