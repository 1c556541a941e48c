"""Reachability of the database, Redis and the broker, and how deep the task queues are.

A load balancer asks this every few seconds and gives up after a second or two, so the answer
comes within ``HEALTH_BUDGET_SECONDS`` whatever the dependencies do and however busy the process
is: the checks run at once on the event loop (the database and Redis through their async
clients, so a busy process's request threads are not in the way), each with short timeouts, and
one that has not answered by the deadline is reported as ``timeout``. The broker's client has no
async API: its check runs on a thread, and one still hanging from an earlier probe is not started
again (its result is reused when it comes), so a hung broker never piles up threads. The database
is reached by a fresh connection, not the pool: a pool busy with requests says nothing about the
server, and a probe must never wait for a pooled connection.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connections

QUEUES = ("judge", "ratings", "default")
HEALTH_BUDGET_SECONDS = 0.8
CHECK_TIMEOUT_SECONDS = 0.5

_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")
_running: dict[str, Future[dict[str, Any] | None]] = {}
_running_lock = threading.Lock()


async def _database() -> dict[str, Any]:
    database = connections["default"]
    if database.vendor != "postgresql":  # SQLite: a file, nothing to reach
        await _in_thread("database", _sqlite)
        return {"engine": database.vendor}
    import psycopg

    params = database.get_connection_params()
    for name in ("pool", "cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    # libpq's connect_timeout is whole seconds, 2 at least: the deadline cuts it shorter.
    conn = await psycopg.AsyncConnection.connect(**params, connect_timeout=2, autocommit=True)
    try:
        await conn.execute("SELECT 1")
    finally:
        await conn.close()
    return {"engine": database.vendor}


def _sqlite() -> None:
    database = connections["default"]
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        database.close()


async def _redis() -> dict[str, Any]:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        await client.ping()
    finally:
        await client.aclose()
    return {}


def _broker_depths() -> dict[str, Any]:
    from arena.celery import app

    depth: dict[str, int] = {}
    with app.connection_for_write() as conn:
        # kombu waits a float of seconds; its stub (celery-types) says int.
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
        # The transport's own channel: Redis's has ``client``, AMQP's ``queue_declare``.
        channel: Any = conn.default_channel
        if conn.transport_cls in ("redis", "rediss"):
            client = channel.client
            for queue in QUEUES:
                depth[queue] = int(client.llen(queue))
        else:
            for queue in QUEUES:
                try:
                    depth[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except Exception:  # a queue nobody declared yet holds nothing
                    channel = conn.channel()
                    depth[queue] = 0
    return {"queue_depth": depth}


async def _broker() -> dict[str, Any]:
    return await _in_thread("broker", _broker_depths) or {}


def _in_thread(name: str, check: Callable[[], dict[str, Any] | None]) -> Awaitable[dict[str, Any] | None]:
    """``check`` on a thread; the run of an earlier probe that is still going is awaited instead."""
    with _running_lock:
        future = _running.get(name)
        if future is None or future.done():
            future = _running[name] = _threads.submit(check)
    return asyncio.shield(asyncio.wrap_future(future))


async def _timed(check: Callable[[], Awaitable[dict[str, Any]]], budget: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), timeout=budget)
    except TimeoutError:
        return {"ok": False, "error": "timeout"}
    except Exception as exc:  # any failure means "down"; the class name says which
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **detail}


async def health_get_async(*, budget: float = HEALTH_BUDGET_SECONDS) -> dict[str, Any]:
    plan: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {"database": _database}
    if settings.REDIS_URL:
        plan["redis"] = _redis
    if settings.CELERY_BROKER_URL:
        plan["broker"] = _broker
    results = await asyncio.gather(*(_timed(check, budget) for check in plan.values()))
    checks = dict(zip(plan, results, strict=True))
    checks.setdefault("redis", {"ok": True, "mode": "in-memory"})
    checks.setdefault("broker", {"ok": True, "mode": "inline"})
    ordered = {name: checks[name] for name in ("database", "redis", "broker")}
    return {"ok": all(c["ok"] for c in ordered.values()), "checks": ordered}
