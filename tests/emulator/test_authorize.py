"""GET /oauth2/authorize: every rule beside the request that passes it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from emulator import seed
from emulator.server import Emulator

from .flows import REDIRECT_URI, Browser, Pkce, authorize_params, query_of


@pytest.fixture
def browser(emulator: Emulator) -> Browser:
    return Browser(emulator)


def test_a_valid_request_goes_to_login_with_every_parameter(browser: Browser) -> None:
    """moto gap: moto has no /oauth2/authorize or /login at all."""
    response = browser.authorize(code_challenge=Pkce.new().challenge, code_challenge_method="S256")

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    carried = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert carried["state"] == "state-123"
    assert carried["nonce"] == "nonce-456"
    assert carried["redirect_uri"] == REDIRECT_URI
    assert carried["code_challenge_method"] == "S256"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://evil.example/accounts/callback/",
        REDIRECT_URI.rstrip("/"),
        REDIRECT_URI + "extra",
        REDIRECT_URI.replace("http://", "https://"),
    ],
)
def test_an_unregistered_redirect_uri_goes_to_the_error_page_never_the_app(
    browser: Browser, redirect_uri: str
) -> None:
    response = browser.authorize(redirect_uri=redirect_uri)

    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/error?error=redirect_mismatch&client_id={seed.CLIENT_ID}"
    )
    page = browser.get(response.headers["Location"])
    assert page.status_code == 400
    assert "An error was encountered with the requested page." in page.text
    assert "Location" not in page.headers


def test_the_registered_redirect_uri_passes(browser: Browser) -> None:
    assert browser.authorize(redirect_uri=REDIRECT_URI).headers["Location"].startswith("/login?")


@pytest.mark.parametrize("client_id", ["unknown-client", None])
def test_an_unknown_client_gets_the_error_page_not_a_redirect(
    browser: Browser, client_id: str | None
) -> None:
    response = browser.authorize(client_id=client_id)

    assert response.status_code == 400
    assert "An error was encountered with the requested page." in response.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "id_token"}, "unsupported_response_type"),
        ({"response_type": "token"}, "unauthorized_client"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"scope": "email"}, "invalid_scope"),
        ({"code_challenge": Pkce.new().challenge}, "invalid_request"),
        (
            {"code_challenge": Pkce.new().challenge, "code_challenge_method": "plain"},
            "invalid_request",
        ),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_malformed_requests_go_back_to_the_app_with_an_error_and_the_state(
    browser: Browser, overrides: dict[str, str | None], error: str
) -> None:
    response = browser.authorize(**overrides)

    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    params = query_of(response)
    assert params["error"] == error
    assert params["state"] == "state-123"
    assert "code" not in params


def test_s256_pkce_and_allowed_scopes_pass(browser: Browser) -> None:
    response = browser.authorize(
        scope="openid email phone profile aws.cognito.signin.user.admin",
        code_challenge=Pkce.new().challenge,
        code_challenge_method="S256",
    )

    assert response.headers["Location"].startswith("/login?")


def test_prompt_none_without_a_session_is_login_required(browser: Browser) -> None:
    assert query_of(browser.authorize(prompt="none"))["error"] == "login_required"


def test_authorize_is_get_only(emulator: Emulator) -> None:
    response = requests.post(
        f"{emulator.url}/oauth2/authorize",
        data=authorize_params(),
        timeout=5,
        allow_redirects=False,
    )

    assert response.status_code == 405
