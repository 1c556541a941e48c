"""A judge's concurrency and rate limits, held across every worker.

With Redis (REDIS_URL set) the limits live in Redis (``arena.limits``), so 4 workers of 8
threads still keep a judge at its ``max_concurrent`` requests in flight and its requests per
minute. Without Redis — the embedded mode where tasks run in the web or CLI process — an
in-process semaphore and a sliding-window limiter do the same job for the one process there is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.conf import settings

from arena.limits import LocalRateLimiter, Semaphore

if TYPE_CHECKING:  # redis-py loads with the first client (see arena.redis_clients)
    import redis

logger = logging.getLogger(__name__)


class LocalJudgeLimiter:
    """``max_concurrent`` requests in flight and at most ``rpm`` starts per 60 s, in this process."""

    def __init__(self, max_concurrent: int, rpm: int) -> None:
        self.max_concurrent = max(1, max_concurrent)
        self.rpm = max(1, rpm)
        self._semaphore = threading.BoundedSemaphore(self.max_concurrent)
        self._rate = LocalRateLimiter(self.rpm, window_seconds=60.0)

    def _wait_for_rate(self) -> None:
        while (wait := self._rate.try_acquire()) > 0:
            time.sleep(min(max(wait, 0.01), 1.0))

    @contextmanager
    def slot(self) -> Iterator[None]:
        self._semaphore.acquire()
        try:
            self._wait_for_rate()
            yield
        finally:
            self._semaphore.release()


_local: dict[tuple[str, int, int], LocalJudgeLimiter] = {}
_local_lock = threading.Lock()


def local_limiter(key: str, max_concurrent: int, rpm: int) -> LocalJudgeLimiter:
    with _local_lock:
        limiter = _local.get((key, max_concurrent, rpm))
        if limiter is None:
            limiter = _local[(key, max_concurrent, rpm)] = LocalJudgeLimiter(max_concurrent, rpm)
        return limiter


_gates: dict[tuple[str, int], threading.BoundedSemaphore] = {}


@contextmanager
def process_gate(*, key: str, max_concurrent: int) -> Iterator[None]:
    """At most ``max_concurrent`` of this process's threads past this point for ``key``.

    In front of the cross-worker slot: a process never has more threads competing for the judge's
    Redis slots than the judge has slots, and the rest wait here on a lock, which costs no CPU
    (polling Redis does, in the worker and in Redis). Waiting rows are not claimed yet.
    """
    size = max(1, max_concurrent)
    with _local_lock:
        gate = _gates.get((key, size))
        if gate is None:
            gate = _gates[(key, size)] = threading.BoundedSemaphore(size)
    with gate:
        yield


def redis_client(url: str) -> redis.Redis:
    """The process's raw Redis client for the judge's shared state (limits, progress throttle).

    Reads give up after 5 s (a blocked wait for a slot lasts a quarter second at most), so a Redis
    that hangs is noticed instead of holding a worker's threads forever."""
    from arena.redis_clients import redis_client as shared_client

    return shared_client(url, timeout=5.0)


class _LeaseRenewer:
    """Keeps this process's Redis slot leases alive while their requests run.

    Leases are short (JUDGE_SLOT_LEASE_SECONDS) so the slots of a worker killed with SIGKILL come
    back within seconds instead of after the request timeout; a live request's lease is renewed
    every third of it by one daemon thread per process.
    """

    def __init__(self) -> None:
        self._held: dict[str, tuple[Semaphore, str]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, semaphore: Semaphore, token: str) -> None:
        with self._lock:
            self._held[token] = (semaphore, token)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="judge-slot-renewer", daemon=True)
                self._thread.start()

    def drop(self, token: str) -> None:
        with self._lock:
            self._held.pop(token, None)

    def _loop(self) -> None:
        while True:
            time.sleep(max(settings.JUDGE_SLOT_LEASE_SECONDS / 3, 0.2))
            with self._lock:
                held = list(self._held.values())
            by_key: dict[str, tuple[Semaphore, list[str]]] = {}
            for semaphore, token in held:
                by_key.setdefault(semaphore.key, (semaphore, []))[1].append(token)
            for semaphore, tokens in by_key.values():  # one round trip per judge
                try:
                    semaphore.renew_many(tokens)
                except Exception:  # a Redis hiccup: the next round tries again
                    logger.warning("slot leases not renewed", exc_info=True)


_renewer = _LeaseRenewer()


@contextmanager
def endpoint_slot(*, key: str, max_concurrent: int, rpm: int, lease_seconds: float) -> Iterator[None]:
    """Hold one of the endpoint's request slots for the duration of one request.

    ``lease_seconds`` bounds a held slot only in the in-process limiter's sense of "the request
    may take this long"; in Redis the lease is short and renewed while the request runs.

    Redis going away never costs a reply: before the request, taking a slot waits for Redis to
    come back (nothing has been sent yet, so waiting is free; up to JUDGE_OUTAGE_WAIT_SECONDS);
    after it, a release that cannot reach Redis is left to the lease, which frees the slot within
    JUDGE_SLOT_LEASE_SECONDS, and the reply is stored all the same.
    """
    if settings.REDIS_URL:
        from arena.limits import judge_slot_take
        from arena.redis_clients import unavailable_errors

        client = redis_client(settings.REDIS_URL)
        lease = settings.JUDGE_SLOT_LEASE_SECONDS
        deadline = time.monotonic() + settings.JUDGE_OUTAGE_WAIT_SECONDS
        taken = None
        while taken is None:
            try:
                taken = judge_slot_take(
                    client, key, max(1, max_concurrent), rpm, lease, timeout=max(lease_seconds, 600.0)
                )
            except unavailable_errors():
                if time.monotonic() > deadline:
                    raise
                logger.warning("Redis unavailable: waiting to take a request slot for %s", key)
                time.sleep(1.0)
        semaphore, token = taken
        _renewer.hold(semaphore, token)
        try:
            yield
        finally:
            _renewer.drop(token)
            try:
                semaphore.release(token)
            except unavailable_errors():
                logger.warning("Redis unavailable: the slot of %s is freed by its lease instead", key)
        return
    with local_limiter(key, max_concurrent, rpm).slot():
        yield
