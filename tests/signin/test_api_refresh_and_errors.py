"""API-flow sessions refreshing through the user pools API (rotation, reuse, fallback), and every
Cognito error mapped to its outcome (SECURITY.md "API login and self-service")."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.session import TOKENS
from config import aws
from emulator import seed
from tests.accounts.conftest import api_signin, edit_session, signed_in_as
from tests.accounts.faulty_cognito import FaultyCognito, faulty_cognito

pytestmark = pytest.mark.django_db


def idp() -> Any:
    return aws.client("cognito-idp")


def expire_tokens(client: Client, **changes: str) -> None:
    def change(store: Any) -> None:
        store[TOKENS] = {**store[TOKENS], "expires_at": int(time.time()) - 1, **changes}

    edit_session(client, change)


def rotate_refresh_tokens() -> None:
    """Turn on refresh-token rotation for the demo client, keeping its other settings."""
    current = idp().describe_user_pool_client(
        UserPoolId=seed.USER_POOL_ID, ClientId=seed.CLIENT_ID
    )["UserPoolClient"]
    keep = {
        key: current[key]
        for key in (
            "ExplicitAuthFlows",
            "AllowedOAuthFlows",
            "AllowedOAuthFlowsUserPoolClient",
            "AllowedOAuthScopes",
            "SupportedIdentityProviders",
            "CallbackURLs",
            "LogoutURLs",
            "PreventUserExistenceErrors",
            "EnableTokenRevocation",
        )
        if key in current
    }
    idp().update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
        **keep,
    )


@pytest.fixture
def bob(emulator: Any, client: Client) -> Client:
    """The test client, signed in as bob through the app's own form."""
    assert api_signin(client, "bob")["Location"] == "/"
    return client


# The operations that can refresh tokens (other pages, such as home, make calls of their own).
REFRESH_OPERATIONS = {"GetTokensFromRefreshToken", "InitiateAuth", "AdminInitiateAuth"}


@pytest.fixture
def operations() -> Iterator[list[str]]:
    """The token operations the app calls, in order."""
    seen: list[str] = []

    def record(model: Any, **kwargs: Any) -> None:
        if model.name in REFRESH_OPERATIONS:
            seen.append(model.name)

    events = idp().meta.events
    events.register("before-parameter-build.cognito-idp.*", record)
    yield seen
    events.unregister("before-parameter-build.cognito-idp.*", record)


@pytest.fixture
def faulty(emulator: Any, settings: Any) -> Iterator[FaultyCognito]:
    """The app's cognito-idp endpoint, with faults the test chooses."""
    with faulty_cognito(emulator.url) as server:
        settings.AWS_ENDPOINT_URL = server.url
        yield server


# --- refresh -------------------------------------------------------------------------------------


def test_an_api_session_refreshes_through_get_tokens_from_refresh_token(
    bob: Client, operations: list[str]
) -> None:
    before = bob.session[TOKENS]
    expire_tokens(bob)

    assert signed_in_as(bob) == "bob"

    after = bob.session[TOKENS]
    assert operations == ["GetTokensFromRefreshToken"]
    assert after["access_token"] != before["access_token"]
    assert after["expires_at"] > time.time() + settings.TOKEN_REFRESH_MARGIN
    assert after["refresh_token"] == before["refresh_token"]  # no rotation on this client


def test_a_fresh_api_session_is_not_refreshed(bob: Client, operations: list[str]) -> None:
    assert signed_in_as(bob) == "bob"
    assert operations == []


def test_with_rotation_the_new_refresh_token_replaces_the_old(bob: Client) -> None:
    rotate_refresh_tokens()
    old = bob.session[TOKENS]["refresh_token"]
    expire_tokens(bob)

    assert signed_in_as(bob) == "bob"

    new = bob.session[TOKENS]["refresh_token"]
    assert new != old
    with pytest.raises(idp().exceptions.RefreshTokenReuseException):
        idp().get_tokens_from_refresh_token(
            RefreshToken=old, ClientId=seed.CLIENT_ID, ClientSecret=seed.CLIENT_SECRET
        )


def test_a_reused_refresh_token_ends_the_session(
    bob: Client, caplog: pytest.LogCaptureFixture
) -> None:
    rotate_refresh_tokens()
    old = bob.session[TOKENS]["refresh_token"]
    idp().get_tokens_from_refresh_token(
        RefreshToken=old, ClientId=seed.CLIENT_ID, ClientSecret=seed.CLIENT_SECRET
    )  # someone else used it first
    expire_tokens(bob)

    response = bob.get("/")

    assert response.context["user"].is_anonymous
    assert "Please sign in again" in response.content.decode()
    assert "reason=refresh_token_reused" in caplog.text


def test_refresh_falls_back_to_refresh_token_auth_where_the_api_is_missing(
    bob: Client, faulty: FaultyCognito
) -> None:
    faulty.fail("GetTokensFromRefreshToken", "UnknownOperationException")
    before = bob.session[TOKENS]
    expire_tokens(bob)

    assert signed_in_as(bob) == "bob"

    calls = [call for call in faulty.calls if call in REFRESH_OPERATIONS]
    assert calls == ["GetTokensFromRefreshToken", "InitiateAuth"]
    after = bob.session[TOKENS]
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]


