"""Attack: an authorization response from another server passed off as the pool's (RFC 9207)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from tests.accounts.conftest import (
    _plain_static_storage,  # noqa: F401 (an autouse fixture: error pages render without collectstatic)
    exchange_code_directly,
    hosted_sign_in,
    pending_logins,
    query,
    relative,
    signed_in_as,
    start_login,
)

pytestmark = pytest.mark.django_db

ANOTHER_SERVER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_ATTACKERs"


def failed_page(response: Any) -> Any:
    """The callback answers a failure with a redirect to a clean URL: the page found there."""
    assert response.status_code == 302 and response["Location"] == "/accounts/login/failed/"
    return response.client.get(response["Location"])


def test_the_pool_sends_no_iss_and_the_callback_signs_in(emulator: Any, client: Client) -> None:
    # Cognito's /oauth2/authorize answers with code and state only; the check must not need iss.
    callback = hosted_sign_in(start_login(client).authorize_url, "bob")
    assert set(query(callback)) == {"code", "state"}
    assert client.get(relative(callback)).status_code == 302
    assert signed_in_as(client) == "bob"


def test_our_own_issuer_is_accepted(emulator: Any, client: Client) -> None:
    callback = hosted_sign_in(start_login(client).authorize_url, "bob")
    response = client.get(f"{relative(callback)}&{urlencode({'iss': settings.COGNITO_ISSUER})}")
    assert response.status_code == 302
    assert signed_in_as(client) == "bob"


@pytest.mark.parametrize(
    "iss",
    [
        pytest.param(ANOTHER_SERVER, id="another-pool"),
        pytest.param("https://idp.attacker.example", id="another-server"),
        pytest.param(lambda: settings.COGNITO_ISSUER + "/", id="trailing-slash"),
        pytest.param(lambda: settings.COGNITO_ISSUER.upper(), id="other-case"),
        pytest.param(lambda: f" {settings.COGNITO_ISSUER}", id="leading-space"),
        pytest.param("", id="empty"),
        pytest.param(lambda: settings.COGNITO_ISSUER + "x" * 3000, id="too-long"),
    ],
)
def test_another_issuer_is_refused_before_any_token_request(
    emulator: Any, client: Client, iss: Any
) -> None:
    started = start_login(client)
    verifier = pending_logins(client)[started.state]["code_verifier"]
    callback = hosted_sign_in(started.authorize_url, "bob")
    value = iss() if callable(iss) else iss
    response = failed_page(client.get(f"{relative(callback)}&{urlencode({'iss': value})}"))
    assert response.status_code == 400
    assert "did not come from our sign-in service" in response.content.decode()
    assert signed_in_as(client) is None
    # The code was never sent to the token endpoint: it is still unspent.
    assert exchange_code_directly(query(callback)["code"], verifier).status_code == 200


def test_an_error_from_another_issuer_is_reported_as_the_mix_up(
    emulator: Any, client: Client
) -> None:
    # RFC 9207 section 2.4: iss is checked before the rest of the response, errors included.
    started = start_login(client)
    response = failed_page(
        client.get(
            "/accounts/callback/",
            {"state": started.state, "error": "access_denied", "iss": ANOTHER_SERVER},
        )
    )
    assert response.status_code == 400
    assert "did not come from our sign-in service" in response.content.decode()
    # The twin: the same error from our own pool is the pool's error.
    started = start_login(client)
    response = failed_page(
        client.get(
            "/accounts/callback/",
            {"state": started.state, "error": "access_denied", "iss": settings.COGNITO_ISSUER},
        )
    )
    assert response.status_code == 400
    assert "reported a problem (access_denied)" in response.content.decode()
