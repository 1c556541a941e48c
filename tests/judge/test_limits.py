"""Cross-worker limits in a real Redis (a database of each test's own: tests/services.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from arena.limits import RateLimiter, Semaphore, SlotTimeout, judge_slot, slot_keys
from tests.llm_server import FakeLLMServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


class HighWater:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current = self.peak = 0

    def __enter__(self) -> None:
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.current -= 1


class TestConcurrency:
    def test_20_threads_never_exceed_the_limit(self, r: redis.Redis) -> None:
        in_flight = HighWater()

        def request(_: int) -> None:
            with judge_slot(r, "judge:1", 4, 0, 30), in_flight:
                time.sleep(0.03)

        with ThreadPoolExecutor(20) as pool:
            list(pool.map(request, range(100)))
        assert in_flight.peak == 4, "the limit holds and is also reached"
        assert r.zcard(slot_keys("judge:1")[0]) == 0, "every slot was released"

    def test_the_limit_holds_across_processes_as_counted_by_the_llm_server(
        self, r: redis.Redis, redis_url: str
    ) -> None:
        # Four worker processes, eight threads each, share one judge limited to 3 in flight; the
        # fake LLM server measures how many requests it really had in flight at once.
        worker = textwrap.dedent(
            """
            import sys
            from concurrent.futures import ThreadPoolExecutor
            import redis
            from judge.client import OpenAIChatClient
            from arena.limits import judge_slot

            base_url, redis_url = sys.argv[1], sys.argv[2]
            r = redis.Redis.from_url(redis_url)
            client = OpenAIChatClient(base_url=base_url, api_key="k")

            def one(n):
                with judge_slot(r, "judge:cross", 3, 0, 30):
                    client.complete([{"role": "user", "content": f"{sys.argv[3]}-{n}"}], model="m",
                                    temperature=0, max_tokens=20, timeout=10)

            with ThreadPoolExecutor(8) as pool:
                list(pool.map(one, range(10)))
            """
        )
        with FakeLLMServer(latency=0.05) as llm:
            processes = [
                subprocess.Popen([sys.executable, "-c", worker, llm.base_url, redis_url, str(n)], cwd=ROOT)
                for n in range(4)
            ]
            assert [p.wait(timeout=60) for p in processes] == [0, 0, 0, 0]
            stats = llm.stats()
        assert stats["total"] == 40 and len(stats["completed_by_key"]) == 40
        assert stats["in_flight_max"] == 3

    @pytest.mark.timing
    def test_a_full_semaphore_times_out(self, r: redis.Redis) -> None:
        semaphore = Semaphore(r, "s", 1, lease_seconds=10)
        assert semaphore.try_acquire() is not None
        assert semaphore.try_acquire() is None
        started = time.monotonic()
        with pytest.raises(SlotTimeout):
            semaphore.acquire(timeout=0.2)
        assert 0.18 <= time.monotonic() - started < 0.5

    def test_a_released_slot_is_reused_at_once(self, r: redis.Redis) -> None:
        semaphore = Semaphore(r, "s", 1, lease_seconds=10)
        token = semaphore.acquire(timeout=1)
        semaphore.release(token)
        assert semaphore.acquire(timeout=0.05)

    @pytest.mark.timing
    def test_a_release_wakes_a_blocked_waiter_without_polling(self, r: redis.Redis) -> None:
        semaphore = Semaphore(r, "s", 1, lease_seconds=10)
        token = semaphore.acquire(timeout=1)
        r.config_resetstat()
        got: list[float] = []

        def waiter() -> None:
            semaphore.acquire(timeout=10, max_wait=5)
            got.append(time.monotonic())

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.5)
        released = time.monotonic()
        semaphore.release(token)
        thread.join(timeout=5)
        assert got and got[0] - released < 0.2, "woken by the release, not by its 5 s time limit"
        tries = int(r.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))
        assert tries <= 3, f"the waiter tried {tries} times in 0.5 s: it polls instead of blocking"

    @pytest.mark.timing
    def test_a_rate_limited_waiter_takes_slot_and_rate_together_when_woken(self, r: redis.Redis) -> None:
        got: list[tuple[float, int]] = []
        with judge_slot(r, "judge:w", 1, 100, 10):
            r.config_resetstat()

            def waiter() -> None:
                with judge_slot(r, "judge:w", 1, 100, 10, max_wait=5):
                    calls = int(r.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))
                    got.append((time.monotonic(), calls))

            thread = threading.Thread(target=waiter)
            thread.start()
            time.sleep(0.5)
            released = time.monotonic()
        thread.join(timeout=5)
        assert got and got[0][0] - released < 0.2, "woken by the release, not by its 5 s time limit"
        assert got[0][1] <= 3, f"{got[0][1]} script calls: one try, the holder's release, one try"
        inflight, rate = slot_keys("judge:w")
        assert r.zcard(rate) == 2 and r.zcard(inflight) == 0

    def test_wake_ups_nobody_took_are_capped_at_the_limit(self, r: redis.Redis) -> None:
        semaphore = Semaphore(r, "s", 2, lease_seconds=10)
        for _ in range(5):
            semaphore.release(semaphore.acquire(timeout=1))
        assert r.llen(semaphore.wake_key) == 2


class TestLeases:
    @pytest.mark.timing
    def test_an_expired_lease_is_reclaimed(self, r: redis.Redis) -> None:
        semaphore = Semaphore(r, "s", 1, lease_seconds=0.4)
        assert semaphore.try_acquire() is not None  # a holder that never releases
        started = time.monotonic()
        semaphore.acquire(timeout=3)
        assert 0.3 <= time.monotonic() - started < 1.0

    @pytest.mark.timing
    def test_the_slot_of_a_sigkilled_worker_comes_back_after_its_lease(
        self, r: redis.Redis, redis_url: str
    ) -> None:
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time, redis\n"
                "from arena.limits import judge_slot\n"
                "r = redis.Redis.from_url(sys.argv[1])\n"
                "with judge_slot(r, 'judge:killed', 1, 0, 1.0):\n"
                "    print('holding', flush=True)\n"
                "    time.sleep(60)\n",
                redis_url,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        semaphore = Semaphore(r, slot_keys("judge:killed")[0], 1, lease_seconds=1.0)
        assert semaphore.try_acquire() is None, "the dead worker's lease is still running"
        started = time.monotonic()
        with judge_slot(r, "judge:killed", 1, 0, 1.0, timeout=5):
            waited = time.monotonic() - started
        assert waited < 1.5

    def test_renew_extends_a_live_lease_only(self, r: redis.Redis) -> None:
        semaphore = Semaphore(r, "s", 1, lease_seconds=0.3)
        token = semaphore.acquire(timeout=1)
        time.sleep(0.2)
        assert semaphore.renew(token)
        time.sleep(0.2)
        assert semaphore.try_acquire() is None, "renewed: still held 0.4 s after acquiring"
        time.sleep(0.35)
        assert not semaphore.renew(token), "a lease that ran out cannot be revived"
        assert semaphore.holders() == 0

    def test_renew_many_renews_the_live_leases_in_one_call(self, r: redis.Redis) -> None:
        semaphore = Semaphore(r, "s", 3, lease_seconds=0.3)
        live = [semaphore.acquire(timeout=1), semaphore.acquire(timeout=1)]
        time.sleep(0.2)
        assert semaphore.renew_many([*live, "never-held"]) == 2
        time.sleep(0.2)
        assert semaphore.holders() == 2, "renewed: both still held 0.4 s after acquiring"
        time.sleep(0.35)
        assert semaphore.renew_many(live) == 0, "leases that ran out cannot be revived"
        assert semaphore.holders() == 0 and r.zcard("s") == 0

    def test_a_slot_and_the_rate_are_taken_together_and_released(self, r: redis.Redis) -> None:
        inflight, rate = slot_keys("judge:both")
        with judge_slot(r, "judge:both", 2, 100, 5) as token:
            assert r.zscore(inflight, token) is not None and r.zcard(rate) == 1
        assert r.zcard(inflight) == 0 and r.zcard(rate) == 1, "the admission stays counted for the window"

    def test_idle_keys_expire(self, r: redis.Redis) -> None:
        with judge_slot(r, "judge:ttl", 2, 100, 5, window_seconds=2):
            inflight, rate = slot_keys("judge:ttl")
            assert 0 < r.pttl(inflight) <= 6000
        assert 0 < r.pttl(rate) <= 3000


class TestRate:
    @pytest.mark.timing
    def test_rate_is_enforced_over_a_sliding_window(self, r: redis.Redis) -> None:
        admitted: list[float] = []
        lock = threading.Lock()

        def request(_: int) -> None:
            with judge_slot(r, "judge:rpm", 10, 5, 30, window_seconds=1.0), lock:
                admitted.append(time.monotonic())

        started = time.monotonic()
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(request, range(12)))
        admitted.sort()
        # 5 per second: batches at ~0 s, ~1 s and ~2 s; never 6 inside any 1 s window.
        assert all(later - earlier >= 0.95 for earlier, later in zip(admitted, admitted[5:], strict=False))
        assert 1.9 <= admitted[-1] - started < 3.0

    def test_try_acquire_says_how_long_to_wait(self, r: redis.Redis) -> None:
        limiter = RateLimiter(r, "rate", 2, window_seconds=1.0)
        assert limiter.try_acquire() == 0.0
        time.sleep(0.3)
        assert limiter.try_acquire() == 0.0
        wait = limiter.try_acquire()
        assert 0.6 <= wait <= 0.75, "the first admission leaves the window ~0.7 s from now"
        time.sleep(wait)
        assert limiter.try_acquire() == 0.0
        assert r.zcard("rate") == 2

    @pytest.mark.timing
    def test_waiting_past_the_timeout_is_refused_without_sleeping(self, r: redis.Redis) -> None:
        limiter = RateLimiter(r, "rate", 1, window_seconds=30)
        limiter.acquire(timeout=1)
        started = time.monotonic()
        with pytest.raises(SlotTimeout, match="wait"):
            limiter.acquire(timeout=1)
        assert time.monotonic() - started < 0.2

    def test_a_slot_is_released_when_the_rate_wait_times_out(self, r: redis.Redis) -> None:
        RateLimiter(r, slot_keys("judge:x")[1], 1, window_seconds=30).acquire(timeout=1)
        with pytest.raises(SlotTimeout), judge_slot(r, "judge:x", 1, 1, 10, timeout=0.5, window_seconds=30):
            pass
        assert r.zcard(slot_keys("judge:x")[0]) == 0
