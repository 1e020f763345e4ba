"""Attack: many wrong passwords or codes sent at once, so that all are in flight before any has
failed. The limit ("N failures per window") must hold under concurrency: at most N reach the pool.

The requests run in threads through Django's test client against the emulator over real HTTP;
the counters live in the process's cache, which every thread shares, as a shared cache would.
The parallel requests keep their sessions in the process's cache too (a failed sign-in still
saves its session, for the flow trace): the test database, SQLite in memory, would refuse
concurrent writers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.test import Client

from config import aws
from tests.accounts.conftest import api_signin, inbox_code

# Threads open their own database connections: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

PARALLEL = 10


@pytest.fixture(autouse=True)
def _sessions_in_the_cache(settings: Any) -> None:
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"


@pytest.fixture
def pool_calls() -> Iterator[list[str]]:
    """The name of every cognito-idp operation the app calls, from any thread."""
    seen: list[str] = []
    lock = threading.Lock()

    def capture(model: Any, **kwargs: Any) -> None:
        with lock:
            seen.append(model.name)

    events = aws.client("cognito-idp").meta.events
    events.register("before-parameter-build.cognito-idp.*", capture)
    yield seen
    events.unregister("before-parameter-build.cognito-idp.*", capture)


def all_at_once(count: int, send: Callable[[Client], Any]) -> list[int]:
    """`count` requests released together, each from its own client; their status codes."""
    start = threading.Barrier(count)

    def one(_: int) -> int:
        client = Client(REMOTE_ADDR="192.0.2.220")
        start.wait()
        return send(client).status_code

    with ThreadPoolExecutor(max_workers=count) as threads:
        return list(threads.map(one, range(count)))


def test_parallel_wrong_passwords_reach_the_pool_at_most_limit_times(
    emulator: Any, settings: Any, pool_calls: list[str]
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 2

    statuses = all_at_once(PARALLEL, lambda c: api_signin(c, "bob", "Wrong-Passw0rd!"))

    assert sorted(statuses) == [400] * 2 + [429] * (PARALLEL - 2)
    assert pool_calls.count("InitiateAuth") == 2
    assert api_signin(Client(), "bob").status_code == 429  # the window is spent


def test_parallel_attempts_under_the_limit_all_get_the_pools_answer(
    emulator: Any, settings: Any
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 5
    # Four: the pool's own lockout starts at the fifth failed password.
    statuses = all_at_once(4, lambda c: api_signin(c, "bob", "Wrong-Passw0rd!"))

    assert statuses == [400] * 4
    assert api_signin(Client(), "bob")["Location"] == "/"


def test_parallel_wrong_reset_codes_are_limited_too(
    emulator: Any, settings: Any, pool_calls: list[str]
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 2
    client = Client()
    client.post("/accounts/password/forgot/", {"username": "bob"})
    session_cookie = client.cookies

    def wrong_code(other: Client) -> Any:
        other.cookies = session_cookie  # the same reset in progress, from many connections
        return other.post(
            "/accounts/password/reset/", {"code": "000000", "new_password": "Bob-N3w-Pass!"}
        )

    statuses = all_at_once(PARALLEL, wrong_code)

    assert sorted(statuses) == [400] * 2 + [429] * (PARALLEL - 2)
    assert pool_calls.count("ConfirmForgotPassword") == 2


def test_a_right_reset_code_under_the_limit_still_works(emulator: Any, settings: Any) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 3
    client = Client()
    client.post("/accounts/password/forgot/", {"username": "bob"})
    for _ in range(2):
        client.post("/accounts/password/reset/", {"code": "000000", "new_password": "Xx-1234567!"})
    code = inbox_code(emulator, "bob@example.com", "forgot_password")

    response = client.post(
        "/accounts/password/reset/", {"code": code, "new_password": "Bob-N3w-Pass!"}
    )

    assert response.status_code == 302


def test_successful_sign_ins_give_their_slot_back(emulator: Any, settings: Any) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 2
    # One after another: signing in writes the session, and the test database (SQLite in memory)
    # takes one writer at a time.
    statuses = [api_signin(Client(), "bob").status_code for _ in range(4)]

    assert statuses == [302] * 4
