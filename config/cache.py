"""Django's Redis cache, making its Redis client once per connection pool instead of per call.

Django's RedisCacheClient builds a new `redis.Redis` for every cache operation, and redis-py fills
each new one's table of about eighty response callbacks: on a signed-in page (session, user, IdP
list: three cache reads) that was a measurable share of the worker's time (docs/bench.md, "Load"). A
`redis.Redis` is safe to share between threads (its pool hands each command a connection), and
the pool itself notices a fork, so one per pool serves the whole process.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis

BACKEND = "config.cache.RedisCache"


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        # Keyed by the pool's id: Django keeps every pool it makes for the cache's lifetime.
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with the client above."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
