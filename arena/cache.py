"""Django's Redis cache backend, with one redis-py client per server for the whole process.

Django keeps cache objects in an ``asgiref.local.Local`` that is *context*-local: under ASGI every
request runs in a fresh context, so it gets a fresh ``RedisCache``, a fresh connection pool and a
new TCP connection to Redis (connect, then the pool's health check). On top of that
``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call.
benchmarks/bench_cache.py measures both against Django's own backend; the figures are in
PERFORMANCE.md.

Here the clients live in a module-level table keyed by the server URL and the pool options, so
every request, thread and cache object of a process shares one pool. ``redis.Redis`` and its
``ConnectionPool`` are thread-safe, and the pool resets itself in a forked child (it checks the
pid), so sharing is safe in daphne's threads and in Celery's prefork children alike.

Redis is only a cache here: when it is down or hangs, reads answer as misses and writes are
dropped (after ``ARENA_REDIS_TIMEOUT`` at most, then at once while ``arena.redis_clients.breaker``
is open), so pages keep working from the database. ``add`` answers False: it is used as a lock
("only the first caller does this optional work"), and without Redis nobody should.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from arena.redis_clients import breaker, unavailable_errors

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


class _SharedClientRedisCacheClient(RedisCacheClient):
    # RedisCacheClient's own attributes, which django-stubs leaves out.
    _servers: list[str]
    _pool_class: Any
    _pool_options: dict[str, Any]
    _client: Any
    _get_connection_pool_index: Callable[[bool], int]

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


def _unless_unavailable(
    fallback: Callable[[tuple[Any, ...], dict[str, Any]], Any],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The cache call, or ``fallback(args, kwargs)`` when Redis is unavailable."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
            if breaker.is_open():
                return fallback(args, kwargs)
            try:
                return method(self, *args, **kwargs)
            except unavailable_errors() as error:
                breaker.trip(error)
                return fallback(args, kwargs)

        return call

    return wrap


def _default(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return args[1] if len(args) > 1 else kwargs.get("default")


class ArenaRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClientRedisCacheClient

    get = _unless_unavailable(_default)(RedisCache.get)
    get_many = _unless_unavailable(lambda args, kwargs: {})(RedisCache.get_many)
    has_key = _unless_unavailable(lambda args, kwargs: False)(RedisCache.has_key)
    add = _unless_unavailable(lambda args, kwargs: False)(RedisCache.add)
    set = _unless_unavailable(lambda args, kwargs: None)(RedisCache.set)
    set_many = _unless_unavailable(lambda args, kwargs: list(args[0]) if args else [])(RedisCache.set_many)
    touch = _unless_unavailable(lambda args, kwargs: False)(RedisCache.touch)
    delete = _unless_unavailable(lambda args, kwargs: False)(RedisCache.delete)
    delete_many = _unless_unavailable(lambda args, kwargs: None)(RedisCache.delete_many)
