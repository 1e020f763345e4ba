"""The signed-in session: SECURITY.md "Sessions", refresh and logout, against the emulator."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.middleware import session_keep_alive
from accounts.models import TokenRefreshLock, User
from accounts.session import LAST_SEEN, TOKENS
from tests.accounts.conftest import edit_session, signed_in_as, stored_tokens

pytestmark = pytest.mark.django_db


def refresh_directly(refresh_token: str) -> requests.Response:
    """A refresh at the token endpoint made by the test itself."""
    return requests.post(
        f"{settings.COGNITO_DOMAIN}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(settings.COGNITO_CLIENT_ID, settings.COGNITO_CLIENT_SECRET),
        timeout=10,
    )


def expire_tokens(client: Client, **identity: str) -> None:
    """Make the session's access token due for refresh (and optionally its remembered identity)."""

    def change(store: Any) -> None:
        tokens = store[TOKENS]
        store[TOKENS] = {**tokens, "expires_at": int(time.time()) - 1, **identity}

    edit_session(client, change)


# --- cookies and caching --------------------------------------------------------------------------


def test_session_cookie_is_httponly_samesite_lax_and_secure(sign_in: Callable[..., Any]) -> None:
    cookie = sign_in("bob").cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"]


@pytest.mark.parametrize("signed_in", [True, False])
def test_pages_for_a_signed_in_user_are_no_store(
    emulator: Any, client: Client, sign_in: Callable[..., Any], signed_in: bool
) -> None:
    if signed_in:
        sign_in("bob")
    response = client.get("/")
    assert response.status_code == 200
    assert ("no-store" in response.get("Cache-Control", "")) is signed_in


# --- idle and absolute lifetimes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("idle_for", "still_signed_in"),
    [
        pytest.param(60, True, id="recently-active"),
        pytest.param(31 * 60, False, id="idle-beyond-the-timeout"),
    ],
)
def test_an_idle_session_ends(bob: Client, idle_for: int, still_signed_in: bool) -> None:
    edit_session(bob, lambda store: store.__setitem__(LAST_SEEN, time.time() - idle_for))
    response = bob.get("/")
    assert response.context["user"].is_authenticated is still_signed_in
    if not still_signed_in:
        assert "inactivity" in response.content.decode()


def test_the_absolute_lifetime_is_not_extended_by_later_requests(bob: Client) -> None:
    expiry = bob.session.get_expiry_date()
    assert abs((expiry - timezone.now()).total_seconds() - settings.SESSION_COOKIE_AGE) < 60
    # A request that saves the session (refresh) must not push the expiry back.
    expire_tokens(bob)
    time.sleep(1.1)
    bob.get("/")
    assert bob.session.get_expiry_date() == expiry


# --- refresh --------------------------------------------------------------------------------------


@pytest.mark.parametrize("due", [True, False])
def test_tokens_are_refreshed_transparently_only_when_due(
    bob: Client, caplog: pytest.LogCaptureFixture, due: bool
) -> None:
    before = stored_tokens(bob)
    if due:
        expire_tokens(bob)
    with caplog.at_level("INFO", logger="accounts"):
        assert signed_in_as(bob) == "bob"
    after = stored_tokens(bob)
    assert (after["access_token"] != before["access_token"]) is due
    assert (after["expires_at"] > time.time() + settings.TOKEN_REFRESH_MARGIN) is True
    assert ("event=refresh " in caplog.text) is due
    assert after["refresh_token"] == before["refresh_token"]


@pytest.mark.parametrize(
    ("claim", "remembered", "still_signed_in"),
    [
        pytest.param(None, None, True, id="same-identity"),
        pytest.param("sub", "00000000-0000-4000-8000-000000000000", False, id="sub-changed"),
        pytest.param("iss", "https://cognito-idp.example/other", False, id="iss-changed"),
        pytest.param("aud", "another-client-id", False, id="aud-changed"),
    ],
)
def test_a_refresh_for_another_identity_ends_the_session(
    bob: Client, claim: str | None, remembered: str | None, still_signed_in: bool
) -> None:
    expire_tokens(bob, **({claim: remembered} if claim else {}))
    assert (signed_in_as(bob) == "bob") is still_signed_in


def test_a_revoked_refresh_token_signs_the_user_out_with_a_message(
    bob: Client, caplog: pytest.LogCaptureFixture
) -> None:
    requests.post(
        f"{settings.COGNITO_DOMAIN}/oauth2/revoke",
        data={"token": stored_tokens(bob)["refresh_token"]},
        auth=(settings.COGNITO_CLIENT_ID, settings.COGNITO_CLIENT_SECRET),
        timeout=10,
    ).raise_for_status()
    expire_tokens(bob)
    response = bob.get("/")
    assert response.status_code == 200
    assert response.context["user"].is_anonymous
    assert "Please sign in again" in response.content.decode()
    assert "event=refresh_failed" in caplog.text
    assert "reason=invalid_grant" in caplog.text


def test_an_unreachable_token_endpoint_during_refresh_signs_the_user_out(
    bob: Client, settings: Any
) -> None:
    expire_tokens(bob)
    settings.HTTP_TIMEOUT = (0.5, 0.5)
    settings.COGNITO_DOMAIN = "http://127.0.0.1:1"
    response = bob.get("/")
    assert response.status_code == 200
    assert response.context["user"].is_anonymous


