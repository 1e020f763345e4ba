"""/readyz: the database, the cache and the user pool's discovery document, each ok or failed.

Each failure is real: a closed port for the pool and the cache, a PostgreSQL server stopped under a
running gunicorn. The answers name what failed and never a connection string, host or password.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from django.test import Client

from tests.prod.servers import Gunicorn, Postgres, Redis, free_port

CHECKS = {"database", "cache", "discovery"}


def statuses(answer: dict[str, Any]) -> dict[str, str]:
    return {name: check["status"] for name, check in answer["checks"].items()}


@pytest.mark.django_db
def test_readyz_answers_200_when_the_database_the_cache_and_the_pool_answer(
    client: Client, emulator: Any
) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "ok"
    assert statuses(answer) == dict.fromkeys(CHECKS, "ok")
    assert all(isinstance(check["ms"], float) for check in answer["checks"].values())
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("issuer", "error"),
    [
        (lambda emulator: f"http://127.0.0.1:{free_port()}/pool", "ConnectionError"),
        # The answer of a pool that does not exist: Cognito's 400, or a 404.
        (lambda emulator: f"{emulator.url}/us-east-1_NoSuchPool", "HTTP 4"),
    ],
    ids=["closed-port", "no-such-pool"],
)
def test_readyz_answers_503_when_the_discovery_document_does_not_answer(
    client: Client, emulator: Any, settings: Any, issuer: Callable[[Any], str], error: str
) -> None:
    settings.COGNITO_ISSUER = issuer(emulator)

    response = client.get("/readyz")

    assert response.status_code == 503
    answer = response.json()
    assert answer["status"] == "unavailable"
    assert statuses(answer) == {"database": "ok", "cache": "ok", "discovery": "failed"}
    assert answer["checks"]["discovery"]["error"].startswith(error)
    assert settings.COGNITO_ISSUER not in response.content.decode()


class _Discovery(BaseHTTPRequestHandler):
    """A discovery document that counts how often it is fetched."""

    fetched = 0
    issuer = ""

    def do_GET(self) -> None:
        type(self).fetched += 1
        body = json.dumps({"issuer": self.issuer}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def counted_discovery() -> Iterator[type[_Discovery]]:
    handler = type("Counted", (_Discovery,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.issuer = f"http://127.0.0.1:{server.server_address[1]}/pool"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_polling_readyz_fetches_the_discovery_document_once_in_a_while(
    client: Client, settings: Any, counted_discovery: type[_Discovery]
) -> None:
    settings.COGNITO_ISSUER = counted_discovery.issuer

    answers = [client.get("/readyz").json() for _ in range(5)]

    assert [answer["status"] for answer in answers] == ["ok"] * 5
    assert counted_discovery.fetched == 1
    assert "cached" not in answers[0]["checks"]["discovery"]
    assert all(answer["checks"]["discovery"]["cached"] for answer in answers[1:])


@pytest.mark.django_db
def test_readyz_reports_a_cache_it_can_reach(
    client: Client, emulator: Any, settings: Any, redis_server: Redis
) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": redis_server.url(3)}
    }

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["cache"]["status"] == "ok"
    assert redis_server.client(3).exists(":1:config.health.readiness")


@pytest.mark.django_db
def test_readyz_answers_503_when_the_cache_does_not_answer(
    client: Client, emulator: Any, settings: Any
) -> None:
    location = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": location}}

    response = client.get("/readyz")

    assert response.status_code == 503
    answer = response.json()
    assert statuses(answer) == {"database": "ok", "cache": "failed", "discovery": "ok"}
    assert answer["checks"]["cache"]["error"] == "ConnectionError"
    assert location not in response.content.decode()


def test_readyz_under_gunicorn_reports_a_database_that_went_down(
    start_site: Callable[..., Gunicorn], redis_server: Redis
) -> None:
    database = Postgres.start()  # its own server: this test stops it
    try:
        password = "not-to-be-shown-4711"  # trust auth ignores it; it must not leak
        url = database.create_database("readyz").replace("postgres@", f"postgres:{password}@")
        site = start_site(database_url=url, cache_url=redis_server.url())
        # A load balancer probes over plain HTTP, without X-Forwarded-Proto: no redirect to https.
        ready = requests.get(f"{site.url}/readyz", timeout=10, allow_redirects=False)
        assert ready.status_code == 200, ready.text
        assert statuses(ready.json()) == dict.fromkeys(CHECKS, "ok")

        database.stop()
        down = requests.get(f"{site.url}/readyz", timeout=10, allow_redirects=False)
    finally:
        database.stop()

    assert down.status_code == 503
    answer = down.json()
    assert statuses(answer) == {"database": "failed", "cache": "ok", "discovery": "ok"}
    assert answer["checks"]["database"]["error"] == "OperationalError"
    for text in (ready.text, down.text):
        assert password not in text and "postgres" not in text and "redis" not in text
