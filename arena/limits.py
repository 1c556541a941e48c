"""Per-judge limits shared by every worker process and machine, kept in Redis. No Django.

Two limits, each one Lua script so a check and its update are a single atomic step in Redis:

* :class:`Semaphore` - at most N requests in flight. Holders are members of a sorted set scored by
  the expiry of their lease; expired members are dropped before counting, so the slot of a worker
  killed with SIGKILL (which never releases) comes back when its lease runs out. Leases are
  measured on the Redis server's clock (``TIME``), so machines with skewed clocks agree.
  A waiter blocks on a wake-up list (``BLPOP``) that every release pushes to, rather than polling:
  with several worker processes sharing a judge's slots, polling cost as much CPU as the
  judging itself. The wait is bounded, so a slot that frees by lease expiry is still found.
* :class:`RateLimiter` - at most ``limit`` request starts in any sliding window (60 s for
  requests-per-minute), as a log of admission times in a sorted set. Exact for any window, unlike
  a fixed window (which allows 2x at a boundary); memory is one entry per admitted request.
  :class:`LocalRateLimiter` is the same log in this process's memory, for runs without Redis.

:func:`judge_slot` combines both around one request. The lease must outlive the request: pass the
request timeout plus a margin.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the caller brings the client, start-up stays free of redis-py
    import redis

KEY_PREFIX = "arena:limits"

# KEYS[1] holders zset; ARGV: max, lease seconds, token. Returns 1 if acquired, else 0.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  local lease = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
  -- the set disappears once every lease could have expired, so idle judges leave nothing behind
  local ttl = redis.call('PTTL', KEYS[1])
  local want = math.ceil(lease * 1000) + 1000
  if ttl < want then redis.call('PEXPIRE', KEYS[1], want) end
  return 1
end
return 0
"""

# KEYS[1] holders zset, KEYS[2] wake-up list; ARGV: token, limit. Wakes one waiter if the slot
# was still held; the list is capped at the limit, so wake-ups nobody took cannot pile up.
_RELEASE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[2], 1)
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
  redis.call('PEXPIRE', KEYS[2], 60000)
end
return 0
"""

# KEYS[1] holders zset; ARGV: lease seconds, token. Returns 1 if the lease was still held.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not expiry or tonumber(expiry) <= now then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
local want = math.ceil(tonumber(ARGV[1]) * 1000) + 1000
if redis.call('PTTL', KEYS[1]) < want then redis.call('PEXPIRE', KEYS[1], want) end
return 1
"""

# KEYS[1] holders zset; ARGV: lease seconds, tokens... Renews every token still held; returns how many.
_RENEW_MANY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local lease = tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  local expiry = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if expiry and tonumber(expiry) > now then
    redis.call('ZADD', KEYS[1], now + lease, ARGV[i])
    renewed = renewed + 1
  elseif expiry then
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
local want = math.ceil(lease * 1000) + 1000
if renewed > 0 and redis.call('PTTL', KEYS[1]) < want then redis.call('PEXPIRE', KEYS[1], want) end
return renewed
"""

# KEYS[1] holders zset, KEYS[2] admissions zset; ARGV: max, lease seconds, token, rate limit,
# window seconds, admission token. Takes a slot and a unit of rate together, or neither: 1 if
# taken, 0 if no slot is free, -1 if a slot is free but the rate is used up.
_ACQUIRE_BOTH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
local window = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -1 end
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
local want = math.ceil(lease * 1000) + 1000
if ttl < want then redis.call('PEXPIRE', KEYS[1], want) end
redis.call('ZADD', KEYS[2], now, ARGV[6])
redis.call('PEXPIRE', KEYS[2], math.ceil(window * 1000) + 1000)
return 1
"""

# KEYS[1] admissions zset; ARGV: limit, window seconds, token.
# Returns the seconds to wait as a string ("0" = admitted now and recorded).
_RATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local limit = tonumber(ARGV[1])
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return '0'
end
-- full: admission needs count - limit + 1 entries to leave the window, the newest of them is
-- at rank count - limit
local count = redis.call('ZCARD', KEYS[1])
local pivot = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return tostring(math.max(tonumber(pivot[2]) + window - now, 0.001))
"""


class SlotTimeout(TimeoutError):
    """No slot (or no rate budget) became free within the caller's timeout."""