@pytest.mark.django_db(transaction=True)
def test_a_request_that_finds_a_refresh_in_progress_uses_its_result(
    bob: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Two requests find the token expired: the one holding the lock refreshes, the other waits."""
    session_key = bob.cookies[settings.SESSION_COOKIE_NAME].value
    lock_key = hashlib.sha256(session_key.encode()).hexdigest()
    expire_tokens(bob)
    # The first request, in flight: it holds the lock, refreshes, saves, then releases.
    TokenRefreshLock.objects.create(session_key=lock_key, acquired_at=timezone.now())
    winners = refresh_directly(stored_tokens(bob)["refresh_token"]).json()

    def finish_first_request() -> None:
        time.sleep(0.3)

        def adopt(store: Any) -> None:
            store[TOKENS] = {
                **store[TOKENS],
                "access_token": winners["access_token"],
                "id_token": winners["id_token"],
                "expires_at": int(time.time()) + 3600,
            }

        edit_session(bob, adopt)
        TokenRefreshLock.objects.filter(session_key=lock_key).delete()

    first = threading.Thread(target=finish_first_request)
    first.start()
    with caplog.at_level("INFO", logger="accounts"):
        assert signed_in_as(bob) == "bob"
    first.join()
    assert stored_tokens(bob)["access_token"] == winners["access_token"]
    assert "event=refresh " not in caplog.text


def test_a_request_that_loaded_the_session_before_another_refreshed_does_not_refresh_again(
    bob: Client, rf: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Two requests find the token expired, the second takes the lock after the first is done."""
    expire_tokens(bob)
    session_key = bob.cookies[settings.SESSION_COOKIE_NAME].value
    second = rf.get("/")
    second.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    second.session.load()  # the second request loaded the expired tokens ...
    second.user = User.objects.get(username="bob")
    with caplog.at_level("INFO", logger="accounts"):
        bob.get("/")  # ... then the first refreshed and saved
        assert session_keep_alive(second) is True
    assert caplog.text.count("event=refresh ") == 1
    # The second adopts the first's tokens, so its own save cannot write the old ones back.
    assert second.session[TOKENS]["access_token"] == stored_tokens(bob)["access_token"]


# --- logout ---------------------------------------------------------------------------------------


def test_logout_revokes_flushes_and_ends_the_managed_login_session(
    bob: Client, emulator: Any
) -> None:
    refresh_token = stored_tokens(bob)["refresh_token"]
    old_session_key = bob.session.session_key
    response = bob.post("/accounts/logout/")
    assert response.status_code == 302
    expected_query = urlencode(
        {"client_id": settings.COGNITO_CLIENT_ID, "logout_uri": "http://testserver/"}
    )
    assert response["Location"] == f"{emulator.url}/logout?{expected_query}"
    assert signed_in_as(bob) is None
    assert bob.session.session_key != old_session_key
    assert refresh_directly(refresh_token).json()["error"] == "invalid_grant"


def test_a_refresh_token_works_until_logout(bob: Client) -> None:
    """The twin of the revocation check above: the same call succeeds before logout."""
    assert refresh_directly(stored_tokens(bob)["refresh_token"]).status_code == 200


def test_logout_still_signs_out_locally_when_revocation_fails(
    bob: Client, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.HTTP_TIMEOUT = (0.5, 0.5)
    settings.COGNITO_DOMAIN = "http://127.0.0.1:1"
    response = bob.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"].startswith("http://127.0.0.1:1/logout?")
    assert signed_in_as(bob) is None
    assert "event=revoke_failed" in caplog.text


def test_logout_is_post_only(bob: Client) -> None:
    assert bob.get("/accounts/logout/").status_code == 405
    assert signed_in_as(bob) == "bob"


@pytest.mark.parametrize(("with_token", "status"), [(True, 302), (False, 403)])
def test_logout_requires_the_csrf_token(
    sign_in: Callable[..., Any], with_token: bool, status: int
) -> None:
    browser = Client(enforce_csrf_checks=True)
    sign_in("bob", on=browser)
    home = browser.get("/")
    token = home.context["csrf_token"]
    data = {"csrfmiddlewaretoken": str(token)} if with_token else {}
    assert browser.post("/accounts/logout/", data).status_code == status
    assert (signed_in_as(browser) is None) is with_token


# --- logs -----------------------------------------------------------------------------------------


def test_auth_events_are_logged_without_secrets(
    emulator: Any, client: Client, sign_in: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="accounts"):
        callback = sign_in("bob")
        tokens = stored_tokens(client)
        expire_tokens(client)
        client.get("/")
        refreshed = stored_tokens(client)
        client.post("/accounts/logout/")
        client.get("/accounts/callback/?state=forged&code=forged-code")
    text = caplog.text
    for event in ("event=signin ", "event=refresh ", "event=logout ", "event=signin_failed "):
        assert event in text
    secrets = [
        tokens["id_token"],
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
        settings.COGNITO_CLIENT_SECRET,
        "forged-code",
    ]
    assert callback.status_code == 302
    for secret in secrets:
        assert secret not in text
