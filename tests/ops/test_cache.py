"""The Redis cache backend Arena configures when REDIS_URL is set (arena.cache.ArenaRedisCache)."""

from __future__ import annotations

import threading

import pytest

from arena.cache import ArenaRedisCache


@pytest.fixture
def make_cache(redis_url):
    """Caches on the test's own Redis database (empty at the start)."""
    return lambda: ArenaRedisCache(redis_url, {"KEY_PREFIX": "arena-test"})


def test_behaves_as_djangos_redis_cache(make_cache):
    cache = make_cache()
    assert cache.get("missing", "default") == "default"
    cache.set("answer", {"html": "<p>hi</p>"}, timeout=60)
    assert cache.get("answer") == {"html": "<p>hi</p>"}
    assert cache.add("counter", 0, timeout=60) is True
    assert cache.add("counter", 5, timeout=60) is False
    assert cache.incr("counter") == 1
    cache.delete("answer")
    assert cache.get("answer") is None


def test_one_client_per_pool_serves_every_call_and_thread(make_cache):
    cache = make_cache()
    client = cache._cache.get_client()
    cache.set("shared", 0, timeout=60)

    def bump() -> None:
        for _ in range(50):
            cache.incr("shared")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("shared") == 200
    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client  # one server: reads and writes share its pool


def test_every_cache_object_of_the_process_shares_the_client(make_cache):
    """Under ASGI each request builds its own cache object (Django keeps them context-local); they
    must not each open a connection pool and a new TCP connection to Redis."""
    first, second = make_cache(), make_cache()
    assert first._cache.get_client() is second._cache.get_client()
    first.set("seen", 1, timeout=60)
    assert second.get("seen") == 1
