"""Who the API lets in: RFC 6750 answers for every refused token, beside the accepted twin."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from api.bearer import INVALID_TOKEN
from emulator import pretoken, seed
from emulator.server import Emulator

from .conftest import api_sign_in_tokens, issuer_signed, machine_token

Call = Callable[..., Any]


def refused(response: Any) -> None:
    """401 invalid_token: JSON, a challenge, and one description that tells nothing."""
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "invalid_token", "error_description": INVALID_TOKEN}
    assert response["WWW-Authenticate"] == (
        f'Bearer realm="api", error="invalid_token", error_description="{INVALID_TOKEN}"'
    )


def test_a_web_client_access_token_is_accepted(emulator: Emulator, call: Call) -> None:
    tokens = api_sign_in_tokens(emulator, "bob")

    response = call("GET", "/api/me", tokens["AccessToken"])

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "user" and body["username"] == "bob"
    assert body["client_id"] == seed.CLIENT_ID
    assert body["scopes"] == ["aws.cognito.signin.user.admin"]


def test_a_request_without_a_token_gets_a_challenge_without_an_error(call: Call) -> None:
    response = call("GET", "/api/me")

    assert response.status_code == 401
    # RFC 6750 3.1: no error code when the request carried no authentication at all.
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"] == "invalid_token"


@pytest.mark.parametrize("authorization", ["Basic Ym9iOnNlY3JldA==", "Bearer", "Bearer   ", "bob"])
def test_other_authorization_schemes_are_no_token(
    client: Client, db: None, authorization: str
) -> None:
    response = client.get("/api/me", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_token_in_the_query_string_is_not_read(
    emulator: Emulator, client: Client, db: None
) -> None:
    token = api_sign_in_tokens(emulator, "bob")["AccessToken"]

    assert client.get("/api/me", {"access_token": token}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_session_cookie_is_not_a_credential(
    emulator: Emulator, api_signed_in: Callable[..., Client]
) -> None:
    client = api_signed_in("bob")
    token = client.session["accounts.tokens"]["access_token"]

    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 20000],
    ids=["garbage", "three-dots", "alg-none", "huge"],
)
def test_malformed_tokens_are_refused(emulator: Emulator, call: Call, token: str) -> None:
    refused(call("GET", "/api/me", token))


def test_an_issuer_signed_token_is_accepted(emulator: Emulator, call: Call) -> None:
    """The twin of the cases below: the same construction, nothing wrong with it."""
    assert call("GET", "/api/me", issuer_signed(emulator)).status_code == 200


def test_an_expired_token_is_refused(emulator: Emulator, call: Call) -> None:
    now = int(time.time())
    refused(call("GET", "/api/me", issuer_signed(emulator, iat=now - 4000, exp=now - 300)))


def test_a_token_of_another_issuer_is_refused(emulator: Emulator, call: Call) -> None:
    other = f"{emulator.url}/{seed.REGION}_OTHERpool"
    refused(call("GET", "/api/me", issuer_signed(emulator, iss=other)))


def test_a_forged_signature_is_refused(emulator: Emulator, call: Call) -> None:
    genuine = issuer_signed(emulator)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    kid = jwt.get_unverified_header(genuine)["kid"]
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, forger, algorithm="RS256", headers={"kid": kid})

    refused(call("GET", "/api/me", forged))


def test_an_id_token_is_refused(emulator: Emulator, call: Call) -> None:
    tokens = api_sign_in_tokens(emulator, "bob")

    refused(call("GET", "/api/me", tokens["IdToken"]))
    assert call("GET", "/api/me", tokens["AccessToken"]).status_code == 200


def test_a_client_off_the_allow_list_is_refused(
    emulator: Emulator, call: Call, settings: Any
) -> None:
    token = issuer_signed(emulator, client_id=seed.PUBLIC_CLIENT_ID)

    refused(call("GET", "/api/me", token))
    settings.API_ALLOWED_CLIENT_IDS = [seed.CLIENT_ID, seed.PUBLIC_CLIENT_ID]
    assert call("GET", "/api/me", token).status_code == 200


def test_a_cached_token_is_refused_once_its_client_leaves_the_allow_list(
    emulator: Emulator, call: Call, settings: Any
) -> None:
    token = machine_token(emulator)
    assert call("GET", "/api/me", token).status_code == 200

    settings.API_ALLOWED_CLIENT_IDS = [seed.CLIENT_ID]

    refused(call("GET", "/api/me", token))


# 403: a good token without the scope the request needs.


def insufficient(response: Any, scope: str) -> None:
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api", error="insufficient_scope"')
    assert challenge.endswith(f'scope="{scope}"')


def test_a_machine_token_reads_but_cannot_write(emulator: Emulator, call: Call) -> None:
    token = machine_token(emulator)

    assert call("GET", "/api/notes/", token).json() == []
    insufficient(call("POST", "/api/notes/", token, data=json.dumps({"text": "hi"})), "notes/write")
    me = call("GET", "/api/me", token).json()
    assert me["kind"] == "machine" and me["client_id"] == me["sub"] == seed.MACHINE_CLIENT_ID


def test_an_api_sign_in_outside_the_writers_cannot_read(emulator: Emulator, call: Call) -> None:
    token = api_sign_in_tokens(emulator, "bob")["AccessToken"]

    insufficient(call("GET", "/api/notes/", token), "notes/read")


def test_an_api_sign_in_of_a_writer_writes_through_the_trigger(
    emulator: Emulator, call: Call
) -> None:
    token = api_sign_in_tokens(emulator, "alice")["AccessToken"]

    response = call("POST", "/api/notes/", token, data=json.dumps({"text": "from alice"}))

    assert response.status_code == 201
    assert response.json()["text"] == "from alice"


def test_without_the_trigger_the_writer_has_no_notes_scope(emulator: Emulator, call: Call) -> None:
    pretoken.configure(emulator.state, seed.USER_POOL_ID, handler=None, version="V1_0")
    token = api_sign_in_tokens(emulator, "alice")["AccessToken"]

    insufficient(call("POST", "/api/notes/", token, data=json.dumps({"text": "x"})), "notes/write")
    insufficient(call("GET", "/api/notes/", token), "notes/read")
