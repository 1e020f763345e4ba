"""config/cache.py: Django's Redis cache with one Redis client per process, on a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache

from config.cache import RedisCache
from tests.prod.servers import Redis


@pytest.fixture
def redis_cache(redis_server: Redis, settings: object) -> Iterator[BaseCache]:
    settings.CACHES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": redis_server.url(5)}
    }
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


def test_every_cache_call_reuses_one_redis_client(redis_cache: BaseCache) -> None:
    assert isinstance(redis_cache, RedisCache)
    client = redis_cache._cache.get_client()  # type: ignore[attr-defined]

    redis_cache.set("counter", 1)
    redis_cache.incr("counter", 2)

    assert redis_cache._cache.get_client(write=True) is client  # type: ignore[attr-defined]
    assert redis_cache.get("counter") == 3


def test_it_still_reads_writes_expires_and_deletes_as_djangos(
    redis_cache: BaseCache, redis_server: Redis
) -> None:
    redis_cache.set("user", {"id": 1}, timeout=60)
    redis_cache.set("gone", "x", timeout=0)  # Django's meaning: expire at once
    assert redis_cache.add("user", {"id": 2}) is False

    assert redis_cache.get("user") == {"id": 1}
    assert redis_cache.get("gone") is None
    assert 0 < redis_server.client(5).ttl(":1:user") <= 60
    redis_cache.delete("user")
    assert redis_cache.get("user", "missing") == "missing"
