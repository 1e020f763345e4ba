"""Two site processes on one PostgreSQL database and one Redis cache behave as one site.

Each site is its own gunicorn (two workers each) with the production settings, DATABASE_URL
pointing at a throwaway PostgreSQL and CACHE_URL at a throwaway Redis (tests/prod/conftest.py).
A browser signs in on one and is then served, signed out, timed out and rate-limited on the
other: nothing the site relies on lives in one process's memory.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from emulator import seed
from tests.prod.conftest import Sites, new_database, scratch
from tests.prod.servers import SESSION_COOKIE, Browser, Gunicorn, Postgres, Redis

SIGNIN = "/accounts/signin/"


IDLE_TIMEOUT, VALIDITY, MARGIN = 6, 10, 7


@pytest.fixture(scope="module")
def database_url(postgres: Postgres) -> str:
    return new_database(postgres)


@pytest.fixture(scope="module")
def sites(
    emulator: Any, collected_static: None, database_url: str, redis_server: Redis
) -> Iterator[tuple[Gunicorn, Gunicorn]]:
    """Two gunicorns on the same database and cache (started once: each takes seconds)."""
    workdir = scratch()
    started = Sites(emulator, workdir)
    env = {
        "AUTH_RATE_LIMIT_PER_ACCOUNT": "3",
        "SESSION_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
        "TOKEN_REFRESH_MARGIN": str(MARGIN),
    }
    yield tuple(  # type: ignore[misc]
        started.start(database_url=database_url, cache_url=redis_server.url(), **env)
        for _ in range(2)
    )
    started.stop_all()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(autouse=True)
def _empty_cache(redis_server: Redis) -> None:
    """No rate-limit counter of another test is left in the shared cache."""
    redis_server.client().flushall()


def on(site: Gunicorn, browser: Browser) -> Browser:
    """The same browser (the same cookies) reaching another site process."""
    other = Browser(site.url)
    other.cookies = browser.cookies
    return other


def test_a_session_started_on_one_process_is_served_by_the_other(
    sites: tuple[Gunicorn, Gunicorn], postgres: Postgres, redis_server: Redis, database_url: str
) -> None:
    first, second = sites
    browser = Browser(first.url)
    assert on(second, browser).current_user() is None  # the twin: not signed in yet

    browser.sign_in("bob")

    assert on(second, browser).current_user() == "bob"
    # The session is PostgreSQL's record, read through Redis (the cached_db engine).
    session_key = browser.cookies[SESSION_COOKIE]
    database = database_url.rsplit("/", 1)[1]
    rows = postgres.execute(
        database, "SELECT count(*) FROM django_session WHERE session_key = %s", session_key
    )
    assert rows == [(1,)]
    assert any(session_key.encode() in key for key in redis_server.client().keys("*"))


def test_a_sign_out_on_one_process_holds_on_the_other(
    sites: tuple[Gunicorn, Gunicorn],
) -> None:
    first, second = sites
    browser = Browser(first.url)
    browser.sign_in("bob")
    assert on(second, browser).current_user() == "bob"

    assert on(second, browser).form_post("/accounts/logout/", {}).status_code == 302

    assert browser.current_user() is None


def test_an_idle_session_ends_on_every_process(
    sites: tuple[Gunicorn, Gunicorn],
) -> None:
    first, second = sites
    browser = Browser(first.url)
    browser.sign_in("bob")
    assert on(second, browser).current_user() == "bob"  # the twin: within the timeout

    time.sleep(IDLE_TIMEOUT + 0.5)

    assert on(second, browser).current_user() is None
    assert browser.current_user() is None


def wrong_then_right(sites: tuple[Gunicorn, Gunicorn], wrong: int) -> int:
    """`wrong` failed API sign-ins as bob, alternating sites, then the right password's status."""
    for attempt in range(wrong):
        answer = Browser(sites[attempt % 2].url).form_post(
            SIGNIN, {"username": "bob", "password": "Wrong-Passw0rd!"}
        )
        assert answer.status_code == 400, answer.status_code
    right = Browser(sites[wrong % 2].url).form_post(
        SIGNIN, {"username": "bob", "password": seed_password("bob")}
    )
    return right.status_code


def seed_password(username: str) -> str:
    return next(user.password for user in seed.DEMO_USERS if user.username == username)


def test_failed_sign_ins_count_across_processes(
    sites: tuple[Gunicorn, Gunicorn],
) -> None:
    assert wrong_then_right(sites, wrong=3) == 429


def test_sign_in_just_under_the_limit_works_across_processes(
    sites: tuple[Gunicorn, Gunicorn],
) -> None:
    assert wrong_then_right(sites, wrong=2) == 302


AT_ONCE = 8


def test_tokens_due_refresh_once_across_processes_on_postgresql(
    sites: tuple[Gunicorn, Gunicorn], emulator: Any
) -> None:
    boto3.client(
        "cognito-idp",
        endpoint_url=emulator.url,
        region_name=seed.REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        AccessTokenValidity=VALIDITY,
        IdTokenValidity=VALIDITY,
        TokenValidityUnits={"AccessToken": "seconds", "IdToken": "seconds"},
    )
    browser = Browser(sites[0].url)
    browser.sign_in("bob")
    time.sleep(VALIDITY - MARGIN + 0.5)  # the tokens are due now

    users: list[str | None] = [None] * AT_ONCE
    start = threading.Barrier(AT_ONCE)

    def one(index: int) -> None:
        start.wait()
        users[index] = on(sites[index % 2], browser).current_user()

    threads = [threading.Thread(target=one, args=(index,)) for index in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = [
        line
        for site in sites
        for line in site.output.read_text().splitlines()
        if "event=refresh" in line
    ]
    assert users == ["bob"] * AT_ONCE, lines
    assert sum("event=refresh " in line for line in lines) == 1, lines