class Semaphore:
    """At most ``limit`` holders at once across all processes, each holding a lease."""

    def __init__(self, client: redis.Redis, key: str, limit: int, *, lease_seconds: float) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.client = client
        self.key = key
        self.limit = limit
        self.lease_seconds = lease_seconds
        self.wake_key = f"{key}:wake"
        scripts = _scripts(client)
        self._acquire = scripts[_ACQUIRE]
        self._release = scripts[_RELEASE]
        self._renew = scripts[_RENEW]
        self._renew_many = scripts[_RENEW_MANY]

    def try_acquire(self) -> str | None:
        """A token if a slot was free (now held), else None."""
        token = uuid.uuid4().hex
        if self._acquire(keys=[self.key], args=[self.limit, self.lease_seconds, token]):
            return token
        return None

    def acquire(self, *, timeout: float | None, max_wait: float = 0.25) -> str:
        """Wait for a slot; raises :class:`SlotTimeout` after ``timeout`` seconds (None = forever).

        Between tries the waiter blocks until a release wakes it, or ``max_wait`` seconds at most
        (a holder that died frees its slot by lease expiry, which wakes nobody).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            token = self.try_acquire()
            if token is not None:
                return token
            self.wait_for_release(deadline=deadline, max_wait=max_wait, timeout=timeout)

    def wait_for_release(self, *, deadline: float | None, max_wait: float, timeout: float | None) -> None:
        """Block until a holder releases (a wake-up on the list), ``max_wait`` seconds at most.

        Raises :class:`SlotTimeout` once ``deadline`` (``time.monotonic()``; None = never) has
        passed; ``timeout`` is the caller's, for the message.
        """
        wait = max_wait
        if deadline is not None:
            wait = min(wait, deadline - time.monotonic())
            if wait <= 0:
                raise SlotTimeout(f"no free slot in {self.key} (limit {self.limit}) within {timeout} s")
        # BLPOP's timeout has millisecond resolution; 0 would mean "forever".
        self.client.blpop([self.wake_key], timeout=max(wait, 0.001))

    def renew(self, token: str) -> bool:
        """Extend a held lease by ``lease_seconds`` from now; False if it had already expired."""
        return bool(self._renew(keys=[self.key], args=[self.lease_seconds, token]))

    def renew_many(self, tokens: list[str]) -> int:
        """:meth:`renew` for many tokens in one round trip; returns how many were still held."""
        if not tokens:
            return 0
        return int(self._renew_many(keys=[self.key], args=[self.lease_seconds, *tokens]))

    def release(self, token: str) -> None:
        self._release(keys=[self.key, self.wake_key], args=[token, self.limit])

    def holders(self) -> int:
        """Current unexpired holders (for monitoring and tests)."""
        now_seconds, now_micros = self.client.time()
        return int(self.client.zcount(self.key, f"({now_seconds + now_micros / 1e6}", "+inf"))


class RateLimiter:
    """At most ``limit`` admissions in any sliding window of ``window_seconds``."""

    def __init__(self, client: redis.Redis, key: str, limit: int, *, window_seconds: float = 60.0) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self.client = client
        self.key = key
        self.limit = limit
        self.window_seconds = window_seconds
        self._script = _scripts(client)[_RATE]

    def try_acquire(self) -> float:
        """0.0 if admitted now (and counted), else how many seconds to wait before trying again."""
        token = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        wait = self._script(keys=[self.key], args=[self.limit, self.window_seconds, token])
        return float(wait.decode() if isinstance(wait, bytes) else wait)

    def acquire(self, *, timeout: float | None) -> None:
        """Wait until admitted; raises :class:`SlotTimeout` if that would take beyond ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = self.try_acquire()
            if wait == 0:
                return
            if deadline is not None and time.monotonic() + wait > deadline:
                raise SlotTimeout(
                    f"rate limit {self.limit}/{self.window_seconds:g}s on {self.key}: wait {wait:.2f} s"
                )
            # A little jitter so waiters released by the same expiry do not all retry at once.
            time.sleep(wait + random.uniform(0, 0.01))


