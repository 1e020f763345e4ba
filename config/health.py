"""The readiness check: can this process reach the database, the cache and the user pool?

Each check answers ok or failed with the time it took, and a failure names only the exception's
class: never a connection string, a host or a password. The discovery document is fetched with a
short timeout and its outcome kept in this process for a few seconds, so a load balancer polling
every worker does not become a stream of requests to Cognito.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import connection

# A probe answers in about a second even when the pool does not: (connect, read) seconds.
DISCOVERY_TIMEOUT = (1.0, 2.0)
# How long one outcome of the discovery check (success or failure) serves the probes.
DISCOVERY_CHECK_SECONDS = 10.0
CACHE_KEY = "config.health.readiness"


@dataclass(frozen=True)
class Check:
    """One dependency's answer: `error` is an exception class name or a short reason."""

    ok: bool
    ms: float
    error: str = ""
    cached: bool = False

    def as_json(self) -> dict[str, object]:
        answer: dict[str, object] = {"status": "ok" if self.ok else "failed", "ms": self.ms}
        if self.error:
            answer["error"] = self.error
        if self.cached:
            answer["cached"] = True
        return answer


def readiness_checks() -> dict[str, Check]:
    """The database, the cache and the user pool's discovery document, in that order."""
    return {
        "database": _timed(_database_check),
        "cache": _timed(_cache_check),
        "discovery": _discovery_check(),
    }


class NotReady(Exception):
    """A dependency answered, but not as it should; the message is safe to show."""


def _timed(check: Callable[[], None]) -> Check:
    started = time.perf_counter()
    try:
        check()
    except NotReady as reason:
        return Check(False, _ms_since(started), str(reason))
    except Exception as error:  # any failure is the answer; its text may name hosts or users
        return Check(False, _ms_since(started), type(error).__name__)
    return Check(True, _ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache_check() -> None:
    """A write and a read back: a cache that only answers reads is not ready either."""
    token = secrets.token_hex(8)
    cache.set(CACHE_KEY, token, timeout=30)
    if cache.get(CACHE_KEY) != token:
        raise NotReady("written value not read back")


_discovery_lock = threading.Lock()
# The last discovery outcome by URL (another issuer, after a settings change, is checked anew).
_discovery_outcome: dict[str, tuple[float, Check]] = {}


def _discovery_check() -> Check:
    url = f"{settings.COGNITO_ISSUER}/.well-known/openid-configuration"
    with _discovery_lock:
        kept = _discovery_outcome.get(url)
        if kept is not None and time.monotonic() - kept[0] < DISCOVERY_CHECK_SECONDS:
            return Check(kept[1].ok, kept[1].ms, kept[1].error, cached=True)
        outcome = _timed(lambda: _discovery_fetch(url))
        _discovery_outcome[url] = (time.monotonic(), outcome)
        return outcome


def _discovery_fetch(url: str) -> None:
    response = requests.get(url, timeout=DISCOVERY_TIMEOUT, allow_redirects=False)
    if response.status_code != 200:
        raise NotReady(f"HTTP {response.status_code}")
    # The document must name this issuer: the same check every token's `iss` gets.
    if response.json().get("issuer") != settings.COGNITO_ISSUER:
        raise NotReady("another issuer")
