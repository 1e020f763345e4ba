"""Concurrent requests that find the tokens due refresh them once, in a real multi-threaded site.

`manage.py demo` serves the site with threads and a file database, as a deployment does; the
test-suite's in-memory database cannot hold a lock row across threads. The demo client's tokens
are made to live 10 seconds and the site refreshes them 6 seconds ahead, so they fall due a few
seconds after sign-in, and then several requests with the same session cookie arrive at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from tests.accounts.conftest import site_sign_in
from tests.demo_process import Demo, start_demo, stop, wait_ready

VALIDITY = 10
MARGIN = 6
REQUESTS = 8


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, dict]]:
    running = start_demo(
        Path(tmp_path_factory.mktemp("refresh")), env={"TOKEN_REFRESH_MARGIN": str(MARGIN)}
    )
    manifest = wait_ready(running)
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=manifest["aws_endpoint_url"],
        region_name=manifest["region"],
        aws_access_key_id=manifest["aws_access_key_id"],
        aws_secret_access_key=manifest["aws_secret_access_key"],
    )
    idp.update_user_pool_client(
        UserPoolId=manifest["user_pool_id"],
        ClientId=manifest["client_id"],
        AccessTokenValidity=VALIDITY,
        IdTokenValidity=VALIDITY,
        TokenValidityUnits={"AccessToken": "seconds", "IdToken": "seconds"},
    )
    yield running, manifest
    stop(running)


def signed_in(manifest: dict, username: str) -> requests.Session:
    browser = requests.Session()
    site_sign_in(browser, manifest["app_url"], username)
    return browser


def current_user(response: requests.Response) -> str | None:
    marker = 'data-testid="current-user">'
    if response.status_code != 200 or marker not in response.text:
        return None
    return response.text.split(marker, 1)[1].split("<", 1)[0]


def pages_at_once(browser: requests.Session, url: str, count: int) -> list[str | None]:
    """`count` GETs of `url` with the same cookies, released together."""
    cookies = browser.cookies.get_dict()
    start = threading.Barrier(count)
    users: list[str | None] = [None] * count

    def one(index: int) -> None:
        start.wait()
        users[index] = current_user(requests.get(url, cookies=cookies, timeout=20))

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return users


def events(demo: Demo, since: int) -> str:
    """The site's `event=` log lines after offset `since` (no request lines: they carry codes)."""
    return "\n".join(line for line in demo.output()[since:].splitlines() if "event=" in line)


def refreshes(demo: Demo, since: int) -> tuple[int, int]:
    """(refreshes made, refreshes adopted from another request) logged after offset `since`."""
    lines = demo.output()[since:].splitlines()
    return (
        sum("event=refresh " in line for line in lines),
        sum("event=refresh_adopted " in line for line in lines),
    )


def test_requests_that_find_the_tokens_due_together_refresh_them_once(
    demo: tuple[Demo, dict],
) -> None:
    running, manifest = demo
    browser = signed_in(manifest, "bob")
    since = len(running.output())
    time.sleep(VALIDITY - MARGIN + 0.5)  # the tokens are due now

    users = pages_at_once(browser, f"{manifest['app_url']}/", REQUESTS)

    assert users == ["bob"] * REQUESTS, events(running, since)
    made, adopted = refreshes(running, since)
    assert made == 1, events(running, since)
    # The next page, with no refresh due, is still bob's and refreshes nothing.
    assert current_user(browser.get(f"{manifest['app_url']}/", timeout=10)) == "bob"
    assert refreshes(running, since)[0] == 1
    print(f"{REQUESTS} requests at once: 1 refresh, {adopted} waited for it and adopted it")


def test_a_request_that_finds_the_tokens_not_yet_due_does_not_refresh(
    demo: tuple[Demo, dict],
) -> None:
    """The twin: the same requests before the tokens fall due make no refresh at all."""
    running, manifest = demo
    browser = signed_in(manifest, "bob")
    since = len(running.output())

    users = pages_at_once(browser, f"{manifest['app_url']}/", REQUESTS)

    assert users == ["bob"] * REQUESTS
    assert refreshes(running, since) == (0, 0)
