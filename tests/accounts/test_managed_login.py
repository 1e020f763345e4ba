"""Managed login against the emulator: SECURITY.md "Managed login callback", line by line."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.test import Client

from accounts.models import User
from accounts.session import PENDING_LOGIN_LIMIT, PENDING_LOGINS
from tests.accounts.conftest import (
    edit_session,
    exchange_code_directly,
    hosted_sign_in,
    pending_logins,
    query,
    relative,
    start_login,
    stored_tokens,
)

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/accounts/callback/"


def assert_error_page(response: Any, status: int) -> Any:
    """A handled failure: a redirect off the callback's URL (which holds the code and state) to
    the friendly page, with its status, a way to start again and no traceback; that page."""
    assert response.status_code == 302 and response["Location"] == "/accounts/login/failed/"
    page = response.client.get(response["Location"])
    assert page.status_code == status
    body = page.content.decode()
    assert 'data-testid="error"' in body
    assert 'href="/accounts/login/"' in body
    assert "Traceback" not in body
    return page


# --- the authorization request ------------------------------------------------------------------


def test_login_redirects_to_authorize_with_code_pkce_s256_state_and_nonce(
    emulator: Any, client: Client
) -> None:
    started = start_login(client)
    params = started.params
    assert started.authorize_url.startswith(f"{emulator.url}/oauth2/authorize?")
    assert params["response_type"] == "code"
    assert params["client_id"] == settings.COGNITO_CLIENT_ID
    assert params["redirect_uri"] == CALLBACK
    assert params["scope"] == " ".join(settings.COGNITO_SCOPES)
    assert params["code_challenge_method"] == "S256"
    pending = pending_logins(client)[started.state]
    # 48 random bytes, base64url: at least the 32 bytes RFC 7636 asks for.
    assert len(pending["code_verifier"]) >= 43
    assert params["code_challenge"] == create_s256_code_challenge(pending["code_verifier"])
    assert params["nonce"] == pending["nonce"]
    assert pending["code_verifier"] not in started.authorize_url


def test_each_login_gets_fresh_state_nonce_and_verifier(emulator: Any, client: Client) -> None:
    first, second = start_login(client), start_login(client)
    a, b = pending_logins(client)[first.state], pending_logins(client)[second.state]
    assert first.state != second.state
    assert a["nonce"] != b["nonce"]
    assert a["code_verifier"] != b["code_verifier"]


@pytest.mark.parametrize(
    ("host", "status"),
    [
        pytest.param("testserver", 302, id="configured-host"),
        pytest.param("localhost", 302, id="other-allowed-host"),
        pytest.param("evil.example.com", 400, id="unknown-host-refused"),
    ],
)
def test_poisoned_host_header_never_changes_redirect_uri(
    emulator: Any, client: Client, host: str, status: int
) -> None:
    response = client.get("/accounts/login/", HTTP_HOST=host)
    assert response.status_code == status
    if status == 302:
        assert query(response["Location"])["redirect_uri"] == CALLBACK


def test_login_from_another_host_still_completes_with_the_configured_redirect_uri(
    emulator: Any, client: Client
) -> None:
    started = start_login(client, HTTP_HOST="localhost")
    callback = hosted_sign_in(started.authorize_url, "bob")
    # The token request must repeat the authorize redirect_uri exactly, or the pool refuses it.
    response = client.get(relative(callback), HTTP_HOST="localhost")
    assert response.status_code == 302
    assert client.get("/", HTTP_HOST="localhost").context["user"].username == "bob"


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        pytest.param("/protected/?page=2", "/protected/?page=2", id="same-site-path"),
        pytest.param(None, "/", id="no-next"),
        pytest.param("//evil.example.com/", "/", id="scheme-relative"),
        pytest.param("/\\evil.example.com/", "/", id="backslash"),
        pytest.param("/\t/evil.example.com/", "/", id="tab-between-slashes"),
        pytest.param("javascript:alert(1)", "/", id="javascript"),
        pytest.param("https://evil.example.com/", "/", id="absolute-foreign"),
        pytest.param("http://testserver/protected/", "/", id="absolute-same-host"),
        pytest.param("protected/", "/", id="not-rooted"),
    ],
)
def test_next_is_honoured_only_for_same_site_paths(
    sign_in: Callable[..., Any], next_url: str | None, lands_on: str
) -> None:
    response = sign_in("bob", next_url=next_url)
    assert response.status_code == 302
    assert response["Location"] == lands_on


# --- the callback: success ------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "bob"])  # alice has TOTP MFA, bob none
def test_managed_login_signs_the_user_in(emulator: Any, client: Client, username: str) -> None:
    started = start_login(client)
    anonymous_key = client.session.session_key
    callback = client.get(relative(hosted_sign_in(started.authorize_url, username)))
    assert callback.status_code == 302
    assert callback["Location"] == "/"  # a clean URL: no code, no state
    assert client.session.session_key != anonymous_key
    home = client.get("/")
    assert f'data-testid="current-user">{username}<' in home.content.decode()
    user = User.objects.get(username=username)
    assert user.cognito_sub == stored_tokens(client)["sub"]
    assert user.email == f"{username}@example.com"
    assert not user.has_usable_password()


def test_tokens_never_leave_the_server(emulator: Any, client: Client) -> None:
    responses = []
    started = start_login(client)
    verifier = pending_logins(client)[started.state]["code_verifier"]
    responses.append(client.get("/accounts/login/"))
    responses.append(client.get(relative(hosted_sign_in(started.authorize_url, "bob"))))
    responses.append(client.get("/"))
    tokens = stored_tokens(client)
    secrets = [tokens["id_token"], tokens["access_token"], tokens["refresh_token"], verifier]
    secrets.append(settings.COGNITO_CLIENT_SECRET)
    for response in responses:
        exposed = response.content.decode() + response.get("Location", "")
        exposed += " ".join(cookie.OutputString() for cookie in response.cookies.values())
        for secret in secrets:
            assert secret not in exposed


def test_signing_in_again_as_the_same_user_updates_not_duplicates(
    sign_in: Callable[..., Any],
) -> None:
    sign_in("bob")
    User.objects.filter(username="bob").update(email="stale@example.com")
    sign_in("bob")
    assert User.objects.filter(username="bob").count() == 1
    assert User.objects.get(username="bob").email == "bob@example.com"


def test_parallel_logins_in_two_tabs_both_complete(emulator: Any, client: Client) -> None:
    tab_one = start_login(client, "/one/")
    tab_two = start_login(client, "/two/")
    callback_one = hosted_sign_in(tab_one.authorize_url, "bob")
    callback_two = hosted_sign_in(tab_two.authorize_url, "bob")
    second = client.get(relative(callback_two))
    first = client.get(relative(callback_one))
    assert (second.status_code, second["Location"]) == (302, "/two/")
    assert (first.status_code, first["Location"]) == (302, "/one/")


def test_pending_logins_are_capped_dropping_the_oldest(emulator: Any, client: Client) -> None:
    started = [start_login(client) for _ in range(PENDING_LOGIN_LIMIT + 2)]
    kept = pending_logins(client)
    assert len(kept) == PENDING_LOGIN_LIMIT
    assert started[0].state not in kept
    assert started[-1].state in kept


# --- the callback: state, error, code -------------------------------------------------------------


@pytest.fixture
def signed_in_elsewhere(emulator: Any) -> Callable[[], tuple[Client, str, str]]:
    """A login finished at the pool but not yet at the app: (its client, callback URL, verifier)."""

    def finish() -> tuple[Client, str, str]:
        browser = Client()
        started = start_login(browser)
        verifier = pending_logins(browser)[started.state]["code_verifier"]
        return browser, hosted_sign_in(started.authorize_url, "bob"), verifier

    return finish


def test_callback_without_state_is_rejected_before_any_token_request(
    signed_in_elsewhere: Callable[[], tuple[Client, str, str]],
) -> None:
    browser, callback, verifier = signed_in_elsewhere()
    code = query(callback)["code"]
    assert_error_page(browser.get("/accounts/callback/", {"code": code}), 400)
    # The code is still unspent: the app never sent it to the token endpoint.
    assert exchange_code_directly(code, verifier).status_code == 200


def test_callback_with_another_browsers_state_is_rejected_before_any_token_request(
    signed_in_elsewhere: Callable[[], tuple[Client, str, str]], client: Client
) -> None:
    owner, callback, _ = signed_in_elsewhere()
    start_login(client)  # this browser has a login of its own pending, just not this one
    assert_error_page(client.get(relative(callback)), 400)
    assert client.get("/").context["user"].is_anonymous
    # The twin: the browser that started it finishes it (the code was not spent).
    assert owner.get(relative(callback)).status_code == 302


def test_replayed_callback_is_rejected(
    signed_in_elsewhere: Callable[[], tuple[Client, str, str]],
) -> None:
    browser, callback, _ = signed_in_elsewhere()
    assert browser.get(relative(callback)).status_code == 302
    replay = assert_error_page(browser.get(relative(callback)), 400)
    assert "already finished" in replay.content.decode()


def test_expired_state_is_rejected_before_any_token_request(emulator: Any, client: Client) -> None:
    started = start_login(client)
    verifier = pending_logins(client)[started.state]["code_verifier"]
    callback = hosted_sign_in(started.authorize_url, "bob")

    def age(store: Any) -> None:
        logins = store[PENDING_LOGINS]
        logins[started.state]["created_at"] = time.time() - 11 * 60
        store[PENDING_LOGINS] = logins

    edit_session(client, age)
    response = client.get(relative(callback))
    response = assert_error_page(response, 400)
    assert "took too long" in response.content.decode()
    assert exchange_code_directly(query(callback)["code"], verifier).status_code == 200


def test_authorize_error_gives_an_escaped_page_and_no_token_request(
    emulator: Any, client: Client
) -> None:
    started = start_login(client)
    verifier = pending_logins(client)[started.state]["code_verifier"]
    code = query(hosted_sign_in(started.authorize_url, "bob"))["code"]
    response = client.get(
        "/accounts/callback/",
        {"state": started.state, "code": code, "error": "<script>alert(1)</script>"},
    )
    response = assert_error_page(response, 400)
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert exchange_code_directly(code, verifier).status_code == 200


def test_a_code_already_used_gives_a_page_asking_to_sign_in_again(
    emulator: Any, client: Client
) -> None:
    started = start_login(client)
    verifier = pending_logins(client)[started.state]["code_verifier"]
    callback = hosted_sign_in(started.authorize_url, "bob")
    assert exchange_code_directly(query(callback)["code"], verifier).status_code == 200
    response = client.get(relative(callback))  # invalid_grant at the token endpoint
    response = assert_error_page(response, 400)
    assert "already used" in response.content.decode()
    assert client.get("/").context["user"].is_anonymous


def test_a_nonce_other_than_this_logins_is_rejected(emulator: Any, client: Client) -> None:
    started = start_login(client)
    callback = hosted_sign_in(started.authorize_url, "bob")

    def swap_nonce(store: Any) -> None:
        logins = store[PENDING_LOGINS]
        logins[started.state]["nonce"] = "a-nonce-this-login-never-sent"
        store[PENDING_LOGINS] = logins

    edit_session(client, swap_nonce)
    assert_error_page(client.get(relative(callback)), 400)
    assert client.get("/").context["user"].is_anonymous


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a hung dependency."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize("failure", ["closed-port", "hung"])
def test_an_unreachable_token_endpoint_gives_a_503_page_quickly(
    emulator: Any, client: Client, settings: Any, silent_port: int, failure: str
) -> None:
    started = start_login(client)
    callback = hosted_sign_in(started.authorize_url, "bob")
    settings.HTTP_TIMEOUT = (0.5, 0.5)
    port = 1 if failure == "closed-port" else silent_port
    settings.COGNITO_DOMAIN = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    response = client.get(relative(callback))
    assert time.monotonic() - began < 2
    response = assert_error_page(response, 503)
    assert "try again" in response.content.decode()


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_login_and_callback_answer_get_only(emulator: Any, client: Client, method: str) -> None:
    assert getattr(client, method)("/accounts/login/").status_code == 405
    assert getattr(client, method)("/accounts/callback/").status_code == 405


def test_auth_pages_are_never_cached(emulator: Any, client: Client) -> None:
    for response in (client.get("/accounts/login/"), client.get("/accounts/callback/")):
        assert "no-store" in response["Cache-Control"]


@pytest.fixture
def token_endpoint() -> Iterator[dict[str, Any]]:
    """A stand-in token endpoint over HTTP that answers as told and counts what it is asked."""
    script: dict[str, Any] = {"status": 500, "body": b"{}", "headers": {}, "paths": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            script["paths"].append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(script["status"])
            for name, value in {"Content-Type": "application/json", **script["headers"]}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(script["body"])))
            self.end_headers()
            self.wfile.write(script["body"])

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    script["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield script
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "headers", "page_status"),
    [
        pytest.param(400, b'{"error":"invalid_grant"}', {}, 400, id="invalid-grant"),
        pytest.param(400, b'{"error":"invalid_client"}', {}, 502, id="invalid-client"),
        pytest.param(500, b"oops", {}, 502, id="server-error"),
        pytest.param(200, b"<html>not json</html>", {}, 502, id="not-json"),
        pytest.param(200, b'{"access_token":"a"}', {}, 502, id="no-id-token"),
        pytest.param(302, b"", {"Location": "/elsewhere"}, 502, id="redirect-not-followed"),
    ],
)
def test_a_failing_token_endpoint_is_asked_once_and_gives_a_handled_page(
    emulator: Any,
    client: Client,
    settings: Any,
    token_endpoint: dict[str, Any],
    status: int,
    body: bytes,
    headers: dict[str, str],
    page_status: int,
) -> None:
    started = start_login(client)
    callback = hosted_sign_in(started.authorize_url, "bob")
    token_endpoint.update(status=status, body=body, headers=headers)
    settings.COGNITO_DOMAIN = token_endpoint["url"]
    response = client.get(relative(callback))
    response = assert_error_page(response, page_status)
    assert token_endpoint["paths"] == ["/oauth2/token"]  # once: no retry, no redirect followed
    assert client.get("/").context["user"].is_anonymous


def test_a_failed_callback_leaves_its_url_for_a_clean_one_whose_forms_work(
    emulator: Any, client: Client
) -> None:
    started = start_login(client)
    response = client.get("/accounts/callback/", {"state": started.state, "error": "server_error"})

    page = assert_error_page(response, 400)

    # The code-holding URL answers no-referrer, which makes a form's POST send `Origin: null`
    # (a CSRF 403): the failure page is at a URL without a code, so it keeps the site's policy.
    assert response["Referrer-Policy"] == "no-referrer"
    assert page["Referrer-Policy"] == "same-origin"
    assert "server_error" in page.content.decode()


def test_the_failure_page_shows_only_a_failure_of_this_browser_until_it_signs_in_again(
    emulator: Any, client: Client
) -> None:
    nothing_failed = client.get("/accounts/login/failed/")
    started = start_login(client)
    client.get("/accounts/callback/", {"state": started.state, "error": "server_error"})
    reloaded = [client.get("/accounts/login/failed/").status_code for _ in range(2)]
    start_login(client)

    assert nothing_failed.status_code == 302 and nothing_failed["Location"] == "/"
    assert reloaded == [400, 400]
    assert client.get("/accounts/login/failed/")["Location"] == "/"