def test_a_refresh_for_another_identity_ends_an_api_session(bob: Client) -> None:
    expire_tokens(bob, sub="00000000-0000-4000-8000-000000000000")

    assert signed_in_as(bob) is None


def test_a_managed_login_session_still_refreshes_at_the_token_endpoint(
    sign_in: Callable[..., Any], client: Client, operations: list[str]
) -> None:
    sign_in("bob")
    expire_tokens(client)

    assert signed_in_as(client) == "bob"
    assert operations == []


# --- every Cognito error has its outcome -------------------------------------------------------


@pytest.mark.parametrize(
    ("error_type", "http_status", "status", "code"),
    [
        pytest.param("TooManyRequestsException", 400, 429, "throttled", id="throttled"),
        pytest.param("LimitExceededException", 400, 429, "throttled", id="limit-exceeded"),
        pytest.param("InternalErrorException", 500, 503, "unavailable", id="internal-error"),
        pytest.param("<html>Bad gateway</html>", 502, 503, "unavailable", id="bad-gateway"),
        pytest.param("UserNotFoundException", 400, 400, "not_authorized", id="unknown-user"),
    ],
)
def test_sign_in_errors_map_to_their_status_and_message(
    emulator: Any,
    client: Client,
    faulty: FaultyCognito,
    error_type: str,
    http_status: int,
    status: int,
    code: str,
) -> None:
    faulty.fail("InitiateAuth", error_type, status=http_status)

    response = api_signin(client, "bob")

    assert response.status_code == status
    assert response.context["form"].failure_code == code
    body = response.content.decode()
    assert 'data-testid="error"' in body and "Traceback" not in body and error_type not in body


def test_an_unknown_error_gives_the_generic_page(
    emulator: Any, client: Client, faulty: FaultyCognito
) -> None:
    faulty.fail("InitiateAuth", "SomethingNewException")

    response = api_signin(client, "bob")

    assert response.status_code == 500
    assert response.templates[0].name == "signin/error.html"
    body = response.content.decode()
    assert "Something went wrong" in body and "SomethingNewException" not in body


def test_an_unreachable_pool_is_a_503_within_seconds(
    emulator: Any, client: Client, settings: Any
) -> None:
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:1"
    settings.HTTP_TIMEOUT = (0.5, 0.5)
    started = time.monotonic()

    response = api_signin(client, "bob")

    assert response.status_code == 503
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("error_type", "location"),
    [
        pytest.param("UserNotConfirmedException", "/accounts/signup/confirm/", id="not-confirmed"),
        pytest.param(
            "PasswordResetRequiredException", "/accounts/password/forgot/", id="reset-required"
        ),
    ],
)
def test_cognito_asking_for_a_step_sends_the_user_there(
    emulator: Any, client: Client, faulty: FaultyCognito, error_type: str, location: str
) -> None:
    faulty.fail("RespondToAuthChallenge", error_type)

    assert api_signin(client, "bob")["Location"] == location


@pytest.mark.parametrize(
    ("error_type", "status", "code"),
    [
        pytest.param("CodeMismatchException", 400, "code_mismatch", id="mismatch"),
        pytest.param("ExpiredCodeException", 400, "expired_code", id="expired"),
        pytest.param("TooManyFailedAttemptsException", 429, "too_many_failed_attempts", id="many"),
        pytest.param("AliasExistsException", 400, "alias_exists", id="alias"),
        pytest.param("LimitExceededException", 429, "throttled", id="limit"),
    ],
)
def test_confirmation_errors_map_to_their_outcome(
    emulator: Any, client: Client, faulty: FaultyCognito, error_type: str, status: int, code: str
) -> None:
    client.post(
        "/accounts/signup/",
        {"username": "newcomer", "email": "n@example.com", "password": "Newcomer-Passw0rd!"},
    )
    faulty.fail("ConfirmSignUp", error_type)

    response = client.post("/accounts/signup/confirm/", {"code": "123456"})

    assert response.status_code == status
    assert response.context["form"].failure_code == code


def test_forgot_password_on_a_legacy_pool_hides_an_unknown_user(
    emulator: Any, client: Client, faulty: FaultyCognito
) -> None:
    faulty.fail("ForgotPassword", "UserNotFoundException")

    response = client.post("/accounts/password/forgot/", {"username": "nobody-here"})

    assert response["Location"] == "/accounts/password/reset/"


def test_cognito_lockout_is_a_429_that_says_to_wait(
    emulator: Any, client: Client, settings: Any
) -> None:
    """Cognito locks a user after five failed passwords (the app's own limit set out of the way)."""
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 100
    for _ in range(5):
        assert api_signin(client, "carol", "Wrong-Passw0rd!").status_code == 400

    locked = api_signin(client, "carol")

    assert locked.status_code == 429
    assert locked.context["form"].failure_code == "locked_out"


def test_a_refused_resend_says_why_on_the_confirm_page(
    emulator: Any, client: Client, faulty: FaultyCognito
) -> None:
    client.post(
        "/accounts/signup/",
        {"username": "newcomer", "email": "n@example.com", "password": "Newcomer-Passw0rd!"},
    )
    faulty.fail("ResendConfirmationCode", "LimitExceededException")

    response = client.post("/accounts/signup/resend/", follow=True)

    assert response.redirect_chain == [("/accounts/signup/confirm/", 302)]
    body = response.content.decode()
    assert "Too many requests" in body and 'data-testid="confirmation-code"' in body
