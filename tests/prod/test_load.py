"""A short load against the site under gunicorn (two workers) on PostgreSQL and Redis: no errors,
no lost sessions. bench/load.py measures the same scenarios at length and prints the figures."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.load import Result, page, run, sign_in
from tests.prod.conftest import new_database
from tests.prod.servers import SESSION_COOKIE, Browser, Gunicorn, Postgres, Redis

SECONDS, CLIENTS = 1.5, 4


@pytest.fixture
def site(start_site: Callable[..., Gunicorn], postgres: Postgres, redis_server: Redis) -> Gunicorn:
    redis_server.client().flushall()
    return start_site(database_url=new_database(postgres), cache_url=redis_server.url(), workers=2)


def held(result: Result) -> None:
    assert result.latencies, f"{result.name}: no request completed ({result.first_error})"
    assert (result.errors, result.lost) == (0, 0), (result.line(), result.first_error)


def test_signed_in_pages_under_load_keep_their_sessions_and_answer_without_errors(
    site: Gunicorn,
) -> None:
    browsers = [Browser(site.url) for _ in range(CLIENTS)]
    for browser in browsers:
        browser.sign_in("bob")

    held(run("healthz", page("/healthz"), browsers, SECONDS))
    held(run("home", page("/", signed_in_as="bob"), browsers, SECONDS))
    held(run("protected", page("/protected/", signed_in_as="bob"), browsers, SECONDS))
    held(run("sign-ins", sign_in("bob"), browsers, SECONDS))


def test_a_session_the_site_no_longer_knows_counts_as_lost(site: Gunicorn) -> None:
    """The check above can fail: browsers whose session cookie names no session lose it."""
    browsers = [Browser(site.url) for _ in range(CLIENTS)]
    for browser in browsers:
        browser.sign_in("bob")
        browser.cookies.set(SESSION_COOKIE, "no-such-session", domain="127.0.0.1", path="/")

    result = run("home", page("/", signed_in_as="bob"), browsers, 0.5)

    assert result.lost == len(result.latencies) > 0 and result.errors == 0
