"""Attack: a refresh slower than the lock wait, so other requests of the session give up waiting.

Real concurrency: two requests of one session run in two threads against a token endpoint that
answers slowly (a relay in front of the emulator). The first holds the refresh lock; the second
waits LOCK_WAIT (shortened here) and must neither sign the session out nor fail with a 500.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client

from accounts import middleware
from accounts.models import TokenRefreshLock
from accounts.session import TOKENS
from tests.accounts.conftest import (
    _plain_static_storage,  # noqa: F401 (an autouse fixture: pages render without collectstatic)
    edit_session,
    hosted_sign_in,
    relative,
    start_login,
    stored_tokens,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _sessions_in_the_cache(settings: Any) -> None:
    """Two threads save the session at once here; in-memory SQLite would refuse one of them
    ("database table is locked"), which a real database does not. The refresh lock stays a row."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"


CURRENT_USER = 'data-testid="current-user">bob<'


@dataclass
class SlowTokenEndpoint:
    """Relays token requests to the pool after `delay` seconds, and counts them."""

    upstream: str
    delay: float = 0.0
    calls: int = 0


@pytest.fixture
def slow_pool(emulator: Any, settings: Any) -> Iterator[SlowTokenEndpoint]:
    state = SlowTokenEndpoint(upstream=emulator.url)

    class Relay(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.calls += 1
            time.sleep(state.delay)
            headers = {name: self.headers[name] for name in ("Authorization", "Content-Type")}
            answer = requests.post(
                state.upstream + self.path, data=body, headers=headers, timeout=10
            )
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.COGNITO_DOMAIN = f"http://127.0.0.1:{server.server_address[1]}"
    settings.HTTP_TIMEOUT = (2.0, 5.0)
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=2)


@pytest.fixture
def bob(emulator: Any, client: Client) -> Client:
    """Signed in through managed login, so refreshes go to the token endpoint."""
    callback = hosted_sign_in(start_login(client).authorize_url, "bob")
    assert client.get(relative(callback)).status_code == 302
    return client


def tokens_due(client: Client, *, expires_in: int) -> None:
    """Make the session's tokens due for refresh, expiring `expires_in` s from now."""

    def change(store: Any) -> None:
        store[TOKENS] = {**store[TOKENS], "expires_at": int(time.time()) + expires_in}

    edit_session(client, change)


def same_session(client: Client) -> Client:
    other = Client()
    name = settings.SESSION_COOKIE_NAME
    other.cookies[name] = client.cookies[name].value
    return other


def first_request_refreshing(client: Client) -> tuple[threading.Thread, list[HttpResponse]]:
    """A request of the session in another thread, returned once it holds the refresh lock."""
    answers: list[HttpResponse] = []
    first = threading.Thread(target=lambda: answers.append(same_session(client).get("/")))
    first.start()
    deadline = time.monotonic() + 5
    while not TokenRefreshLock.objects.exists():
        assert time.monotonic() < deadline, "the first request never took the refresh lock"
        time.sleep(0.02)
    return first, answers


@pytest.mark.parametrize(
    ("expires_in", "status"),
    [
        pytest.param(settings.TOKEN_REFRESH_MARGIN // 2, 200, id="token-still-valid-proceeds"),
        pytest.param(-1, 503, id="token-expired-try-again"),
    ],
)
def test_a_refresh_slower_than_the_wait_never_signs_out_or_fails(
    bob: Client,
    slow_pool: SlowTokenEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    expires_in: int,
    status: int,
) -> None:
    monkeypatch.setattr(middleware, "LOCK_WAIT", 0.5)
    slow_pool.delay = 2.5
    before = stored_tokens(bob)
    tokens_due(bob, expires_in=expires_in)

    with caplog.at_level("INFO", logger="accounts"):
        first, answers = first_request_refreshing(bob)
        started = time.monotonic()
        second = bob.get("/")
        waited = time.monotonic() - started
        first.join()

    assert waited < slow_pool.delay  # it gave up waiting, and did not refresh itself
    assert second.status_code == status
    if status == 200:
        assert CURRENT_USER in second.content.decode()
    else:
        assert second["Retry-After"] == str(middleware.RETRY_AFTER)
        assert "try again in a few seconds" in second.content.decode()
        assert "no-store" in second["Cache-Control"]
    assert "event=refresh_failed" not in caplog.text
    # The slow refresh completed, once, and the session carries its tokens.
    assert answers[0].status_code == 200
    assert CURRENT_USER in answers[0].content.decode()
    assert slow_pool.calls == 1
    after = stored_tokens(bob)
    assert after["access_token"] != before["access_token"]
    assert after["expires_at"] > time.time() + settings.TOKEN_REFRESH_MARGIN
    # Trying again is signed in, with no further refresh.
    assert CURRENT_USER in bob.get("/").content.decode()
    assert slow_pool.calls == 1


def test_a_refresh_within_the_wait_is_adopted(
    bob: Client, slow_pool: SlowTokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    """The twin: the waiting request gets the new tokens as soon as the refresh is done."""
    slow_pool.delay = 0.5
    tokens_due(bob, expires_in=-1)
    with caplog.at_level("INFO", logger="accounts"):
        first, answers = first_request_refreshing(bob)
        second = bob.get("/")
        first.join()
    assert second.status_code == 200
    assert CURRENT_USER in second.content.decode()
    assert answers[0].status_code == 200
    assert slow_pool.calls == 1
    assert "event=refresh_adopted" in caplog.text
    assert "event=refresh_wait_timeout" not in caplog.text


def test_a_request_that_proceeded_does_not_save_its_older_tokens_over_the_new_ones(
    bob: Client, slow_pool: SlowTokenEndpoint, monkeypatch: pytest.MonkeyPatch, rf: Any
) -> None:
    """The second request gives up waiting, then ends after the refresh: its save keeps them."""
    monkeypatch.setattr(middleware, "LOCK_WAIT", 0.3)
    slow_pool.delay = 1.0
    tokens_due(bob, expires_in=settings.TOKEN_REFRESH_MARGIN // 2)
    first, answers = first_request_refreshing(bob)

    def slow_page(request: Any) -> HttpResponse:
        first.join()  # the refresh finishes and is saved while this request still runs
        request.session["accounts.something_this_page_keeps"] = 1  # so the session is saved
        return HttpResponse(request.user.username)

    second = rf.get("/")
    second.COOKIES[settings.SESSION_COOKIE_NAME] = bob.cookies[settings.SESSION_COOKIE_NAME].value
    stack = SessionMiddleware(
        AuthenticationMiddleware(MessageMiddleware(middleware.TokenRefreshMiddleware(slow_page)))
    )
    response = stack(second)

    assert response.content == b"bob"
    assert answers[0].status_code == 200
    refreshed = stored_tokens(bob)
    assert refreshed["expires_at"] > time.time() + settings.TOKEN_REFRESH_MARGIN
    assert CURRENT_USER in bob.get("/").content.decode()
    assert slow_pool.calls == 1
