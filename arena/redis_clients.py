"""Redis as a helper that may go away: one client per process, short timeouts, a breaker.

Redis holds Arena's cache, the vote and judge limits and the live-update channel layer; it never
holds anything that must survive (sessions and all data live in the database). So when Redis is
down or hangs, a request must not wait for it: every client made here gives up after
``ARENA_REDIS_TIMEOUT`` seconds, and after a failure the process stops asking for
``ARENA_REDIS_RETRY_SECONDS`` (the breaker), so a dead Redis costs one timeout per process per
pause rather than one per cache call. Callers decide what "unavailable" means for them: the cache
answers as a miss, the vote limit refuses (fails closed), pages that only read carry on.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)


@cache
def unavailable_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "Redis is not there (or not answering)"; anything else is a bug and
    propagates. A function, not a constant: redis-py is imported on first use, so commands and the
    URL conf do not pay its import at start-up (tests/test_startup.py; PERFORMANCE.md)."""
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisUnavailable(Exception):
    """Redis could not be reached (or the breaker is open after a recent failure)."""


@lru_cache(maxsize=16)
def redis_client(url: str, *, timeout: float) -> redis.Redis:
    """The process's client for ``url`` whose connects and reads give up after ``timeout`` s."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


class Breaker:
    """After a failure, calls fail at once for ``pause`` seconds instead of waiting on Redis."""

    def __init__(self) -> None:
        self._open_until = 0.0
        self._lock = threading.Lock()
        self._last_log = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            self._open_until = now + settings.ARENA_REDIS_RETRY_SECONDS
            quiet = now - self._last_log < 10
            if not quiet:
                self._last_log = now
        if not quiet:  # one line per ten seconds, not one per cache call
            logger.warning("Redis unavailable (%s: %s); carrying on without it", type(error).__name__, error)

    def reset(self) -> None:
        self._open_until = 0.0


breaker = Breaker()


def web_redis() -> redis.Redis:
    """The client for Redis work inside a request (short timeout); raises :class:`RedisUnavailable`
    while the breaker is open."""
    if breaker.is_open():
        raise RedisUnavailable("Redis failed a moment ago")
    return redis_client(settings.REDIS_URL, timeout=settings.ARENA_REDIS_TIMEOUT)
