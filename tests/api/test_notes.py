"""The notes themselves: each caller's own, JSON in and out, JSON errors for every mistake."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from emulator.server import Emulator
from tests.emulator.flows import signed_in_tokens

from .conftest import api_sign_in_tokens, machine_token

Call = Callable[..., Any]


def post(call: Call, token: str, body: object) -> Any:
    return call(
        "POST", "/api/notes/", token, data=json.dumps(body), content_type="application/json"
    )


def test_a_writer_creates_reads_lists_and_deletes_a_note(emulator: Emulator, call: Call) -> None:
    token = api_sign_in_tokens(emulator, "alice")["AccessToken"]

    created = post(call, token, {"text": "  buy milk "}).json()
    listed = call("GET", "/api/notes/", token).json()
    read = call("GET", f"/api/notes/{created['id']}", token)
    deleted = call("DELETE", f"/api/notes/{created['id']}", token)
    after = call("GET", f"/api/notes/{created['id']}", token)

    assert created["text"] == "buy milk"
    assert listed == [created]
    assert read.status_code == 200 and read.json() == created
    assert deleted.status_code == 204
    assert after.status_code == 404 and after.json()["error"] == "not_found"


def test_a_note_is_its_owners_alone(emulator: Emulator, call: Call) -> None:
    alice = api_sign_in_tokens(emulator, "alice")["AccessToken"]
    # bob through managed login, the web client asking for the notes scopes.
    bob = signed_in_tokens(emulator, "bob", scope="openid notes/read notes/write")["access_token"]
    note = post(call, alice, {"text": "alice's"}).json()

    assert call("GET", "/api/notes/", bob).json() == []
    assert call("GET", f"/api/notes/{note['id']}", bob).status_code == 404
    assert call("DELETE", f"/api/notes/{note['id']}", bob).status_code == 404
    assert call("GET", f"/api/notes/{note['id']}", alice).status_code == 200


def test_a_machine_has_notes_of_its_own(emulator: Emulator, call: Call) -> None:
    alice = api_sign_in_tokens(emulator, "alice")["AccessToken"]
    post(call, alice, {"text": "alice's"})

    assert call("GET", "/api/notes/", machine_token(emulator)).json() == []


@pytest.mark.parametrize(
    "body",
    ["not json", [], {"text": ""}, {"text": "   "}, {"text": 5}, {"text": "x" * 501}, {}],
)
def test_a_bad_note_is_a_json_400(emulator: Emulator, call: Call, body: object) -> None:
    token = api_sign_in_tokens(emulator, "alice")["AccessToken"]
    data = body if isinstance(body, str) else json.dumps(body)

    response = call("POST", "/api/notes/", token, data=data, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert post(call, token, {"text": "x" * 500}).status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/nothing-here", 404),
        ("POST", "/api/nothing-here", 404),
        ("GET", "/api/me/", 404),
        ("GET", "/api/notes/abc", 404),
        ("GET", "/api/notes/123456789012345678901234567890", 404),
        ("PUT", "/api/notes/", 405),
        ("PATCH", "/api/notes/1", 405),
        ("POST", "/api/me", 405),
        ("DELETE", "/api/", 405),
    ],
)
def test_unknown_paths_and_methods_answer_json(
    call: Call, method: str, path: str, status: int
) -> None:
    response = call(method, path)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()
    if status == 405:
        assert response["Allow"]
