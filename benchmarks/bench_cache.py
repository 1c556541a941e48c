"""arena.cache.ArenaRedisCache against Django's own django.core.cache.backends.redis.RedisCache.

Arena's cache backend is Django's RedisCache with two changes (see arena/cache.py): one redis-py
client per server for the whole process instead of a new ``redis.Redis`` per call and a new
connection pool per cache object, and the breaker of arena/redis_clients.py (Redis down or hung:
a miss, not an error). This measures what the first change buys on the calls the app makes
(``get`` hit and miss, ``set``, ``add``, ``delete``, ``get_many``), in two shapes:

* **same context**: one cache object, the calls in a loop (a Celery task, a management command,
  a request's second and later calls);
* **new context per request**: under ASGI every request runs in a fresh context, and Django's
  ``caches`` is context-local, so each request gets a new cache object. A "request" here is what
  the rating page asks of the cache (four gets and a set), run in a fresh ``contextvars.Context``
  through a ``CacheHandler`` exactly as Django's ``caches`` does.

Three backends: ``django`` (stock RedisCache), ``django+breaker`` (stock client, Arena's breaker:
what removing the shared client would leave) and ``arena`` (ArenaRedisCache). Each figure is the
median of ``--rounds`` rounds of ``--calls`` calls: wall time per call (with the Redis round trip)
and this process's CPU per call. It starts its own ``redis-server`` on a free port of 127.0.0.1
(no persistence) and stops it at the end.

Run: ``.venv/bin/python benchmarks/bench_cache.py [--calls 1000] [--rounds 3]`` (under a minute).
"""

from __future__ import annotations

import argparse
import contextvars
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(call: Callable[[], Any], calls: int, rounds: int) -> tuple[float, float]:
    """Median wall and CPU microseconds per call over ``rounds`` rounds of ``calls`` calls."""
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            call()
        walls.append((time.perf_counter() - wall) / calls * 1e6)
        cpus.append((time.process_time() - cpu) / calls * 1e6)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from tests.outages import OwnRedis

    server = OwnRedis()
    port, url = server.port, server.url
    os.environ.update(DJANGO_SETTINGS_MODULE="arena.settings", REDIS_URL=url)
    server.start()
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.cache import CacheHandler

        options = {
            "socket_connect_timeout": settings.ARENA_REDIS_TIMEOUT,
            "socket_timeout": settings.ARENA_REDIS_TIMEOUT,
        }
        backends = {
            "django": "django.core.cache.backends.redis.RedisCache",
            "django+breaker": "benchmarks.bench_cache.BreakerOnlyCache",
            "arena": "arena.cache.ArenaRedisCache",
        }
        handlers = {
            name: CacheHandler({"default": {"BACKEND": path, "LOCATION": url, "OPTIONS": options}})
            for name, path in backends.items()
        }
        print(
            f"redis-server on port {port}; median of {args.rounds} rounds x {args.calls} calls;"
            f" microseconds per call, wall (CPU)"
        )
        header = f"  {'operation':<34}" + "".join(f"{name:>22}" for name in backends)
        print(header)

        def row(label: str, results: dict[str, tuple[float, float]]) -> None:
            print(f"  {label:<34}" + "".join(f"{w:>13.1f} ({c:5.1f})" for w, c in results.values()))

        operations: dict[str, Callable[[Any], Any]] = {
            "get (hit)": lambda c: c.get("bench:hit"),
            "get (miss)": lambda c: c.get("bench:missing"),
            "set": lambda c: c.set("bench:set", {"pool": [1, 2, 3]}, 60),
            "add (key exists)": lambda c: c.add("bench:hit", 1, 60),
            "delete": lambda c: c.delete("bench:gone"),
            "get_many (3 keys)": lambda c: c.get_many(["bench:hit", "bench:set", "bench:missing"]),
        }
        for handler in handlers.values():
            handler["default"].set("bench:hit", list(range(20)), 600)
        for label, operation in operations.items():
            results = {}
            for name, handler in handlers.items():
                cache = handler["default"]
                results[name] = measure(
                    lambda cache=cache, operation=operation: operation(cache), args.calls, args.rounds
                )
            row(label, results)

        def rating_request(handler: CacheHandler) -> None:
            cache = handler["default"]  # a new cache object: this context has none yet
            for key in ("arena:pool", "arena:sets", "arena:one-click:7", "bench:hit"):
                cache.get(key)
            cache.set("arena:seen:7", 1, 60)

        results = {}
        for name, handler in handlers.items():
            results[name] = measure(
                lambda handler=handler: contextvars.Context().run(rating_request, handler),
                max(args.calls // 5, 1),
                args.rounds,
            )
        row("request in a new context (4 get+set)", results)
        same = {
            name: measure(
                lambda handler=handler: rating_request(handler), max(args.calls // 5, 1), args.rounds
            )
            for name, handler in handlers.items()
        }
        row("the same, one context", same)
        print(f"  connections Redis holds open at the end: {_connected_clients(url)}")
    finally:
        server.stop()


def _connected_clients(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).info("clients")["connected_clients"])


def _breaker_only_cache() -> type:
    """Django's RedisCache (its own client per call, its own pool per cache object) with Arena's
    breaker and fallbacks: ArenaRedisCache minus the shared client."""
    from django.core.cache.backends.redis import RedisCache

    from arena.cache import ArenaRedisCache

    class BreakerOnly(ArenaRedisCache):
        def __init__(self, server: str, params: dict[str, Any]) -> None:
            RedisCache.__init__(self, server, params)

    return BreakerOnly


def __getattr__(name: str) -> Any:  # the class is built once Django is set up
    if name == "BreakerOnlyCache":
        return _breaker_only_cache()
    raise AttributeError(name)


if __name__ == "__main__":
    main()
