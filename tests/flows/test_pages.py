"""`/flows/`, `/accounts/tokens/` and the home page's links to them, against the emulator."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from accounts.session import TOKENS
from flows.steps import IDENTITY, MANAGED
from identity.session import CREDENTIALS
from tests.accounts.conftest import edit_session

pytestmark = pytest.mark.django_db

FLOW_STEP = re.compile(r'data-testid="flow-step" data-step="(\d+)"')
CLAIM = re.compile(r'data-testid="claim" data-claim="([^"]+)"')


def test_an_empty_session_is_told_how_to_fill_the_page(client: Client) -> None:
    page = client.get("/flows/").content.decode()

    assert 'data-testid="no-flows"' in page
    assert "Sign in one of these ways, then come back" in page
    assert 'data-testid="flow-step"' not in page


def test_a_managed_login_is_listed_beside_the_source_texts_steps(
    client: Client, sign_in: Any
) -> None:
    sign_in("alice")

    page = client.get("/flows/").content.decode()

    assert FLOW_STEP.findall(page) == ["2", "3", "9", "10", "11", "12", "13"]
    assert escape(MANAGED[9]) in page  # step 10, beside the site's token request
    assert "POST /oauth2/token" in page
    # Steps 4 to 8 happen at the pool: listed, without a site step.
    assert escape(MANAGED[6]) in page
    assert "<script" not in page


def test_the_newest_flow_comes_first(client: Client, sign_in: Any) -> None:
    sign_in("bob")
    client.get("/identity/")

    page = client.get("/flows/").content.decode()

    assert page.index("AWS credentials from the identity pool") < page.index("Managed login")
    assert escape(IDENTITY[8]) in page  # GetId


def test_signed_out_visitors_are_sent_to_sign_in_for_the_claims(client: Client) -> None:
    response = client.get("/accounts/tokens/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/tokens/"


def test_the_claims_page_shows_claims_never_tokens(client: Client, sign_in: Any) -> None:
    sign_in("bob")
    client.get("/identity/")
    tokens = client.session[TOKENS]
    keys = client.session[CREDENTIALS]["credentials"]

    page = client.get("/accounts/tokens/")
    text = page.content.decode()

    claims = CLAIM.findall(text)
    assert {"sub", "aud", "iss", "exp", "token_use", "client_id", "scope"} <= set(claims)
    assert "expires in" in text and '<time datetime="' in text
    assert client.session[CREDENTIALS]["identity_id"] in text
    for secret in [tokens["id_token"], tokens["access_token"], tokens["refresh_token"]]:
        assert secret not in text
    for secret in keys.values():
        assert secret not in text
    assert page["Cache-Control"].count("no-store")


def test_tokens_that_no_longer_verify_are_reported_not_shown(client: Client, sign_in: Any) -> None:
    sign_in("bob")
    edit_session(
        client, lambda store: store.__setitem__(TOKENS, {**store[TOKENS], "id_token": "a.b.c"})
    )

    page = client.get("/accounts/tokens/")

    assert page.status_code == 200
    assert 'data-testid="error"' in page.content.decode()
    assert 'data-testid="claim"' not in page.content.decode()


def test_the_home_page_links_to_both_once_signed_in(client: Client, sign_in: Any) -> None:
    signed_out = client.get("/").content.decode()
    sign_in("bob")
    signed_in = client.get("/").content.decode()

    assert 'data-testid="flows-link"' not in signed_out
    assert 'href="/flows/" data-testid="flows-link"' in signed_in
    assert 'href="/accounts/tokens/" data-testid="tokens-link"' in signed_in