class LocalRateLimiter:
    """:class:`RateLimiter` for one process: at most ``limit`` admissions in any sliding window of
    ``window_seconds``, as a log of admission times (``clock``: seconds, monotonic or wall)."""

    def __init__(
        self, limit: int, *, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        """0.0 if admitted now (and counted), else how many seconds to wait before trying again."""
        with self._lock:
            now = self._clock()
            while self._admitted and now - self._admitted[0] >= self.window_seconds:
                self._admitted.popleft()
            if len(self._admitted) < self.limit:
                self._admitted.append(now)
                return 0.0
            # the oldest admission in the window must leave it before another fits
            return max(self._admitted[len(self._admitted) - self.limit] + self.window_seconds - now, 0.001)

    def idle(self) -> bool:
        """Nothing admitted within the window (the limiter can be dropped)."""
        with self._lock:
            return not self._admitted or self._clock() - self._admitted[-1] >= self.window_seconds


def slot_keys(judge_key: str) -> tuple[str, str]:
    """The Redis keys holding a judge's in-flight set and its admission log."""
    return f"{KEY_PREFIX}:{judge_key}:inflight", f"{KEY_PREFIX}:{judge_key}:rate"


def judge_slot_take(
    client: redis.Redis,
    judge_key: str,
    max_concurrent: int,
    rpm: int,
    lease_seconds: float,
    *,
    timeout: float | None = 600.0,
    window_seconds: float = 60.0,
    max_wait: float = 0.25,
) -> tuple[Semaphore, str]:
    """Take one of the judge's in-flight slots and one unit of its request rate; the caller
    releases the slot (``semaphore.release(token)``). See :func:`judge_slot`."""
    inflight_key, rate_key = slot_keys(judge_key)
    semaphore = semaphore_for(client, inflight_key, max_concurrent, lease_seconds=lease_seconds)
    started = time.monotonic()
    token = (
        _take_slot_and_rate(
            client,
            semaphore,
            rate_key,
            rpm,
            started=started,
            timeout=timeout,
            window_seconds=window_seconds,
            max_wait=max_wait,
        )
        if rpm > 0
        else None
    )
    if token is None:  # no rate limit, or the rate is the binding limit: slot first, then the rate
        token = semaphore.acquire(timeout=timeout, max_wait=max_wait)
        try:
            if rpm > 0:
                remaining = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
                RateLimiter(client, rate_key, rpm, window_seconds=window_seconds).acquire(timeout=remaining)
        except BaseException:
            semaphore.release(token)
            raise
    return semaphore, token


@contextmanager
def judge_slot(
    client: redis.Redis, judge_key: str, max_concurrent: int, rpm: int, lease_seconds: float, **options: Any
) -> Iterator[str]:
    """Hold one of the judge's in-flight slots and one unit of its request rate for one request.

    The slot is taken first, then the rate budget, so the rate counts the moment the request is
    really sent. Waiting for the rate while holding a slot costs nothing: when the rate is the
    binding limit, slots are not. Yields the slot's token (for :meth:`Semaphore.renew`).
    ``options``: those of :func:`judge_slot_take` (timeout, window_seconds, max_wait).
    """
    semaphore, token = judge_slot_take(client, judge_key, max_concurrent, rpm, lease_seconds, **options)
    try:
        yield token
    finally:
        semaphore.release(token)


def _take_slot_and_rate(
    client: redis.Redis,
    semaphore: Semaphore,
    rate_key: str,
    rpm: int,
    *,
    started: float,
    timeout: float | None,
    window_seconds: float,
    max_wait: float,
) -> str | None:
    """A slot and a unit of rate taken together, one round trip per try (the common case when
    slots are the binding limit: waiters wake on a release and try both at once). None when a
    slot is free but the rate is used up: the caller then waits for the rate holding a slot."""
    acquire_both = _scripts(client)[_ACQUIRE_BOTH]
    deadline = None if timeout is None else started + timeout
    while True:
        token = uuid.uuid4().hex
        admission = f"{time.time_ns()}-{token[:8]}"
        taken = int(
            acquire_both(
                keys=[semaphore.key, rate_key],
                args=[semaphore.limit, semaphore.lease_seconds, token, rpm, window_seconds, admission],
            )
        )
        if taken == 1:
            return token
        if taken == -1:
            return None
        semaphore.wait_for_release(deadline=deadline, max_wait=max_wait, timeout=timeout)


_ALL_SCRIPTS = (_ACQUIRE, _RELEASE, _RENEW, _RENEW_MANY, _ACQUIRE_BOTH, _RATE)
_registered: dict[int, tuple[redis.Redis, dict[str, Any]]] = {}


def _scripts(client: redis.Redis) -> dict[str, Any]:
    """This module's Lua scripts registered with ``client``, once per client (a registration
    hashes the script text; every request used to pay for six of them)."""
    entry = _registered.get(id(client))
    if entry is None or entry[0] is not client:
        if len(_registered) > 100:  # processes keep a client or two; tests make one per test
            _registered.clear()
        entry = _registered[id(client)] = (
            client,
            {script: client.register_script(script) for script in _ALL_SCRIPTS},
        )
    return entry[1]


_semaphores: dict[tuple[int, str, int, float], Semaphore] = {}


def semaphore_for(client: redis.Redis, key: str, limit: int, *, lease_seconds: float) -> Semaphore:
    """The :class:`Semaphore` for these settings, built once per client (it holds no state of its own)."""
    cache_key = (id(client), key, limit, lease_seconds)
    semaphore = _semaphores.get(cache_key)
    if semaphore is None or semaphore.client is not client:
        if len(_semaphores) > 1000:  # judges come and go; settings change
            _semaphores.clear()
        semaphore = _semaphores[cache_key] = Semaphore(client, key, limit, lease_seconds=lease_seconds)
    return semaphore
