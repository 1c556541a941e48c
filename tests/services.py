"""Where the tests find Redis and the broker: the Makefile's ``ARENA_TEST_REDIS_URL`` and
``ARENA_TEST_BROKER_URL``.

Each test that needs Redis takes a database number of its own on that server (``redis_url``), and
the end-to-end test a RabbitMQ vhost of its own (``broker_url``), so two checkouts, or a test run
beside a developer's `make serve`, can each point at their own server and never share a queue or
flush each other's keys.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_BASE = os.environ.get("ARENA_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
BROKER_BASE = os.environ.get("ARENA_TEST_BROKER_URL") or "amqp://guest:guest@127.0.0.1:5672//"
# The vhost the end-to-end test creates for itself (a name per checkout keeps parallel runs apart).
E2E_VHOST = os.environ.get("ARENA_TEST_VHOST") or "arena_e2e"

# One database number per use, so tests that flush their database never flush another's.
REDIS_DB_JUDGE_WORKERS = 5
REDIS_DB_CACHE = 11
REDIS_DB_LIMITS = 11
REDIS_DB_CHANNEL_LAYER = 12
REDIS_DB_E2E = 13


def redis_url(db: int) -> str:
    """The test Redis server's URL with database ``db``."""
    parts = urlsplit(REDIS_BASE)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def broker_url(vhost: str) -> str:
    """The test broker's URL on ``vhost``."""
    parts = urlsplit(BROKER_BASE)
    return urlunsplit((parts.scheme, parts.netloc, f"/{vhost}", "", ""))
