"""Django's Redis cache backend, with one redis-py client per server for the whole process.

Django keeps cache objects in an ``asgiref.local.Local`` that is *context*-local: under ASGI every
request runs in a fresh context, so it gets a fresh ``RedisCache``, a fresh connection pool and a
new TCP connection to Redis (connect, then the pool's health check), which profiling showed as
the largest single cost of the rating page. On top of that ``RedisCacheClient.get_client`` builds a
new ``redis.Redis`` for every cache call, which with redis-py 8 costs about as much CPU as the
command itself.

Here the clients live in a module-level table keyed by the server URL and the pool options, so
every request, thread and cache object of a process shares one pool. ``redis.Redis`` and its
``ConnectionPool`` are thread-safe, and the pool resets itself in a forked child (it checks the
pid), so sharing is safe in daphne's threads and in Celery's prefork children alike.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


class _SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The options' part of the table key, once per cache object rather than once per call.
        self._options_key = repr(sorted(self._pool_options.items(), key=lambda item: item[0]))

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        server = self._servers[self._get_connection_pool_index(write)]
        table_key = (server, self._options_key)
        client = _clients.get(table_key)
        if client is None:
            with _clients_lock:
                client = _clients.get(table_key)
                if client is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    client = _clients[table_key] = self._client(connection_pool=pool)
        return client


class ArenaRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClientRedisCacheClient
