"""Attack: guessing an account's password under each of its names (username, email alias) to get
each name its own allowance. The per-account limit counts the account, not the string typed.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.accounts.conftest import api_signin

pytestmark = pytest.mark.django_db


def wrong_password(username: str, **meta: str) -> Any:
    return api_signin(Client(**meta), username, "Wrong-Passw0rd!")


def test_a_username_and_its_email_share_one_counter(emulator: Any, settings: Any) -> None:
    api_signin(Client(), "bob")  # the site now knows bob's verified email
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 3
    for typed in ("bob@example.com", "BOB@Example.com", "Bob"):
        wrong_password(typed, REMOTE_ADDR=f"198.51.100.{len(typed)}")

    response = api_signin(Client(REMOTE_ADDR="192.0.2.109"), "bob")

    assert response.status_code == 429


def test_an_email_no_site_user_has_does_not_count_against_bob(emulator: Any, settings: Any) -> None:
    api_signin(Client(), "bob")
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 3
    for _ in range(3):
        wrong_password("bob@example.org", REMOTE_ADDR="192.0.2.230")

    assert api_signin(Client(), "bob")["Location"] == "/"
