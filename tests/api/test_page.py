"""The site's page that asks its own API with the signed-in user's token, server-side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from emulator.server import Emulator


def test_a_writer_sees_the_api_let_them_read_their_notes(
    emulator: Emulator, api_signed_in: Callable[..., Client]
) -> None:
    client = api_signed_in("alice")

    response = client.get("/api/")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="api-status">200<') == 2
    assert "notes/write" in page and 'data-testid="api-scope">notes/read<' in page
    assert "your token has it" in page
    assert client.session["accounts.tokens"]["access_token"] not in page


def test_a_user_without_the_scope_sees_the_403_and_the_scope_it_needs(
    emulator: Emulator, api_signed_in: Callable[..., Client]
) -> None:
    client = api_signed_in("bob")

    page = client.get("/api/").content.decode()

    assert 'data-testid="api-status">200<' in page  # /api/me
    assert 'data-testid="api-status">403<' in page  # /api/notes/
    assert "your token lacks it" in page
    assert "insufficient_scope" in page
    assert client.session["accounts.tokens"]["access_token"] not in page


def test_the_page_needs_a_signed_in_user(client: Client, db: Any) -> None:
    response = client.get("/api/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
