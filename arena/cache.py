"""Django's Redis cache backend, with one redis-py client per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` around the pool for every
cache operation. With redis-py 8 that construction (option dictionaries, response callbacks,
event listeners) costs about as much CPU as the command itself, and the rating page makes several
cache calls per request (rate limit, pools, progress). ``redis.Redis`` is thread-safe and holds no
per-call state, so one per pool serves every thread.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:  # a race here builds a spare client, which is harmless
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class ArenaRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient
