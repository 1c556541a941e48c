"""Reachability of the database, Redis and the broker, and how deep the task queues are."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection

QUEUES = ("judge", "ratings", "default")


def _timed(check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check() or {}
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **detail}
    except Exception as exc:  # any failure means "down"; the class name says which
        return {"ok": False, "error": type(exc).__name__}


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"engine": connection.vendor}


def _redis() -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    client.ping()
    return {}


def _broker() -> dict[str, Any]:
    from arena.celery import app

    depth: dict[str, int] = {}
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        if conn.transport_cls in ("redis", "rediss"):
            client = conn.default_channel.client
            for queue in QUEUES:
                depth[queue] = int(client.llen(queue))
        else:
            channel = conn.default_channel
            for queue in QUEUES:
                try:
                    depth[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except Exception:  # a queue nobody declared yet holds nothing
                    channel = conn.channel()
                    depth[queue] = 0
    return {"queue_depth": depth}


def health_get() -> dict[str, Any]:
    checks: dict[str, Any] = {"database": _timed(_database)}
    checks["redis"] = _timed(_redis) if settings.REDIS_URL else {"ok": True, "mode": "in-memory"}
    checks["broker"] = _timed(_broker) if settings.CELERY_BROKER_URL else {"ok": True, "mode": "inline"}
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}
